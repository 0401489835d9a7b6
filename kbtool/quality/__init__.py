"""Is this register trustworthy? A data-quality and plausibility report per period and group.

`quality_report(frame, by=..., period=...)` takes measurements with their z-scores and returns,
for every group of every period and for the whole area: completeness and WHO flags (WHO/UNICEF
2019), the HAZ distribution of the children prevalence counts, SMART's digit preference, sex
and age ratio tests, checks over each child's consecutive visits, and a penalty score and
rating in the SMART manner, with the reasons in words for the worst rows.

One concern per module, each importing only those listed before it: `thresholds` (every limit
and its source), `statistics` (tests on counts), `inputs` (the frame's columns as arrays),
`cells` (groups x periods), `counting`, `checks` (over rows and children), `longitudinal` (over
consecutive visits), `table`, `rating`, `findings`, and `report`, which runs them.
docs/quality.md explains every check.
"""

from kbtool.prevalence import TOTAL_LABEL, UNKNOWN_LABEL
from kbtool.quality.cells import GROUP_COLUMNS, PERIODS
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
