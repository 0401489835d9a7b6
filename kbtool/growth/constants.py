"""Every number the growth maths depends on, each with the document it comes from."""

from __future__ import annotations

# WHO Anthro / R `anthro` (ANTHRO_DAYS_OF_MONTH): 365.25 / 12 days in a month.
DAYS_PER_MONTH = 30.4375

# WHO Child Growth Standards (2006), ch. 7: length exceeds standing height by 0.7 cm on average.
POSITION_CORRECTION_CM = 0.7

# WHO (2006): length is measured below 24 months (731 days), height from 731 days.
LENGTH_BEFORE_DAYS = 731

# R `anthro` anthro_zscores: a standing measure under 9 months is implausible (c9mo_flag).
STANDING_IMPLAUSIBLE_BELOW_MONTHS = 9.0

# R `anthro`: age-based z-scores only for children younger than 60 months (age in months < 60);
# the daily tables end at day 1826.
MAX_AGE_MONTHS = 60.0
MAX_AGE_DAYS = 1826

# R `anthro` anthro_zscore_weight_for_lenhei: WHZ ages are accepted up to day 1856.
WHZ_MAX_AGE_DAYS = 1856

# WHO (2006) tables: weight-for-length covers 45-110 cm, weight-for-height 65-120 cm, by 0.1 cm.
WFL_RANGE_CM = (45.0, 110.0)
WFH_RANGE_CM = (65.0, 120.0)

# R `anthro` anthro_zscore_weight_for_lenhei: with age unknown and no position, a measure under
# 87 cm is taken as length, from 87 cm as height.
LENGTH_HEIGHT_SPLIT_CM = 87.0

# WHO Anthro / R `anthro` flags for biologically implausible values (WHO 2006; WHO/UNICEF 2019
# "Recommendations for data collection, analysis and reporting on anthropometric indicators").
HAZ_FLAG = (-6.0, 6.0)
WAZ_FLAG = (-6.0, 5.0)
WHZ_FLAG = (-5.0, 5.0)
BMIZ_FLAG = (-5.0, 5.0)
FLAG_LIMITS = {"haz": HAZ_FLAG, "waz": WAZ_FLAG, "whz": WHZ_FLAG, "bmiz": BMIZ_FLAG}

# WHO Anthro reports z-scores rounded to 2 decimals and classifies on the rounded values.
Z_DECIMALS = 2
