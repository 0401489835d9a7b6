"""Every limit, point scale and rule of the quality report, each with its source (docs/quality.md
says why); `CHECKS`: how each column is rated and what it costs in the score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kbtool.growth.constants import DAYS_PER_MONTH

RATINGS = ("excellent", "good", "acceptable", "problematic")
EXCELLENT, GOOD, ACCEPTABLE, PROBLEMATIC = range(4)


# --- SMART plausibility check ------------------------------------------------------------------
# SMART Methodology (2006) and SMART Manual 2.0 (2017), ENA for SMART plausibility report; the
# bands and points as nutriverse/mwana implements them (R/quality_raters.R, R/quality_scorers.R)
# and nipnTK (R/digitPreference.R, R/sexRatioTest.R, R/ageRatioTest.R, R/skewKurt.R).

# SMART flagged data: <= 2.5% excellent, <= 5% good, <= 7.5% acceptable, more problematic.
FLAGGED_PCT_LIMITS = (2.5, 5.0, 7.5)
# SMART penalty points for flagged data and for the SD: 0 / 5 / 10 / 20.
FLAGGED_POINTS = (0, 5, 10, 20)
SD_POINTS = (0, 5, 10, 20)
# SMART SD of z-scores: inside 0.9-1.1 excellent, 0.85-1.15 good, 0.8-1.2 acceptable (open bounds).
SD_LIMITS = ((0.9, 1.1), (0.85, 1.15), (0.8, 1.2))
# SMART skewness and kurtosis: |x| < 0.2 excellent, < 0.4 good, < 0.6 acceptable.
SKEW_KURTOSIS_LIMITS = (0.2, 0.4, 0.6)
# SMART (ENA; mwana assign_penalty_points_skew_kurt) points for skewness, kurtosis: 0 / 1 / 3 / 5.
SKEW_KURTOSIS_POINTS = (0, 1, 3, 5)
# SMART digit preference score, a whole number as ENA shows it: 0-7 excellent, 8-12 good,
# 13-20 acceptable, > 20 problematic.
DPS_LIMITS = (7.0, 12.0, 20.0)


def dps_shown(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Digit preference scores as ENA shows and rates them: whole numbers, halves up."""
    return np.floor(np.asarray(values, dtype=np.float64) + 0.5)


# SMART penalty points for each DPS, the sex ratio and the age ratio: 0 / 2 / 4 / 10.
DPS_POINTS = (0, 2, 4, 10)
RATIO_POINTS = (0, 2, 4, 10)
# SMART sex and age ratio tests: p > 0.1 excellent, > 0.05 good, > 0.001 acceptable.
P_VALUE_LIMITS = (0.1, 0.05, 0.001)
# SMART overall score: 0-9 excellent, 10-14 good, 15-24 acceptable, >= 25 problematic.
SCORE_LIMITS = (9, 14, 24)

# SMART sex ratio test: boys / girls against 1:1.
EXPECTED_SEX_RATIO = 1.0
# SMART age ratio test: children 6-29 / 30-59 months against 0.85 (ENA's default expectation).
EXPECTED_AGE_RATIO = 0.85
AGE_RATIO_YOUNG_MONTHS = (6, 29)  # completed months
AGE_RATIO_OLD_MONTHS = (30, 59)
# kbtool: a ratio within 15% of the expected one is not penalised, whatever its p-value (SMART's
# p-value bands assume a survey of a few hundred children; see docs/quality.md).
RATIO_TOLERANCE = 0.15

# The final digit of height and weight is the tenths digit; 10 possible digits (SMART's DPS after
# the WHO MONICA project, Kuulasmaa et al. 1998).
DPS_DIGITS = 10

# --- kbtool's register checks (docs/quality.md says why each number) ----------------------------

# Estimated birth dates heaped on the 1st and 15th (WHO/UNICEF 2019, age heaping). Expected share:
# 2 days of an average month of 30.4375 days.
HEAPING_DAYS = (1, 15)
HEAPING_EXPECTED_PCT = 100.0 * len(HEAPING_DAYS) / DAYS_PER_MONTH
# Rated like SMART's ratio tests on a one-sided binomial test of the excess, and not penalised
# while the Whipple-type index (observed / expected share x 100) stays under 125: "approximate" or
# better in Whipple's index categories (United Nations; Shryock & Siegel, The Methods and
# Materials of Demography: < 105 highly, < 110 fairly accurate, < 125 approximate, < 175 rough).
HEAPING_INDEX_TOLERATED = 125.0

# A posyandu's mean HAZ against the other posyandu of its kelurahan (same neighbourhood, their own
# boards and cadres): a biased length board shifts every height. Welch's t-test, rated like SMART's
# ratio tests; a gap under 0.5 z (15-20 percentage points of stunting near 25%) is not penalised.
# Kelurahan and kecamatan differ for real reasons, so they are not compared.
PARENT_COLUMNS = {"posyandu": "kelurahan"}
HAZ_GAP_TOLERATED = 0.5

# Bands in % for the register checks; no published cut-offs, chosen in docs/quality.md.
MISSING_PCT_LIMITS = FLAGGED_PCT_LIMITS  # as SMART's (missing/)flagged data
DUPLICATE_PCT_LIMITS = (1.0, 2.5, 5.0)
HEIGHT_DECREASE_PCT_LIMITS = (1.0, 2.0, 5.0)
HEIGHT_REPEATED_PCT_LIMITS = (2.5, 5.0, 10.0)
WEIGHT_VELOCITY_PCT_LIMITS = (1.0, 2.0, 5.0)
MEASUREMENT_ERROR_POINTS = (0, 5, 10, 20)  # errors of measurement weigh as SMART's flagged data
MINOR_POINTS = (0, 2, 4, 10)  # duplicates weigh as SMART's DPS

# A fall of length/height larger than this between consecutive visits, after WHO's 0.7 cm
# position correction, is a measurement error: 2.6 SD of the difference of two readings with a
# 0.4 cm technical error of measurement, before any growth between the visits (trained WHO MGRS
# anthropometrists: 0.2-0.3 cm; de Onis et al., Food Nutr Bull 2004;25(1 Suppl):S27-36).
HEIGHT_DECREASE_CM = 1.5
# Copied heights: the same recorded height at 3+ consecutive visits spanning 2+ calendar months.
REPEATED_VISITS = 3
REPEATED_SPAN_MONTHS = 2
# Weight changes are judged between consecutive visits at most 3 months apart.
VELOCITY_MAX_GAP_DAYS = 92
# A loss of more than 10% of body weight: WHO's severe dehydration (WHO, The treatment of
# diarrhoea, 2005), not a child weighed at a posyandu session; a scale or typing error.
WEIGHT_LOSS_SHARE = 0.10
# A WAZ rise of more than 2 z within 3 months (2.2 kg at 12 months, about ten times a month's
# median gain): far beyond the upper tail of the 1- and 2-month weight increments of the WHO
# Child Growth Standards: Growth velocity (2009), which kbtool does not ship; see docs/quality.md.
WAZ_GAIN_LIMIT = 2.0

# kbtool: a percentage is rated on the one-sided 95% lower confidence bound of its share
# (Clopper-Pearson), so a small group is not rated down by chance; the table shows the share.
SHARE_CONFIDENCE = 0.95
# kbtool: one problematic check rates its group no better than acceptable, but only when it is
# beyond chance among all the groups compared: p <= 0.001 (SMART's problematic level) divided by
# the number of groups of the period (Bonferroni).
FLOOR_ALPHA = 0.001

# A figure is rated only on enough data; smaller groups show it without a rating.
MIN_DENOMINATOR_RATED = 50  # measurements, visit pairs or children behind a percentage
MIN_DPS_VALUES_RATED = 100  # the DPS of n uniform digits is about 100/sqrt(n): 10 at n = 100
MIN_TEST_CHILDREN_RATED = 20  # chi-square and t-tests: expected counts of at least 5 per class
# SE of skewness sqrt(6/n) = 0.17 and of kurtosis sqrt(24/n) = 0.35 at n = 200, near the width of
# SMART's bands; SMART surveys measure several hundred children
MIN_DISTRIBUTION_CHILDREN_RATED = 200
MIN_ROWS_RATED = 50  # fewer measurements: no score and no rating


# --- how each figure is rated ------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """How one column of the report is rated and what it costs in the score.

    `kind`: "share" (% of `rated_on`, on its lower confidence bound) and "upper" (higher is
    worse, limits inclusive), "p" and "heaping" (p-values), "abs" (|x|, limits exclusive), "sd"
    (nested open intervals). Checks sharing a `criterion` score once, at their worst; a `floor`
    check problematic beyond chance rates its group no better than acceptable.
    """

    column: str
    criterion: str
    kind: str
    limits: tuple[Any, Any, Any]
    points: tuple[int, int, int, int]
    rated_on: str
    min_count: int
    source: str
    floor: bool = True


_MISSING = "WHO/UNICEF 2019 completeness; bands as SMART flagged data"
_ROWS = MIN_DENOMINATOR_RATED

CHECKS: tuple[Check, ...] = (
    Check("missing_sex_pct", "missing", "share", MISSING_PCT_LIMITS, MEASUREMENT_ERROR_POINTS,
          "n_rows", _ROWS, _MISSING),
    Check("missing_birth_date_pct", "missing", "share", MISSING_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "n_rows", _ROWS, _MISSING),
    Check("missing_visit_date_pct", "missing", "share", MISSING_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "n_rows", _ROWS, _MISSING),
    Check("missing_height_pct", "missing", "share", MISSING_PCT_LIMITS, MEASUREMENT_ERROR_POINTS,
          "n_rows", _ROWS, _MISSING),
    Check("missing_weight_pct", "missing", "share", MISSING_PCT_LIMITS, MEASUREMENT_ERROR_POINTS,
          "n_rows", _ROWS, _MISSING),
    Check("missing_position_pct", "position", "share", MISSING_PCT_LIMITS, (0, 0, 0, 0),
          "_with_height", _ROWS, "WHO/UNICEF 2019; shown, not scored", floor=False),
    Check("birth_day_heaping_pct", "heaping", "heaping", P_VALUE_LIMITS, RATIO_POINTS,
          "_with_birth", _ROWS, "WHO/UNICEF 2019 age heaping; binomial test"),
    Check("age_out_of_range_pct", "missing", "share", MISSING_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "_with_age", _ROWS, _MISSING),
    Check("flagged_haz_pct", "flagged", "share", FLAGGED_PCT_LIMITS, FLAGGED_POINTS,
          "_with_haz", _ROWS, "SMART; WHO flags"),
    Check("flagged_waz_pct", "flagged", "share", FLAGGED_PCT_LIMITS, FLAGGED_POINTS,
          "_with_waz", _ROWS, "SMART; WHO flags"),
    Check("flagged_whz_pct", "flagged", "share", FLAGGED_PCT_LIMITS, FLAGGED_POINTS,
          "_with_whz", _ROWS, "SMART; WHO flags"),
    Check("position_flag_pct", "position", "share", FLAGGED_PCT_LIMITS, (0, 0, 0, 0),
          "_with_height", _ROWS, "WHO Anthro; shown, not scored", floor=False),
    Check("duplicate_pct", "duplicate", "share", DUPLICATE_PCT_LIMITS, MINOR_POINTS,
          "n_rows", _ROWS, "kbtool"),
    Check("mean_haz_gap_p", "mean_haz_gap", "p", P_VALUE_LIMITS, RATIO_POINTS,
          "_n_gap", MIN_TEST_CHILDREN_RATED, "kbtool; Welch's t-test"),
    Check("sd_haz", "sd", "sd", SD_LIMITS, SD_POINTS, "n_haz", MIN_DISTRIBUTION_CHILDREN_RATED,
          "SMART standard deviation", floor=False),
    Check("skew_haz", "skewness", "abs", SKEW_KURTOSIS_LIMITS, SKEW_KURTOSIS_POINTS,
          "n_haz", MIN_DISTRIBUTION_CHILDREN_RATED, "SMART skewness", floor=False),
    Check("kurtosis_haz", "kurtosis", "abs", SKEW_KURTOSIS_LIMITS, SKEW_KURTOSIS_POINTS,
          "n_haz", MIN_DISTRIBUTION_CHILDREN_RATED, "SMART kurtosis", floor=False),
    Check("dps_height", "dps_height", "upper", DPS_LIMITS, DPS_POINTS,
          "_height_values", MIN_DPS_VALUES_RATED, "SMART DPS"),
    Check("dps_weight", "dps_weight", "upper", DPS_LIMITS, DPS_POINTS,
          "_weight_values", MIN_DPS_VALUES_RATED, "SMART DPS"),
    Check("sex_ratio_p", "sex_ratio", "p", P_VALUE_LIMITS, RATIO_POINTS,
          "_n_sex", MIN_TEST_CHILDREN_RATED, "SMART sex ratio"),
    Check("age_ratio_p", "age_ratio", "p", P_VALUE_LIMITS, RATIO_POINTS,
          "_n_age", MIN_TEST_CHILDREN_RATED, "SMART age ratio", floor=False),
    Check("height_decrease_pct", "height_decrease", "share", HEIGHT_DECREASE_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "_height_pairs", _ROWS, "kbtool"),
    Check("height_repeated_pct", "height_repeated", "share", HEIGHT_REPEATED_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "_followed", _ROWS, "kbtool"),
    Check("weight_velocity_pct", "weight_velocity", "share", WEIGHT_VELOCITY_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "_weight_pairs", _ROWS, "kbtool; WHO growth velocity 2009"),
)  # fmt: skip
