"""The words of `kbtool report`, in English and Bahasa Indonesia, and how its numbers are written
(Indonesian: decimal comma, thousands dot)."""

from __future__ import annotations

import math

from kbtool.views.numbers import number as written
from kbtool.words import by_language

WORDS = by_language(
    {
        "report": ("Stunting report", "Laporan stunting"),
        "subtitle": (
            "Children under five measured at the posyandu, {period}",
            "Balita yang diukur di posyandu, {period}",
        ),
        "made": ("Made {date} with kbtool {version}", "Dibuat {date} dengan kbtool {version}"),
        "area_unknown": ("the area", "wilayah"),
        # summary
        "summary": ("Summary", "Ringkasan"),
        "latest": ("Stunting in {year}", "Stunting tahun {year}"),
        "latest_detail": (
            "95% CI {low}–{high}; {n} children measured",
            "IK 95% {low}–{high}; {n} anak diukur",
        ),
        "change": ("Change since {year}", "Perubahan sejak {year}"),
        "change_value": ("{pp} points", "{pp} poin"),
        "change_detail": ("from {pct} in {year}", "dari {pct} pada {year}"),
        "target_figure": ("Target {pct} by {year}", "Target {pct} pada {year}"),
        "target_detail_aarr": (
            "falling {aarr} a year; {required} a year needed",
            "turun {aarr} per tahun; perlu {required} per tahun",
        ),
        "target_detail_no_aarr": (
            "needs two years or more of figures",
            "perlu angka dua tahun atau lebih",
        ),
        "target_detail_past": ("{year}: {pct}", "{year}: {pct}"),
        "most_stunted": ("Most stunted children ({year})", "Anak stunting terbanyak ({year})"),
        "highest": ("Highest prevalence ({year})", "Prevalensi tertinggi ({year})"),
        "problematic_summary": (
            "Data quality: the {year} measurements of {count} posyandu are rated problematic "
            "({names}). Figures that rest on them may be wrong; see Data quality.",
            "Kualitas data: pengukuran {year} di {count} posyandu dinilai bermasalah ({names}). "
            "Angka yang bersumber dari sana mungkin keliru; lihat Kualitas data.",
        ),
        "problematic_area": (
            "Data quality: the {year} measurements of the whole area are rated problematic. Check "
            "the Data quality section before acting on these figures.",
            "Kualitas data: pengukuran {year} seluruh wilayah dinilai bermasalah. Periksa bagian "
            "Kualitas data sebelum bertindak atas angka ini.",
        ),
        # where to act
        "where": ("Where to act", "Lokasi prioritas"),
        "where_intro": (
            "Kelurahan by their stunting prevalence in {year}, highest first, with 95% confidence "
            "intervals. First priority (red): above the {area} prevalence and more stunted "
            "children than the average kelurahan; orange: one of the two.",
            "Kelurahan menurut prevalensi stunting tahun {year}, dari yang tertinggi, dengan "
            "interval kepercayaan 95%. Prioritas pertama (merah): di atas prevalensi {area} dan "
            "jumlah anak stunting di atas rata-rata kelurahan; oranye: salah satu dari keduanya.",
        ),
        "where_chart": (
            "Stunting prevalence by kelurahan, {year}",
            "Prevalensi stunting per kelurahan, {year}",
        ),
        "where_caption": (
            "Dot: prevalence; line: 95% confidence interval; number: children measured. Dashed "
            "line: {area} ({pct}); dotted line: the target {target}.",
            "Titik: prevalensi; garis: interval kepercayaan 95%; angka: anak yang diukur. Garis "
            "putus-putus: {area} ({pct}); garis titik-titik: target {target}.",
        ),
        "quadrant_chart": (
            "Prevalence and number of stunted children, {year}",
            "Prevalensi dan jumlah anak stunting, {year}",
        ),
        "quadrant_caption": (
            "Each dot a kelurahan. Top right, high on both: first priority. Lines: the {area} "
            "prevalence ({pct}) and the average number of stunted children per kelurahan "
            "({count}).",
            "Setiap titik satu kelurahan. Kanan atas, tinggi pada keduanya: prioritas pertama. "
            "Garis: prevalensi {area} ({pct}) dan rata-rata jumlah anak stunting per kelurahan "
            "({count}).",
        ),
        "where_table": ("Kelurahan, {year}", "Kelurahan, {year}"),
        "too_few": (
            "Too few children measured in {year} for a figure (under {min_n}):",
            "Terlalu sedikit anak yang diukur pada {year} untuk dihitung (kurang dari {min_n}):",
        ),
        "too_few_item": ("{place}: {n} children", "{place}: {n} anak"),
        "none_shown": (
            "No kelurahan had {min_n} or more children measured in {year}.",
            "Tidak ada kelurahan dengan {min_n} anak atau lebih yang diukur pada {year}.",
        ),
        # trend
        "trend": ("Trend", "Tren"),
        "trend_intro": (
            "Stunting prevalence by year with its 95% confidence interval, and the path to the "
            "target {target}.",
            "Prevalensi stunting per tahun dengan interval kepercayaan 95%, dan jalur menuju "
            "target {target}.",
        ),
        "one_year": (
            "Only {year} has measurements: a trend needs two years or more, so there is no trend "
            "chart.",
            "Hanya tahun {year} yang memiliki pengukuran: tren memerlukan dua tahun atau lebih, "
            "jadi tidak ada grafik tren.",
        ),
        "area_chart": (
            "{area}: stunting by year and the path to the target",
            "{area}: stunting per tahun dan jalur menuju target",
        ),
        "area_caption": (
            "Band: 95% confidence interval. Dashed: the path to the target; dotted: where the "
            "current rate of reduction leads.",
            "Pita: interval kepercayaan 95%. Putus-putus: jalur menuju target; titik-titik: arah "
            "laju penurunan saat ini.",
        ),
        "multiples_chart": ("Stunting by year, per {group}", "Stunting per tahun, per {group}"),
        "multiples_caption": (
            "Same scale in every panel; grey line: {area}. A missing point: too few children that "
            "year.",
            "Skala sama di setiap panel; garis abu-abu: {area}. Titik yang hilang: terlalu "
            "sedikit anak pada tahun itu.",
        ),
        "trend_table": ("Trend by {group}", "Tren per {group}"),
        # indicators
        "indicators": ("All indicators", "Semua indikator"),
        "indicators_intro": (
            "Every nutrition indicator in {year}, for {area} and per {group}, with 95% confidence "
            "intervals.",
            "Semua indikator gizi tahun {year}, untuk {area} dan per {group}, dengan interval "
            "kepercayaan 95%.",
        ),
        "indicators_table": ("Nutrition indicators, {year}", "Indikator gizi, {year}"),
        # quality
        "quality": ("Data quality", "Kualitas data"),
        "quality_intro": (
            "The {year} measurements of each posyandu checked as the SMART plausibility check "
            "does: missing values, values WHO flags as implausible, the spread and shape of the "
            "height-for-age z-scores, rounding of heights and weights to whole or half numbers, "
            "the balance of boys and girls and of younger and older children, and heights that "
            "fall or repeat from one visit to the next. Penalty points add up to a rating: "
            "excellent, good, acceptable or problematic. The figures of a posyandu rated "
            "problematic may be wrong: check its scales and length boards, how children are "
            "measured and how birth dates are recorded before relying on them.",
            "Pengukuran {year} di setiap posyandu diperiksa seperti uji plausibilitas SMART: "
            "nilai yang kosong, nilai yang ditandai WHO tidak masuk akal, sebaran dan bentuk "
            "z-score TB/U, pembulatan tinggi dan berat ke angka bulat atau setengah, keseimbangan "
            "anak laki-laki dan perempuan serta anak muda dan tua, dan tinggi yang turun atau "
            "sama persis dari kunjungan ke kunjungan. Poin penalti dijumlahkan menjadi nilai: "
            "sangat baik, baik, cukup atau bermasalah. Angka posyandu yang dinilai bermasalah "
            "mungkin keliru: periksa timbangan dan alat ukur panjang, cara anak diukur dan cara "
            "tanggal lahir dicatat sebelum memakainya.",
        ),
        "quality_table": (
            "Data quality per posyandu, {year} (worst first)",
            "Kualitas data per posyandu, {year} (terburuk dahulu)",
        ),
        "not_rated": ("not rated", "tidak dinilai"),
        # method
        "method": ("Method", "Metode"),
        "method_who": (
            "Z-scores: WHO Child Growth Standards (2006), computed as WHO Anthro does; stunting "
            "is height-for-age z below -2 (pendek and sangat pendek, Permenkes 2/2020).",
            "Z-score: Standar Pertumbuhan Anak WHO (2006), dihitung seperti WHO Anthro; stunting "
            "adalah z-score TB/U di bawah -2 (pendek dan sangat pendek, Permenkes 2/2020).",
        ),
        "method_once": (
            "Each child counts once a year: by their latest measurement of the year with a valid "
            "z-score (computable and not flagged by WHO).",
            "Setiap anak dihitung sekali setahun: dengan pengukuran terakhirnya pada tahun itu "
            "yang z-score-nya sah (dapat dihitung dan tidak ditandai WHO).",
        ),
        "method_ci": (
            "95% confidence intervals: logit intervals as WHO's anthro_prevalence, each year's "
            "children a simple random sample (Student's t on N-1 degrees of freedom).",
            "Interval kepercayaan 95%: interval logit seperti anthro_prevalence WHO, anak setiap "
            "tahun sebagai sampel acak sederhana (t Student dengan N-1 derajat bebas).",
        ),
        "method_min_n": (
            "Groups with fewer than {min_n} children measured have no figure (The DHS Program's "
            "rule); 25-49 children give figures of low precision.",
            "Kelompok dengan kurang dari {min_n} anak yang diukur tidak diberi angka (aturan The "
            "DHS Program); 25-49 anak memberi angka berpresisi rendah.",
        ),
        "method_trend": (
            "Trend: the average annual rate of reduction (AARR) and the status on track / off "
            "track as the WHO/UNICEF Global Nutrition Targets Tracking Tool computes them: the "
            "slope of the log prevalence over the years, against the rate needed to reach the "
            "target.",
            "Tren: laju penurunan tahunan rata-rata (AARR) dan status sesuai jalur / tidak sesuai "
            "jalur seperti WHO/UNICEF Global Nutrition Targets Tracking Tool: kemiringan log "
            "prevalensi per tahun, dibandingkan dengan laju yang diperlukan untuk mencapai target.",
        ),
        "method_quality": (
            "Data quality: the SMART plausibility check (SMART 2017) and WHO/UNICEF 2019 "
            "recommendations, as kbtool quality rates them.",
            "Kualitas data: uji plausibilitas SMART (SMART 2017) dan rekomendasi WHO/UNICEF 2019, "
            "seperti penilaian kbtool quality.",
        ),
        "method_made": (
            "Made with kbtool {version} on {date}; options: {options}.",
            "Dibuat dengan kbtool {version} pada {date}; opsi: {options}.",
        ),
        "inputs_table": ("Inputs", "Data masukan"),
        # tables
        "place": ("Kelurahan", "Kelurahan"),
        "year": ("Year", "Tahun"),
        "n": ("Children", "Anak"),
        "cases": ("Stunted", "Stunting"),
        "pct": ("%", "%"),
        "ci": ("95% CI", "IK 95%"),
        "priority": ("Priority", "Prioritas"),
        "status": ("Target", "Target"),
        "rank": ("#", "#"),
        "indicator": ("Indicator", "Indikator"),
        "change_pp": ("Change (points)", "Perubahan (poin)"),
        "aarr": ("AARR %", "AARR %"),
        "required": ("Needed %", "Perlu %"),
        "posyandu": ("Posyandu", "Posyandu"),
        "rows": ("Measurements", "Pengukuran"),
        "rating": ("Rating", "Nilai"),
        "score": ("Score", "Skor"),
        "reasons": ("What to check", "Yang perlu diperiksa"),
        "file": ("File", "Berkas"),
        "rows_read": ("Rows", "Baris"),
        "sha256": ("SHA-256", "SHA-256"),
        "imported": ("Imported", "Diimpor"),
        "priority_1": ("first", "pertama"),
        "priority_2": ("second", "kedua"),
        "priority_3": ("", ""),
        # charts
        "pct_axis": ("Stunting prevalence (%)", "Prevalensi stunting (%)"),
        "count_axis": ("Stunted children", "Anak stunting"),
        "area_line": ("{area} {pct}", "{area} {pct}"),
        "target_line": ("Target {target}", "Target {target}"),
        "first_priority": ("first priority", "prioritas pertama"),
        "path": ("path to the target", "jalur menuju target"),
        "pace": ("at the current rate", "dengan laju saat ini"),
        "observed": ("measured", "hasil ukur"),
        "too_few_panel": ("too few children", "terlalu sedikit anak"),
        # programme (--groups)
        "programme": ("{group} against the other {unit}", "{group} dibanding {unit} lainnya"),
        "programme_intro": (
            "Did stunting fall faster in the {treated} {unit} of {group} than in the other "
            "{others}? The difference in differences compares the change in the programme's "
            "{unit} with the change elsewhere over the same years, as kbtool compare does. "
            "{group} {unit} were not chosen at random, and few {unit} give wide intervals: read "
            "the effect as a guide, not a proof (docs/compare.md).",
            "Apakah stunting turun lebih cepat di {treated} {unit} {group} daripada di {others} "
            "{unit} lainnya? Selisih dari selisih (difference in differences) membandingkan "
            "perubahan di {unit} program dengan perubahan di tempat lain pada tahun yang sama, "
            "seperti kbtool compare. Pemilihan {unit} {group} tidak acak, dan sedikitnya {unit} "
            "membuat interval lebar: anggap efeknya sebagai petunjuk, bukan bukti "
            "(docs/compare.md).",
        ),
        "event_chart": ("Effect by years since the start", "Efek menurut tahun sejak mulai"),
        "event_caption": (
            "The difference between {group} {unit} and the others, against the year before the "
            "start (0 by definition), with 95% intervals. Points before the start (left of the "
            "dotted line) far from 0: the groups were already drifting apart.",
            "Selisih antara {unit} {group} dan lainnya, dibanding tahun sebelum mulai (0 menurut "
            "definisi), dengan interval 95%. Titik sebelum mulai (kiri garis titik-titik) jauh "
            "dari 0: kelompok sudah berbeda arah sebelumnya.",
        ),
        "event_axis": ("Years since the start", "Tahun sejak mulai"),
        "programme_method": ("How it was computed", "Cara perhitungan"),
    }
)


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
