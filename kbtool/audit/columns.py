"""Which columns hold the register's own z-scores and statuses.

e-PPGBM exports name them `ZS TB/U` and `TB/U`, `ZS BB/U` and `BB/U`, `ZS BB/TB` and `BB/TB`;
other tools write `haz` and `haz_status` (kbtool zscore) or `zlen` (WHO Anthro). Headers are
compared as the reader compares them (kbtool.reading.normalise_header); `--column
recorded_haz=NAME` names one by hand. The reader itself never maps these columns: they reach
the audit as text, through measurements_from_files' `pick_headers`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kbtool.errors import InputError, UsageError
from kbtool.privacy import personal_header
from kbtool.reading import normalise_header

# the z-scores an audit compares, in the order it reports them
INDICATORS = ("haz", "waz", "whz", "bmiz")
PREFIX = "recorded_"


def z_column(indicator: str) -> str:
    """The audit's name of a register's own z-score column ("recorded_haz")."""
    return f"{PREFIX}{indicator}"


def status_column(indicator: str) -> str:
    """The audit's name of a register's own status column ("recorded_haz_status")."""
    return f"{PREFIX}{indicator}_status"


RECORDED_COLUMNS = tuple(c for i in INDICATORS for c in (z_column(i), status_column(i)))

# Headers each recorded column goes by, the e-PPGBM name first: e-PPGBM (Kemenkes), kader
# spreadsheets (PB/U for children measured lying), kbtool zscore and WHO Anthro's output.
ALIASES: dict[str, tuple[str, ...]] = {
    "recorded_haz": (
        "ZS TB/U", "ZS PB/U", "ZS TB-PB/U", "ZS PB-TB/U", "Z TB/U", "Z-Score TB/U",
        "haz", "zlen", "recorded_haz",
    ),
    "recorded_haz_status": (
        "TB/U", "PB/U", "TB-PB/U", "PB-TB/U", "Status TB/U", "Status PB/U", "haz_status",
        "recorded_haz_status",
    ),
    "recorded_waz": ("ZS BB/U", "Z BB/U", "Z-Score BB/U", "waz", "zwei", "recorded_waz"),
    "recorded_waz_status": ("BB/U", "Status BB/U", "waz_status", "recorded_waz_status"),
    "recorded_whz": (
        "ZS BB/TB", "ZS BB/PB", "ZS BB/PB-TB", "ZS BB/TB-PB", "Z BB/TB", "Z-Score BB/TB",
        "whz", "zwfl", "recorded_whz",
    ),
    "recorded_whz_status": (
        "BB/TB", "BB/PB", "BB/PB-TB", "BB/TB-PB", "Status BB/TB", "Status BB/PB", "whz_status",
        "recorded_whz_status",
    ),
    "recorded_bmiz": ("ZS IMT/U", "Z IMT/U", "Z-Score IMT/U", "bmiz", "zbmi", "recorded_bmiz"),
    "recorded_bmiz_status": ("IMT/U", "Status IMT/U", "bmiz_status", "recorded_bmiz_status"),
}  # fmt: skip
_LOOKUP = {normalise_header(alias): name for name, aliases in ALIASES.items() for alias in aliases}


def looked_for() -> str:
    """The headers an audit looks for, as a message names them."""
    return ", ".join(aliases[0] for aliases in ALIASES.values()) + (
        " (or haz, haz_status, waz, ... as kbtool zscore writes them)"
    )


def split_column_options(specs: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """--column values: those for the reader, and the recorded_* ones (name -> header)."""
    reader: list[str] = []
    recorded: dict[str, str] = {}
    for spec in specs:
        name, sep, header = spec.partition("=")
        name = name.strip()
        if not name.startswith(PREFIX):
            reader.append(spec)
            continue
        if name not in RECORDED_COLUMNS or not sep or not header.strip():
            raise UsageError(
                f"--column {spec!r}: expected RECORDED=HEADER with RECORDED one of "
                f"{', '.join(RECORDED_COLUMNS)}, e.g. --column recorded_haz='ZS TB/U'"
            )
        if personal_header(header) is not None:
            raise UsageError(
                f"--column {spec!r}: {header.strip()!r} names {personal_header(header)}; "
                "kbtool never writes personal data (UU 27/2022)"
            )
        recorded[name] = header.strip()
    return reader, recorded


@dataclass
class RecordedColumns:
    """Finds each file's recorded columns (measurements_from_files' `pick_headers`): --column
    choices first, then the first header that goes by an alias; InputError when none. `found`
    keeps them per file for the provenance."""

    overrides: Mapping[str, str] = field(default_factory=dict)
    found: dict[str, dict[str, str]] = field(default_factory=dict)

    def __call__(self, headers: Sequence[str], source: str) -> dict[str, str]:
        chosen = {
            name: _override(header, headers, name, source)
            for name, header in self.overrides.items()
        }
        for header in headers:
            name = _LOOKUP.get(normalise_header(header))
            if name is not None and name not in chosen:
                chosen[name] = header
        if not chosen:
            seen = ", ".join(headers[:30]) + (" ..." if len(headers) > 30 else "")
            raise InputError(
                f"{source}: no recorded z-scores or statuses to audit; looked for "
                f"{looked_for()}; columns seen: {seen}; map one with --column "
                "recorded_haz=NAME or --column recorded_haz_status=NAME"
            )
        self.found[source] = {name: chosen[name] for name in RECORDED_COLUMNS if name in chosen}
        return chosen

    def headers(self) -> dict[str, str]:
        """Each recorded column's header (the first file's that has it)."""
        found: dict[str, str] = {}
        for headers in self.found.values():
            for name, header in headers.items():
                found.setdefault(name, header)
        return found

    def indicators(self) -> tuple[str, ...]:
        """The indicators some file records a z-score or status of."""
        names = {name for found in self.found.values() for name in found}
        return tuple(i for i in INDICATORS if {z_column(i), status_column(i)} & names)


def _override(header: str, headers: Sequence[str], name: str, source: str) -> str:
    """The file's header --column NAME=HEADER means: the same text, else the same normalised."""
    if header in headers:
        return header
    wanted = normalise_header(header)
    for candidate in headers:
        if wanted and normalise_header(candidate) == wanted:
            return candidate
    raise InputError(
        f"{source}: column {header!r} (from --column {name}={header}) not found; columns seen: "
        f"{', '.join(headers[:30])}"
    )
