"""Is this register trustworthy? A data-quality and plausibility report per period and group.

`quality_report(frame, by=..., period=...)` takes measurements in kbtool's canonical columns with
their z-scores (`kbtool.growth.compute_zscores(frame, full_precision=True)`) and returns, for every
group (posyandu, kelurahan or kecamatan) of every period, and for the whole area of each period:

* completeness: rows, children, % missing sex / birth date / visit date / height / weight /
  position, % of children born on the 1st or 15th (estimated birth dates), % of ages outside
  0-1826 days (WHO/UNICEF 2019 recommendations);
* implausible values: % of WHO-flagged HAZ, WAZ and WHZ, % of standing measurements under 9
  months, % of repeated measurements of a child on one day;
* the HAZ distribution of the children counted as prevalence counts them (one measurement per
  child and period, `kbtool.prevalence.select_period_measurements`): mean, SD, skewness, excess
  kurtosis; for posyandu, the gap of their mean HAZ to the rest of their kelurahan;
* SMART's digit preference scores of height and weight, sex ratio and age ratio tests;
* checks only a register allows, over each child's consecutive visits: heights that fall, heights
  copied from visit to visit, implausible weight changes;
* a penalty `score` and `rating` in the manner of the SMART plausibility check, with, for the
  worst groups, the reasons in words (`QualityReport.findings`) and a rating per cell
  (`QualityReport.cells`) for the table view.

One concern per module, each importing only those listed before it: `thresholds` (every limit
and its source), `statistics` (tests on counts), `inputs` (the frame's columns as arrays),
`cells` (groups x periods), `counting`, `checks` (over rows and children), `longitudinal` (over
consecutive visits), `table`, `rating`, `findings`, and `report`, which runs them.
docs/quality.md explains every check.
"""

from kbtool.quality.cells import GROUP_COLUMNS, PERIODS, TOTAL_LABEL, UNKNOWN_LABEL
from kbtool.quality.report import (
    METHOD,
    QualityReport,
    columns_needed,
    provenance,
    quality_report,
    rated_at_least,
)
from kbtool.quality.statistics import (
    binomial_at_least,
    digit_preference_score,
    excess_test,
    ratio_test,
)
from kbtool.quality.table import TABLE_COLUMNS
from kbtool.quality.thresholds import (
    CHECKS,
    EXPECTED_AGE_RATIO,
    EXPECTED_SEX_RATIO,
    HEAPING_EXPECTED_PCT,
    RATINGS,
    Check,
)

__all__ = [
    "CHECKS",
    "EXPECTED_AGE_RATIO",
    "EXPECTED_SEX_RATIO",
    "GROUP_COLUMNS",
    "HEAPING_EXPECTED_PCT",
    "METHOD",
    "PERIODS",
    "RATINGS",
    "TABLE_COLUMNS",
    "TOTAL_LABEL",
    "UNKNOWN_LABEL",
    "Check",
    "QualityReport",
    "binomial_at_least",
    "columns_needed",
    "digit_preference_score",
    "excess_test",
    "provenance",
    "quality_report",
    "rated_at_least",
    "ratio_test",
]
