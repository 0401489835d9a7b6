"""Kelurahan and kecamatan names as registers spell them, mapped to one canonical spelling.

"KEL. IRING MULYO", "Kelurahan Iringmulyo" and "iringmulyo" are one kelurahan: names match on a
key without case, accents, spaces, punctuation, an administrative prefix ("Kel.", "Desa", ...) or
pre-1972 spelling, first in the user's ``aliases.csv`` (``kind,alias,name``), then in Kota
Metro's table; others pass through title-cased and are reported. Matching is exact, never fuzzy
(Purwosari and Purwoasri are two kelurahan of Metro Utara), once per distinct name.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kbtool.columns import recode, without_accents
from kbtool.errors import StoreError

PLACE_KINDS = ("kelurahan", "kecamatan")
ALIAS_COLUMNS = ("kind", "alias", "name")

# Kota Metro, Lampung: 5 kecamatan, 22 kelurahan (Perda Kota Metro No. 25 Tahun 2000 on the
# division into kecamatan and kelurahan; BPS Kota Metro, "Kota Metro Dalam Angka"), spelt as in
# the WHO reference data of this project (Ganjar Agung, Ganjar Asri, Tejo Agung).
KOTA_METRO: Mapping[str, tuple[str, ...]] = {
    "Metro Pusat": ("Metro", "Imopuro", "Hadimulyo Barat", "Hadimulyo Timur", "Yosomulyo"),
    "Metro Utara": ("Banjarsari", "Purwosari", "Purwoasri", "Karangrejo"),
    "Metro Barat": ("Mulyojati", "Mulyosari", "Ganjar Agung", "Ganjar Asri"),
    "Metro Timur": ("Iringmulyo", "Yosodadi", "Yosorejo", "Tejo Agung", "Tejosari"),
    "Metro Selatan": ("Rejomulyo", "Margorejo", "Margodadi", "Sumbersari Bantul"),
}

# Spellings seen in registers that the key alone does not catch.
BUILTIN_ALIASES: tuple[tuple[str, str, str], ...] = (
    # Sumbersari Bantul is often written without "Bantul"; Metro has no other Sumbersari
    ("kelurahan", "Sumbersari", "Sumbersari Bantul"),
    ("kelurahan", "Sumber Sari", "Sumbersari Bantul"),
    ("kelurahan", "Hadimulyo Bar", "Hadimulyo Barat"),
    ("kelurahan", "Hadimulyo Tim", "Hadimulyo Timur"),
    ("kelurahan", "Iringmulya", "Iringmulyo"),
    ("kecamatan", "Metro Pst", "Metro Pusat"),
    ("kecamatan", "Metro Utr", "Metro Utara"),
    ("kecamatan", "Metro Brt", "Metro Barat"),
    ("kecamatan", "Metro Tmr", "Metro Timur"),
    ("kecamatan", "Metro Sel", "Metro Selatan"),
    ("kecamatan", "Metro Sltn", "Metro Selatan"),
)

# Administrative words written before a name; dropped for matching and display.
_PREFIXES = {
    "kelurahan": ("kelurahan", "kalurahan", "kel", "desa", "ds"),
    "kecamatan": ("kecamatan", "kec", "kapanewon", "distrik"),
}

# Old spelling (before EYD, 1972) still found in place names: oe -> u, dj -> j, tj -> c, and j
# for y after l (Iringmuljo).
_OLD_SPELLING = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("lj", "ly"))
_ROMAN = re.compile(r"^(?=[ivxlc]+$)c{0,3}(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")


def _tokens(text: str) -> list[str]:
    plain = re.sub(r"['`\u2019]", "", without_accents(text.casefold()))
    return re.sub(r"[\W_]+", " ", plain).split()


def _strip_prefix(tokens: list[str], kind: str) -> list[str]:
    prefixes = _PREFIXES[kind]
    while len(tokens) > 1 and tokens[0] in prefixes:
        tokens = tokens[1:]
    return tokens


def place_key(text: str, kind: str) -> str:
    """The matching key of a place name: "KEL. Iring Mulyo" and "iringmulyo" give "iringmulyo"."""
    key = "".join(_strip_prefix(_tokens(text), kind))
    for old, new in _OLD_SPELLING:
        key = key.replace(old, new)
    return key


def display_name(text: str, kind: str) -> str:
    """An unknown name as kbtool shows it: prefix and punctuation dropped, title case
    ("KEL. SUKARAME  II" gives "Sukarame II")."""
    words = _strip_prefix(_tokens(text), kind)
    return " ".join(w.upper() if _ROMAN.match(w) else w.title() for w in words)


# Abbreviations kept in capitals when a facility name is put in title case.
_ABBREVIATIONS = frozenset(
    {"rt", "rw", "rs", "rsu", "rsud", "upt", "uptd", "pkk", "kb", "bpm", "pmb"}
)


def facility_name(text: str) -> str | None:
    """A posyandu or puskesmas name in one spelling: spaces collapsed, title case, punctuation
    kept ("POSYANDU MAWAR RW 05" gives "Posyandu Mawar RW 05"); blank gives None."""
    words = str(text).split()
    if not words:
        return None
    return " ".join(
        word.upper()
        if word.casefold() in _ABBREVIATIONS or _ROMAN.match(word.casefold())
        else word[:1].upper() + word[1:].lower()
        for word in words
    )


@dataclass(frozen=True)
class AliasTable:
    """Key -> canonical name for each kind, and the kecamatan of each known kelurahan."""

    names: Mapping[str, Mapping[str, str]]
    kecamatan_of: Mapping[str, str] = field(default_factory=dict)


def builtin_aliases() -> AliasTable:
    """Kota Metro's names and the built-in spelling variants."""
    names: dict[str, dict[str, str]] = {kind: {} for kind in PLACE_KINDS}
    kecamatan_of: dict[str, str] = {}
    for kecamatan, kelurahan_names in KOTA_METRO.items():
        names["kecamatan"][place_key(kecamatan, "kecamatan")] = kecamatan
        for kelurahan in kelurahan_names:
            names["kelurahan"][place_key(kelurahan, "kelurahan")] = kelurahan
            kecamatan_of[kelurahan] = kecamatan
    for kind, alias, name in BUILTIN_ALIASES:
        names[kind][place_key(alias, kind)] = name
    return AliasTable(names=names, kecamatan_of=kecamatan_of)


def load_aliases(path: Path | None) -> AliasTable:
    """The built-in table extended (and overridden) by a user's ``kind,alias,name`` CSV, if any;
    a missing file is no error, a malformed one is, naming the line to fix."""
    table = builtin_aliases()
    if path is None or not path.exists():
        return table
    names = {kind: dict(table.names[kind]) for kind in PLACE_KINDS}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip().casefold() for h in (reader.fieldnames or [])]
            if tuple(header[:3]) != ALIAS_COLUMNS:
                raise StoreError(
                    f"{path}: the first line must be `kind,alias,name`, not {','.join(header)!r}"
                )
            for record in reader:
                line = reader.line_num  # physical: DictReader skips blank lines
                values = [(record.get(c) or "").strip() for c in (reader.fieldnames or [])[:3]]
                kind, alias, name = values[0].casefold(), values[1], values[2]
                if not any(values):
                    continue
                if kind not in PLACE_KINDS or not alias or not name:
                    raise StoreError(
                        f"{path}, line {line}: expected kind (kelurahan or kecamatan), alias "
                        f"and name, got {','.join(values)!r}"
                    )
                names[kind][place_key(alias, kind)] = name
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise StoreError(f"cannot read the place aliases {path}: {err}") from err
    return AliasTable(names=names, kecamatan_of=table.kecamatan_of)


@dataclass(frozen=True)
class NormalisedNames:
    """Canonical names per row (categorical) and the distinct names no table knew."""

    values: pd.Series
    unknown: frozenset[str]


def normalise_place_names(values: pd.Series, kind: str, table: AliasTable) -> NormalisedNames:
    """Map each name to its canonical spelling; unknown names are title-cased and reported,
    missing or blank names stay missing."""
    codes, uniques = pd.factorize(values)
    known = table.names[kind]
    canonical: list[str | None] = []
    unknown: set[str] = set()
    for raw in np.asarray(uniques, dtype=object).tolist():
        text = str(raw).strip()
        key = place_key(text, kind)
        if not key:
            canonical.append(None)
        elif key in known:
            canonical.append(known[key])
        else:
            shown = display_name(text, kind)
            canonical.append(shown)
            unknown.add(shown)
    category_codes, categories = pd.factorize(pd.Series(canonical, dtype=object))
    row_codes = recode(codes, category_codes)
    result = pd.Categorical.from_codes(row_codes, categories=pd.Index(categories, dtype=object))
    return NormalisedNames(pd.Series(result, index=values.index), frozenset(unknown))


@dataclass(frozen=True)
class NormalisedPlaces:
    """Canonical kelurahan and kecamatan per row, and the names left as they came."""

    kelurahan: pd.Series
    kecamatan: pd.Series
    unknown_kelurahan: frozenset[str]
    unknown_kecamatan: frozenset[str]


def normalise_places(
    kelurahan: pd.Series, kecamatan: pd.Series, table: AliasTable
) -> NormalisedPlaces:
    """Normalise both columns; a missing kecamatan is filled from a known kelurahan."""
    kel = normalise_place_names(kelurahan, "kelurahan", table)
    kec = normalise_place_names(kecamatan, "kecamatan", table)
    kec_values = kec.values
    missing = kec_values.isna().to_numpy() & kel.values.notna().to_numpy()
    if missing.any():
        inferred = kel.values.astype(object).map(table.kecamatan_of)
        filled = kec_values.astype(object).where(~missing, inferred)
        kec_values = filled.astype("category")
    return NormalisedPlaces(kel.values, kec_values, kel.unknown, kec.unknown)
