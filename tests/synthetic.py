"""Realistic synthetic posyandu registers for Kota Metro, Lampung: samples, benchmarks, tests.

Every person generated here is synthetic. The geography is real (the 5 kecamatan and 22 kelurahan
of Kota Metro); the puskesmas assignments, posyandu names and all figures are illustrative.

How a register is made, vectorised throughout (children as arrays, expanded to visits with
`np.repeat`, no per-row Python):

* each child belongs to a posyandu (so a kelurahan, kecamatan and puskesmas), is born somewhere in
  the five years before the window or inside it, enters the register at birth or later, and leaves
  at 60 months, at the end of the window, or earlier when the family stops coming;
* every posyandu meets once a month on its own day; a child attends each month with a probability
  of their own (more often in February and August, the bulan timbang), some months a posyandu does
  not meet at all, and about 2% of children move to another posyandu;
* growth follows a latent length/height-for-age z that is persistent for the child (kelurahan mean
  + child level + a small slope + faltering over the first 24 months + a secular trend), turned into
  centimetres through the WHO LMS tables; weight comes from a latent weight-for-length/height z on
  the child's length, so WAZ correlates with HAZ as in real data; then measurement noise, rounding,
  the wrong position in ~5% of measurements, and a few typing errors.

`generate_register` returns the canonical columns; `to_eppgbm` turns them into an e-PPGBM-like
export; `inject_defects` adds known data-quality problems for tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from kbtool.columns import MEASURE_HEIGHT, MEASURE_LENGTH
from kbtool.growth.categories import classify
from kbtool.growth.constants import DAYS_PER_MONTH, LENGTH_BEFORE_DAYS, MAX_AGE_DAYS
from kbtool.growth.rounding import r_round
from kbtool.growth.tables import LmsTable, load_table
from kbtool.growth.zscores import compute_zscore_arrays

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_SEED = 20240801


# --------------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kelurahan:
    """One kelurahan of Kota Metro with its puskesmas and posyandu.

    `spellings` are the variants seen when names are typed by hand (e.g. "Iring Mulyo"); the
    store's alias table normalises them back to `name`.
    """

    name: str
    kecamatan: str
    puskesmas: str
    posyandu: tuple[str, ...]
    spellings: tuple[str, ...] = ()


# Kemendagri codes 18.72.xx: 18 = Lampung, 72 = Kota Metro, 01 = Metro Pusat; the remaining
# kecamatan codes follow the order below (only the shape of the synthetic NIK depends on them).
KECAMATAN_CODES: dict[str, int] = {
    "Metro Pusat": 1,
    "Metro Utara": 2,
    "Metro Barat": 3,
    "Metro Timur": 4,
    "Metro Selatan": 5,
}

# (kecamatan, kelurahan, puskesmas, posyandu theme, number of posyandu, hand-typed spellings).
# The spellings differ from the name only in spacing (and, when written, case), the variants the
# store's alias table is expected to normalise.
# Kelurahan are the 22 of Kota Metro; puskesmas assignment and posyandu names are illustrative.
_GEOGRAPHY: tuple[tuple[str, str, str, str, int, tuple[str, ...]], ...] = (
    ("Metro Pusat", "Metro", "Puskesmas Metro", "Melati", 6, ()),
    ("Metro Pusat", "Imopuro", "Puskesmas Metro", "Mawar", 4, ("Imo Puro",)),
    ("Metro Pusat", "Hadimulyo Barat", "Puskesmas Metro", "Anggrek", 5, ("Hadi Mulyo Barat",)),
    ("Metro Pusat", "Hadimulyo Timur", "Puskesmas Yosomulyo", "Dahlia", 5, ("Hadi Mulyo Timur",)),
    ("Metro Pusat", "Yosomulyo", "Puskesmas Yosomulyo", "Kenanga", 7, ("Yoso Mulyo",)),
    ("Metro Utara", "Banjarsari", "Puskesmas Banjarsari", "Cempaka", 6, ("Banjar Sari",)),
    ("Metro Utara", "Purwosari", "Puskesmas Banjarsari", "Flamboyan", 5, ("Purwo Sari",)),
    ("Metro Utara", "Purwoasri", "Puskesmas Karangrejo", "Teratai", 4, ("Purwo Asri",)),
    ("Metro Utara", "Karangrejo", "Puskesmas Karangrejo", "Nusa Indah", 7, ("Karang Rejo",)),
    ("Metro Barat", "Mulyojati", "Puskesmas Mulyojati", "Seroja", 5, ("Mulyo Jati",)),
    ("Metro Barat", "Mulyosari", "Puskesmas Mulyojati", "Bougenville", 4, ("Mulyo Sari",)),
    ("Metro Barat", "Ganjar Agung", "Puskesmas Ganjar Agung", "Kamboja", 6, ("Ganjaragung",)),
    ("Metro Barat", "Ganjar Asri", "Puskesmas Ganjar Agung", "Asoka", 3, ("Ganjarasri",)),
    ("Metro Timur", "Iringmulyo", "Puskesmas Iringmulyo", "Matahari", 8, ("Iring Mulyo",)),
    ("Metro Timur", "Yosorejo", "Puskesmas Iringmulyo", "Kemuning", 5, ("Yoso Rejo",)),
    ("Metro Timur", "Yosodadi", "Puskesmas Yosodadi", "Cendana", 6, ("Yoso Dadi",)),
    ("Metro Timur", "Tejo Agung", "Puskesmas Yosodadi", "Edelweis", 4, ("Tejoagung",)),
    ("Metro Timur", "Tejosari", "Puskesmas Yosodadi", "Lavender", 3, ("Tejo Sari",)),
    ("Metro Selatan", "Rejomulyo", "Puskesmas Sumbersari Bantul", "Sakura", 5, ("Rejo Mulyo",)),
    ("Metro Selatan", "Margorejo", "Puskesmas Margorejo", "Tulip", 6, ("Margo Rejo",)),
    ("Metro Selatan", "Margodadi", "Puskesmas Margorejo", "Srikandi", 4, ("Margo Dadi",)),
    (
        "Metro Selatan",
        "Sumbersari Bantul",
        "Puskesmas Sumbersari Bantul",
        "Pelita",
        7,
        ("Sumber Sari Bantul",),
    ),
)


def _build_kota_metro() -> dict[str, dict[str, Kelurahan]]:
    kota: dict[str, dict[str, Kelurahan]] = {name: {} for name in KECAMATAN_CODES}
    for kecamatan, name, puskesmas, theme, count, spellings in _GEOGRAPHY:
        posyandu = tuple(f"Posyandu {theme} {number}" for number in range(1, count + 1))
        kota[kecamatan][name] = Kelurahan(name, kecamatan, puskesmas, posyandu, spellings)
    return kota


# kecamatan -> kelurahan name -> Kelurahan
KOTA_METRO: dict[str, dict[str, Kelurahan]] = _build_kota_metro()
KELURAHAN: tuple[Kelurahan, ...] = tuple(k for kec in KOTA_METRO.values() for k in kec.values())
PUSKESMAS: tuple[str, ...] = tuple(dict.fromkeys(k.puskesmas for k in KELURAHAN))


@dataclass(frozen=True)
class _Geo:
    """The geography as parallel arrays indexed by posyandu, for vectorised lookups."""

    posyandu: tuple[str, ...]
    kelurahan: tuple[str, ...]
    kecamatan: tuple[str, ...]
    puskesmas: tuple[str, ...]
    pos_kel: IntArray
    kel_kec: IntArray
    kel_pusk: IntArray


@cache
def _geo() -> _Geo:
    kecamatan = tuple(KOTA_METRO)
    posyandu: list[str] = []
    pos_kel: list[int] = []
    for index, kel in enumerate(KELURAHAN):
        posyandu.extend(kel.posyandu)
        pos_kel.extend([index] * len(kel.posyandu))
    return _Geo(
        posyandu=tuple(posyandu),
        kelurahan=tuple(k.name for k in KELURAHAN),
        kecamatan=kecamatan,
        puskesmas=PUSKESMAS,
        pos_kel=np.array(pos_kel, dtype=np.int64),
        kel_kec=np.array([kecamatan.index(k.kecamatan) for k in KELURAHAN], dtype=np.int64),
        kel_pusk=np.array([PUSKESMAS.index(k.puskesmas) for k in KELURAHAN], dtype=np.int64),
    )


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

_BOY_GIVEN = (
    "Muhammad", "Ahmad", "Rizki", "Fajar", "Dimas", "Bayu", "Arif", "Raka", "Galih", "Aditya",
    "Farhan", "Rafi", "Naufal", "Aldi", "Ilham", "Daffa", "Fikri", "Hafiz", "Zaki", "Gilang",
    "Yusuf", "Alif", "Arkan", "Bima", "Reza", "Satria", "Abdullah", "Kevin",
)  # fmt: skip
_BOY_SECOND = (
    "Pratama", "Saputra", "Ramadhan", "Maulana", "Hidayat", "Nugroho", "Firmansyah", "Setiawan",
    "Wijaya", "Kurniawan", "Rizki", "Akbar", "Putra", "Syahputra", "Hakim", "Al Fatih",
    "Alfarizi", "Prasetyo", "Santoso", "Ardiansyah",
)  # fmt: skip
_GIRL_GIVEN = (
    "Aisyah", "Siti", "Nur", "Putri", "Dewi", "Anisa", "Zahra", "Nabila", "Salsabila", "Alya",
    "Keisha", "Naura", "Aqila", "Khansa", "Syifa", "Intan", "Ayu", "Rahma", "Citra", "Fitri",
    "Kirana", "Adinda", "Zaskia", "Hana", "Amira", "Nayla",
)  # fmt: skip
_GIRL_SECOND = (
    "Putri", "Rahmawati", "Lestari", "Safitri", "Aulia", "Maharani", "Ramadhani", "Anggraini",
    "Wulandari", "Kurniasari", "Nurhaliza", "Azzahra", "Permata Sari", "Handayani", "Khairunnisa",
    "Salsabila", "Oktaviani", "Febriani",
)  # fmt: skip
_MOTHER_NAMES = (
    "Sri Wahyuni", "Siti Aminah", "Dewi Sartika", "Nurhayati", "Sumarni", "Eka Susanti",
    "Rina Marlina", "Yuliana", "Suryani", "Lilis Suryani", "Ratna Sari", "Endang Lestari",
    "Tri Wahyuni", "Wati", "Mulyani", "Fitriani", "Novita Sari", "Winarti", "Purwanti",
    "Yuni Astuti",
)  # fmt: skip


@dataclass(frozen=True)
class _Names:
    """Every child's name as a code into `labels`: boys' pairs, girls' pairs, then single names."""

    labels: tuple[str, ...]
    boy_pairs: int
    girl_pairs: int


@cache
def _names() -> _Names:
    # "Putri Putri" is not a name: pairs repeating a word are left out
    boys = [f"{g} {s}" for g in _BOY_GIVEN for s in _BOY_SECOND if g != s]
    girls = [f"{g} {s}" for g in _GIRL_GIVEN for s in _GIRL_SECOND if g != s]
    # Indonesian children often carry one name only: the given names alone come last
    return _Names(tuple(boys + girls + list(_BOY_GIVEN + _GIRL_GIVEN)), len(boys), len(girls))


def _name_codes(rng: np.random.Generator, sex: IntArray) -> IntArray:
    """A name per child, by sex; about 8% carry a single given name."""
    names = _names()
    n = sex.shape[0]
    boy = sex == 1
    pair = np.where(
        boy,
        rng.integers(0, names.boy_pairs, n),
        names.boy_pairs + rng.integers(0, names.girl_pairs, n),
    )
    singles_from = names.boy_pairs + names.girl_pairs
    single = np.where(
        boy,
        singles_from + rng.integers(0, len(_BOY_GIVEN), n),
        singles_from + len(_BOY_GIVEN) + rng.integers(0, len(_GIRL_GIVEN), n),
    )
    return np.where(rng.random(n) < SINGLE_NAME_SHARE, single, pair)


# --------------------------------------------------------------------------------------------
# Generation parameters (synthetic; chosen to look like Indonesian posyandu data)
# --------------------------------------------------------------------------------------------

# Kelurahan mean HAZ spans these values: with a child-level SD near 1.05 that gives stunting
# (HAZ < -2) from about 12% to 35% per kelurahan, about 24% overall, the range SSGI 2022 reports
# across Indonesian districts (national 21.6%).
KELURAHAN_MEAN_HAZ = (-0.75, -1.5)
CHILD_HAZ_SD = 0.95
CHILD_HAZ_SLOPE_SD = 0.10  # z per year of age: children drift apart a little over time
# Growth faltering: mean HAZ falls by about 0.6 z between birth and 24 months (Victora et al.,
# Pediatrics 2010, "Worldwide timing of growth faltering").
FALTERING_Z = 0.6
FALTERING_MONTHS = 24.0
# +0.055 z per year is about -1.5 percentage points of stunting per year near 25% prevalence
# (the normal density at the cut-off is about 0.28 per z).
HAZ_TREND_PER_YEAR = 0.055
# weight-for-length/height: mean -0.35 z (SSGI 2022 wasting 7.7%), persistent per child,
# with month-to-month fluctuation (illness, feeding)
CHILD_WHZ_MEAN = -0.35
CHILD_WHZ_SD = 0.9
VISIT_WHZ_SD = 0.3
# Posyandu cadres' technical error of measurement is larger than trained anthropometrists' 0.2-0.3
# cm (WHO MGRS, de Onis et al. 2004); 0.4 cm is a modest middle.
HEIGHT_NOISE_CM = 0.4
WEIGHT_NOISE_KG = 0.05
# standing children are about 0.7 cm shorter than when lying (WHO 2006)
STANDING_SHORTER_CM = 0.7
WRONG_POSITION_SHARE = 0.05
# standing height is never taken under this age here (WHO flags it as implausible)
WRONG_POSITION_FROM_MONTHS = 9.0
BULAN_TIMBANG = (2, 8)  # February and August: the national weighing months
BULAN_TIMBANG_EXTRA = 0.15
POSYANDU_CLOSED_SHARE = 0.03  # months a posyandu does not meet (Lebaran, floods, ...)
RESCHEDULED_SHARE = 0.10  # visits moved a few days from the posyandu's usual day
ENTER_AT_BIRTH_SHARE = 0.55
DROPOUT_SHARE = 0.15
FEMALE_SHARE = 0.488  # sex ratio at birth about 1.05
SINGLE_NAME_SHARE = 0.08


def _lms_value(
    table: LmsTable,
    sex: npt.NDArray[np.integer],
    column: npt.NDArray[np.integer],
    z: npt.NDArray[np.floating],
) -> FloatArray:
    """Invert the LMS z: M * (1 + L*S*z)^(1/L) at table column `column` (WHO 2006, ch. 7)."""
    flat = sex.astype(np.int64) * table.size + column
    lam = table.l.ravel()[flat]
    mu = table.m.ravel()[flat]
    sigma = table.s.ravel()[flat]
    with np.errstate(invalid="ignore"):
        return mu * (1 + lam * sigma * z) ** (1 / lam)


def _day_numbers(values: npt.NDArray[np.datetime64]) -> IntArray:
    return values.astype("datetime64[D]").astype(np.int64)


def _month_numbers(days: IntArray) -> IntArray:
    """Months since 1970-01 of day numbers since 1970-01-01."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _first_day_of_month(months: IntArray) -> IntArray:
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _timestamps(days: IntArray) -> npt.NDArray[np.datetime64]:
    """Day numbers as pandas' default datetime64[us] values."""
    return (days.astype(np.int64) * 86_400_000_000).view("datetime64[us]")


def _categorical(codes: npt.NDArray[np.integer], labels: Sequence[str]) -> pd.Categorical[str]:
    """Codes into `labels` as a categorical; labels may repeat (they are merged), -1 is missing."""
    if len(set(labels)) != len(labels):
        distinct, inverse = np.unique(np.asarray(labels, dtype=object), return_inverse=True)
        codes = np.where(codes < 0, -1, inverse[np.maximum(codes, 0)])
        labels = [str(v) for v in distinct]
    size = len(labels)
    dtype = np.int8 if size < 2**7 else np.int16 if size < 2**15 else np.int32
    return pd.Categorical.from_codes(codes.astype(dtype, copy=False), categories=pd.Index(labels))


def _sparse_mask(rng: np.random.Generator, size: int, share: float) -> BoolArray:
    """About `share` of `size` positions set, drawing only the chosen positions (fast when rare)."""
    mask = np.zeros(size, dtype=bool)
    if size and share > 0:
        mask[rng.integers(0, size, rng.binomial(size, min(share, 1.0)))] = True
    return mask


def _nik_numbers(
    rng: np.random.Generator, kecamatan_code: IntArray, birth_day: IntArray, sex: IntArray
) -> IntArray:
    """16-digit NIK-like numbers: 18 72 KK DDMMYY SSSS, DD + 40 for girls (Dukcapil's layout).

    The serial SSSS is unique within kecamatan, birth date and sex, so no two children collide.
    """
    n = kecamatan_code.shape[0]
    birth = birth_day.astype("datetime64[D]")
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = birth_day - _first_day_of_month(_month_numbers(birth_day)) + 1
    days = days + 40 * (sex == 2)
    group = (kecamatan_code * 100_000 + birth_day) * 2 + (sex - 1)
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_group)) + 1]
    group_size = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, group_size)
    # spread serials out a little, as real ones are, while staying within 4 digits
    largest = int(group_size.max()) if n else 1
    step = max(1, min(7, 9998 // max(largest, 1)))
    serial = np.empty(n, dtype=np.int64)
    serial[order] = 1 + rank * step + rng.integers(0, step, n)
    return (
        18 * 10**14
        + 72 * 10**12
        + kecamatan_code * 10**10
        + days * 10**8
        + months * 10**6
        + (years % 100) * 10**4
        + serial
    )


def generate_register(
    n_children: int,
    years: Sequence[int] = (2022, 2023, 2024),
    seed: int = DEFAULT_SEED,
    visits_per_year: float = 9.0,
    *,
    missing_nik_share: float = 0.03,
    invalid_nik_share: float = 0.01,
    missing_height_share: float = 0.02,
    implausible_share: float = 0.003,
    oedema_share: float = 0.001,
    moved_share: float = 0.02,
    haz_trend_per_year: float = HAZ_TREND_PER_YEAR,
    include_age_months: bool = False,
    programme: Mapping[str, int] | None = None,
    programme_haz: float = 0.0,
) -> pd.DataFrame:
    """A synthetic posyandu register of Kota Metro: one row per visit, in canonical columns.

    `n_children` children are drawn (a few may end up with no visit inside `years`); each attends
    monthly posyandu days with about `visits_per_year` visits a year (more in February and
    August). Rows are ordered by child, then visit date. Columns: child_id (NIK-like text, empty
    for ~3% of children, wrong length for ~1%), name, sex (1 boy, 2 girl), birth_date, visit_date,
    age_months (only with `include_age_months`), weight_kg and height_cm (1 decimal; height empty
    in ~2% of rows; ~0.3% typed in millimetres or with weight and height swapped), measure ("l"
    lying / "h" standing), oedema (bool), posyandu, kelurahan, kecamatan, puskesmas. Text columns
    are categoricals, so 20 million rows stay small. Same arguments, same frame.

    `programme` (kelurahan -> start year) with `programme_haz` injects a known programme
    effect: every measurement in those kelurahan from the start year on is `programme_haz` z
    taller. It draws no random number, so the register is otherwise the same.
    """
    if n_children < 0:
        raise ValueError("n_children must be >= 0")
    if not years:
        raise ValueError("years must name at least one year")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    rng_geo, rng_child, rng_visit, rng_growth, rng_record, rng_id = streams
    geo = _geo()
    n_pos = len(geo.posyandu)
    n_kel = len(geo.kelurahan)
    n = int(n_children)

    first_year, last_year = min(years), max(years)
    window_start = int(_day_numbers(np.array([f"{first_year}-01-01"], dtype="datetime64[D]"))[0])
    window_end = int(_day_numbers(np.array([f"{last_year}-12-31"], dtype="datetime64[D]"))[0])
    first_month = _month_numbers(np.array([window_start]))[0]
    n_window_months = (last_year - first_year + 1) * 12

    # --- places: which kelurahan is worse off, how busy each posyandu is, when it meets
    kel_mean_haz = rng_geo.permutation(np.linspace(*KELURAHAN_MEAN_HAZ, n_kel))
    pos_weight = rng_geo.gamma(4.0, 1.0, n_pos)
    pos_day = rng_geo.integers(3, 27, n_pos)  # day of the month the posyandu meets
    pos_closed = rng_geo.random((n_pos, n_window_months)) < POSYANDU_CLOSED_SHARE

    # --- children
    pos_child = rng_child.choice(n_pos, size=n, p=pos_weight / pos_weight.sum())
    sex = np.where(rng_child.random(n) < FEMALE_SHARE, 2, 1).astype(np.int64)
    # born so that some of the first 60 months fall inside the window
    birth = rng_child.integers(window_start - MAX_AGE_DAYS + 30, window_end - 14, n)
    at_birth = rng_child.random(n) < ENTER_AT_BIRTH_SHARE
    entry_age = np.where(
        at_birth, rng_child.integers(7, 35, n), rng_child.integers(30, MAX_AGE_DAYS - 180, n)
    )
    entry = np.maximum(birth + entry_age, window_start)
    leave = np.minimum(birth + MAX_AGE_DAYS, window_end)  # age 1826 days is still under 60 months
    drop = rng_child.random(n) < DROPOUT_SHARE
    leave = np.where(
        drop & (leave > entry),
        entry + (rng_child.random(n) * np.maximum(leave - entry, 0)).astype(np.int64),
        leave,
    )
    mean_attend = min(max(visits_per_year / 12.0, 0.0), 1.0)
    if 0.0 < mean_attend < 1.0:
        attend = rng_child.beta(8.0 * mean_attend, 8.0 * (1.0 - mean_attend), n)
    else:
        attend = np.full(n, mean_attend)

    # candidate months: from the first posyandu day on or after entry to the last before leaving
    day = pos_day[pos_child]
    month_start = _first_day_of_month(first_month + np.arange(n_window_months + 1))
    # a child entering after the window gets no candidate month (clipped: start > end below)
    entry_month = np.minimum(_month_numbers(entry) - first_month, n_window_months)
    leave_month = _month_numbers(leave) - first_month
    start_month = entry_month + (entry - month_start[entry_month] + 1 > day)
    end_month = leave_month - (leave - month_start[leave_month] + 1 < day)
    n_months = np.maximum(end_month - start_month + 1, 0)

    # one candidate row per child and month, as int32 to keep 20 million rows small
    total = int(n_months.sum())
    child = np.repeat(np.arange(n, dtype=np.int32), n_months)
    child_start = (np.cumsum(n_months) - n_months).astype(np.int32)
    offset = np.arange(total, dtype=np.int32) - np.repeat(child_start, n_months)
    month = start_month.astype(np.int32)[child] + offset  # index into the window's months
    del child_start

    # a few children move to another posyandu part-way through
    moves = (rng_child.random(n) < moved_share) & (n_months >= 2)
    move_at = np.where(
        moves, rng_child.integers(1, np.maximum(n_months, 2)), np.iinfo(np.int32).max
    )
    new_pos = (pos_child + rng_child.integers(1, n_pos, n)) % n_pos
    moved = offset >= move_at.astype(np.int32)[child]
    row_pos = pos_child.astype(np.int32)[child]
    row_pos[moved] = new_pos.astype(np.int32)[child[moved]]
    del moved

    calendar_month = (first_month + np.arange(n_window_months)) % 12 + 1
    extra = (BULAN_TIMBANG_EXTRA * np.isin(calendar_month, BULAN_TIMBANG)).astype(np.float32)
    attended = (
        rng_visit.random(total, dtype=np.float32) < attend.astype(np.float32)[child] + extra[month]
    )
    attended &= ~pos_closed[row_pos, month]
    attended |= offset == 0  # everyone who enters the register is seen at least once
    keep = np.flatnonzero(attended)
    del attended, offset
    child, month, row_pos = child[keep], month[keep], row_pos[keep]
    del keep

    rows = child.shape[0]
    visit = month_start[month] + pos_day[row_pos] - 1
    rescheduled = np.flatnonzero(_sparse_mask(rng_visit, rows, RESCHEDULED_SHARE))
    visit[rescheduled] += rng_visit.integers(-3, 4, rescheduled.shape[0])
    visit = np.clip(visit, entry[child], leave[child])
    del month, rescheduled
    year_start = _day_numbers(
        np.arange(first_year, last_year + 2).astype(str).astype("datetime64[D]")
    )
    if set(range(first_year, last_year + 1)) - set(years):
        visit_year = first_year + np.searchsorted(year_start, visit, side="right") - 1
        keep = np.flatnonzero(np.isin(visit_year, np.asarray(list(years))))
        child, row_pos, visit = child[keep], row_pos[keep], visit[keep]
        rows = child.shape[0]
        del visit_year, keep

    # --- growth: latent length/height-for-age z, then the WHO tables
    age_days = (visit - birth[child]).astype(np.int32)
    child_sex = sex.astype(np.int8)[child]
    age_months = age_days / DAYS_PER_MONTH
    child_haz = kel_mean_haz[geo.pos_kel[pos_child]] + rng_growth.normal(0.0, CHILD_HAZ_SD, n)
    child_slope = rng_growth.normal(0.0, CHILD_HAZ_SLOPE_SD, n)
    # WHZ shares a little with HAZ: short children are slightly more often thin
    child_whz = (
        CHILD_WHZ_MEAN
        + 0.15 * (child_haz - kel_mean_haz.mean())
        + rng_growth.normal(0.0, CHILD_WHZ_SD, n)
    )
    faltering = FALTERING_Z * (0.5 - np.minimum(age_months, FALTERING_MONTHS) / FALTERING_MONTHS)
    haz = child_haz[child] + faltering
    del faltering
    haz += child_slope[child] * (age_months / 12.0 - 2.5)
    haz += haz_trend_per_year / 365.25 * (visit - window_start)
    if programme and programme_haz:
        haz += programme_haz * _in_programme(programme, geo, row_pos, visit)
    np.clip(haz, -5.5, 5.5, out=haz)
    lhfa = load_table("lhfa")
    # length below 731 days, height from 731 days: the lhfa table switches there itself
    lenhei_true = _lms_value(lhfa, child_sex, np.minimum(age_days, lhfa.size - 1), haz)
    del haz

    on_length = age_days < LENGTH_BEFORE_DAYS
    whz = child_whz[child] + VISIT_WHZ_SD * rng_growth.standard_normal(rows, dtype=np.float32)
    np.clip(whz, -4.5, 4.5, out=whz)
    weight_true = np.empty(rows)
    for table_name, rows_of in (("wfl", on_length), ("wfh", ~on_length)):
        table = load_table(table_name)
        idx = np.flatnonzero(rows_of)
        tenths = np.rint(lenhei_true[idx] * 10).astype(np.int64) - table.first_index
        column = np.clip(tenths, 0, table.size - 1)
        weight_true[idx] = _lms_value(table, child_sex[idx], column, whz[idx])
    del whz

    # --- recording: position, noise, rounding, gaps and typing errors
    wrong_position = _sparse_mask(rng_record, rows, WRONG_POSITION_SHARE)
    wrong_position &= age_months >= WRONG_POSITION_FROM_MONTHS
    lying = on_length != wrong_position
    # standing instead of lying gives a shorter reading, lying instead of standing a longer one
    lenhei_true[wrong_position & on_length] -= STANDING_SHORTER_CM
    lenhei_true[wrong_position & ~on_length] += STANDING_SHORTER_CM
    del wrong_position, on_length
    lenhei_true += HEIGHT_NOISE_CM * rng_record.standard_normal(rows, dtype=np.float32)
    height = np.round(lenhei_true, 1)
    del lenhei_true
    weight_true += WEIGHT_NOISE_KG * rng_record.standard_normal(rows, dtype=np.float32)
    weight = np.round(weight_true, 1)
    del weight_true
    height[_sparse_mask(rng_record, rows, missing_height_share)] = np.nan
    typo = np.flatnonzero(_sparse_mask(rng_record, rows, implausible_share) & ~np.isnan(height))
    in_mm = rng_record.random(typo.shape[0]) < 0.5
    height[typo[in_mm]] = np.round(height[typo[in_mm]] * 10)
    swapped = typo[~in_mm]
    weight[swapped], height[swapped] = height[swapped], weight[swapped]
    oedema = _sparse_mask(rng_record, rows, oedema_share)

    # --- identity: NIK-like numbers, some missing, some mistyped
    kec_code = geo.kel_kec[geo.pos_kel[pos_child]] + 1
    nik = _nik_numbers(rng_id, kec_code, birth, sex)
    id_draw = rng_id.random(n)
    missing_nik = id_draw < missing_nik_share
    invalid_nik = ~missing_nik & (id_draw < missing_nik_share + invalid_nik_share)
    too_long = rng_id.random(n) < 0.5
    nik = np.where(invalid_nik & too_long, nik * 10 + rng_id.integers(0, 10, n), nik)
    nik = np.where(invalid_nik & ~too_long, nik // 10, nik)
    nik = np.where(missing_nik, -1, nik)
    nik_values, nik_code = np.unique(nik, return_inverse=True)
    nik_text = [("" if v < 0 else str(v)) for v in nik_values.tolist()]

    name_code = _name_codes(rng_id, sex)

    # assemble column by column, freeing each per-row intermediate as soon as it is used
    row_kel = geo.pos_kel.astype(np.int8)[row_pos]
    columns: dict[str, object] = {
        "child_id": _categorical(nik_code.astype(np.int32)[child], nik_text),
        "name": _categorical(name_code.astype(np.int32)[child], _names().labels),
        "sex": child_sex,
        "birth_date": _timestamps(birth[child]),
        "visit_date": _timestamps(visit),
    }
    del child, visit
    if include_age_months:
        columns["age_months"] = r_round(age_months, 2)
    del age_months
    columns["weight_kg"] = weight
    columns["height_cm"] = height
    columns["measure"] = _categorical(np.where(lying, 0, 1).astype(np.int8), ["l", "h"])
    columns["oedema"] = oedema
    columns["posyandu"] = _categorical(row_pos, geo.posyandu)
    del row_pos
    columns["kelurahan"] = _categorical(row_kel, geo.kelurahan)
    columns["kecamatan"] = _categorical(geo.kel_kec.astype(np.int8)[row_kel], geo.kecamatan)
    columns["puskesmas"] = _categorical(geo.kel_pusk.astype(np.int8)[row_kel], geo.puskesmas)
    return pd.DataFrame(columns, copy=False)


def _in_programme(
    programme: Mapping[str, int], geo: _Geo, row_pos: npt.NDArray[np.int32], visit: IntArray
) -> BoolArray:
    """Rows measured in a programme kelurahan in or after its start year."""
    unknown = set(programme) - set(geo.kelurahan)
    if unknown:
        raise ValueError(f"not kelurahan of Kota Metro: {', '.join(sorted(unknown))}")
    never = np.iinfo(np.int64).max
    start = np.array([programme.get(name, never) for name in geo.kelurahan], dtype=np.int64)
    visit_year = _timestamps(visit).astype("datetime64[Y]").astype(np.int64) + 1970
    return np.asarray(visit_year >= start[geo.pos_kel[row_pos]])


# --------------------------------------------------------------------------------------------
# Measures as kernel codes, and children as numbers (helpers for callers and tests)
# --------------------------------------------------------------------------------------------


def measure_codes(measure: pd.Series) -> npt.NDArray[np.int8]:
    """The kernel's position codes (MEASURE_LENGTH/MEASURE_HEIGHT, else 0) of an "l"/"h" column."""
    text = measure.astype("string").str.lower().to_numpy(dtype=object, na_value="")
    return np.where(text == "l", MEASURE_LENGTH, np.where(text == "h", MEASURE_HEIGHT, 0)).astype(
        np.int8
    )


def child_numbers(frame: pd.DataFrame) -> IntArray:
    """A number per row identifying the child: same child_id, name, sex and birth date."""
    key = np.zeros(len(frame), dtype=np.int64)
    for column in ("child_id", "name", "sex", "birth_date"):
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        key = key * (len(uniques) + 1) + codes
        key = pd.factorize(key)[0].astype(np.int64)
    return key


# --------------------------------------------------------------------------------------------
# The e-PPGBM-like layout
# --------------------------------------------------------------------------------------------

EPPGBM_COLUMNS = (
    "No",
    "NIK",
    "Nama",
    "JK",
    "Tgl Lahir",
    "BB Lahir",
    "TB Lahir",
    "Nama Ortu",
    "Prov",
    "Kab/Kota",
    "Kec",
    "Pukesmas",  # sic: the e-PPGBM export spells it this way
    "Desa/Kel",
    "Posyandu",
    "RT",
    "RW",
    "Usia Saat Ukur",
    "Tanggal Pengukuran",
    "Berat",
    "Tinggi",
    "Cara Ukur",
    "LiLA",
    "BB/U",
    "ZS BB/U",
    "TB/U",
    "ZS TB/U",
    "BB/TB",
    "ZS BB/TB",
)


def _decimal_text(values: FloatArray, decimals: int) -> pd.Categorical[str]:
    """Numbers as decimal-comma text ("8,3"), empty where NaN, via the distinct values only."""
    scale = 10**decimals
    scaled = np.where(np.isnan(values), np.nan, np.rint(values * scale))
    uniques, codes = np.unique(scaled, return_inverse=True)
    labels = []
    for v in uniques.tolist():
        if np.isnan(v):
            labels.append("")
            continue
        whole, frac = divmod(abs(int(v)), scale)
        sign = "-" if v < 0 else ""
        labels.append(f"{sign}{whole},{frac:0{decimals}d}" if decimals else f"{sign}{whole}")
    return _categorical(codes, labels)


def _date_text(days: IntArray) -> pd.Categorical[str]:
    """Day numbers as dd/mm/yyyy text, formatting each distinct date once."""
    uniques, codes = np.unique(days, return_inverse=True)
    labels = [
        (dt.date(1970, 1, 1) + dt.timedelta(days=int(d))).strftime("%d/%m/%Y")
        for d in uniques.tolist()
    ]
    return _categorical(codes, labels)


def _age_text(birth: IntArray, visit: IntArray) -> pd.Categorical[str]:
    """Age as e-PPGBM writes it, "1 Tahun - 3 Bulan - 12 Hari", from calendar differences."""
    birth_month = _month_numbers(birth)
    visit_month = _month_numbers(visit)
    birth_dom = birth - _first_day_of_month(birth_month)  # 0-based day of month
    visit_dom = visit - _first_day_of_month(visit_month)
    months = visit_month - birth_month - (visit_dom < birth_dom)
    anchor_month = birth_month + months
    month_length = _first_day_of_month(anchor_month + 1) - _first_day_of_month(anchor_month)
    anchor = _first_day_of_month(anchor_month) + np.minimum(birth_dom, month_length - 1)
    days = np.clip(visit - anchor, 0, 30)
    years, months = np.divmod(np.maximum(months, 0), 12)
    years = np.minimum(years, 5)
    codes = (years * 12 + months) * 31 + days
    labels = [
        f"{y} Tahun - {m} Bulan - {d} Hari" for y in range(6) for m in range(12) for d in range(31)
    ]
    return _categorical(codes, labels)


def _text_column(series: pd.Series, *, upper: bool = False) -> pd.Categorical[str]:
    """A text column as a categorical, missing as empty, optionally upper-cased, per category."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        labels = [str(c) for c in series.cat.categories]
    else:
        codes, uniques = pd.factorize(series)
        labels = [str(c) for c in uniques]
    if upper:
        labels = [label.upper() for label in labels]
    labels.append("")  # missing values become empty text
    return _categorical(np.where(codes < 0, len(labels) - 1, codes), labels)


def _status_text(z: FloatArray, indicator: str) -> pd.Categorical[str]:
    """Permenkes 2/2020 category in e-PPGBM's title case, empty where there is no z-score."""
    status = classify(z, indicator, lang="id")
    labels = [str(c).title() for c in status.categories]
    codes = np.asarray(status.codes)
    return _categorical(np.where(codes < 0, len(labels), codes), [*labels, ""])


# How an e-PPGBM-like export's own z-scores can be computed wrongly (kbtool audit names them):
# the WHO kernel run with one input changed, or its z-score cut instead of rounded.
RECORDING_MISTAKES = (
    "age_in_completed_months",
    "no_position_correction",
    "sex_swapped",
    "truncated",
    "boundary",
    "stale_age",
)


def recorded_zscores(
    inputs: Mapping[str, npt.ArrayLike],
    mistake: str | None = None,
    stale_age_days: npt.ArrayLike | None = None,
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """HAZ, WAZ and WHZ as a register's software computes them from `inputs` (the arguments
    of compute_zscore_arrays: sex, age_days, weight_kg, lenhei_cm, measure, oedema) with
    `mistake` (one of RECORDING_MISTAKES, None: none), and the z-scores its statuses are
    classified on. `stale_age_days`: the ages at the stale date, for "stale_age"."""
    given: dict[str, Any] = dict(inputs)
    age_days = np.asarray(given["age_days"], dtype=np.float64)
    if mistake == "age_in_completed_months":
        given["age_days"] = None
        given["age_months"] = np.floor(age_days / DAYS_PER_MONTH)
    elif mistake == "no_position_correction":
        given["measure"] = np.zeros(len(age_days), dtype=np.int8)  # unknown: no correction
    elif mistake == "sex_swapped":
        given["sex"] = 3 - np.asarray(given["sex"])
    elif mistake == "stale_age":
        given["age_days"] = stale_age_days
    elif mistake not in (None, "truncated", "boundary"):
        raise ValueError(f"unknown mistake {mistake!r}; known: {', '.join(RECORDING_MISTAKES)}")
    result = compute_zscore_arrays(**given, full_precision=mistake == "truncated")
    z = {name: getattr(result, name) for name in ("haz", "waz", "whz")}
    if mistake == "truncated":
        z = {name: np.trunc(values * 100) / 100 for name, values in z.items()}
    classified = dict(z)
    if mistake == "boundary":  # exactly -2.00 or -3.00 counted in the category below
        classified = {
            name: np.where(np.isin(values, (-2.0, -3.0)), values - 0.005, values)
            for name, values in z.items()
        }
    return z, classified


def _spelling_variants(rng: np.random.Generator, geo: _Geo) -> tuple[list[str], list[str]]:
    """Per posyandu, how its operator types the kelurahan and kecamatan (case and spacing)."""
    kel_text: list[str] = []
    kec_text: list[str] = []
    upper = rng.random(len(geo.posyandu)) < 0.5
    spaced = rng.random(len(geo.posyandu)) < 0.35
    for index, kel_index in enumerate(geo.pos_kel.tolist()):
        kel = KELURAHAN[kel_index]
        name = (
            kel.spellings[index % len(kel.spellings)]
            if kel.spellings and spaced[index]
            else kel.name
        )
        kel_text.append(name.upper() if upper[index] else name)
        kec_text.append(kel.kecamatan.upper() if upper[index] else kel.kecamatan)
    return kel_text, kec_text


def to_eppgbm(
    frame: pd.DataFrame,
    *,
    seed: int = DEFAULT_SEED,
    numbers_as_text: bool = True,
    mistakes: Mapping[str, str] | None = None,
    export_date: dt.date | None = None,
) -> pd.DataFrame:
    """The register in an e-PPGBM-like export layout (EPPGBM_COLUMNS), all values as text.

    NIK, Nama, JK (L/P), Tgl Lahir and Tanggal Pengukuran (dd/mm/yyyy), Berat and Tinggi with
    decimal commas ("8,3"), Cara Ukur (Berdiri/Terlentang), the place columns (kelurahan and
    kecamatan typed per posyandu with case and spacing variants, e.g. "IRING MULYO"), plus the
    columns a reader must not mistake for measurements: BB Lahir/TB Lahir (birth weight and
    length), Usia Saat Ukur ("1 Tahun - 3 Bulan - 12 Hari"), LiLA (empty) and the BB/U, TB/U,
    BB/TB statuses with their z-scores as e-PPGBM computes them. With `numbers_as_text` False,
    Berat, Tinggi, BB Lahir and the z-scores stay numbers (for xlsx). `seed` picks the spellings
    and the birth measures, parents' names and RT/RW per child. `mistakes` maps posyandu (as in
    `frame`) to the mistake (RECORDING_MISTAKES) their z-scores and statuses are computed with;
    "stale_age" computes ages at `export_date` (default: two weeks after the last visit).
    """
    geo = _geo()
    rng_spelling, rng_child = (
        np.random.default_rng(s) for s in np.random.SeedSequence([seed, 2]).spawn(2)
    )
    n = len(frame)
    child = child_numbers(frame)
    n_children = int(child.max()) + 1 if n else 0

    sex = frame["sex"].to_numpy(dtype=np.int64)
    birth = _day_numbers(frame["birth_date"].to_numpy(dtype="datetime64[D]"))
    visit = _day_numbers(frame["visit_date"].to_numpy(dtype="datetime64[D]"))
    weight = frame["weight_kg"].to_numpy(dtype=np.float64, na_value=np.nan)
    height = frame["height_cm"].to_numpy(dtype=np.float64, na_value=np.nan)
    measure = measure_codes(frame["measure"])
    oedema = (
        frame["oedema"].fillna(False).to_numpy(dtype=bool)
        if "oedema" in frame
        else np.zeros(n, dtype=bool)
    )

    # per child: birth weight/length (Kemenkes KIA book ranges), a parent's name, RT and RW
    birth_weight = np.round(rng_child.normal(3.1, 0.45, n_children).clip(1.6, 4.8), 1)
    birth_length = np.round(rng_child.normal(49.0, 2.0, n_children).clip(42, 55))
    mother = rng_child.integers(0, len(_MOTHER_NAMES), n_children)
    rt = rng_child.integers(1, 25, n_children)
    rw = rng_child.integers(1, 10, n_children)

    # e-PPGBM's own statuses: WHO z-scores rounded to 2 decimals, as the application shows them
    # (or computed with a mistake in the posyandu of `mistakes`)
    age_days = (visit - birth).astype(np.float64)
    inputs = {
        "sex": sex, "age_days": age_days, "weight_kg": weight, "lenhei_cm": height,
        "measure": measure, "oedema": oedema,
    }  # fmt: skip
    z, classified = recorded_zscores(inputs)
    export_day = (
        int(visit.max()) + 14 if export_date is None else _day_numbers(np.array([export_date]))[0]
    )
    for posyandu, mistake in (mistakes or {}).items():
        rows = np.flatnonzero(frame["posyandu"].astype(str).to_numpy() == posyandu)
        if not rows.size:
            raise ValueError(f"no rows of {posyandu!r} to make the mistake {mistake!r} in")
        wrong, wrong_classified = recorded_zscores(
            {name: np.asarray(values)[rows] for name, values in inputs.items()},
            mistake,
            (export_day - birth[rows]).astype(np.float64),
        )
        for name in z:
            z[name][rows] = wrong[name]
            classified[name][rows] = wrong_classified[name]
    haz, waz, whz = z["haz"], z["waz"], z["whz"]

    kel_text, kec_text = _spelling_variants(rng_spelling, geo)
    pos_codes = pd.Categorical(frame["posyandu"], categories=list(geo.posyandu)).codes
    if (pos_codes < 0).any():
        raise ValueError("to_eppgbm needs posyandu names from KOTA_METRO")
    kel_of_pos = geo.pos_kel[pos_codes]

    def number(values: FloatArray, decimals: int) -> object:
        return _decimal_text(values, decimals) if numbers_as_text else r_round(values, decimals)

    columns: dict[str, object] = {
        "No": np.arange(1, n + 1, dtype=np.int64),
        "NIK": _text_column(frame["child_id"]),
        "Nama": _text_column(frame["name"], upper=True),
        "JK": _categorical(np.where(sex == 2, 1, 0), ["L", "P"]),
        "Tgl Lahir": _date_text(birth),
        "BB Lahir": number(birth_weight[child], 1),
        "TB Lahir": number(birth_length[child], 0),
        "Nama Ortu": _categorical(mother[child], [m.upper() for m in _MOTHER_NAMES]),
        "Prov": _categorical(np.zeros(n, dtype=np.int64), ["LAMPUNG"]),
        "Kab/Kota": _categorical(np.zeros(n, dtype=np.int64), ["KOTA METRO"]),
        "Kec": _categorical(pos_codes, kec_text),
        "Pukesmas": _categorical(geo.kel_pusk[kel_of_pos], [p.upper() for p in geo.puskesmas]),
        "Desa/Kel": _categorical(pos_codes, kel_text),
        "Posyandu": _categorical(pos_codes, [p.upper() for p in geo.posyandu]),
        "RT": _categorical(rt[child] - 1, [f"{i:03d}" for i in range(1, 25)]),
        "RW": _categorical(rw[child] - 1, [f"{i:03d}" for i in range(1, 10)]),
        "Usia Saat Ukur": _age_text(birth, visit),
        "Tanggal Pengukuran": _date_text(visit),
        "Berat": number(weight, 1),
        "Tinggi": number(height, 1),
        "Cara Ukur": _categorical(
            np.where(measure == MEASURE_HEIGHT, 0, np.where(measure == MEASURE_LENGTH, 1, 2)),
            ["Berdiri", "Terlentang", ""],
        ),
        "LiLA": _categorical(np.zeros(n, dtype=np.int64), [""]),
        "BB/U": _status_text(classified["waz"], "waz"),
        "ZS BB/U": number(waz, 2),
        "TB/U": _status_text(classified["haz"], "haz"),
        "ZS TB/U": number(haz, 2),
        "BB/TB": _status_text(classified["whz"], "whz"),
        "ZS BB/TB": number(whz, 2),
    }
    return pd.DataFrame(columns, columns=list(EPPGBM_COLUMNS))


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def _arrow_text(series: pd.Series) -> pa.Array:
    return pa.Array.from_pandas(series.astype("string")).cast(pa.string())


def _arrow_column(series: pd.Series) -> pa.Array:
    """One column as arrow, formatted the way a register file shows it."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = pa.array(series.cat.categories.astype(str).to_numpy(dtype=object), pa.string())
        codes = series.cat.codes.to_numpy()
        indices = pa.array(codes, mask=codes < 0)
        # pyarrow's CSV writer writes dictionary arrays as their values, without expanding them
        return pa.DictionaryArray.from_arrays(indices, categories)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return pa.array(series.to_numpy(dtype="datetime64[D]"), pa.date32())
    if pd.api.types.is_bool_dtype(series.dtype):
        return pa.array(np.where(series.to_numpy(dtype=bool), "yes", "no"), pa.string())
    if pd.api.types.is_float_dtype(series.dtype):
        return pa.array(series.to_numpy(dtype=np.float64), pa.float64(), from_pandas=True)
    if pd.api.types.is_integer_dtype(series.dtype):
        return pa.array(series.to_numpy(), from_pandas=True)
    return _arrow_text(series)


def _write_csv(frame: pd.DataFrame, path: str | Path, delimiter: str) -> None:
    table = pa.table({name: _arrow_column(frame[name]) for name in frame.columns})
    options = pacsv.WriteOptions(
        include_header=False, delimiter=delimiter, quoting_style="none", batch_size=65_536
    )
    with pa.OSFile(str(path), "wb") as sink:
        # the header is written by hand: pyarrow would quote every column name
        sink.write((delimiter.join(map(str, frame.columns)) + "\n").encode())
        pacsv.write_csv(table, sink, write_options=options)


def write_canonical_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a register in canonical columns as a plain comma-separated UTF-8 file.

    Dates are ISO (2024-08-01), oedema yes/no, missing values empty; nothing is quoted (the
    generated values contain no commas or quotes).
    """
    _write_csv(frame, path, ",")


def write_eppgbm_csv(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    mistakes: Mapping[str, str] | None = None,
) -> None:
    """Write a register in the e-PPGBM-like layout (see `to_eppgbm`): ';'-separated UTF-8."""
    _write_csv(to_eppgbm(frame, seed=seed, mistakes=mistakes), path, ";")


def write_eppgbm_xlsx(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    mistakes: Mapping[str, str] | None = None,
) -> None:
    """Write the e-PPGBM-like layout as an .xlsx workbook (one sheet), byte-identical on reruns.

    Measurements are numeric cells; dates stay dd/mm/yyyy text as in the export; NIK is text.
    """
    export = to_eppgbm(frame, seed=seed, numbers_as_text=False, mistakes=mistakes)
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        # a fixed creation time keeps reruns byte-identical (xlsxwriter stamps "now" otherwise)
        writer.book.set_properties(
            {"created": dt.datetime(2024, 8, 1), "author": "kbtool synthetic register"}
        )
        export.to_excel(writer, sheet_name="Data Pengukuran", index=False)


# --------------------------------------------------------------------------------------------
# Known defects for data-quality tests
# --------------------------------------------------------------------------------------------

DEFECT_KINDS = (
    "heaped_decimals",
    "copied_heights",
    "shrinking",
    "skewed_posyandu",
    "sex_imbalance",
)

# a miscalibrated or badly read length board in a "skewed" posyandu (cm)
SKEWED_POSYANDU_BIAS_CM = -3.0


def inject_defects(
    frame: pd.DataFrame, kind: str, share: float = 0.1, seed: int = DEFAULT_SEED
) -> tuple[pd.DataFrame, BoolArray]:
    """A copy of `frame` with one known data-quality defect, and a mask of the rows changed.

    Kinds (`share` is of posyandu for the posyandu-level kinds, of children otherwise):

    * "heaped_decimals": in `share` of posyandu, heights are rounded to whole cm and weights to
      .0/.5 kg (digit preference);
    * "copied_heights": for `share` of children, every height after the first is the previous
      visit's height carried forward (copied from last month's page);
    * "shrinking": for `share` of children with 2+ visits, one later height is 2-6 cm shorter;
    * "skewed_posyandu": in `share` of posyandu, every height is 3 cm short (a bad length board);
    * "sex_imbalance": in `share` of posyandu, every girl is recorded as a boy.
    """
    if kind not in DEFECT_KINDS:
        raise ValueError(f"unknown defect kind {kind!r}; known: {', '.join(DEFECT_KINDS)}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    out = frame.copy()
    n = len(out)
    height = out["height_cm"].to_numpy(dtype=np.float64, na_value=np.nan).copy()

    if kind in ("heaped_decimals", "skewed_posyandu", "sex_imbalance"):
        pos_codes, pos_names = pd.factorize(out["posyandu"])
        chosen = rng.random(len(pos_names)) < share
        rows = chosen[pos_codes]
        if kind == "heaped_decimals":
            weight = out["weight_kg"].to_numpy(dtype=np.float64, na_value=np.nan)
            out["height_cm"] = np.where(rows, np.round(height), height)
            out["weight_kg"] = np.where(rows, np.round(weight * 2) / 2, weight)
        elif kind == "skewed_posyandu":
            out["height_cm"] = np.where(rows, np.round(height + SKEWED_POSYANDU_BIAS_CM, 1), height)
        else:
            sex = out["sex"].to_numpy()
            rows &= sex == 2
            out.loc[rows, "sex"] = 1
        return out, rows

    child = child_numbers(out)
    n_children = int(child.max()) + 1 if n else 0
    order = np.lexsort((out["visit_date"].to_numpy(), child))
    sorted_child = child[order]
    first = np.r_[True, sorted_child[1:] != sorted_child[:-1]] if n else np.zeros(0, dtype=bool)
    chosen = rng.random(n_children) < share
    if kind == "copied_heights":
        rows_sorted = chosen[sorted_child] & ~first
        # the index of the last row (in visit order) that is not overwritten, per position
        source = np.where(rows_sorted, 0, np.arange(n))
        source = np.maximum.accumulate(source)
        new_height = height[order][source]
        rows = np.zeros(n, dtype=bool)
        rows[order] = rows_sorted
        copied = np.empty(n)
        copied[order] = new_height
        out["height_cm"] = np.where(rows, copied, height)
        return out, rows

    # "shrinking": one later visit per chosen child loses 2-6 cm
    visit_number = np.arange(n) - np.maximum.accumulate(np.where(first, np.arange(n), 0))
    visits_per_child = np.bincount(sorted_child, minlength=n_children)
    target = np.where(visits_per_child >= 2, rng.integers(1, np.maximum(visits_per_child, 2)), -1)
    rows_sorted = chosen[sorted_child] & (visit_number == target[sorted_child])
    rows_sorted &= ~np.isnan(height[order])
    rows = np.zeros(n, dtype=bool)
    rows[order] = rows_sorted
    loss = np.round(rng.uniform(2.0, 6.0, n), 1)
    out["height_cm"] = np.where(rows, np.round(height - loss, 1), height)
    return out, rows
