"""Which input column is which: header aliases, --column overrides, and the search for the header
line among a file's first lines.

Headers are compared normalised (lowercase, no accents, letters and digits only).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kbtool.columns import CANONICAL_COLUMNS
from kbtool.errors import InputError, UsageError
from kbtool.reading.sources import EXPECTED_FORMAT
from kbtool.words import LANGS, READER_WORDS, Said

# How many lines at the top of a file or sheet may come before the header (titles, blanks).
HEADER_SEARCH_LINES = 20

# Strong aliases: a header that normalises to one of these is that column. Spellings come from
# e-PPGBM exports (Kemenkes), posyandu registers (KMS/SIP books) and common English layouts.
_STRONG_ALIASES = {
    "child_id": "nik no_nik nomor_nik nik_anak nik_balita id_anak id_balita child_id kode_anak",
    "name": "nama nama_anak nama_balita nama_lengkap name child_name",
    "sex": "jk j_k jenis_kelamin jns_kelamin jenis_kel kelamin l_p sex gender",
    "birth_date": "tgl_lahir tanggal_lahir tgllahir tgl_lhr tanggal_lahir_anak birth_date "
    "birthdate date_of_birth dob",
    "visit_date": "tanggal_pengukuran tgl_pengukuran tgl_ukur tanggal_ukur tanggal_penimbangan "
    "tgl_penimbangan tgl_timbang tanggal_timbang tanggal_kunjungan tgl_kunjungan visit_date "
    "date_of_visit measurement_date date_of_measurement",
    "age_months": "umur_bulan usia_bulan umur_bln usia_bln umur_dalam_bulan usia_dalam_bulan "
    "age_months age_in_months",
    "weight_kg": "berat bb berat_badan bb_kg berat_kg berat_badan_kg weight weight_kg",
    "height_cm": "tinggi tb pb tb_pb pb_tb tinggi_badan panjang_badan tinggi_panjang_badan "
    "tinggi_cm tb_cm pb_cm tinggi_badan_cm panjang_badan_cm height height_cm length length_cm "
    "lenhei lenhei_cm",
    "measure": "cara_ukur cara_pengukuran posisi posisi_ukur posisi_pengukuran measure position",
    "oedema": "edema oedema udema bengkak",
    "posyandu": "posyandu nama_posyandu",
    "kelurahan": "desa_kel desa_kelurahan kelurahan_desa kel_desa kelurahan desa kel village",
    "kecamatan": "kec kecamatan district subdistrict",
    "puskesmas": "puskesmas pukesmas nama_puskesmas pkm health_centre health_center",
}
# Weak aliases: generic words used only when no strong alias names that column. e-PPGBM's
# "Usia Saat Ukur" ("1 Tahun - 3 Bulan - 12 Hari") is an age; "BB/U", "TB/U", "BB/TB" are
# status columns and deliberately match nothing (they normalise to bbu, tbu, bbtb).
_WEAK_ALIASES = {
    "child_id": "id",
    "visit_date": "tanggal tgl date",
    "age_months": "umur usia bulan age usia_saat_ukur umur_saat_ukur",
    "height_cm": "panjang",
}

# The parsed column of a standing height beside a length (PB and TB in a column each).
STANDING_HEIGHT = "standing_height_cm"
_LENGTH_ONLY = "pb pb_cm panjang_badan panjang_badan_cm length length_cm"
_HEIGHT_ONLY = "tb tb_cm tinggi_badan tinggi_badan_cm height height_cm tinggi"

# a unit or format in brackets at the end of a header, "Berat (kg)", "Tgl Lahir (dd/mm/yyyy)"
_TRAILING_NOTE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")
# the notes that say what kbtool reads in a column anyway: "Tinggi (m)", "Berat (gram)" or
# "Umur (tahun)" are not matched (their numbers would be read as cm, kg, months)
_UNIT_NOTES = {"weight_kg": "kg", "height_cm": "cm", "age_months": "bulan bln month months"}

_MINIMUM_HINT = (
    "expected at least sex and weight or height (e.g. JK, Berat, Tinggi); "
    "map one with --column sex=NAME"
)


def normalise_header(text: str) -> str:
    """A header reduced for matching: lowercase, accents stripped, letters and digits only."""
    # (accents decompose into combining marks, which are not alphanumeric)
    return "".join(ch for ch in unicodedata.normalize("NFKD", text).lower() if ch.isalnum())


def _lookup(aliases: Mapping[str, str]) -> dict[str, str]:
    return {normalise_header(a): name for name, words in aliases.items() for a in words.split()}


def header_aliases(name: str) -> tuple[str, ...]:
    """The headers that name canonical column `name` for certain (its strong aliases)."""
    return tuple(_STRONG_ALIASES.get(name, "").split())


_STRONG_LOOKUP = _lookup(_STRONG_ALIASES)
_WEAK_LOOKUP = _lookup(_WEAK_ALIASES)
_LENGTH_HEADERS = frozenset(normalise_header(h) for h in _LENGTH_ONLY.split())
_HEIGHT_HEADERS = frozenset(normalise_header(h) for h in _HEIGHT_ONLY.split())


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


def check_override_names(overrides: Mapping[str, str]) -> None:
    """UsageError for an override of a column kbtool does not know."""
    for canonical, header in overrides.items():
        if canonical not in CANONICAL_COLUMNS:
            raise UsageError(
                f"--column {canonical}={header}: unknown column {canonical!r}; "
                f"canonical columns: {', '.join(CANONICAL_COLUMNS)}"
            )


@dataclass(frozen=True)
class Layout:
    """How a file's columns map onto the canonical ones."""

    headers: tuple[str, ...]  # as written
    raw_names: tuple[str, ...]  # unique, non-empty names for `raw`
    # canonical name (and STANDING_HEIGHT, for TB beside PB) -> column index, canonical order
    columns: dict[str, int]
    warnings: tuple[str, ...]

    @property
    def column_map(self) -> dict[str, str]:
        return {n: self.headers[i] for n, i in self.columns.items() if n in CANONICAL_COLUMNS}


# a cell that is a number or a date: the line is a register's row, not its header, and its
# other cells may be a child's NIK and name, which no message may show
_VALUE_CELL = re.compile(r"[+-]?\d+(?:[.,/ -]\d+)*")


def _columns_seen(headers: Sequence[str], limit: int = 30) -> str:
    if any(_VALUE_CELL.fullmatch(h.strip()) for h in headers):
        return "(the first line holds numbers or dates, not column names: is the header missing?)"
    shown = ["".join(c if c.isprintable() else "?" for c in h) for h in headers[:limit]]
    shown = [(h if len(h) <= 40 else h[:37] + "...") or "(empty)" for h in shown]
    more = f", ... ({len(headers)} columns)" if len(headers) > limit else ""
    return (", ".join(shown) + more) if shown else "(none)"


def unique_names(headers: Sequence[str]) -> tuple[str, ...]:
    """Headers made unique for a DataFrame: empty -> column_N, repeats -> NAME.1, NAME.2."""
    seen: dict[str, int] = {}
    names: list[str] = []
    for position, header in enumerate(headers, start=1):
        base = name = header if header.strip() else f"column_{position}"
        while name in seen:
            seen[base] += 1
            name = f"{base}.{seen[base]}"
        seen.setdefault(name, 0)
        names.append(name)
    return tuple(names)


def _keys(header: str) -> tuple[str, str, str]:
    """A header normalised; without a trailing bracketed note; and the note (both empty when
    there is none)."""
    note = _TRAILING_NOTE.search(header)
    if note is None:
        return normalise_header(header), "", ""
    bare = normalise_header(header[: note.start()])
    return normalise_header(header), bare, normalise_header(note.group())


def _note_fits(canonical: str, note: str) -> bool:
    """Whether a bracketed note agrees with what `canonical` holds: its unit, or any day/month/
    year pattern for a date (dd/mm/yyyy; hh/bb/tttt in Indonesian)."""
    if canonical in ("birth_date", "visit_date"):
        return bool(note) and set(note) <= set("dmyhbt")
    return note in _UNIT_NOTES.get(canonical, "").split()


def _match_columns(
    headers: Sequence[str], overrides: Mapping[str, str], source: str
) -> tuple[dict[str, int], list[str], str | None]:
    """Canonical columns -> header positions, warnings, and the problem that makes the headers
    no header (None when they are one)."""
    columns: dict[str, int] = {}
    keys = [_keys(h) for h in headers]
    for canonical, wanted in overrides.items():
        position = next((i for i, h in enumerate(headers) if h == wanted), None)
        wanted_key = normalise_header(wanted)
        if position is None and wanted_key:
            position = next((i for i, k in enumerate(keys) if k[0] == wanted_key), None)
        if position is None:
            problem = (
                f"column {wanted!r} (from --column {canonical}={wanted}) not found; "
                f"columns seen: {_columns_seen(headers)}"
            )
            return columns, [], problem
        columns[canonical] = position
    claimed = set(columns.values())
    warnings: list[str] = []
    matched_keys = [key for key, _, _ in keys]  # without the note, where the note fits
    for lookup in (_STRONG_LOOKUP, _WEAK_LOOKUP):
        found: dict[str, list[int]] = {}
        for position, (key, bare, note) in enumerate(keys):
            match = lookup.get(key)
            if match is None and bare and _note_fits(lookup.get(bare, ""), note):
                match, matched_keys[position] = lookup[bare], bare
            if match is not None and match not in columns and position not in claimed:
                found.setdefault(match, []).append(position)
        for match, positions in found.items():
            lengths = [p for p in positions if matched_keys[p] in _LENGTH_HEADERS]
            heights = [p for p in positions if matched_keys[p] in _HEIGHT_HEADERS]
            if match == "height_cm" and len(lengths) == 1 and len(heights) == 1:
                # PB and TB: each value is read with the position its column names
                length, standing = lengths[0], heights[0]
                positions = [length, *(p for p in positions if p not in (length, standing))]
                columns[STANDING_HEIGHT] = standing
                claimed.add(standing)
                warnings.append(
                    Said(
                        "two_height_columns",
                        file=source,
                        length=headers[length],
                        height=headers[standing],
                    )
                )
            columns[match] = positions[0]
            claimed.add(positions[0])
            if len(positions) > 1:
                others = ", ".join(repr(headers[p]) for p in positions[1:])
                header = headers[positions[0]]
                # --column names a header: it cannot choose among columns of one header
                key = (
                    "column_chosen_same"
                    if {headers[p] for p in positions} == {header}
                    else "column_chosen"
                )
                warnings.append(
                    Said(
                        key,
                        file=source,
                        column=match,
                        header=header,
                        others=others,
                        count=len(positions),
                    )
                )
    if "sex" not in columns or ("weight_kg" not in columns and "height_cm" not in columns):
        what = "not enough recognisable columns" if columns else "no recognisable columns"
        return columns, warnings, f"{what}; columns seen: {_columns_seen(headers)}; {_MINIMUM_HINT}"
    if "age_months" not in columns and not {"birth_date", "visit_date"} <= columns.keys():
        missing = [name for name in ("birth_date", "visit_date") if name not in columns]
        warnings.append(
            Said(
                "no_date_columns",
                file=source,
                missing={
                    lang: READER_WORDS["or"][lang].join(READER_WORDS[m][lang] for m in missing)
                    for lang in LANGS
                },
                column=missing[0],
                seen=_columns_seen(headers),
            )
        )
    return columns, warnings, None


def layout_of(headers: Sequence[str], overrides: Mapping[str, str], source: str) -> Layout:
    """The layout of a header row; InputError when it lacks the columns kbtool needs."""
    columns, warnings, problem = _match_columns(headers, overrides, source)
    if problem is not None:
        raise InputError(f"{source}: {problem}")
    order = (*CANONICAL_COLUMNS, STANDING_HEIGHT)
    ordered = {name: columns[name] for name in order if name in columns}
    return Layout(tuple(headers), unique_names(headers), ordered, tuple(warnings))


def is_blank_line(text: str) -> bool:
    """A line (or cell) of spaces, quotes and delimiters only: no row."""
    return not text.strip(" \t\r\n\"',;\ufeff")


def find_header(rows: Sequence[Sequence[str]], overrides: Mapping[str, str], source: str) -> int:
    """Index of the header among the first rows: the first that names the needed columns
    (e-PPGBM exports and hand-made registers often start with a title or a blank line). When
    none does, the first non-blank row's problem is raised."""
    rows = rows[:HEADER_SEARCH_LINES]
    candidates = [i for i, cells in enumerate(rows) if not all(map(is_blank_line, cells))]
    first_problem = None
    for index in candidates:
        problem = _match_columns(rows[index], overrides, source)[2]
        if problem is None:
            return index
        first_problem = first_problem or problem
    if first_problem is None:
        raise InputError(f"{source}: no header line found; {EXPECTED_FORMAT}")
    raise InputError(f"{source}: {first_problem}")
