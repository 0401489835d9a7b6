"""Did stunting fall faster where a programme runs? The programme's units against the others.

`read_groups` reads the groups file; `compare_groups` returns every table (descriptive, twfe,
bootstrap, randomization, staggered). docs/compare.md explains the method and its limits.
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
