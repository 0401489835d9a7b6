"""The groups file of `kbtool compare`: which units run the programme, and since when.

A small CSV or workbook with a header naming the unit the programme was assigned to
(`kelurahan`, `posyandu` or `kecamatan`), the programme's name (`group`, e.g. "Kampung KB") and,
optionally, the year it started there (`since`). Units the file does not name are the comparison
group. Names are matched as kbtool matches places: "KEL. IRING MULYO" is Iringmulyo.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kbtool.errors import InputError
from kbtool.places import facility_name, place_key
from kbtool.reading.csv import sniff_delimiter
from kbtool.reading.sources import read_text

UNITS = ("kelurahan", "posyandu", "kecamatan")
# header -> role; Indonesian names as a programme officer would write them
HEADERS = {
    **{unit: "unit" for unit in UNITS},
    "desa": "unit",
    "group": "group",
    "kelompok": "group",
    "programme": "group",
    "program": "group",
    "since": "since",
    "mulai": "since",
    "tahun mulai": "since",
}
OTHERS = "others"  # the comparison group's label
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


@dataclass(frozen=True)
class Programme:
    """The units of a groups file: their names as written, their group, their start year
    (`since` None when the file has no `since` column: only the descriptive comparison)."""

    unit: str  # kelurahan, posyandu or kecamatan
    group: str
    names: tuple[str, ...]
    since: tuple[int, ...] | None
    source: str

    def keys(self) -> list[str]:
        """The matching key of each named unit."""
        return [unit_key(name, self.unit) for name in self.names]


def unit_key(name: object, unit: str) -> str:
    """The key two spellings of one unit share (place_key, or a posyandu's facility name)."""
    text = "" if name is None or name is pd.NA else str(name)
    if unit == "posyandu":
        return (facility_name(text) or "").casefold()
    return place_key(text, unit)


def read_groups(path: str | Path) -> Programme:
    """Read and check a groups file; InputError says what is wrong with it and how to fix it."""
    table = _read_table(Path(path))
    roles: dict[str, str] = {}
    unknown = []
    for header in table.columns:
        role = HEADERS.get(_folded(header))
        if role is None:
            unknown.append(str(header))
        elif role in roles:
            raise InputError(f"{path}: two columns name the {role}: {roles[role]!r}, {header!r}")
        else:
            roles[role] = str(header)
    if unknown or "unit" not in roles or "group" not in roles:
        strange = f" has columns kbtool does not know: {', '.join(map(repr, unknown))}"
        raise InputError(
            f"{path}: header {', '.join(map(repr, map(str, table.columns)))}"
            + (strange if unknown else "")
            + "; a groups file has a unit column (kelurahan, posyandu or kecamatan), group and "
            "optionally since, e.g. 'kelurahan,group,since'"
        )
    unit = _folded(roles["unit"])
    if unit == "desa":
        unit = "kelurahan"
    table = table.dropna(how="all")
    names = table[roles["unit"]].fillna("").str.strip()
    groups = table[roles["group"]].fillna("").str.strip()
    empty = names.eq("") | groups.eq("")
    if not len(table):
        raise InputError(f"{path}: no {unit} listed; add one row per {unit} of the programme")
    if empty.any():
        raise InputError(f"{path}: {int(empty.sum())} row(s) without a {unit} or group: fill in")
    labels = sorted(set(groups))
    if len(labels) > 1:
        raise InputError(
            f"{path}: the file names {len(labels)} groups ({', '.join(labels)}); compare takes "
            "one programme at a time against the others: keep the rows of one group"
        )
    since = _since(table[roles["since"]], names, path) if "since" in roles else None
    keys = [unit_key(name, unit) for name in names]
    twice = sorted({n for n, k in zip(names, keys, strict=True) if keys.count(k) > 1})
    if twice:
        raise InputError(f"{path}: {unit} listed twice: {', '.join(twice)}; list each once")
    return Programme(unit, labels[0], tuple(names), since, str(path))


def _read_table(path: Path) -> pd.DataFrame:
    """Every cell of the file as text (CSV with , ; or tab, UTF-8 or Windows-1252; workbooks)."""
    try:
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            return pd.read_excel(path, dtype=str, engine="calamine")
        text = read_text(str(path))
        # the header's separator, as the register reader finds it (pandas' own guess may split
        # on a letter)
        sep = sniff_delimiter(text.lstrip("\n").partition("\n")[0])
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str)
    except InputError as err:
        raise InputError(f"--groups {err}") from err
    except Exception as err:  # pandas and calamine raise many types for an unreadable file
        raise InputError(f"--groups {path}: cannot read it as CSV or a workbook ({err})") from err


def _folded(header: object) -> str:
    """A header as HEADERS spells it: `_` as a space, single spaces, folded case."""
    return " ".join(str(header).replace("_", " ").split()).casefold()


def _since(values: pd.Series, names: pd.Series, path: str | Path) -> tuple[int, ...]:
    """Start years: whole numbers; every listed unit needs one."""
    text = values.fillna("").str.strip()
    years = pd.to_numeric(text.str.replace(r"\.0$", "", regex=True), errors="coerce")
    bad = years.isna() | (years != np.floor(years)) | (years < 1900) | (years > 2999)
    if bad.any():
        shown = ", ".join(f"{n}: {t!r}" for n, t in zip(names[bad], text[bad], strict=True))
        raise InputError(
            f"{path}: since must be the year the programme started, e.g. 2023 ({shown})"
        )
    return tuple(int(y) for y in years)
