"""Is this register trustworthy? A data-quality and plausibility report per period and group.

`quality_report(frame, by=..., period=...)` rates every group of every period and the whole
area in the SMART manner: completeness and WHO flags, the HAZ distribution, digit preference, sex
and age ratios and checks over consecutive visits, with reasons in words for the worst rows.

Each module imports only those before it: thresholds, statistics, cells, counting,
checks, longitudinal, table, rating, findings, report. docs/quality.md explains every check.
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
