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

Each threshold below names its source; docs/quality.md explains every check. Everything is column
arithmetic: one sort of the measurements by child and date (skipped when already sorted), shifted
arrays for consecutive visits, np.bincount for the sums of every group; no loop over children.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

# scipy.special, not scipy.stats: the functions scipy.stats' t, chi2, beta and binom evaluate,
# called directly (same values), without scipy.stats' ~1 s import on every run
from scipy import special

from kbtool.columns import (
    MEASURE_HEIGHT,
    MEASURE_LENGTH,
    NAT_DAYS,
    calendar_parts,
    day_numbers,
    factorize,
)
from kbtool.errors import InputError, UsageError
from kbtool.growth.constants import DAYS_PER_MONTH, MAX_AGE_DAYS
from kbtool.prevalence import select_period_measurements

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

GROUP_COLUMNS = ("posyandu", "kelurahan", "kecamatan")
PERIODS = ("year", "month")
TOTAL_LABEL = "All"  # the whole-area row of a period, as kbtool.prevalence labels it
UNKNOWN_LABEL = "(unknown)"  # a missing group, or the period of rows without a visit date

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

# The report's columns after the period and group columns, in order (part of the interface).
TABLE_COLUMNS = (
    "n_rows",
    "n_children",
    "missing_sex_pct",
    "missing_birth_date_pct",
    "missing_visit_date_pct",
    "missing_height_pct",
    "missing_weight_pct",
    "missing_position_pct",
    "birth_day_heaping_pct",
    "age_out_of_range_pct",
    "flagged_haz_pct",
    "flagged_waz_pct",
    "flagged_whz_pct",
    "position_flag_pct",
    "duplicate_pct",
    "n_haz",
    "mean_haz",
    "mean_haz_gap",
    "mean_haz_gap_p",
    "sd_haz",
    "skew_haz",
    "kurtosis_haz",
    "dps_height",
    "dps_weight",
    "sex_ratio",
    "sex_ratio_p",
    "age_ratio",
    "age_ratio_p",
    "height_decrease_pct",
    "height_repeated_pct",
    "weight_velocity_pct",
    "score",
    "rating",
)

MEASUREMENT_COLUMNS = ("visit_date", "sex", "weight_kg", "height_cm")
ZSCORE_COLUMNS = ("age_days", "lenhei_cm", "haz", "haz_flag", "waz", "waz_flag", "whz", "whz_flag")

METHOD = (
    "SMART plausibility check (SMART 2006/2017, ENA for SMART) on HAZ of one measurement per "
    "child and period (the latest valid one, as prevalence counts children), with WHO/UNICEF "
    "2019 completeness checks and kbtool's longitudinal register checks; see docs/quality.md"
)


# --- how each figure is rated ------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """How one column of the report is rated and what it costs in the score.

    `kind` says how `limits` (excellent|good, good|acceptable, acceptable|problematic) apply:
    "share" (a percentage of `rated_on`, rated on its lower confidence bound; higher is worse,
    limits inclusive), "upper" (higher is worse, limits inclusive), "p" (a p-value, lower is
    worse), "heaping" (a p-value with a tolerance), "abs" (|x| higher is worse, limits
    exclusive), "sd" (nested open intervals, inside is better). `rated_on` names the count the
    rating needs and `min_count` its minimum. Checks sharing a `criterion` count once in the
    score, at the worst of their points. A `floor` check rated problematic beyond chance rates
    its group no better than acceptable.
    """

    column: str
    criterion: str
    kind: str
    limits: tuple[Any, Any, Any]
    points: tuple[int, int, int, int]
    rated_on: str
    min_count: int
    describe: Callable[[float], str]
    source: str
    floor: bool = True


def _share_of(what: str, whole: str = "of measurements") -> Callable[[float], str]:
    return lambda value: f"{what} {value:.1f}% {whole}"


_MISSING = "WHO/UNICEF 2019 completeness; bands as SMART flagged data"
_ROWS = MIN_DENOMINATOR_RATED

CHECKS: tuple[Check, ...] = (
    Check("missing_sex_pct", "missing", "share", MISSING_PCT_LIMITS, MEASUREMENT_ERROR_POINTS,
          "n_rows", _ROWS, _share_of("sex missing in"), _MISSING),
    Check("missing_birth_date_pct", "missing", "share", MISSING_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "n_rows", _ROWS, _share_of("birth date missing in"), _MISSING),
    Check("missing_visit_date_pct", "missing", "share", MISSING_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "n_rows", _ROWS, _share_of("visit date missing in"), _MISSING),
    Check("missing_height_pct", "missing", "share", MISSING_PCT_LIMITS, MEASUREMENT_ERROR_POINTS,
          "n_rows", _ROWS, _share_of("height missing in"), _MISSING),
    Check("missing_weight_pct", "missing", "share", MISSING_PCT_LIMITS, MEASUREMENT_ERROR_POINTS,
          "n_rows", _ROWS, _share_of("weight missing in"), _MISSING),
    Check("missing_position_pct", "position", "share", MISSING_PCT_LIMITS, (0, 0, 0, 0),
          "_with_height", _ROWS, _share_of("lying/standing missing in"),
          "WHO/UNICEF 2019; shown, not scored", floor=False),
    Check("birth_day_heaping_pct", "heaping", "heaping", P_VALUE_LIMITS, RATIO_POINTS,
          "_with_birth", _ROWS,
          _share_of("birth date on the 1st or 15th for", "of children"),
          "WHO/UNICEF 2019 age heaping; binomial test"),
    Check("age_out_of_range_pct", "missing", "share", MISSING_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "_with_age", _ROWS, _share_of("age outside 0-59 months in"),
          _MISSING),
    Check("flagged_haz_pct", "flagged", "share", FLAGGED_PCT_LIMITS, FLAGGED_POINTS,
          "_with_haz", _ROWS, _share_of("HAZ flagged (< -6 or > 6) in"), "SMART; WHO flags"),
    Check("flagged_waz_pct", "flagged", "share", FLAGGED_PCT_LIMITS, FLAGGED_POINTS,
          "_with_waz", _ROWS, _share_of("WAZ flagged (< -6 or > 5) in"), "SMART; WHO flags"),
    Check("flagged_whz_pct", "flagged", "share", FLAGGED_PCT_LIMITS, FLAGGED_POINTS,
          "_with_whz", _ROWS, _share_of("WHZ flagged (< -5 or > 5) in"), "SMART; WHO flags"),
    Check("position_flag_pct", "position", "share", FLAGGED_PCT_LIMITS, (0, 0, 0, 0),
          "_with_height", _ROWS, _share_of("standing under 9 months in"),
          "WHO Anthro; shown, not scored", floor=False),
    Check("duplicate_pct", "duplicate", "share", DUPLICATE_PCT_LIMITS, MINOR_POINTS,
          "n_rows", _ROWS, _share_of("same child measured again on the same day in"), "kbtool"),
    Check("mean_haz_gap_p", "mean_haz_gap", "p", P_VALUE_LIMITS, RATIO_POINTS,
          "_n_gap", MIN_TEST_CHILDREN_RATED, lambda v: f"Welch p {_p_is(v)}",
          "kbtool; Welch's t-test"),
    Check("sd_haz", "sd", "sd", SD_LIMITS, SD_POINTS, "n_haz", MIN_DISTRIBUTION_CHILDREN_RATED,
          lambda v: f"SD of HAZ {v:.2f}", "SMART standard deviation", floor=False),
    Check("skew_haz", "skewness", "abs", SKEW_KURTOSIS_LIMITS, SKEW_KURTOSIS_POINTS,
          "n_haz", MIN_DISTRIBUTION_CHILDREN_RATED, lambda v: f"skewness of HAZ {v:+.2f}",
          "SMART skewness", floor=False),
    Check("kurtosis_haz", "kurtosis", "abs", SKEW_KURTOSIS_LIMITS, SKEW_KURTOSIS_POINTS,
          "n_haz", MIN_DISTRIBUTION_CHILDREN_RATED, lambda v: f"excess kurtosis of HAZ {v:+.2f}",
          "SMART kurtosis", floor=False),
    Check("dps_height", "dps_height", "upper", DPS_LIMITS, DPS_POINTS,
          "_height_values", MIN_DPS_VALUES_RATED,
          lambda v: f"digit preference score of height {_dps_shown(v)}", "SMART DPS"),
    Check("dps_weight", "dps_weight", "upper", DPS_LIMITS, DPS_POINTS,
          "_weight_values", MIN_DPS_VALUES_RATED,
          lambda v: f"digit preference score of weight {_dps_shown(v)}", "SMART DPS"),
    Check("sex_ratio_p", "sex_ratio", "p", P_VALUE_LIMITS, RATIO_POINTS,
          "_n_sex", MIN_TEST_CHILDREN_RATED, lambda v: f"sex ratio p {_p_is(v)}",
          "SMART sex ratio"),
    Check("age_ratio_p", "age_ratio", "p", P_VALUE_LIMITS, RATIO_POINTS,
          "_n_age", MIN_TEST_CHILDREN_RATED, lambda v: f"age ratio p {_p_is(v)}",
          "SMART age ratio", floor=False),
    Check("height_decrease_pct", "height_decrease", "share", HEIGHT_DECREASE_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "_height_pairs", _ROWS,
          _share_of(f"length/height falls by more than {HEIGHT_DECREASE_CM:g} cm in",
                    "of consecutive visits"), "kbtool"),
    Check("height_repeated_pct", "height_repeated", "share", HEIGHT_REPEATED_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "_followed", _ROWS,
          _share_of("identical height at 3+ visits over 2+ months for",
                    "of children seen 3+ times"), "kbtool"),
    Check("weight_velocity_pct", "weight_velocity", "share", WEIGHT_VELOCITY_PCT_LIMITS,
          MEASUREMENT_ERROR_POINTS, "_weight_pairs", _ROWS,
          _share_of("implausible weight change in", "of consecutive visits"),
          "kbtool; WHO growth velocity 2009"),
)  # fmt: skip


def _p_is(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _dps_shown(value: float) -> str:
    return f"{np.floor(value + 0.5):.0f}"


# --- result ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityReport:
    """The quality report: figures, where to look first, and which cells are problems.

    `table`: one row per period and group (sorted by label, "(unknown)" last), then the
    whole-area row "All" of the period; columns `year` (period "year") or `period` ("2023-02",
    period "month"; no period column when period is None), the group column, then TABLE_COLUMNS.
    `findings`: the rows rated acceptable or problematic, worst first, at most `top`, with
    columns period (if any), group, rating, score and `reasons` (short sentences joined by "; ").
    `cells`: for every rated column of `table` and for "rating", one rating per row of `table`
    ("excellent", "good", "acceptable", "problematic", or None where not rated).
    """

    table: pd.DataFrame
    findings: pd.DataFrame
    cells: dict[str, list[str | None]]
    by: str
    period: str | None

    def problem_cells(self) -> dict[str, list[bool]]:
        """For each rated column, True where the cell is rated acceptable or problematic."""
        bad = {RATINGS[ACCEPTABLE], RATINGS[PROBLEMATIC]}
        return {column: [r in bad for r in values] for column, values in self.cells.items()}


# --- entry point -------------------------------------------------------------------------------


def quality_report(
    frame: pd.DataFrame,
    *,
    by: str = "posyandu",
    period: str | None = None,
    child_key: str = "child_id",
    top: int = 10,
) -> QualityReport:
    """Data-quality and plausibility figures per period and group, rated in the SMART manner.

    `frame`: measurements in canonical columns (`child_key`, sex 1/2/0, birth_date and
    visit_date as datetime64, weight_kg, height_cm, measure 1 length / 2 height / 0 unknown,
    oedema, the `by` column; kelurahan for by="posyandu") with the z-score columns of
    `kbtool.growth.compute_zscores(frame, full_precision=True)` (age_days, lenhei_cm, haz,
    haz_flag, waz, waz_flag, whz, whz_flag, position_flag). `by`: "posyandu", "kelurahan" or
    "kecamatan". `period`: None (all measurements together), "year" or "month" of the visit
    date (rows without one form an "(unknown)" period). `top` caps the findings.

    Completeness, flags, duplicates and digit preference are over measurements; the HAZ
    distribution, sex ratio, age ratio and birth-date heaping over children, one measurement per
    child and period chosen as prevalence chooses it; the longitudinal checks over consecutive
    visits of a child, counted in the group and period of the later visit. docs/quality.md
    describes every column, threshold and source.
    """
    if by not in GROUP_COLUMNS:
        raise UsageError(f"--by must be one of {', '.join(GROUP_COLUMNS)}; got {by!r}")
    if period is not None and period not in PERIODS:
        raise UsageError(f"--period must be one of {', '.join(PERIODS)}; got {period!r}")
    if top < 0:
        raise UsageError(f"top must be 0 or more, got {top}")
    _require_columns(frame, [child_key, by, *MEASUREMENT_COLUMNS, *ZSCORE_COLUMNS])

    data = _Columns.read(frame, child_key=child_key, by=by)
    cells = _cells(data, period)
    parent = PARENT_COLUMNS.get(by)
    figures = _compute(frame, data, cells, period, parent if parent in frame.columns else None)
    table = _assemble(figures, cells, by, period)
    ratings, evidence = _rate(table)
    _score(table, ratings, evidence)
    period_name = _period_name(period)
    findings = _findings(table, ratings, by, period_name, top)
    table = table[[*([period_name] if period_name else []), by, *TABLE_COLUMNS]]
    cell_ratings: dict[str, list[str | None]] = {
        check.column: [None if code < 0 else RATINGS[code] for code in ratings[check.column]]
        for check in CHECKS
    }
    cell_ratings["rating"] = [None if pd.isna(r) else str(r) for r in table["rating"]]
    table.attrs.update(
        {
            "by": by,
            "period": period,
            "method": METHOD,
            "reference": "WHO Child Growth Standards (2006)",
        }
    )
    return QualityReport(table=table, findings=findings, cells=cell_ratings, by=by, period=period)


# --- reading the columns -----------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        seen = ", ".join(map(str, frame.columns))
        hint = ""
        if any(c in ZSCORE_COLUMNS for c in missing):
            hint = (
                "; compute z-scores first: "
                "kbtool.growth.compute_zscores(frame, full_precision=True)"
            )
        raise InputError(
            f"column {', '.join(repr(c) for c in missing)} not found; columns seen: {seen}{hint}"
        )


def _float(frame: pd.DataFrame, name: str) -> FloatArray:
    """A numeric column as float64, NaN where missing (no copy when it is float64 already)."""
    series = frame[name]
    if series.dtype == np.float64:
        return np.asarray(series.to_numpy(), dtype=np.float64)
    return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _flag(frame: pd.DataFrame, name: str) -> BoolArray:
    """A yes/no column as booleans; missing counts as no."""
    series = frame[name]
    if series.dtype == np.bool_:
        return np.asarray(series.to_numpy(), dtype=np.bool_)
    return np.asarray(series.to_numpy(dtype=np.bool_, na_value=False), dtype=np.bool_)


def _small_int(frame: pd.DataFrame, name: str) -> npt.NDArray[np.int8]:
    """sex or measure as int8 codes, 0 where missing."""
    try:
        return np.asarray(frame[name].to_numpy(dtype=np.int8, na_value=0), dtype=np.int8)
    except (TypeError, ValueError) as err:
        raise InputError(
            f"column {name!r} must hold codes (sex 1/2, measure 1 length / 2 height, 0 unknown), "
            f"not {frame[name].dtype}: read files through kbtool's reader"
        ) from err


def _day_numbers(frame: pd.DataFrame, name: str) -> IntArray:
    """Days since 1970-01-01 of a date column, NAT_DAYS where missing."""
    series = frame[name]
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        raise InputError(
            f"column {name!r} holds {series.dtype}, not dates; parse it first "
            "(the reader does), e.g. with pd.to_datetime"
        )
    return day_numbers(series)


def _months(days: IntArray, known: BoolArray) -> IntArray:
    """Months since 1970-01 of day numbers, -1 where not `known`: the calendar of each day of
    the span (a register spans a few thousand days), then one look-up a row."""
    if not known.any():
        return np.full(days.shape, -1, dtype=np.int64)
    first = int(days.min(initial=np.iinfo(np.int64).max, where=known))
    last = int(days.max(initial=np.iinfo(np.int64).min, where=known))
    _, month, year = calendar_parts(np.arange(first, last + 1, dtype=np.int64))
    offset = days - first
    if not known.all():
        offset[~known] = 0
    months = ((year - 1970) * 12 + month - 1)[offset]
    if not known.all():
        months[~known] = -1
    return months


def _codes(series: pd.Series) -> tuple[IntArray, list[Any]]:
    """Codes into the distinct values of a column; -1 where missing or blank text."""
    raw, uniques = factorize(series)
    codes = raw.astype(np.int64, copy=False)
    if pd.Index(uniques, dtype=object).inferred_type in ("string", "mixed"):
        # an empty cell is as missing as a missing one (vectorised: child keys are many)
        text = pd.Series(uniques, dtype=object).astype("str")
        blank = np.flatnonzero(text.str.strip().eq("").to_numpy(dtype=np.bool_, na_value=True))
        if blank.size:
            remap = np.arange(len(uniques), dtype=np.int64)
            remap[blank] = -1
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return codes, uniques


def _child_codes(series: pd.Series) -> IntArray:
    """Dense codes per child; a missing or blank key makes a child of its own per row.

    A child's rows mostly follow one another (registers and the store list a child's visits
    together): numeric keys are hashed once per run of equal keys, not once per row.
    """
    n = len(series)
    if n and series.dtype.kind in "iuf":
        keys = series.to_numpy()
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        run_codes, uniques = _codes(pd.Series(keys[starts]))
        codes = np.repeat(run_codes, np.diff(np.append(starts, n)))
    else:
        codes, uniques = _codes(series)
    missing = codes < 0
    if missing.any():
        codes = codes.copy()
        codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    return codes


@dataclass(frozen=True)
class _Columns:
    """The columns every step needs, as numpy arrays (read once)."""

    n: int
    child: IntArray  # dense codes, one per child
    group: IntArray  # -1 = unknown
    group_labels: list[str]
    visit_day: IntArray  # NAT_DAYS where unknown
    visit_known: BoolArray
    visit_month: IntArray  # months since 1970-01, -1 where unknown
    birth_day: IntArray  # NAT_DAYS where unknown
    birth_known: BoolArray

    @classmethod
    def read(cls, frame: pd.DataFrame, *, child_key: str, by: str) -> _Columns:
        group, uniques = _codes(frame[by])
        visit_day = _day_numbers(frame, "visit_date")
        if "birth_date" in frame.columns:
            birth_day = _day_numbers(frame, "birth_date")
        else:
            birth_day = np.full(len(frame), NAT_DAYS, dtype=np.int64)
        return cls(
            n=len(frame),
            child=_child_codes(frame[child_key]),
            group=group,
            group_labels=[str(u) for u in uniques],
            visit_day=visit_day,
            visit_known=visit_day != NAT_DAYS,
            visit_month=_months(visit_day, visit_day != NAT_DAYS),
            birth_day=birth_day,
            birth_known=birth_day != NAT_DAYS,
        )


# --- periods and cells -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cells:
    """Each row's period and (period, group) cell, and what each cell and period is."""

    row_cell: IntArray
    row_period: IntArray
    n_cells: int
    cell_period: IntArray
    cell_group: IntArray  # index into group_labels; len(group_labels) = unknown
    n_periods: int
    period_labels: list[Any]  # int years or "2023-02" months; None: unknown period / no period
    group_labels: list[str]


def _cells(data: _Columns, period: str | None) -> _Cells:
    """Number the (period, group) cells present, in period then group order."""
    labels: list[Any]
    if period is None or not data.visit_known.any():
        row_period = np.zeros(data.n, dtype=np.int64)
        labels = [None]
    else:
        value = data.visit_month // 12 if period == "year" else data.visit_month.copy()
        known = data.visit_known
        first = int(value.min(initial=np.iinfo(np.int64).max, where=known))
        value -= first
        if not known.all():
            value[~known] = 0  # 0 is a known row's period anyway (the first)
        seen = np.flatnonzero(np.bincount(value))
        lookup = np.zeros(seen[-1] + 1, dtype=np.int64)
        lookup[seen] = np.arange(seen.size)
        row_period = lookup[value]
        del value
        present = seen + first
        if period == "year":
            labels = [1970 + int(v) for v in present]
        else:
            labels = [f"{1970 + int(v) // 12}-{int(v) % 12 + 1:02d}" for v in present]
        if not known.all():
            row_period[~known] = len(labels)
            labels.append(None)
    width = len(data.group_labels) + 1
    raw = row_period * width + np.where(data.group < 0, width - 1, data.group)
    n_raw = len(labels) * width
    if n_raw <= max(4 * data.n, 1 << 20):
        present_cells = np.flatnonzero(np.bincount(raw, minlength=n_raw))
        lookup = np.zeros(n_raw, dtype=np.int64)
        lookup[present_cells] = np.arange(present_cells.size)
        row_cell = lookup[raw]
    else:  # many periods x groups: number them by sorting instead of a table
        present_cells, inverse = np.unique(raw, return_inverse=True)
        row_cell = inverse.astype(np.int64, copy=False)
    return _Cells(
        row_cell=row_cell,
        row_period=row_period,
        n_cells=int(present_cells.size),
        cell_period=(present_cells // width).astype(np.int64),
        cell_group=(present_cells % width).astype(np.int64),
        n_periods=len(labels),
        period_labels=labels,
        group_labels=data.group_labels,
    )


# --- counting ----------------------------------------------------------------------------------

Counts = dict[str, npt.NDArray[Any]]


def _count(codes: IntArray, size: int, where: BoolArray | None = None) -> FloatArray:
    chosen = codes if where is None else codes[where]
    return np.bincount(chosen, minlength=size).astype(np.float64)


# at most this many bins in one packed count (2**22 int64 counts: 32 MB)
_PACKED_BINS = 1 << 22


class _PackedCounts:
    """Per-code counts of several yes/no conditions from one bincount.

    Each condition is one bit of a uint8 beside the row's code; one np.bincount of
    code x 2**k + bits counts every combination, and a condition's count per code is the sum of
    the combinations with its bit set. One pass over the codes replaces a boolean selection and
    a bincount per condition. Counts are exact (integer sums). Call `flush` after the last `add`.
    """

    def __init__(self, codes: IntArray, size: int, out: Counts) -> None:
        self.codes, self.size, self.out = codes, size, out
        # as many bits as keep size x 2**bits within _PACKED_BINS, 1 to 8
        self.width = max(1, min(8, (_PACKED_BINS // max(size, 1)).bit_length() - 1))
        self.bits: npt.NDArray[np.uint8] | None = None
        self.names: list[str] = []

    def add(self, name: str, mask: BoolArray) -> None:
        """Count the rows where `mask` is true, per code, into out[name]."""
        shifted = mask.view(np.uint8) << len(self.names) if self.names else mask.view(np.uint8)
        if self.bits is None:
            self.bits = shifted.astype(np.uint8, copy=True)
        else:
            self.bits |= shifted
        self.names.append(name)
        if len(self.names) == self.width:
            self.flush()

    def flush(self) -> None:
        """Count the conditions added since the last flush."""
        if self.bits is None:
            return
        k = len(self.names)
        key = self.codes << k
        key |= self.bits
        combos = np.bincount(key, minlength=self.size << k).reshape(self.size, 1 << k)
        del key
        column = np.arange(1 << k)
        for bit, name in enumerate(self.names):
            self.out[name] = combos[:, (column >> bit) & 1 == 1].sum(axis=1).astype(np.float64)
        self.bits, self.names = None, []


def _to_periods(values: npt.NDArray[Any], cells: _Cells) -> FloatArray:
    """Per-cell counts (1-D, or 2-D with one row per cell) summed into per-period counts."""
    if values.ndim == 1:
        sums = np.bincount(cells.cell_period, weights=values, minlength=cells.n_periods)
        return np.asarray(sums, dtype=np.float64)
    out = np.zeros((cells.n_periods, values.shape[1]))
    np.add.at(out, cells.cell_period, values)
    return out


def _compute(
    frame: pd.DataFrame,
    data: _Columns,
    cells: _Cells,
    period: str | None,
    parent: str | None,
) -> tuple[Counts, Counts]:
    """Counts and statistics per cell and per period (the whole-area rows)."""
    cell: Counts = {}
    _row_counts(frame, data, cell, cells.row_cell, cells.n_cells)
    distinct = _longitudinal(frame, data, cells, cell)
    total = {name: _to_periods(values, cells) for name, values in cell.items()}
    total.update(distinct)  # distinct children do not add up over groups (children move)
    chosen = _chosen_rows(frame, data, period)
    _per_child(frame, data, cells, period, parent, chosen, cell, total)
    return cell, total


def _row_counts(
    frame: pd.DataFrame, data: _Columns, cell: Counts, codes: IntArray, size: int
) -> None:
    """Per-cell counts of rows:
    - n_rows; missing sex (not 1 or 2), birth date, visit date, height, weight;
    - with_height, and of those: missing_position (measure neither length nor height, or no
      measure column) and position_flagged;
    - with_age, and of those age_out_of_range (below 0 or above MAX_AGE_DAYS days);
    - with_haz / with_waz / with_whz (computed) and of those flagged_haz / _waz / _whz;
    - digits_height / digits_weight: the tenths digit of every measured value (_tenths_digits).
    """
    cell["n_rows"] = _count(codes, size)
    packed = _PackedCounts(codes, size, cell)
    sex = _small_int(frame, "sex")
    packed.add("missing_sex", (sex != 1) & (sex != 2))
    del sex
    packed.add("missing_birth_date", ~data.birth_known)
    packed.add("missing_visit_date", ~data.visit_known)
    height = _float(frame, "height_cm")
    has_height = ~np.isnan(height)
    packed.add("with_height", has_height)
    if "measure" in frame.columns:
        measure = _small_int(frame, "measure")
        no_position = has_height & (measure != MEASURE_LENGTH) & (measure != MEASURE_HEIGHT)
        del measure
    else:
        no_position = has_height
    packed.add("missing_position", no_position)
    del no_position
    if "position_flag" in frame.columns:
        packed.add("position_flagged", has_height & _flag(frame, "position_flag"))
    weight = _float(frame, "weight_kg")
    packed.add("missing_weight", np.isnan(weight))
    age = _float(frame, "age_days")
    packed.add("with_age", ~np.isnan(age))
    with np.errstate(invalid="ignore"):  # NaN compares false: a missing age is not out of range
        packed.add("age_out_of_range", (age < 0) | (age > MAX_AGE_DAYS))
    del age
    for indicator in ("haz", "waz", "whz"):
        computed = ~np.isnan(_float(frame, indicator))
        packed.add(f"with_{indicator}", computed)
        packed.add(f"flagged_{indicator}", computed & _flag(frame, f"{indicator}_flag"))
    packed.flush()
    cell.setdefault("position_flagged", np.zeros(size))
    cell["missing_height"] = cell["n_rows"] - cell["with_height"]  # exact: whole numbers
    cell["digits_height"] = _digit_counts(codes, size, height)
    cell["digits_weight"] = _digit_counts(codes, size, weight)


def _digit_counts(codes: IntArray, size: int, values: FloatArray) -> FloatArray:
    """Per code, how many values end in each tenths digit: shape (size, DPS_DIGITS).

    The digit as written: floor(10 x |value| + 1e-6) mod 10, the slack for binary floats
    (85.3 x 10 = 852.9999...), whole numbers counting as digit 0; absurd values are capped
    within int32 range. Missing values go to an eleventh bin that is dropped.
    """
    present = ~np.isnan(values)
    tenths = np.abs(values) * 10.0
    tenths += 1e-6
    np.minimum(tenths, 1e9, out=tenths)
    np.copyto(tenths, 0.0, where=~present)  # no NaN reaches the integer conversion
    digit = tenths.astype(np.int32)  # truncation is floor for values >= 0
    del tenths
    digit %= DPS_DIGITS
    digit[~present] = DPS_DIGITS
    key = codes * (DPS_DIGITS + 1)
    key += digit
    del digit
    counts = np.bincount(key, minlength=size * (DPS_DIGITS + 1))
    return counts.reshape(size, DPS_DIGITS + 1)[:, :DPS_DIGITS].astype(np.float64)


@dataclass(frozen=True)
class _Visits:
    """The dated rows in child, visit day, row order: their frame positions, child codes and
    visit days."""

    rows: IntArray
    child: IntArray
    day: IntArray

    def take(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """A per-row array of the frame in this order."""
        return values[self.rows]


def _visit_order(data: _Columns) -> _Visits:
    """The dated rows in child, visit day, row order (_child_day_order)."""
    dated = None if data.visit_known.all() else np.flatnonzero(data.visit_known)
    child = data.child if dated is None else data.child[dated]
    day = data.visit_day if dated is None else data.visit_day[dated]
    order = _child_day_order(child, day)
    rows = order if dated is None else dated[order]
    return _Visits(rows, child[order], day[order])


def _child_day_order(child: IntArray, day: IntArray) -> IntArray:
    """The positions of rows sorted by child, then day, then position.

    Registers and the store hold a child's visits in stretches already in date order (one per
    file or partition): the stretches are sorted, not the rows, and laid end to end. A child
    whose stretches overlap in time (moved within a year, say) has its rows sorted one by one.
    """
    n = child.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    broken = child[1:] != child[:-1]
    broken |= day[1:] < day[:-1]
    starts = np.flatnonzero(np.concatenate(([True], broken)))
    del broken
    if starts.size > n // 4:  # no stretches to speak of: sort the rows
        return _sorted_by_child_day(child, day, np.arange(n, dtype=np.int64))
    lengths = np.diff(np.append(starts, n))
    order = _sorted_by_child_day(child[starts], day[starts], np.arange(starts.size, dtype=np.int64))
    starts, lengths = starts[order], lengths[order]
    position = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    position += np.arange(n, dtype=np.int64)
    # a stretch must begin after the end of its child's previous one (day, then row)
    first, last = starts[1:], starts[:-1] + lengths[:-1] - 1
    overlap = child[first] == child[last]
    overlap &= (day[first] < day[last]) | ((day[first] == day[last]) & (first < last))
    if overlap.any():
        mixed = np.zeros(int(child.max()) + 1, dtype=np.bool_)
        mixed[child[first[overlap]]] = True
        resort = np.flatnonzero(mixed[child[position]])
        rows = position[resort]
        position[resort] = _sorted_by_child_day(child[rows], day[rows], rows)
    return position


def _sorted_by_child_day(child: IntArray, day: IntArray, index: IntArray) -> IntArray:
    """`index` (distinct non-negative numbers) sorted by child, then day, then itself.

    The three are packed into one int64 and sorted as values, several times faster than an
    argsort; a lexsort where they do not fit in 63 bits.
    """
    first_day = int(day.min())
    day_bits = max(int(day.max()) - first_day, 1).bit_length()
    index_bits = max(int(index.max()), 1).bit_length()
    child_bits = max(int(child.max()), 1).bit_length()
    if child_bits + day_bits + index_bits > 63:  # pragma: no cover - 2**63 children x days x rows
        return index[np.lexsort((index, day, child))]
    key = child << (day_bits + index_bits)
    key |= (day - first_day) << index_bits
    key |= index
    key.sort()
    key &= (1 << index_bits) - 1
    return key


# the sorted visits are checked this many rows at a time (whole children): the temporaries of a
# block stay in cache and are reused, instead of a dozen row-sized arrays faulted in afresh
BLOCK_ROWS = 1 << 19


def _child_blocks(child: IntArray, rows: int) -> list[slice]:
    """Slices of about `rows` rows of `child` (sorted) that never split a child's rows; one
    empty slice when there are no rows."""
    if child.size == 0:
        return [slice(0, 0)]
    cuts = np.searchsorted(child, child[rows::rows], side="left")
    bounds = np.unique(np.concatenate(([0], cuts, [child.size])))
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


@dataclass(frozen=True)
class _VisitBlock:
    """Whole children's dated rows in child, visit date, row order: what the checks compare."""

    child: IntArray
    day: IntArray
    month: IntArray  # months since 1970-01
    code: IntArray  # the row's cell
    lenhei: FloatArray  # NaN where missing or the HAZ is flagged
    height: FloatArray  # as recorded; NaN where missing
    weight: FloatArray  # NaN where missing, the WAZ is flagged or with oedema
    waz: FloatArray


def _longitudinal(frame: pd.DataFrame, data: _Columns, cells: _Cells, cell: Counts) -> Counts:
    """Duplicates, falling heights, copied heights and weight velocity over consecutive visits.

    The dated rows are put in child, visit date, row order (_visit_order) and checked in blocks
    of whole children (_visit_counts), whose counts add up. Adds per-cell counts to `cell`;
    returns the per-period counts of distinct children, which cells cannot add up to.
    """
    visits = _visit_order(data)
    lenhei = np.where(_flag(frame, "haz_flag"), np.nan, _float(frame, "lenhei_cm"))
    unusable = _flag(frame, "waz_flag")
    if "oedema" in frame.columns:  # oedema adds weight that is not growth
        unusable |= _flag(frame, "oedema")
    weight = np.where(unusable, np.nan, _float(frame, "weight_kg"))
    del unusable
    height, waz = _float(frame, "height_cm"), _float(frame, "waz")
    cell_sums: Counts = {}
    period_sums: Counts = {}
    for block in _child_blocks(visits.child, BLOCK_ROWS):
        rows = visits.rows[block]
        visit_block = _VisitBlock(
            child=visits.child[block],
            day=visits.day[block],
            month=data.visit_month[rows],
            code=cells.row_cell[rows],
            lenhei=lenhei[rows],
            height=height[rows],
            weight=weight[rows],
            waz=waz[rows],
        )
        block_cells, block_periods = _visit_counts(visit_block, cells)
        for sums, counts in ((cell_sums, block_cells), (period_sums, block_periods)):
            for name, values in counts.items():
                sums[name] = sums[name] + values if name in sums else values
    cell.update(cell_sums)
    return period_sums


def _visit_counts(visits: _VisitBlock, cells: _Cells) -> tuple[Counts, Counts]:
    """The longitudinal counts of whole children's visits, per cell and per period.

    Each check keeps the visits it may use and compares each with the one before (or the two
    before) in shifted slices; a pair of visits counts in the cell of its later visit.
    - duplicates: the same child on the same day as the previous row;
    - height pairs / decreases: consecutive length/height measurements of a child whose HAZ is
      not flagged, on a later day; a decrease is a fall of more than HEIGHT_DECREASE_CM;
    - followed / copied: a recorded height with two recorded heights of the child before it;
      copied when all three are equal and span REPEATED_SPAN_MONTHS calendar months or more
      (distinct children per cell and per period);
    - weight pairs / implausible: consecutive weights of a child (WAZ not flagged, no oedema)
      at most VELOCITY_MAX_GAP_DAYS apart; implausible when the later is under
      (1 - WEIGHT_LOSS_SHARE) of the earlier or WAZ rises by more than WAZ_GAIN_LIMIT.
    """
    size = cells.n_cells
    child, day, code = visits.child, visits.day, visits.code
    counts: Counts = {}
    same = child[1:] == child[:-1]
    counts["duplicates"] = _count(code[1:], size, same & (day[1:] == day[:-1]))

    keep = ~np.isnan(visits.lenhei)
    c, d, value, k = child[keep], day[keep], visits.lenhei[keep], code[keep]
    pair = (c[1:] == c[:-1]) & (d[1:] > d[:-1])
    counts["height_pairs"] = _count(k[1:], size, pair)
    pair &= value[1:] < value[:-1] - HEIGHT_DECREASE_CM
    counts["height_decreases"] = _count(k[1:], size, pair)

    keep = ~np.isnan(visits.height)
    c, month, value, k = child[keep], visits.month[keep], visits.height[keep], code[keep]
    third = np.zeros(c.size, dtype=np.bool_)  # a visit with two recorded heights before it
    copied = np.zeros(c.size, dtype=np.bool_)
    if c.size >= REPEATED_VISITS:
        # rows come by child: the same child two visits back is the child of the visit between
        third[2:] = c[2:] == c[:-2]
        copied[2:] = (
            third[2:]
            & (value[2:] == value[1:-1])
            & (value[1:-1] == value[:-2])
            & (month[2:] - month[:-2] >= REPEATED_SPAN_MONTHS)
        )
    period = cells.cell_period[k]
    periods: Counts = {}
    for name, mask in (("followed", third), ("copied", copied)):
        counts[name] = _distinct(k, c, mask, size)
        periods[name] = _distinct(period, c, mask, cells.n_periods)

    keep = ~np.isnan(visits.weight)
    c, d, value, k = child[keep], day[keep], visits.weight[keep], code[keep]
    waz = visits.waz[keep]
    gap = d[1:] - d[:-1]
    pair = (c[1:] == c[:-1]) & (gap > 0) & (gap <= VELOCITY_MAX_GAP_DAYS)
    counts["weight_pairs"] = _count(k[1:], size, pair)
    with np.errstate(invalid="ignore"):  # a missing WAZ compares false: no rise
        pair &= (value[1:] < (1.0 - WEIGHT_LOSS_SHARE) * value[:-1]) | (
            waz[1:] - waz[:-1] > WAZ_GAIN_LIMIT
        )
    counts["weight_implausible"] = _count(k[1:], size, pair)
    return counts, periods


def _distinct(codes: IntArray, child: IntArray, mask: BoolArray, size: int) -> FloatArray:
    """Per code, the number of distinct children among the masked rows (ordered by child).

    Rows come ordered by child, so repeats of a (child, code) pair are mostly adjacent; only the
    children whose codes go back (moving between groups within a period) need a sort.
    """
    key = child[mask] * size + codes[mask]
    if key.size == 0:
        return np.zeros(size)
    key = key[np.r_[True, key[1:] != key[:-1]]]
    back = np.flatnonzero(key[1:] <= key[:-1]) + 1
    if back.size:
        key_child = key // size
        moving = np.zeros(int(key_child[-1]) + 1, dtype=np.bool_)
        moving[key_child[back]] = True
        movers = moving[key_child]
        key = np.concatenate([key[~movers], np.unique(key[movers])])
    return np.bincount(key % size, minlength=size).astype(np.float64)


def _per_child(
    frame: pd.DataFrame,
    data: _Columns,
    cells: _Cells,
    period: str | None,
    parent: str | None,
    chosen_rows: tuple[IntArray, BoolArray],
    cell: Counts,
    total: Counts,
) -> None:
    """Children counted as prevalence counts them (`chosen_rows`, from _chosen_rows): HAZ
    distribution, sex, age, birth days."""
    chosen, counted = chosen_rows
    chosen_cell = cells.row_cell[chosen]
    chosen_period = cells.row_period[chosen]
    cell["n_children"] = _count(chosen_cell, cells.n_cells)
    total["n_children"] = _count(chosen_period, cells.n_periods)
    undated = np.flatnonzero(~data.visit_known)
    if undated.size and period is None:
        # without periods, only children never measured on a known date are missing
        dated_child = np.zeros(int(data.child.max()) + 1, dtype=np.bool_)
        dated_child[data.child[chosen]] = True
        undated = undated[~dated_child[data.child[undated]]]
    if undated.size:
        # rows without a visit date are in no period of the selection: their children are
        # counted in the "(unknown)" period (or the only one), once per group and in the area
        undated = undated[np.argsort(data.child[undated], kind="stable")]
        child = data.child[undated]
        everyone = np.ones(undated.size, dtype=np.bool_)
        cell["n_children"] += _distinct(cells.row_cell[undated], child, everyone, cells.n_cells)
        total["n_children"] += _distinct(
            cells.row_period[undated], child, everyone, cells.n_periods
        )

    haz = _float(frame, "haz")[chosen]
    sex = _small_int(frame, "sex")[chosen]
    with np.errstate(invalid="ignore"):
        months = np.floor(_float(frame, "age_days")[chosen] / DAYS_PER_MONTH)
    young = (months >= AGE_RATIO_YOUNG_MONTHS[0]) & (months <= AGE_RATIO_YOUNG_MONTHS[1])
    old = (months >= AGE_RATIO_OLD_MONTHS[0]) & (months <= AGE_RATIO_OLD_MONTHS[1])
    birth_known = data.birth_known[chosen]
    day_of_month, _, _ = calendar_parts(data.birth_day[chosen])
    heaped = np.isin(day_of_month, HEAPING_DAYS)  # -1 where unknown
    # each chosen row is in one cell: the whole-area counts are sums of the cells'
    size = cells.n_cells
    named = (
        ("boys", sex == 1),
        ("girls", sex == 2),
        ("age_young", young),
        ("age_old", old),
        ("with_birth", birth_known),
        ("heaped", heaped),
    )
    packed = _PackedCounts(chosen_cell, size, cell)
    for name, mask in named:
        packed.add(name, mask)
    packed.flush()
    for name, _ in named:
        total[name] = _to_periods(cell[name], cells)
    valid_haz = haz[counted]
    shift = float(valid_haz.mean()) if valid_haz.size else 0.0
    sums = _power_sums(chosen_cell[counted], valid_haz, size, shift)
    cell.update(_moments(sums, shift))
    total.update(_moments(_to_periods(sums, cells), shift))
    if parent is not None:
        parent_codes, uniques = _codes(frame[parent])
        labels = [*map(str, uniques), f"{UNKNOWN_LABEL} {parent}"]
        own = np.where(parent_codes < 0, len(labels) - 1, parent_codes)[chosen]
        cell.update(_gap_to_parent(cells, cell, chosen_cell[counted], own[counted], labels))


def _chosen_rows(
    frame: pd.DataFrame, data: _Columns, period: str | None
) -> tuple[IntArray, BoolArray]:
    """Frame positions of one measurement per child and period, and whether its HAZ is valid.

    The choice is prevalence's (`select_period_measurements`: the latest measurement with a
    valid HAZ, else the latest). Without a period, the per-year choices are reduced to one per
    child: the latest valid one, else the latest.
    """
    selector = pd.DataFrame(
        {
            "_child": data.child,
            "visit_date": frame["visit_date"],
            "haz": frame["haz"],
            "haz_flag": frame["haz_flag"],
            "_row": np.arange(data.n, dtype=np.int64),
        },
        copy=False,
    )
    selection = select_period_measurements(
        selector, period=period or "year", child_key="_child", columns=["_row"]
    )
    del selector
    # rows in frame order, each with a "valid HAZ" bit below it: later gathers then stream
    # through memory instead of jumping
    tagged = np.concatenate(
        [
            selection.selected["_row"].to_numpy(dtype=np.int64) * 2 + 1,
            selection.excluded["_row"].to_numpy(dtype=np.int64) * 2,
        ]
    )
    if period is None and tagged.size:
        tagged = _latest_per_child(data, tagged)
    tagged.sort()
    return tagged >> 1, (tagged & 1).astype(np.bool_)


def _latest_per_child(data: _Columns, tagged: IntArray) -> IntArray:
    """Of each child's tagged rows (row x 2 + valid bit), the valid one with the latest visit
    (then the later row), else the latest; one value sort of packed (child, valid, day, row)."""
    rows, valid = tagged >> 1, tagged & 1
    child = data.child[rows]
    day = data.visit_day[rows]
    day -= int(day.min())
    row_bits = max(data.n - 1, 1).bit_length()
    day_bits = max(int(day.max()), 1).bit_length()
    child_bits = max(int(child.max()), 1).bit_length()
    if child_bits + 1 + day_bits + row_bits <= 63:
        packed = (((child << 1 | valid) << day_bits | day) << row_bits) | rows
        packed.sort()
        last = np.r_[
            (packed[1:] >> (1 + day_bits + row_bits)) != (packed[:-1] >> (1 + day_bits + row_bits)),
            True,
        ]
        return (packed[last] & ((1 << row_bits) - 1)) * 2 + (
            (packed[last] >> (day_bits + row_bits)) & 1
        )
    order = np.lexsort((rows, day, valid, child))  # pragma: no cover - beyond 63 bits
    child = child[order]
    last = np.r_[child[1:] != child[:-1], True]
    return np.asarray(tagged[order][last], dtype=np.int64)


def _power_sums(codes: IntArray, x: FloatArray, size: int, shift: float) -> FloatArray:
    """Per code: n and the sums of (x - shift)^1..4, shape (size, 5). Sums add up over codes,
    so the whole area's moments come from its groups' without reading the values again."""
    sums = np.empty((size, 5))
    sums[:, 0] = np.bincount(codes, minlength=size)
    deviation = x - shift
    power = deviation.copy()
    for k in range(1, 5):
        sums[:, k] = np.bincount(codes, weights=power, minlength=size)
        if k < 4:
            power *= deviation
    return sums


def _moments(sums: FloatArray, shift: float) -> Counts:
    """n, mean, SD, skewness and excess kurtosis from power sums about `shift`.

    Central moments with divisor n from the shifted raw moments (the shift, the overall mean,
    keeps them well conditioned for z-scores); skewness m3 / m2^1.5 and excess kurtosis
    m4 / m2^2 - 3 are scipy.stats.skew and scipy.stats.kurtosis with bias=True, the statistics of
    nipnTK's skewKurt, which mwana's SMART plausibility check uses. SD with divisor n - 1, as R's
    sd() there.
    """
    n = sums[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        r1, r2, r3, r4 = (sums[:, k] / n for k in range(1, 5))
        m2 = r2 - r1**2
        m3 = r3 - 3 * r1 * r2 + 2 * r1**3
        m4 = r4 - 4 * r1 * r3 + 6 * r1**2 * r2 - 3 * r1**4
        spread = np.where(m2 > 1e-12 * np.maximum(r2, 1.0), m2, np.nan)  # identical values: 0
        sd = np.where(n > 1, np.sqrt(np.maximum(m2, 0.0) * n / (n - 1)), np.nan)
        skew = np.where(n > 2, m3 / spread**1.5, np.nan)
        kurtosis = np.where(n > 3, m4 / spread**2 - 3.0, np.nan)
    return {
        "n_haz": n,
        "mean_haz": r1 + shift,
        "sd_haz": sd,
        "skew_haz": skew,
        "kurtosis_haz": kurtosis,
    }


def _gap_to_parent(
    cells: _Cells,
    cell: Counts,
    counted_cell: IntArray,
    counted_parent: IntArray,
    parent_labels: list[str],
) -> Counts:
    """Each group's mean HAZ minus that of the rest of its parent area, and Welch's p-value.

    A group's parent is the parent of most of its counted children. The rest of a parent is
    computed from its groups' sums; squared deviations pool exactly (a group's own plus n (mean
    - parent mean)^2), so no measurement is read again.
    """
    size = cells.n_cells
    n_parents = len(parent_labels)
    own_parent = np.zeros(size, dtype=np.int64)
    if counted_cell.size:
        pairs, counts = np.unique(counted_cell * n_parents + counted_parent, return_counts=True)
        pair_cell = pairs // n_parents
        order = np.lexsort((counts, pair_cell))  # the most frequent parent last in each cell
        pairs, pair_cell = pairs[order], pair_cell[order]
        last = np.r_[pair_cell[1:] != pair_cell[:-1], True]
        own_parent[pair_cell[last]] = pairs[last] % n_parents

    n = cell["n_haz"]
    mean = np.where(n > 0, cell["mean_haz"], 0.0)
    squares = np.where(n > 1, cell["sd_haz"] ** 2 * (n - 1), 0.0)
    _, area = np.unique(cells.cell_period * n_parents + own_parent, return_inverse=True)
    n_area = np.bincount(area, weights=n)[area]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_area = (np.bincount(area, weights=n * mean) / np.bincount(area, weights=n))[area]
        between = n * (mean - mean_area) ** 2
        squares_area = np.bincount(area, weights=squares + between)[area]
        n_rest = n_area - n
        mean_rest = (n_area * mean_area - n * mean) / n_rest
        squares_rest = squares_area - squares - between - n_rest * (mean_rest - mean_area) ** 2
        a = squares / (n - 1) / n  # squared standard errors of the two means
        b = np.maximum(squares_rest, 0.0) / (n_rest - 1) / n_rest
        t = (mean - mean_rest) / np.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (n - 1) + b**2 / (n_rest - 1))  # Welch-Satterthwaite
        p = 2.0 * special.stdtr(df, -np.abs(t))  # stats.t.sf(|t|, df)
    testable = (n > 1) & (n_rest > 1) & np.isfinite(p)
    return {
        "mean_haz_gap": np.where(testable, mean - mean_rest, np.nan),
        "mean_haz_gap_p": np.where(testable, p, np.nan),
        "n_gap": np.where(testable, np.minimum(n, n_rest), 0.0),
        "parent": np.asarray(parent_labels, dtype=object)[own_parent],
    }


# --- statistics on counts ----------------------------------------------------------------------


def digit_preference_score(counts: npt.ArrayLike) -> FloatArray:
    """SMART's digit preference score from the counts of each final digit (last axis).

    DPS = 100 x sqrt(chi2 / (n x (k - 1))): chi2 is Pearson's statistic of the counts against
    equal frequencies, n the number of values, k the number of possible digits (WHO MONICA
    project, Kuulasmaa et al. 1998; SMART; nipnTK digitPreference). 0 when every digit is equally
    frequent, 100 when all values end in the same digit; NaN where n = 0.
    """
    table = np.asarray(counts, dtype=np.float64)
    k = table.shape[-1]
    n = table.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = n / k
        chi2 = ((table - expected[..., None]) ** 2).sum(axis=-1) / expected
        return np.asarray(100.0 * np.sqrt(chi2 / (n * (k - 1))), dtype=np.float64)


def ratio_test(
    first: npt.ArrayLike, second: npt.ArrayLike, expected_ratio: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """first / second, and the p-value of Pearson's chi-square test against `expected_ratio`.

    One degree of freedom, no continuity correction: the p-value of
    scipy.stats.chisquare([first, second], f_exp=...) and of R's prop.test(correct = FALSE).
    SMART's sex ratio test (boys / girls, expected 1) and age ratio test (6-29 / 30-59 months,
    expected 0.85). NaN where both counts are 0.
    """
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    expected = np.asarray(expected_ratio, dtype=np.float64)
    n = a + b
    share = expected / (1.0 + expected)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected_a = n * share
        expected_b = n * (1.0 - share)
        chi2 = (a - expected_a) ** 2 / expected_a + (b - expected_b) ** 2 / expected_b
        p = np.where(n > 0, special.chdtrc(1, chi2), np.nan)  # stats.chi2.sf(chi2, 1)
        ratio = np.where(n > 0, a / b, np.nan)
    return np.asarray(ratio, dtype=np.float64), np.asarray(p, dtype=np.float64)


def excess_test(observed: npt.ArrayLike, n: npt.ArrayLike, expected_share: float) -> FloatArray:
    """One-sided binomial p-value of observing at least `observed` of `n` at `expected_share`.

    scipy.stats.binomtest(observed, n, expected_share, alternative="greater").pvalue, for whole
    arrays; NaN where n = 0.
    """
    k = np.asarray(observed, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    p = binomial_at_least(k, np.maximum(total, 1), expected_share)
    return np.asarray(np.where(total > 0, p, np.nan), dtype=np.float64)


def binomial_at_least(k: npt.ArrayLike, n: npt.ArrayLike, share: float) -> FloatArray:
    """P(X >= k) for X ~ Binomial(n, share): scipy.stats.binom.sf(k - 1, n, share).

    Through the regularized incomplete beta I_share(k, n - k + 1), the identity scipy's (Boost)
    binomial survival function evaluates (checked equal to the last bit); 1 where k <= 0, 0
    where k > n, NaN where k or n is.
    """
    hits = np.asarray(k, dtype=np.float64)
    trials = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        tail = special.betainc(np.maximum(hits, 1.0), np.maximum(trials - hits + 1.0, 1.0), share)
    tail = np.where(hits <= 0, 1.0, np.where(hits > trials, 0.0, tail))
    return np.asarray(np.where(np.isnan(hits) | np.isnan(trials), np.nan, tail), dtype=np.float64)


def _share(part: FloatArray, whole: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(whole > 0, 100.0 * part / whole, np.nan), dtype=np.float64)


def _table_values(counts: Counts, expected_age_ratio: FloatArray) -> dict[str, Any]:
    """The report's figures from one level's counts, plus the hidden counts ratings rest on."""
    sex_ratio, sex_p = ratio_test(counts["boys"], counts["girls"], EXPECTED_SEX_RATIO)
    age_ratio, age_p = ratio_test(counts["age_young"], counts["age_old"], expected_age_ratio)
    n_rows = counts["n_rows"]
    empty = np.full(n_rows.shape, np.nan)
    return {
        "n_rows": n_rows,
        "n_children": counts["n_children"],
        "missing_sex_pct": _share(counts["missing_sex"], n_rows),
        "missing_birth_date_pct": _share(counts["missing_birth_date"], n_rows),
        "missing_visit_date_pct": _share(counts["missing_visit_date"], n_rows),
        "missing_height_pct": _share(counts["missing_height"], n_rows),
        "missing_weight_pct": _share(counts["missing_weight"], n_rows),
        "missing_position_pct": _share(counts["missing_position"], counts["with_height"]),
        "birth_day_heaping_pct": _share(counts["heaped"], counts["with_birth"]),
        "age_out_of_range_pct": _share(counts["age_out_of_range"], counts["with_age"]),
        "flagged_haz_pct": _share(counts["flagged_haz"], counts["with_haz"]),
        "flagged_waz_pct": _share(counts["flagged_waz"], counts["with_waz"]),
        "flagged_whz_pct": _share(counts["flagged_whz"], counts["with_whz"]),
        "position_flag_pct": _share(counts["position_flagged"], counts["with_height"]),
        "duplicate_pct": _share(counts["duplicates"], n_rows),
        "n_haz": counts["n_haz"],
        "mean_haz": counts["mean_haz"],
        "mean_haz_gap": counts.get("mean_haz_gap", empty),
        "mean_haz_gap_p": counts.get("mean_haz_gap_p", empty),
        "sd_haz": counts["sd_haz"],
        "skew_haz": counts["skew_haz"],
        "kurtosis_haz": counts["kurtosis_haz"],
        "dps_height": digit_preference_score(counts["digits_height"]),
        "dps_weight": digit_preference_score(counts["digits_weight"]),
        "sex_ratio": sex_ratio,
        "sex_ratio_p": sex_p,
        "age_ratio": age_ratio,
        "age_ratio_p": age_p,
        "height_decrease_pct": _share(counts["height_decreases"], counts["height_pairs"]),
        "height_repeated_pct": _share(counts["copied"], counts["followed"]),
        "weight_velocity_pct": _share(counts["weight_implausible"], counts["weight_pairs"]),
        # hidden: what the ratings and the sentences rest on (dropped from the table)
        "_with_height": counts["with_height"],
        "_with_age": counts["with_age"],
        "_with_haz": counts["with_haz"],
        "_with_waz": counts["with_waz"],
        "_with_whz": counts["with_whz"],
        "_with_birth": counts["with_birth"],
        "_heaping_p": excess_test(
            counts["heaped"], counts["with_birth"], HEAPING_EXPECTED_PCT / 100.0
        ),
        "_height_values": counts["digits_height"].sum(axis=1),
        "_weight_values": counts["digits_weight"].sum(axis=1),
        "_n_sex": counts["boys"] + counts["girls"],
        "_n_age": counts["age_young"] + counts["age_old"],
        "_height_pairs": counts["height_pairs"],
        "_followed": counts["followed"],
        "_weight_pairs": counts["weight_pairs"],
        "_expected_age_ratio": expected_age_ratio,
        "_n_gap": counts.get("n_gap", np.zeros(n_rows.shape)),
        "_parent": counts.get("parent", np.full(n_rows.shape, "", dtype=object)),
    }


# --- the table ---------------------------------------------------------------------------------


def _period_name(period: str | None) -> str | None:
    return None if period is None else ("year" if period == "year" else "period")


def _assemble(
    figures: tuple[Counts, Counts], cells: _Cells, by: str, period: str | None
) -> pd.DataFrame:
    """Group rows then the whole-area row of each period, in period order, with hidden columns."""
    cell_counts, total_counts = figures
    # the whole area against SMART's expected age ratio; each group against its whole area
    total_values = _table_values(total_counts, np.full(cells.n_periods, EXPECTED_AGE_RATIO))
    area_ratio = np.asarray(total_values["age_ratio"], dtype=np.float64)
    usable = np.isfinite(area_ratio) & (area_ratio > 0)
    cell_expected = np.where(usable, area_ratio, EXPECTED_AGE_RATIO)[cells.cell_period]
    cell_values = _table_values(cell_counts, cell_expected)
    unknown_group = len(cells.group_labels)
    group_text = np.asarray([*cells.group_labels, UNKNOWN_LABEL], dtype=object)
    parts = [
        pd.DataFrame(
            {
                "_period": cells.cell_period,
                "_order": np.where(cells.cell_group == unknown_group, 1, 0),
                by: group_text[cells.cell_group],
                **cell_values,
            }
        ),
        pd.DataFrame(
            {
                "_period": np.arange(cells.n_periods, dtype=np.int64),
                "_order": np.full(cells.n_periods, 2),
                by: np.full(cells.n_periods, TOTAL_LABEL, dtype=object),
                **total_values,
            }
        ),
    ]
    table = pd.concat(parts, ignore_index=True)
    table = table[table["n_rows"] > 0]
    table = table.sort_values(["_period", "_order", by], kind="stable", ignore_index=True)
    for name in ("n_rows", "n_children", "n_haz"):
        table[name] = table[name].astype(np.int64)
    table[by] = table[by].astype("str")
    period_name = _period_name(period)
    if period_name is not None:
        labels = [cells.period_labels[p] for p in table["_period"].tolist()]
        column: Any
        if period != "year":
            column = pd.Series([UNKNOWN_LABEL if v is None else v for v in labels], dtype="str")
        elif None in labels:
            column = pd.array(labels, dtype="Int64")
        else:
            column = np.asarray(labels, dtype=np.int64)
        table.insert(0, period_name, column)
    return table


# --- ratings and score -------------------------------------------------------------------------


def _rate_values(check: Check, values: FloatArray) -> IntArray:
    """Rating codes 0-3 (excellent .. problematic) of values, -1 where a value is missing."""
    known = ~np.isnan(values)
    x = np.where(known, values, 0.0)
    lim = check.limits
    if check.kind in ("share", "upper"):
        if check.column.startswith("dps_"):
            x = np.floor(x + 0.5)  # DPS is rated as ENA shows it, a whole number
        code = np.select([x <= lim[0], x <= lim[1], x <= lim[2]], [0, 1, 2], 3)
    elif check.kind in ("p", "heaping"):
        code = np.select([x > lim[0], x > lim[1], x > lim[2]], [0, 1, 2], 3)
    elif check.kind == "abs":
        a = np.abs(x)
        code = np.select([a < lim[0], a < lim[1], a < lim[2]], [0, 1, 2], 3)
    else:  # "sd": nested open intervals
        code = np.select([(x > low) & (x < high) for low, high in lim], [0, 1, 2], 3)
    return np.where(known, code, -1).astype(np.int64)


def _column(table: pd.DataFrame, name: str) -> FloatArray:
    return np.asarray(table[name].to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _rate(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rating code (-1 not rated, 0 excellent .. 3 problematic) of every rated cell, and for
    `floor` checks the p-value that a problematic rating is not chance (NaN otherwise)."""
    ratings: dict[str, IntArray] = {}
    evidence: dict[str, FloatArray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for check in CHECKS:
            values = _column(table, check.column)
            basis = _column(table, check.rated_on)
            tolerated = np.zeros(values.shape, dtype=np.bool_)
            p = np.full(values.shape, np.nan)
            if check.kind == "share":
                k = np.rint(np.nan_to_num(values) / 100.0 * basis)
                n = np.maximum(basis, 1.0)
                # stats.beta.ppf(q, a, b)
                lower = special.betaincinv(np.maximum(k, 1.0), n - k + 1.0, 1.0 - SHARE_CONFIDENCE)
                code = _rate_values(check, np.where(np.isnan(values), np.nan, 100.0 * lower))
                code = np.where(k > 0, code, np.where(np.isnan(values), -1, EXCELLENT))
                p = binomial_at_least(k, n, check.limits[2] / 100.0)
            elif check.kind == "heaping":
                # the p-value of the excess; no penalty under a Whipple-type index of 125
                p = _column(table, "_heaping_p")
                code = _rate_values(check, p)
                tolerated = values / HEAPING_EXPECTED_PCT * 100.0 < HEAPING_INDEX_TOLERATED
            else:
                code = _rate_values(check, values)
                if check.kind == "p":
                    p = values
                elif check.column.startswith("dps_"):  # the DPS's chi-square test
                    p = special.chdtrc(9, (values / 100.0) ** 2 * basis * (DPS_DIGITS - 1))
            if check.column == "sex_ratio_p":
                ratio = _column(table, "sex_ratio") / EXPECTED_SEX_RATIO
                tolerated = np.abs(ratio - 1.0) <= RATIO_TOLERANCE
            elif check.column == "age_ratio_p":
                ratio = _column(table, "age_ratio") / _column(table, "_expected_age_ratio")
                tolerated = np.abs(ratio - 1.0) <= RATIO_TOLERANCE
            elif check.column == "mean_haz_gap_p":
                tolerated = np.abs(_column(table, "mean_haz_gap")) < HAZ_GAP_TOLERATED
            code = np.where((code > EXCELLENT) & tolerated, EXCELLENT, code)
            ratings[check.column] = np.where(basis >= check.min_count, code, -1)
            evidence[check.column] = p
    return pd.DataFrame(ratings, index=table.index), pd.DataFrame(evidence, index=table.index)


def _score(table: pd.DataFrame, ratings: pd.DataFrame, evidence: pd.DataFrame) -> None:
    """Add `score` (penalty points, each criterion once at its worst) and `rating`.

    The rating is SMART's band of the score, but no better than acceptable when a `floor` check
    is problematic beyond chance: its p-value at most FLOOR_ALPHA / the number of rated groups
    of the period. Groups with fewer than MIN_ROWS_RATED measurements get neither.
    """
    rated = table["n_rows"].to_numpy() >= MIN_ROWS_RATED
    is_group = table["_order"].to_numpy() < 2
    groups = pd.Series(rated & is_group).groupby(table["_period"].to_numpy()).transform("sum")
    compared = np.where(is_group, np.maximum(groups.to_numpy(), 1), 1)
    criteria: dict[str, IntArray] = {}
    floor = np.zeros(len(table), dtype=np.bool_)
    for check in CHECKS:
        code = ratings[check.column].to_numpy()
        points = np.where(code >= 0, np.asarray(check.points)[np.maximum(code, 0)], 0)
        criteria[check.criterion] = np.maximum(criteria.get(check.criterion, 0), points)
        if check.floor:
            p = evidence[check.column].to_numpy()
            floor |= (code == PROBLEMATIC) & (p <= FLOOR_ALPHA / compared)
    score = np.sum(np.vstack(list(criteria.values())), axis=0).astype(np.int64)
    band = np.select(
        [score <= SCORE_LIMITS[0], score <= SCORE_LIMITS[1], score <= SCORE_LIMITS[2]],
        [EXCELLENT, GOOD, ACCEPTABLE],
        PROBLEMATIC,
    )
    band = np.where(floor, np.maximum(band, ACCEPTABLE), band)
    table["score"] = pd.array(np.where(rated, score, 0), dtype="Int64")
    table.loc[~rated, "score"] = pd.NA
    rating = np.asarray(RATINGS, dtype=object)[band]
    table["rating"] = pd.Series(np.where(rated, rating, None), index=table.index, dtype="str")


# --- where to look first -----------------------------------------------------------------------


def _reason(check: Check, code: int, row: pd.Series, by: str) -> str:
    """One short sentence: the figure, its rating and the limit it crossed."""
    value = float(row[check.column])
    rating = RATINGS[code]
    lim = check.limits
    if check.column == "sex_ratio_p":
        ratio = float(row["sex_ratio"])
        if np.isfinite(ratio) and ratio > 0:
            shown = f"sex ratio {ratio:.2f} boys per girl"
        else:
            shown = f"only {'boys' if ratio > 0 else 'girls'} recorded"
        return f"{shown}, p {_p_is(value)} ({rating})"
    if check.column == "age_ratio_p":
        against = (
            f"SMART's {EXPECTED_AGE_RATIO:g}"
            if row[by] == TOTAL_LABEL
            else f"{row['_expected_age_ratio']:.2f} as in the whole area"
        )
        return (
            f"age ratio 6-29 / 30-59 months {row['age_ratio']:.2f} (expected {against}), "
            f"p {_p_is(value)} ({rating})"
        )
    if check.column == "mean_haz_gap_p":
        gap = float(row["mean_haz_gap"])
        return (
            f"mean HAZ {abs(gap):.2f} {'below' if gap < 0 else 'above'} the rest of "
            f"{row['_parent']}, p {_p_is(value)} ({rating}): a biased length board, or a real "
            "difference"
        )
    text = check.describe(value)
    if check.kind == "heaping":
        return (
            f"{text} (expected {HEAPING_EXPECTED_PCT:.1f}%), "
            f"p {_p_is(float(row['_heaping_p']))} ({rating})"
        )
    if check.kind in ("share", "upper"):
        unit = "%" if check.kind == "share" else ""
        return f"{text} ({rating}: > {lim[code - 1]:g}{unit})"
    if check.kind == "abs":
        return f"{text} ({rating}: |x| >= {lim[code - 1]:g})"
    low, high = lim[code - 1]
    return f"{text} ({rating}: outside {low:g}-{high:g})"


def _findings(
    table: pd.DataFrame, ratings: pd.DataFrame, by: str, period_name: str | None, top: int
) -> pd.DataFrame:
    """The rows rated acceptable or problematic, worst first (groups before the whole area
    within a rating, then by score), with their reasons in words."""
    columns = [*([period_name] if period_name else []), by, "rating", "score", "reasons"]
    code = table["rating"].map({r: i for i, r in enumerate(RATINGS)}).fillna(-1).astype(int)
    worst = table.assign(_code=code, _group=table["_order"] < 2)[code >= ACCEPTABLE]
    # worst rating first; within a rating the groups (where to go) before the whole area
    worst = worst.sort_values(["_code", "_group", "score"], ascending=False, kind="stable")
    worst = worst.head(top)
    codes = {check.column: ratings[check.column].to_numpy() for check in CHECKS}
    records = []
    for position in worst.index.to_numpy(dtype=np.int64):  # at most `top` rows
        row = cast(pd.Series, worst.loc[position])
        found = []
        for check in CHECKS:
            rating = int(codes[check.column][position])
            if rating > EXCELLENT:
                found.append((-rating, -check.points[rating], _reason(check, rating, row, by)))
        record = {column: row[column] for column in columns[:-1]}
        record["reasons"] = "; ".join(text for *_, text in sorted(found))
        records.append(record)
    findings = pd.DataFrame(records, columns=columns)
    if period_name == "year" and len(findings):
        findings[period_name] = findings[period_name].astype(table[period_name].dtype)
    findings["score"] = findings["score"].astype("Int64")
    return findings
