"""What a report shows, computed once from the measurements: no words, no HTML.

Every figure is one of kbtool's own results on the same measurements (ReportData says which),
so the report says nothing `kbtool prevalence`, `trend`, `quality` and `compare` would not.
A store is read one visit year at a time, only the stunting columns (and with a groups file the
comparison's, which takes each year on the way); the latest year once more with every column the
indicators and the quality checks need.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kbtool.compare import Comparison, Programme, compare_groups
from kbtool.compare import columns_needed as compare_columns
from kbtool.errors import InputError
from kbtool.measurements import Loaded
from kbtool.places import KOTA_METRO
from kbtool.prevalence import (
    DEFAULT_MIN_N,
    TOTAL_LABEL,
    UNKNOWN_LABEL,
    combine_parts,
    compute_prevalence,
)
from kbtool.prevalence import columns_needed as prevalence_columns
from kbtool.quality import QualityReport, quality_report, rated_at_least
from kbtool.quality import columns_needed as quality_columns
from kbtool.trend import DEFAULT_TARGETS, Target, compute_trend

# where the report ranks places (Aksi 1 of the stunting convergence actions: focus kelurahan)
PLACE = "kelurahan"
# the indicator a programme is compared on (kbtool compare adds its mean z-score)
COMPARED = ("stunting",)


@dataclass(frozen=True)
class ReportOptions:
    """The choices a report is made with (all of them reach its method section)."""

    by: str = "kecamatan"  # the small multiples and the indicators table
    targets: tuple[Target, ...] = DEFAULT_TARGETS
    min_n: int = DEFAULT_MIN_N
    months: tuple[int, ...] = ()
    title: str | None = None
    programme: Programme | None = None  # --groups: the comparison section

    def as_dict(self) -> dict[str, object]:
        return {
            "by": self.by,
            "targets": [str(t) for t in self.targets],
            "min_n": self.min_n,
            "months": list(self.months) or None,
            "title": self.title,
            "groups": self.programme.source if self.programme else None,
        }


@dataclass
class ReportData:
    """The results a report is made of; each frame is a kbtool result as its command gives it."""

    area: str | None  # the area's name: --title, or from the data ("Kota Metro")
    years: list[int]
    stunting: pd.DataFrame  # kbtool prevalence: stunting by kelurahan and year, "All" rows
    group_stunting: pd.DataFrame  # kbtool prevalence --by BY: stunting by group and year
    indicators: pd.DataFrame  # kbtool prevalence --indicator all --by BY, the latest year
    trend: pd.DataFrame  # kbtool trend (stunting by kelurahan)
    group_trend: pd.DataFrame  # kbtool trend --by BY
    quality: QualityReport  # kbtool quality --by posyandu, the latest year's measurements
    inputs: pd.DataFrame  # what was read: file, rows, sha256 (and the import, from a store)
    options: ReportOptions
    origin: dict[str, object] = field(default_factory=dict)
    comparison: Comparison | None = None  # kbtool compare, with --groups

    @property
    def latest_year(self) -> int:
        return self.years[-1]

    def latest(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of a prevalence result of the latest year."""
        return frame[frame["year"] == self.latest_year].reset_index(drop=True)


def yearly_columns(by: str) -> tuple[str, ...]:
    """The columns read of every year: those of stunting by kelurahan and by `by`."""
    return prevalence_columns(tuple(dict.fromkeys((PLACE, by))), ("stunting",))


def columns_needed(by: str, programme: Programme | None = None) -> tuple[str, ...]:
    """The measurement columns a report reads (of the latest year; of the others, only
    yearly_columns, and with a programme the comparison's)."""
    wanted = (
        *yearly_columns(by),
        *prevalence_columns((by,), ("all",)),
        *quality_columns("posyandu"),
        *(compare_columns(programme, COMPARED) if programme else ()),
    )
    return tuple(dict.fromkeys(wanted))


def assemble_report(loaded: Loaded, options: ReportOptions) -> ReportData:
    """Compute everything a report shows from measurements loaded with columns_needed, by year
    (InputError when there are no dated measurements to report on).

    Every year gives stunting by kelurahan and by the report's group; the latest year alone,
    read again with every column, gives every indicator and the data quality."""
    nothing = loaded.nothing_dated()
    if nothing is not None:
        raise InputError(f"nothing to report: {nothing}")
    common: dict[str, Any] = {
        "period": "year",
        "months": list(options.months) or None,
        "min_n": options.min_n,
        "total": True,
        "child_key": "child_key",
    }
    parts: dict[str, list[pd.DataFrame]] = {group: [] for group in (PLACE, options.by)}
    programme = options.programme
    columns = [
        *yearly_columns(options.by),
        *(compare_columns(programme, COMPARED) if programme else ()),
    ]

    def yearly() -> Iterator[pd.DataFrame]:
        """Each year's measurements (one at a time from a store), its stunting counted."""
        for part in loaded.frames(tuple(dict.fromkeys(columns))):
            for group, results in parts.items():
                results.append(
                    compute_prevalence(part, indicators=("stunting",), by=(group,), **common)
                )
            yield part

    frames = yearly()
    comparison = None
    if programme is not None:
        comparison = compare_groups(frames, programme, indicators=COMPARED, min_n=options.min_n)
    for _ in frames:  # the years the comparison did not read are counted all the same
        pass
    stunting, group_stunting = combine_parts(parts[PLACE]), combine_parts(parts[options.by])
    years = sorted(int(y) for y in stunting["year"].unique())
    if not years:
        raise InputError("nothing to report: no measurement in the years and months asked")
    latest = loaded.year(years[-1])
    indicators = compute_prevalence(latest, indicators=("all",), by=(options.by,), **common)
    quality = quality_report(
        latest, by="posyandu", period="year", child_key="child_key", top=len(latest)
    )
    del latest
    targets = list(options.targets)
    return ReportData(
        area=options.title or area_name(stunting[PLACE]),
        years=years,
        stunting=stunting,
        group_stunting=group_stunting,
        indicators=indicators,
        trend=compute_trend(stunting, targets),
        group_trend=compute_trend(group_stunting, targets),
        quality=quality,
        inputs=describe_inputs(loaded),
        options=options,
        origin=dict(loaded.origin),
        comparison=comparison,
    )


def area_name(places: pd.Series) -> str | None:
    """The area the kelurahan make up: the kelurahan when there is one, their kecamatan when
    they are all of one of Kota Metro's, "Kota Metro" when they are all of Kota Metro's, else
    None."""
    names = set(places.astype(str)) - {TOTAL_LABEL, UNKNOWN_LABEL}
    if len(names) == 1:  # a kelurahan's own register: its figures are not the city's
        return f"Kelurahan {names.pop()}"
    for kecamatan, kelurahan in KOTA_METRO.items():  # a kecamatan's (a puskesmas's) register
        if names and names <= set(kelurahan):
            return f"Kecamatan {kecamatan}"
    if names and names <= {k for kelurahan in KOTA_METRO.values() for k in kelurahan}:
        return "Kota Metro"
    return None


def describe_inputs(loaded: Loaded) -> pd.DataFrame:
    """One row per input: file, rows read and SHA-256 (for a store: each import's file, with
    when it was imported and the rows stored)."""
    if "store" in loaded.origin:
        from kbtool.store import list_sources

        sources = list_sources(str(loaded.origin["store"]))
        return sources[["file", "rows_read", "rows_stored", "sha256", "imported_at"]].assign(
            imported_at=sources["imported_at"].dt.strftime("%Y-%m-%d %H:%M UTC")
        )
    from kbtool.store.ingest import file_sha256

    files = [str(source["file"]) for source in loaded.sources]
    return pd.DataFrame(
        {
            "file": files,
            "rows_read": [int(str(source.get("rows_read", 0))) for source in loaded.sources],
            "sha256": [file_sha256(Path(name)) if Path(name).is_file() else "" for name in files],
        }
    )


@dataclass(frozen=True)
class Places:
    """The kelurahan of the latest year: `shown`, those with figures, highest prevalence first,
    with their trend status and priority (1: prevalence above the area's and more stunted
    children than the average kelurahan; 2: one of the two; 3: neither); `few`, those with too
    few children for figures (under --min-n, or none measured that year though measured
    before), fewest first."""

    shown: pd.DataFrame
    few: pd.DataFrame
    area_pct: float
    mean_stunted: float


def ranked_places(data: ReportData) -> Places:
    """The kelurahan of the latest year, ranked (see Places)."""
    latest = data.latest(data.stunting)
    area_pct = float(latest.loc[latest[PLACE] == TOTAL_LABEL, "stunting_pct"].iloc[0])
    latest = latest[latest[PLACE] != TOTAL_LABEL]
    suffix = f"_{data.options.targets[0].year}" if len(data.options.targets) > 1 else ""
    status = data.trend.set_index(PLACE)[f"status{suffix}"]
    shown = latest[latest["stunting_pct"].notna()].copy()
    shown["status"] = shown[PLACE].map(status).to_numpy()
    shown = shown.sort_values(["stunting_pct", "stunted"], ascending=False, kind="stable")
    mean_stunted = float(shown["stunted"].mean()) if len(shown) else float("nan")
    high = (shown["stunting_pct"] > area_pct).to_numpy()
    many = (shown["stunted"].astype(np.float64) > mean_stunted).to_numpy()
    shown["priority"] = np.where(high & many, 1, np.where(high | many, 2, 3))
    earlier = set(data.stunting[PLACE]) - set(latest[PLACE]) - {TOTAL_LABEL}
    absent = pd.DataFrame({PLACE: sorted(earlier), "n": np.zeros(len(earlier), dtype=np.int64)})
    few = pd.concat([latest.loc[latest["stunting_pct"].isna(), [PLACE, "n"]], absent])
    few = few.sort_values(["n", PLACE]).reset_index(drop=True)
    return Places(shown.reset_index(drop=True), few, area_pct, mean_stunted)


def area_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The whole-area rows of a prevalence result, by year."""
    columns = list(frame.columns)
    groups = [c for c in columns[: columns.index("n")] if c not in ("year", "indicator")]
    return frame[(frame[groups] == TOTAL_LABEL).all(axis=1)].reset_index(drop=True)


def problematic_posyandu(quality: QualityReport) -> Sequence[str]:
    """The posyandu (or "All") whose data are rated problematic."""
    return [str(name) for name in rated_at_least(quality, "problematic")[quality.by]]
