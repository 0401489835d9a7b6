"""Did stunting fall faster where a programme runs? The programme's units against the others.

`read_groups` reads the groups file (groups); `compare_groups` (comparison) returns every
table: prevalence per group and year with the unit as cluster (descriptive), the difference in
differences by two-way fixed effects with a wild cluster bootstrap and a randomization test
(twfe, bootstrap, randomization), Callaway & Sant'Anna's estimate for staggered starts and the
event study (staggered). Child-year observations and their unit-year sums are in observations;
docs/compare.md explains the method and its limits.
"""

from kbtool.compare.assignment import Assignment, assign
from kbtool.compare.comparison import (
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    EFFECT_COLUMNS,
    EVENT_COLUMNS,
    Comparison,
    Note,
    columns_needed,
    compare_groups,
)
from kbtool.compare.groups import OTHERS, UNITS, Programme, read_groups

__all__ = [
    "DEFAULT_DRAWS",
    "DEFAULT_SEED",
    "EFFECT_COLUMNS",
    "EVENT_COLUMNS",
    "OTHERS",
    "UNITS",
    "Assignment",
    "Comparison",
    "Note",
    "Programme",
    "assign",
    "columns_needed",
    "compare_groups",
    "read_groups",
]
