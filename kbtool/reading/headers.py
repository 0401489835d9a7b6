"""Which input column is which: header aliases, matching headers to the canonical columns,
--column overrides, and the search for the header line among a file's first lines.

Aliases come from e-PPGBM exports (Kemenkes), posyandu registers (KMS/SIP books) and common
English layouts; headers are compared normalised (lowercase, no accents, letters and digits).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kbtool.columns import CANONICAL_COLUMNS
from kbtool.errors import InputError, UsageError
from kbtool.reading.sources import EXPECTED_FORMAT

# How many lines at the top of a file or sheet may come before the header (titles, blanks).
HEADER_SEARCH_LINES = 20

# Strong aliases: a header that normalises to one of these is that column. Spellings come from
# e-PPGBM exports (Kemenkes), posyandu registers (KMS/SIP books) and common English layouts.
_STRONG_ALIASES: dict[str, tuple[str, ...]] = {
    "child_id": (
        "nik",
        "no_nik",
        "nomor_nik",
        "nik_anak",
        "nik_balita",
        "id_anak",
        "id_balita",
        "child_id",
        "kode_anak",
    ),
    "name": ("nama", "nama_anak", "nama_balita", "nama_lengkap", "name", "child_name"),
    "sex": (
        "jk",
        "j_k",
        "jenis_kelamin",
        "jns_kelamin",
        "jenis_kel",
        "kelamin",
        "l_p",
        "sex",
        "gender",
    ),
    "birth_date": (
        "tgl_lahir",
        "tanggal_lahir",
        "tgllahir",
        "tgl_lhr",
        "tanggal_lahir_anak",
        "birth_date",
        "birthdate",
        "date_of_birth",
        "dob",
    ),
    "visit_date": (
        "tanggal_pengukuran",
        "tgl_pengukuran",
        "tgl_ukur",
        "tanggal_ukur",
        "tanggal_penimbangan",
        "tgl_penimbangan",
        "tgl_timbang",
        "tanggal_timbang",
        "tanggal_kunjungan",
        "tgl_kunjungan",
        "visit_date",
        "date_of_visit",
        "measurement_date",
        "date_of_measurement",
    ),
    "age_months": (
        "umur_bulan",
        "usia_bulan",
        "umur_bln",
        "usia_bln",
        "umur_dalam_bulan",
        "usia_dalam_bulan",
        "age_months",
        "age_in_months",
    ),
    "weight_kg": (
        "berat",
        "bb",
        "berat_badan",
        "bb_kg",
        "berat_kg",
        "berat_badan_kg",
        "weight",
        "weight_kg",
    ),
    "height_cm": (
        "tinggi",
        "tb",
        "pb",
        "tb_pb",
        "pb_tb",
        "tinggi_badan",
        "panjang_badan",
        "tinggi_panjang_badan",
        "tinggi_cm",
        "tb_cm",
        "pb_cm",
        "tinggi_badan_cm",
        "panjang_badan_cm",
        "height",
        "height_cm",
        "length",
        "length_cm",
        "lenhei",
        "lenhei_cm",
    ),
    "measure": (
        "cara_ukur",
        "cara_pengukuran",
        "posisi",
        "posisi_ukur",
        "posisi_pengukuran",
        "measure",
        "position",
    ),
    "oedema": ("edema", "oedema", "udema", "bengkak"),
    "posyandu": ("posyandu", "nama_posyandu"),
    "kelurahan": (
        "desa_kel",
        "desa_kelurahan",
        "kelurahan_desa",
        "kel_desa",
        "kelurahan",
        "desa",
        "kel",
        "village",
    ),
    "kecamatan": ("kec", "kecamatan", "district", "subdistrict"),
    "puskesmas": (
        "puskesmas",
        "pukesmas",
        "nama_puskesmas",
        "pkm",
        "health_centre",
        "health_center",
    ),
}

# Weak aliases: generic words used only when no strong alias names that column. e-PPGBM's
# "Usia Saat Ukur" ("1 Tahun - 3 Bulan - 12 Hari") is an age; "BB/U", "TB/U", "BB/TB" are
# status columns and deliberately match nothing (they normalise to bbu, tbu, bbtb).
_WEAK_ALIASES: dict[str, tuple[str, ...]] = {
    "child_id": ("id",),
    "visit_date": ("tanggal", "tgl", "date"),
    "age_months": ("umur", "usia", "bulan", "age", "usia_saat_ukur", "umur_saat_ukur"),
    "height_cm": ("panjang",),
}


def normalise_header(text: str) -> str:
    """A header reduced for matching: lowercase, accents stripped, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in stripped.lower() if ch.isalnum())


def _alias_lookup(aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canonical, names in aliases.items():
        for alias in names:
            lookup[normalise_header(alias)] = canonical
    return lookup


_STRONG_LOOKUP = _alias_lookup(_STRONG_ALIASES)
_WEAK_LOOKUP = _alias_lookup(_WEAK_ALIASES)


def parse_column_overrides(specs: Iterable[str]) -> dict[str, str]:
    """`--column CANONICAL=HEADER` options as a mapping; a malformed one raises UsageError."""
    overrides: dict[str, str] = {}
    for spec in specs:
        canonical, sep, header = spec.partition("=")
        if not sep or not canonical.strip() or not header.strip():
            raise UsageError(f"--column {spec!r}: expected CANONICAL=HEADER, e.g. sex=JK")
        overrides[canonical.strip()] = header.strip()
    check_override_names(overrides)
    return overrides


@dataclass(frozen=True)
class Layout:
    """How a file's columns map onto the canonical ones."""

    headers: tuple[str, ...]  # as written
    raw_names: tuple[str, ...]  # unique, non-empty names for `raw`
    columns: dict[str, int]  # canonical -> column index
    warnings: tuple[str, ...]
    # a register with length and height in two columns (PB, TB): columns["height_cm"] is the
    # length's, this the standing height's; see canonical.join_heights
    standing_height: int | None = None

    @property
    def column_map(self) -> dict[str, str]:
        return {name: self.headers[index] for name, index in self.columns.items()}

    def position(self, name: str) -> int:
        """The column index of a canonical name, or of STANDING_HEIGHT."""
        if name == STANDING_HEIGHT and self.standing_height is not None:
            return self.standing_height
        return self.columns[name]


# The name, among the parsed columns, of a separate standing-height column (TB beside PB).
STANDING_HEIGHT = "standing_height_cm"
# Headers that name recumbent length, or standing height, alone (normalised): a register with
# one of each gets both read, each value with its position (_split_height).
_LENGTH_HEADERS = frozenset(
    normalise_header(h)
    for h in ("pb", "pb_cm", "panjang_badan", "panjang_badan_cm", "length", "length_cm")
)
_HEIGHT_HEADERS = frozenset(
    normalise_header(h)
    for h in ("tb", "tb_cm", "tinggi_badan", "tinggi_badan_cm", "height", "height_cm", "tinggi")
)


def _split_height(keys: Sequence[str], positions: list[int]) -> tuple[int, int] | None:
    """(length, standing height) positions when the headers matched as height_cm are one
    length-only header (PB, Panjang Badan) and one height-only header (TB, Tinggi Badan)."""
    lengths = [p for p in positions if keys[p] in _LENGTH_HEADERS]
    heights = [p for p in positions if keys[p] in _HEIGHT_HEADERS]
    if len(lengths) == 1 and len(heights) == 1:
        return lengths[0], heights[0]
    return None


# a unit or format in brackets at the end of a header, "Berat (kg)", "Tgl Lahir (dd/mm/yyyy)"
_TRAILING_NOTE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")
# the notes that say what kbtool reads in a column anyway: "Tinggi (m)", "Berat (gram)" or
# "Umur (tahun)" are not matched (their numbers would be read as cm, kg, months)
_UNIT_NOTES = {
    "weight_kg": {"kg"},
    "height_cm": {"cm"},
    "age_months": {"bulan", "bln", "month", "months"},
}


def _note_fits(canonical: str, note: str) -> bool:
    """Whether a bracketed note (normalised) agrees with what `canonical` holds: its unit, or
    any day/month/year pattern for a date (dd/mm/yyyy; hh/bb/tttt in Indonesian)."""
    if canonical in ("birth_date", "visit_date"):
        return bool(note) and set(note) <= set("dmyhbt")
    return note in _UNIT_NOTES.get(canonical, ())


def _bare_header(header: str) -> tuple[str, str]:
    """A header's normalised name without a trailing bracketed note, and the note (normalised;
    both empty when there is none)."""
    note = _TRAILING_NOTE.search(header)
    if note is None:
        return "", ""
    return normalise_header(header[: note.start()]), normalise_header(note.group())


_MINIMUM_HINT = (
    "expected at least sex and weight or height (e.g. JK, Berat, Tinggi); "
    "map one with --column sex=NAME"
)


def check_override_names(overrides: Mapping[str, str]) -> None:
    for canonical in overrides:
        if canonical not in CANONICAL_COLUMNS:
            raise UsageError(
                f"--column {canonical}={overrides[canonical]}: unknown column {canonical!r}; "
                f"canonical columns: {', '.join(CANONICAL_COLUMNS)}"
            )


def _printable(text: str, limit: int = 40) -> str:
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def _columns_seen(headers: Sequence[str], limit: int = 30) -> str:
    shown = [_printable(h) or "(empty)" for h in headers[:limit]]
    more = f", ... ({len(headers)} columns)" if len(headers) > limit else ""
    return (", ".join(shown) + more) if shown else "(none)"


def _unique_names(headers: Sequence[str]) -> tuple[str, ...]:
    """Headers made unique for a DataFrame: empty -> column_N, repeats -> NAME.1, NAME.2."""
    seen: dict[str, int] = {}
    names: list[str] = []
    for position, header in enumerate(headers, start=1):
        base = header if header.strip() else f"column_{position}"
        name = base
        while name in seen:
            seen[base] += 1
            name = f"{base}.{seen[base]}"
        seen.setdefault(name, 0)
        names.append(name)
    return tuple(names)


def _match_columns(
    headers: Sequence[str], overrides: Mapping[str, str], source: str
) -> tuple[dict[str, int], list[str], str | None, int | None]:
    """Map canonical columns to header positions; returns (columns, warnings, problem,
    the standing height's position when length and height have a column each)."""
    columns: dict[str, int] = {}
    standing: int | None = None
    claimed: set[int] = set()
    normalised = [normalise_header(h) for h in headers]
    for canonical, wanted in overrides.items():
        position = next((i for i, h in enumerate(headers) if h == wanted), None)
        if position is None:
            key = normalise_header(wanted)
            position = next((i for i, h in enumerate(normalised) if key and h == key), None)
        if position is None:
            return (
                columns,
                [],
                (
                    f"column {wanted!r} (from --column {canonical}={wanted}) not found; "
                    f"columns seen: {_columns_seen(headers)}"
                ),
                None,
            )
        columns[canonical] = position
        claimed.add(position)
    warnings: list[str] = []
    # a header with its unit or date format after it, "Berat (kg)", "Tanggal Lahir
    # (dd/mm/yyyy)", is also looked up without it
    bare = [_bare_header(h) for h in headers]
    keys = list(normalised)  # each header's key as matched: without its note when that fits
    for lookup in (_STRONG_LOOKUP, _WEAK_LOOKUP):
        found: dict[str, list[int]] = {}
        for position, (key, (bare_key, note)) in enumerate(zip(normalised, bare, strict=True)):
            match = lookup.get(key)
            if match is None and bare_key:
                match = lookup.get(bare_key)
                match = match if match is not None and _note_fits(match, note) else None
                keys[position] = bare_key
            if match is not None and match not in columns and position not in claimed:
                found.setdefault(match, []).append(position)
        for match, positions in found.items():
            split = _split_height(keys, positions) if match == "height_cm" else None
            if split is not None:
                # PB and TB: each value is read with the position its column names
                length, standing = split
                positions = [length, *(p for p in positions if p not in split)]
                claimed.add(standing)
                warnings.append(
                    f"{source}: length and height in two columns: {headers[length]!r} read as "
                    f"recumbent length, {headers[standing]!r} as standing height"
                )
            columns[match] = positions[0]
            claimed.add(positions[0])
            if len(positions) > 1:
                others = ", ".join(repr(headers[p]) for p in positions[1:])
                warnings.append(
                    f"{source}: {match} read from {headers[positions[0]]!r}, ignoring "
                    f"{others}; choose another with --column {match}=NAME"
                )
    problem = None
    if "sex" not in columns or ("weight_kg" not in columns and "height_cm" not in columns):
        what = "no recognisable columns" if not columns else "not enough recognisable columns"
        problem = f"{what}; columns seen: {_columns_seen(headers)}; {_MINIMUM_HINT}"
    elif "age_months" not in columns and not {"birth_date", "visit_date"} <= columns.keys():
        missing = [name for name in ("birth_date", "visit_date") if name not in columns]
        warnings.append(
            f"{source}: no {' or '.join(m.replace('_', ' ') for m in missing)} column found, "
            "and no age column: without ages HAZ, WAZ and BMIZ stay empty; name the column "
            f"with --column {missing[0]}=NAME (columns seen: {_columns_seen(headers)})"
        )
    return columns, warnings, problem, standing


def layout_of(headers: Sequence[str], overrides: Mapping[str, str], source: str) -> Layout:
    """The layout of a header row; InputError when it lacks the columns kbtool needs."""
    columns, warnings, problem, standing = _match_columns(headers, overrides, source)
    if problem is not None:
        raise InputError(f"{source}: {problem}")
    ordered = {name: columns[name] for name in CANONICAL_COLUMNS if name in columns}
    return Layout(tuple(headers), _unique_names(headers), ordered, tuple(warnings), standing)


def is_blank_line(text: str) -> bool:
    """A line (or cell) of spaces, quotes and delimiters only: no row."""
    return not text.strip(" \t\r\n\"',;\ufeff")


def find_header(rows: Sequence[Sequence[str]], overrides: Mapping[str, str], source: str) -> int:
    """Index of the header among the first rows: the first that names the needed columns.

    e-PPGBM exports and hand-made registers often start with a title or a blank line. When no
    row qualifies, the first non-blank row's error is raised.
    """
    first: int | None = None
    for index, cells in enumerate(rows[:HEADER_SEARCH_LINES]):
        if all(is_blank_line(cell) for cell in cells):
            continue
        if first is None:
            first = index
        _, _, problem, _ = _match_columns(cells, overrides, source)
        if problem is None:
            return index
    if first is None:
        raise InputError(f"{source}: no header line found; {EXPECTED_FORMAT}")
    layout_of(rows[first], overrides, source)  # raises the first row's error
    raise AssertionError("unreachable")  # pragma: no cover
