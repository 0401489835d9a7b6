"""`kbtool prevalence`: nutrition indicators by kelurahan and year, WHO's method."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import pandas as pd
import typer

from kbtool.commands.options import Source, Writing, choice, choices, command
from kbtool.errors import UsageError
from kbtool.prevalence import (
    BY_CHOICES,
    DEFAULT_MIN_N,
    INDICATORS,
    PERIODS,
    SampleDesign,
    columns_needed,
    compute_prevalence_of_parts,
    provenance,
)
from kbtool.store.schema import MEASUREMENT_COLUMNS
from kbtool.views.prevalence import in_language, method_sheet, table_view, title


def _months(value: str | None) -> list[int] | None:
    """--months 2,8 -> [2, 8]."""
    if value is None:
        return None
    try:
        months = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        months = []
    if not months or any(not 1 <= month <= 12 for month in months):
        raise typer.BadParameter(f"{value!r}: calendar months 1-12, such as 2,8")
    return months


ByOption = Annotated[
    list[str] | None,
    typer.Option(
        "--by",
        help="Group by kelurahan (default), kecamatan, posyandu, puskesmas, sex, age_group; "
        "repeat or comma-separate; 'year' alone gives the whole-area total.",
        metavar="GROUP",
        callback=choices(BY_CHOICES),
    ),
]
IndicatorOption = Annotated[
    list[str] | None,
    typer.Option(
        "--indicator",
        "-i",
        help="stunting (default), underweight, wasting, overweight, bmi_overweight, or all; "
        "repeat or comma-separate for several (one row per indicator).",
        metavar="NAME",
        callback=choices((*INDICATORS, "all")),
    ),
]
ClusterOption = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Column of the sampling clusters (usually posyandu): intervals of a clustered "
        "design, as anthro_prevalence(cluster=).",
        metavar="COLUMN",
    ),
]
StrataOption = Annotated[
    str | None, typer.Option("--strata", help="Column of the design's strata.", metavar="COLUMN")
]
WeightsOption = Annotated[
    str | None,
    typer.Option("--weights", help="Column of sampling weights (numbers >= 0).", metavar="COLUMN"),
]
PeriodOption = Annotated[
    str,
    typer.Option(
        "--period", help="year, quarter or month.", metavar="PERIOD", callback=choice(PERIODS)
    ),
]
MonthsOption = Annotated[
    str | None,
    typer.Option(
        "--months",
        help="Only these calendar months, e.g. 2,8 (bulan timbang: February and August).",
        metavar="M,M",
        callback=_months,
    ),
]
MinNOption = Annotated[
    int,
    typer.Option(
        "--min-n",
        help="Suppress figures of groups with fewer children (25-49 are marked low precision "
        "in the table). 0 shows everything.",
        metavar="N",
        min=0,
    ),
]
TotalOption = Annotated[
    bool, typer.Option("--total/--no-total", help="Add a whole-area row per period.")
]


@dataclass(frozen=True)
class Counting:
    """What prevalence and trend count: the indicators (--indicator) per group (--by) in some
    calendar months (--months); the figures of groups under --min-n children suppressed."""

    indicator: IndicatorOption = None
    by: ByOption = None
    months: MonthsOption = None
    min_n: MinNOption = DEFAULT_MIN_N

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(self.indicator or ()) or ("stunting",)

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.by or ()) or ("kelurahan",)

    def prevalence(self, frames: Iterable[pd.DataFrame], **options: Any) -> pd.DataFrame:
        """compute_prevalence_of_parts of `frames` with these options and `options` (period,
        total, design)."""
        return compute_prevalence_of_parts(
            frames, indicators=self.indicators, by=self.groups, months=self.months,
            min_n=self.min_n, child_key="child_key", **options,
        )  # fmt: skip


@command
def prevalence(
    cluster: ClusterOption = None,
    strata: StrataOption = None,
    weights: WeightsOption = None,
    period: PeriodOption = "year",
    total: TotalOption = True,
    *,
    counting: Counting,
    writing: Writing,
    source: Source,
) -> None:
    """Prevalence of stunting, underweight, wasting and overweight per kelurahan and year.

    Each child counts once per period and indicator, by their latest measurement with a valid
    z-score of it; 95% confidence intervals as WHO's anthro_prevalence, for a simple random
    sample or (--cluster) a clustered design. Reads the store, or INPUT files (or '-')
    directly without touching the store.

    \b
    Examples:
      kbtool prevalence                                  # the store: stunting by kelurahan
      kbtool prevalence register.csv --indicator all --cluster posyandu
      kbtool prevalence --indicator wasting --by kecamatan,sex -f csv
      kbtool prevalence --months 2,8 -o stunting.xlsx --lang id
    """
    design = SampleDesign(cluster=cluster, strata=strata, weights=weights)
    if not source.inputs:
        _stored_only(design)
    needed = columns_needed(counting.groups, counting.indicators, design)
    # periods lie within a visit year: the store is read and counted one year at a time
    loaded = source.load(needed, writing.lang, by_year=True)
    result = counting.prevalence(loaded.frames(), design=design, period=period, total=total)
    about = provenance(result, loaded.origin, loaded.sources)
    lang = writing.lang
    view, styles = table_view(result, lang=lang)
    writing.write(
        in_language(result, lang),
        provenance=about,
        title=title(result, lang),
        table_frame=view,
        row_styles=styles,
        max_table_rows=len(view),  # an aggregate: every group is shown
        extra_sheets={"method": method_sheet(about, lang)},
    )


def _stored_only(design: SampleDesign) -> None:
    """The store keeps its measurement columns only: a design column must be one of them."""
    for option, name in (
        ("--cluster", design.cluster),
        ("--strata", design.strata),
        ("--weights", design.weights),
    ):
        if name and name not in MEASUREMENT_COLUMNS:
            raise UsageError(
                f"{option} {name}: the store keeps no column {name!r} (posyandu, kelurahan, "
                f"kecamatan and puskesmas are kept); give the register files to use a column "
                f"of theirs: kbtool prevalence FILE {option} {name}"
            )
