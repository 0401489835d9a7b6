"""The words of `kbtool report`, in English and Bahasa Indonesia, and how its numbers are written
(Indonesian: decimal comma, thousands dot)."""

from __future__ import annotations

import math

from kbtool.views.numbers import number as written

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "report": "Stunting report",
        "subtitle": "Children under five measured at the posyandu, {period}",
        "made": "Made {date} with kbtool {version}",
        "area_unknown": "the area",
        # summary
        "summary": "Summary",
        "latest": "Stunting in {year}",
        "latest_detail": "95% CI {low}–{high}; {n} children measured",
        "change": "Change since {year}",
        "change_value": "{pp} points",
        "change_detail": "from {pct} in {year}",
        "target_figure": "Target {pct} by {year}",
        "target_detail_aarr": "falling {aarr} a year; {required} a year needed",
        "target_detail_no_aarr": "needs two years or more of figures",
        "target_detail_past": "{year}: {pct}",
        "most_stunted": "Most stunted children ({year})",
        "highest": "Highest prevalence ({year})",
        "problematic_summary": "Data quality: the {year} measurements of {count} posyandu are "
        "rated problematic ({names}). Figures that rest on them may be wrong; see Data quality.",
        "problematic_area": "Data quality: the {year} measurements of the whole area are rated "
        "problematic. Check the Data quality section before acting on these figures.",
        # where to act
        "where": "Where to act",
        "where_intro": "Kelurahan by their stunting prevalence in {year}, highest first, with "
        "95% confidence intervals. First priority (red): above the {area} prevalence and more "
        "stunted children than the average kelurahan; orange: one of the two.",
        "where_chart": "Stunting prevalence by kelurahan, {year}",
        "where_caption": "Dot: prevalence; line: 95% confidence interval; number: children "
        "measured. Dashed line: {area} ({pct}); dotted line: the target {target}.",
        "quadrant_chart": "Prevalence and number of stunted children, {year}",
        "quadrant_caption": "Each dot a kelurahan. Top right, high on both: first priority. "
        "Lines: the {area} prevalence ({pct}) and the average number of stunted children per "
        "kelurahan ({count}).",
        "where_table": "Kelurahan, {year}",
        "too_few": "Too few children measured in {year} for a figure (under {min_n}):",
        "too_few_item": "{place}: {n} children",
        "none_shown": "No kelurahan had {min_n} or more children measured in {year}.",
        # trend
        "trend": "Trend",
        "trend_intro": "Stunting prevalence by year with its 95% confidence interval, and the "
        "path to the target {target}.",
        "one_year": "Only {year} has measurements: a trend needs two years or more, so there is "
        "no trend chart.",
        "area_chart": "{area}: stunting by year and the path to the target",
        "area_caption": "Band: 95% confidence interval. Dashed: the path to the target; "
        "dotted: where the current rate of reduction leads.",
        "multiples_chart": "Stunting by year, per {group}",
        "multiples_caption": "Same scale in every panel; grey line: {area}. A missing point: "
        "too few children that year.",
        "trend_table": "Trend by {group}",
        # indicators
        "indicators": "All indicators",
        "indicators_intro": "Every nutrition indicator in {year}, for {area} and per {group}, "
        "with 95% confidence intervals.",
        "indicators_table": "Nutrition indicators, {year}",
        # quality
        "quality": "Data quality",
        "quality_intro": "The {year} measurements of each posyandu checked as the SMART "
        "plausibility check does: missing values, values WHO flags as implausible, the spread "
        "and shape of the height-for-age z-scores, rounding of heights and weights to whole or "
        "half numbers, the balance of boys and girls and of younger and older children, and "
        "heights that fall or repeat from one visit to the next. Penalty points add up to a "
        "rating: excellent, good, acceptable or problematic. The figures of a posyandu rated "
        "problematic may be wrong: check its scales and length boards, how children are "
        "measured and how birth dates are recorded before relying on them.",
        "quality_table": "Data quality per posyandu, {year} (worst first)",
        "not_rated": "not rated",
        # method
        "method": "Method",
        "method_who": "Z-scores: WHO Child Growth Standards (2006), computed as WHO Anthro does; "
        "stunting is height-for-age z below -2 (pendek and sangat pendek, Permenkes 2/2020).",
        "method_once": "Each child counts once a year: by their latest measurement of the year "
        "with a valid z-score (computable and not flagged by WHO).",
        "method_ci": "95% confidence intervals: logit intervals as WHO's anthro_prevalence, "
        "each year's children a simple random sample (Student's t on N-1 degrees of freedom).",
        "method_min_n": "Groups with fewer than {min_n} children measured have no figure "
        "(The DHS Program's rule); 25-49 children give figures of low precision.",
        "method_trend": "Trend: the average annual rate of reduction (AARR) and the status on "
        "track / off track as the WHO/UNICEF Global Nutrition Targets Tracking Tool computes "
        "them: the slope of the log prevalence over the years, against the rate needed to reach "
        "the target.",
        "method_quality": "Data quality: the SMART plausibility check (SMART 2017) and WHO/UNICEF "
        "2019 recommendations, as kbtool quality rates them.",
        "method_made": "Made with kbtool {version} on {date}; options: {options}.",
        "inputs_table": "Inputs",
        # tables
        "place": "Kelurahan",
        "year": "Year",
        "n": "Children",
        "cases": "Stunted",
        "pct": "%",
        "ci": "95% CI",
        "priority": "Priority",
        "status": "Target",
        "rank": "#",
        "indicator": "Indicator",
        "change_pp": "Change (points)",
        "aarr": "AARR %",
        "required": "Needed %",
        "posyandu": "Posyandu",
        "rows": "Measurements",
        "rating": "Rating",
        "score": "Score",
        "reasons": "What to check",
        "file": "File",
        "rows_read": "Rows",
        "sha256": "SHA-256",
        "imported": "Imported",
        "priority_1": "first",
        "priority_2": "second",
        "priority_3": "",
        # charts
        "pct_axis": "Stunting prevalence (%)",
        "count_axis": "Stunted children",
        "area_line": "{area} {pct}",
        "target_line": "Target {target}",
        "first_priority": "first priority",
        "path": "path to the target",
        "pace": "at the current rate",
        "observed": "measured",
        "too_few_panel": "too few children",
        # programme (--groups)
        "programme": "{group} against the other {unit}",
        "programme_intro": "Did stunting fall faster in the {treated} {unit} of {group} than in "
        "the other {others}? The difference in differences compares the change "
        "in the programme's {unit} with the change elsewhere over the same years, as kbtool "
        "compare does. {group} {unit} were not chosen at random, and few {unit} give wide "
        "intervals: read the effect as a guide, not a proof (docs/compare.md).",
        "event_chart": "Effect by years since the start",
        "event_caption": "The difference between {group} {unit} and the others, against the "
        "year before the start (0 by definition), with 95% intervals. Points before the start "
        "(left of the dotted line) far from 0: the groups were already drifting apart.",
        "event_axis": "Years since the start",
        "programme_method": "How it was computed",
    },
    "id": {
        "report": "Laporan stunting",
        "subtitle": "Balita yang diukur di posyandu, {period}",
        "made": "Dibuat {date} dengan kbtool {version}",
        "area_unknown": "wilayah",
        "summary": "Ringkasan",
        "latest": "Stunting tahun {year}",
        "latest_detail": "IK 95% {low}–{high}; {n} anak diukur",
        "change": "Perubahan sejak {year}",
        "change_value": "{pp} poin",
        "change_detail": "dari {pct} pada {year}",
        "target_figure": "Target {pct} pada {year}",
        "target_detail_aarr": "turun {aarr} per tahun; perlu {required} per tahun",
        "target_detail_no_aarr": "perlu angka dua tahun atau lebih",
        "target_detail_past": "{year}: {pct}",
        "most_stunted": "Anak stunting terbanyak ({year})",
        "highest": "Prevalensi tertinggi ({year})",
        "problematic_summary": "Kualitas data: pengukuran {year} di {count} posyandu dinilai "
        "bermasalah ({names}). Angka yang bersumber dari sana mungkin keliru; lihat Kualitas "
        "data.",
        "problematic_area": "Kualitas data: pengukuran {year} seluruh wilayah dinilai "
        "bermasalah. Periksa bagian Kualitas data sebelum bertindak atas angka ini.",
        "where": "Lokasi prioritas",
        "where_intro": "Kelurahan menurut prevalensi stunting tahun {year}, dari yang tertinggi, "
        "dengan interval kepercayaan 95%. Prioritas pertama (merah): di atas prevalensi {area} "
        "dan jumlah anak stunting di atas rata-rata kelurahan; oranye: salah satu dari keduanya.",
        "where_chart": "Prevalensi stunting per kelurahan, {year}",
        "where_caption": "Titik: prevalensi; garis: interval kepercayaan 95%; angka: anak yang "
        "diukur. Garis putus-putus: {area} ({pct}); garis titik-titik: target {target}.",
        "quadrant_chart": "Prevalensi dan jumlah anak stunting, {year}",
        "quadrant_caption": "Setiap titik satu kelurahan. Kanan atas, tinggi pada keduanya: "
        "prioritas pertama. Garis: prevalensi {area} ({pct}) dan rata-rata jumlah anak stunting "
        "per kelurahan ({count}).",
        "where_table": "Kelurahan, {year}",
        "too_few": "Terlalu sedikit anak yang diukur pada {year} untuk dihitung (kurang dari "
        "{min_n}):",
        "too_few_item": "{place}: {n} anak",
        "none_shown": "Tidak ada kelurahan dengan {min_n} anak atau lebih yang diukur pada {year}.",
        "trend": "Tren",
        "trend_intro": "Prevalensi stunting per tahun dengan interval kepercayaan 95%, dan "
        "jalur menuju target {target}.",
        "one_year": "Hanya tahun {year} yang memiliki pengukuran: tren memerlukan dua tahun atau "
        "lebih, jadi tidak ada grafik tren.",
        "area_chart": "{area}: stunting per tahun dan jalur menuju target",
        "area_caption": "Pita: interval kepercayaan 95%. Putus-putus: jalur menuju target; "
        "titik-titik: arah laju penurunan saat ini.",
        "multiples_chart": "Stunting per tahun, per {group}",
        "multiples_caption": "Skala sama di setiap panel; garis abu-abu: {area}. Titik yang "
        "hilang: terlalu sedikit anak pada tahun itu.",
        "trend_table": "Tren per {group}",
        "indicators": "Semua indikator",
        "indicators_intro": "Semua indikator gizi tahun {year}, untuk {area} dan per {group}, "
        "dengan interval kepercayaan 95%.",
        "indicators_table": "Indikator gizi, {year}",
        "quality": "Kualitas data",
        "quality_intro": "Pengukuran {year} di setiap posyandu diperiksa seperti uji "
        "plausibilitas SMART: nilai yang kosong, nilai yang ditandai WHO tidak masuk akal, "
        "sebaran dan bentuk z-score TB/U, pembulatan tinggi dan berat ke angka bulat atau "
        "setengah, keseimbangan anak laki-laki dan perempuan serta anak muda dan tua, dan tinggi "
        "yang turun atau sama persis dari kunjungan ke kunjungan. Poin penalti dijumlahkan "
        "menjadi nilai: sangat baik, baik, cukup atau bermasalah. Angka posyandu yang dinilai "
        "bermasalah mungkin keliru: periksa timbangan dan alat ukur panjang, cara anak diukur "
        "dan cara tanggal lahir dicatat sebelum memakainya.",
        "quality_table": "Kualitas data per posyandu, {year} (terburuk dahulu)",
        "not_rated": "tidak dinilai",
        "method": "Metode",
        "method_who": "Z-score: Standar Pertumbuhan Anak WHO (2006), dihitung seperti WHO "
        "Anthro; stunting adalah z-score TB/U di bawah -2 (pendek dan sangat pendek, Permenkes "
        "2/2020).",
        "method_once": "Setiap anak dihitung sekali setahun: dengan pengukuran terakhirnya pada "
        "tahun itu yang z-score-nya sah (dapat dihitung dan tidak ditandai WHO).",
        "method_ci": "Interval kepercayaan 95%: interval logit seperti anthro_prevalence WHO, "
        "anak setiap tahun sebagai sampel acak sederhana (t Student dengan N-1 derajat bebas).",
        "method_min_n": "Kelompok dengan kurang dari {min_n} anak yang diukur tidak diberi angka "
        "(aturan The DHS Program); 25-49 anak memberi angka berpresisi rendah.",
        "method_trend": "Tren: laju penurunan tahunan rata-rata (AARR) dan status sesuai jalur / "
        "tidak sesuai jalur seperti WHO/UNICEF Global Nutrition Targets Tracking Tool: kemiringan "
        "log prevalensi per tahun, dibandingkan dengan laju yang diperlukan untuk mencapai "
        "target.",
        "method_quality": "Kualitas data: uji plausibilitas SMART (SMART 2017) dan rekomendasi "
        "WHO/UNICEF 2019, seperti penilaian kbtool quality.",
        "method_made": "Dibuat dengan kbtool {version} pada {date}; opsi: {options}.",
        "inputs_table": "Data masukan",
        "place": "Kelurahan",
        "year": "Tahun",
        "n": "Anak",
        "cases": "Stunting",
        "pct": "%",
        "ci": "IK 95%",
        "priority": "Prioritas",
        "status": "Target",
        "rank": "#",
        "indicator": "Indikator",
        "change_pp": "Perubahan (poin)",
        "aarr": "AARR %",
        "required": "Perlu %",
        "posyandu": "Posyandu",
        "rows": "Pengukuran",
        "rating": "Nilai",
        "score": "Skor",
        "reasons": "Yang perlu diperiksa",
        "file": "Berkas",
        "rows_read": "Baris",
        "sha256": "SHA-256",
        "imported": "Diimpor",
        "priority_1": "pertama",
        "priority_2": "kedua",
        "priority_3": "",
        "pct_axis": "Prevalensi stunting (%)",
        "count_axis": "Anak stunting",
        "area_line": "{area} {pct}",
        "target_line": "Target {target}",
        "first_priority": "prioritas pertama",
        "path": "jalur menuju target",
        "pace": "dengan laju saat ini",
        "observed": "hasil ukur",
        "too_few_panel": "terlalu sedikit anak",
        # programme (--groups)
        "programme": "{group} dibanding {unit} lainnya",
        "programme_intro": "Apakah stunting turun lebih cepat di {treated} {unit} {group} "
        "daripada di {others} {unit} lainnya? Selisih dari selisih (difference in "
        "differences) membandingkan perubahan di {unit} program dengan perubahan di tempat lain "
        "pada tahun yang sama, seperti kbtool compare. Pemilihan {unit} {group} tidak acak, "
        "dan sedikitnya {unit} membuat interval lebar: anggap efeknya sebagai petunjuk, bukan "
        "bukti (docs/compare.md).",
        "event_chart": "Efek menurut tahun sejak mulai",
        "event_caption": "Selisih antara {unit} {group} dan lainnya, dibanding tahun sebelum "
        "mulai (0 menurut definisi), dengan interval 95%. Titik sebelum mulai (kiri garis "
        "titik-titik) jauh dari 0: kelompok sudah berbeda arah sebelumnya.",
        "event_axis": "Tahun sejak mulai",
        "programme_method": "Cara perhitungan",
    },
}


def number(value: float, lang: str, decimals: int = 1, sign: bool = False) -> str:
    """A number as the page writes it: thousands grouped, a minus sign, not a hyphen."""
    return written(value, lang, decimals, sign=sign, grouped=True).replace("-", "−")


def percent(value: float, lang: str) -> str:
    """'21.3%' / '21,3%'; "" for NaN."""
    text = number(value, lang)
    return f"{text}%" if text else ""


def interval(low: float, high: float, lang: str) -> str:
    """'19.3–23.4' / '19,3–23,4'; "" when unknown."""
    if math.isnan(low) or math.isnan(high):
        return ""
    return f"{number(low, lang)}–{number(high, lang)}"


def count(value: float, lang: str) -> str:
    """A whole number with thousands separators."""
    return number(value, lang, decimals=0)
