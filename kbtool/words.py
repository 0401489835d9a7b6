"""What kbtool says to people, in English and Bahasa Indonesia (--lang id).

Machine formats keep English column names (they are an interface); the words people read are
here: stderr messages, the reader's warnings (kept as Said: key and values), the notes of a
result, the reasons a row was rejected. A shared helper: the reader, the library and the views
all say things.
"""

from __future__ import annotations

import numbers
import re
import string

LANGS = ("en", "id")

MESSAGES: dict[str, dict[str, str]] = {
    "rows": {
        "en": "{read:,} rows read: {accepted:,} {what}, {rejected:,} rejected",
        "id": "{read:,} baris dibaca: {accepted:,} {what}, {rejected:,} ditolak",
    },
    "measurements": {"en": "measurements", "id": "pengukuran"},
    "scored": {"en": "scored", "id": "dihitung"},
    "reject_column": {"en": "column {column!r}: ", "id": "kolom {column!r}: "},
    "more_rejects": {"en": "  ... and {count:,} more", "id": "  ... dan {count:,} lagi"},
    "rejects_hint": {
        "en": " (write them all with --rejects FILE)",
        "id": " (tulis semuanya dengan --rejects FILE)",
    },
    "rejects_in": {"en": " (all in {path})", "id": " (semua di {path})"},
    "rejects_written": {
        "en": "  rejected rows written to {path}",
        "id": "  baris yang ditolak ditulis ke {path}",
    },
    "nothing_to": {
        "en": "nothing to {what}: no measurement was read",
        "id": "tidak ada yang dapat {what}: tidak ada pengukuran yang dibaca",
    },
    "count": {"en": "count", "id": "dihitung"},
    "check": {"en": "check", "id": "diperiksa"},
    "undated_all": {
        "en": "warning: no measurement has a visit date, so there is nothing to {what} per "
        "period; map the visit date with --column visit_date=NAME",
        "id": "peringatan: tidak ada pengukuran yang bertanggal ukur, jadi tidak ada yang dapat "
        "{what} per periode; petakan tanggal ukur dengan --column visit_date=NAMA",
    },
    "undated_some": {
        "en": "{count:,} measurements without a visit date belong to no period: left out",
        "id": "{count:,} pengukuran tanpa tanggal ukur tidak masuk periode mana pun: "
        "tidak dihitung",
    },
    "matched_files": {
        "en": "{count:,} measurements of a later file repeat one of an earlier file under "
        "another child key (the same visit date and values: the same register in another "
        "layout?): counted once",
        "id": "{count:,} pengukuran di berkas berikutnya sama dengan pengukuran berkas "
        "sebelumnya dengan kunci anak lain (tanggal dan nilai sama: register yang sama dalam "
        "format lain?): dihitung sekali",
    },
    "store_doubtful": {
        "en": "warning: the store holds {count:,} measurements that repeat another's visit "
        "date and values under another child key (the same register imported in two layouts "
        "by an earlier kbtool?): some children may be counted twice; importing the registers "
        "into a new store counts each once",
        "id": "peringatan: store berisi {count:,} pengukuran yang sama tanggal dan nilainya "
        "dengan pengukuran lain berkunci anak lain (register yang sama diimpor dalam dua "
        "format oleh kbtool lama?): sebagian anak mungkin terhitung dua kali; impor ulang "
        "register ke store baru agar setiap anak dihitung sekali",
    },
    "withheld": {
        "en": "personal data not written (UU 27/2022): {columns}; source_file and source_line "
        "locate each row in its register; --keep COLUMN writes one you judge safe",
        "id": "data pribadi tidak ditulis (UU 27/2022): {columns}; source_file dan source_line "
        "menunjukkan baris di register; --keep KOLOM menulis kolom yang Anda nilai aman",
    },
    "kept": {
        "en": "warning: writing {column!r} as asked (--keep): it looks like personal data "
        "(UU 27/2022); keep the output as private as the register",
        "id": "peringatan: {column!r} ditulis sesuai permintaan (--keep): tampaknya data "
        "pribadi (UU 27/2022); jaga kerahasiaan hasilnya seperti registernya",
    },
    "renamed": {
        "en": "input column {column!r} is also a computed column: written as {renamed!r}",
        "id": "kolom masukan {column!r} juga kolom hasil hitungan: ditulis sebagai {renamed!r}",
    },
    "without_zscores": {
        "en": "  {count:,} scored rows have no z-score at all ({where}): a value they need is "
        "missing or out of range (sex, age, weight, length/height)",
        "id": "  {count:,} baris tidak mendapat z-score sama sekali ({where}): nilai yang "
        "diperlukan kosong atau di luar jangkauan (jenis kelamin, umur, berat, panjang/tinggi)",
    },
    "columns_shown": {
        "en": "showing {shown} of {total} columns; --format csv or -o FILE for all",
        "id": "menampilkan {shown} dari {total} kolom; --format csv atau -o BERKAS untuk semua",
    },
    "rows_shown": {
        "en": "showing {shown:,} of {total:,} rows; --format csv or -o FILE for all",
        "id": "menampilkan {shown:,} dari {total:,} baris; --format csv atau -o BERKAS untuk semua",
    },
    "findings": {"en": "Where to look first:", "id": "Yang perlu diperiksa dulu:"},
    "no_findings": {
        "en": "no group rated acceptable or problematic",
        "id": "tidak ada kelompok yang dinilai cukup atau bermasalah",
    },
    "fail_on": {
        "en": "kbtool: quality: {count:,} row(s) rated {rated} or worse "
        "(--fail-on {level}): {rows}",
        "id": "kbtool: quality: {count:,} baris dinilai {rated} atau lebih buruk "
        "(--fail-on {level}): {rows}",
    },
    "fail_on_more": {"en": " and {count:,} more", "id": " dan {count:,} lainnya"},
    "source_skipped": {
        "en": "{file}: {status}, nothing added ({sha})",
        "id": "{file}: {status}, tidak ada yang ditambahkan ({sha})",
    },
    "already imported": {"en": "already imported", "id": "sudah diimpor"},
    "repeated in this import": {"en": "repeated in this import", "id": "berulang di impor ini"},
    "source_rows": {
        "en": "{file}: {read:,} rows read = {stored:,} stored + {duplicate:,} duplicates "
        "skipped + {rejected:,} rejected",
        "id": "{file}: {read:,} baris dibaca = {stored:,} disimpan + {duplicate:,} duplikat "
        "dilewati + {rejected:,} ditolak",
    },
    "corrections": {"en": " ({count:,} corrections)", "id": " ({count:,} koreksi)"},
    "import_done": {
        "en": "import {import_id} into {store}: {stored:,} stored, {duplicate:,} duplicates "
        "skipped, {rejected:,} rejected",
        "id": "impor {import_id} ke {store}: {stored:,} disimpan, {duplicate:,} duplikat "
        "dilewati, {rejected:,} ditolak",
    },
    "matched_store": {
        "en": "{count:,} of the duplicates repeat a measurement already known under another "
        "child key (the same visit date and values, e.g. the same register in another "
        "layout): counted once",
        "id": "{count:,} duplikat sama dengan pengukuran yang sudah ada dengan kunci anak lain "
        "(tanggal dan nilai sama, misalnya register yang sama dalam format lain): dihitung "
        "sekali",
    },
    "reverts": {
        "en": "{count:,} rows would restore values that import {import_id} corrected (an older "
        "export?): skipped, the corrected values stay; --allow-revert restores them",
        "id": "{count:,} baris akan mengembalikan nilai yang dikoreksi impor {import_id} "
        "(ekspor lama?): dilewati, nilai koreksi tetap; --allow-revert mengembalikannya",
    },
    "without_key": {
        "en": "{count:,} rows had no valid NIK, no other identifier and no name with a birth "
        "date: each was stored under a key of its own",
        "id": "{count:,} baris tanpa NIK yang sah, tanpa pengenal lain dan tanpa nama dengan "
        "tanggal lahir: masing-masing disimpan dengan kunci sendiri",
    },
    "unknown_kelurahan": {
        "en": "kelurahan not in the alias table (kept as written): {names}; map them in "
        "aliases.csv in the store",
        "id": "kelurahan yang tidak ada di tabel alias (disimpan apa adanya): {names}; petakan "
        "di aliases.csv dalam store",
    },
    "import_rejects": {
        "en": "rejected rows (file, line, column, value, reason): {path}",
        "id": "baris yang ditolak (berkas, baris, kolom, nilai, alasan): {path}",
    },
    "sasaran_unmatched": {
        "en": "--sasaran: {count:,} {by} of the file are none of the register's, left out: {names}",
        "id": "--sasaran: {count:,} {by} di berkas tidak ada di register, tidak dipakai: {names}",
    },
    "with_names": {
        "en": "warning: the output holds personal data (the children's names, UU 27/2022) as "
        "asked with --with-names; keep it as private as the register and share it with the "
        "kader only",
        "id": "peringatan: hasil berisi data pribadi (nama anak, UU 27/2022) sesuai permintaan "
        "--with-names; jaga kerahasiaannya seperti register dan bagikan hanya kepada kader",
    },
    "sound": {"en": "every file of the store is sound", "id": "semua berkas store utuh"},
    "damaged": {
        "en": "{count} damaged files; `kbtool store repair` sets them aside",
        "id": "{count} berkas rusak; `kbtool store repair` menyisihkannya",
    },
    "set_aside": {
        "en": "set aside {path} ({problem}, {rows:,} rows) of import {import_id}",
        "id": "disisihkan {path} ({problem}, {rows:,} baris) dari impor {import_id}",
    },
    "import_again": {
        "en": "import these files again to restore the rows set aside (their other rows are "
        "duplicates): {files}",
        "id": "impor lagi berkas berikut untuk memulihkan baris yang disisihkan (baris lainnya "
        "duplikat): {files}",
    },
    "audit": {"en": "audit", "id": "diaudit"},
    "audit_explained": {
        "en": "{where}: {count:,} of {total:,} disagreements are explained by {cause}",
        "id": "{where}: {count:,} dari {total:,} ketidaksesuaian dijelaskan oleh {cause}",
    },
    "audit_unexplained": {
        "en": "{where}: {count:,} of {total:,} disagreements match no known mistake",
        "id": "{where}: {count:,} dari {total:,} ketidaksesuaian tidak cocok dengan kesalahan "
        "yang dikenal",
    },
    "audit_headline": {
        "en": "{name} {year}: {register:.1f}% by the register's own statuses, {who:.1f}% by "
        "WHO ({difference:+.1f} points)",
        "id": "{name} {year}: {register:.1f}% menurut status register, {who:.1f}% menurut WHO "
        "({difference:+.1f} poin)",
    },
    "audit_unrecognised": {
        "en": "recorded values not understood in {column} (counted as unreadable or "
        "unrecognised, not compared): {values}",
        "id": "nilai tercatat yang tidak dikenali di {column} (dihitung sebagai tidak terbaca "
        "atau tidak dikenali, tidak dibandingkan): {values}",
    },
    "audit_agreeing": {
        "en": "{count:,} of {total:,} groups agree with WHO on every value compared (in the "
        "csv, json, parquet and xlsx output, not in this table)",
        "id": "{count:,} dari {total:,} kelompok sesuai dengan WHO pada setiap nilai yang "
        "dibandingkan (ada di keluaran csv, json, parquet dan xlsx, tidak di tabel ini)",
    },
    "audit_more": {
        "en": "  ... and {count:,} more groups with disagreements (all in the table)",
        "id": "  ... dan {count:,} kelompok lain dengan ketidaksesuaian (semua ada di tabel)",
    },
    "compare_missing": {
        "en": "{unit} in the groups file without children in the data: {names}",
        "id": "{unit} di berkas kelompok tanpa data anak: {names}",
    },
    "compare_no_since": {
        "en": "the groups file has no since column: prevalence per group and year only; add the "
        "year the programme started for the difference in differences and the event study",
        "id": "berkas kelompok tidak punya kolom since: hanya prevalensi per kelompok dan tahun; "
        "tambahkan tahun mulai program untuk selisih dari selisih dan studi peristiwa",
    },
    "compare_weak": {
        "en": "inference is weak: {units} {unit}, {treated} with the programme (fewer than "
        "{few_units} units or {few_treated} with the programme): read intervals and p-values as "
        "rough guides",
        "id": "inferensi lemah: {units} {unit}, {treated} dengan program (kurang dari "
        "{few_units} unit atau {few_treated} dengan program): anggap interval dan nilai p "
        "sebagai perkiraan kasar",
    },
    "compare_staggered": {
        "en": "the programme started in different years ({years}): the Callaway & Sant'Anna "
        "estimate compares each start cohort only with units not yet in the programme; the "
        "two-way fixed-effects one also compares with units already in it",
        "id": "program mulai pada tahun berbeda ({years}): penduga Callaway & Sant'Anna "
        "membandingkan setiap kohort hanya dengan unit yang belum ikut program; penduga efek "
        "tetap dua arah juga membandingkan dengan unit yang sudah ikut",
    },
    "compare_pre_trend": {
        "en": "{outcome}: before the start the groups already diverged (year {years} relative "
        "to the start: the interval excludes 0); the comparison assumes they would have moved "
        "in parallel without the programme: read the effect with care",
        "id": "{outcome}: sebelum program mulai kelompok sudah berbeda arah (tahun {years} "
        "relatif terhadap mulai: interval tidak mencakup 0); perbandingan ini mengandaikan "
        "keduanya bergerak sejajar tanpa program: baca efeknya dengan hati-hati",
    },
    "compare_parallel": {
        "en": "{outcome}: no year before the start shows the groups diverging (no interval "
        "excludes 0); this supports, but does not prove, parallel trends",
        "id": "{outcome}: tidak ada tahun sebelum mulai yang menunjukkan kelompok berbeda arah "
        "(tidak ada interval yang tidak mencakup 0); ini mendukung, tetapi tidak membuktikan, "
        "tren sejajar",
    },
    "compare_no_pre": {
        "en": "{outcome}: the data has no year before the year before the start: pre-trends "
        "cannot be checked",
        "id": "{outcome}: data tidak punya tahun sebelum tahun acuan: tren sebelum program tidak "
        "dapat diperiksa",
    },
    "report_written": {"en": "report written to {path}", "id": "laporan ditulis ke {path}"},
    # kbtool quality's reasons (kbtool.quality.findings, as Said): a check's figure, then its rating
    "quality_missing_sex_pct": {
        "en": "sex missing in {value:.{decimals}f}% of measurements",
        "id": "jenis kelamin kosong pada {value:.{decimals}f}% pengukuran",
    },
    "quality_missing_birth_date_pct": {
        "en": "birth date missing in {value:.{decimals}f}% of measurements",
        "id": "tanggal lahir kosong pada {value:.{decimals}f}% pengukuran",
    },
    "quality_missing_visit_date_pct": {
        "en": "visit date missing in {value:.{decimals}f}% of measurements",
        "id": "tanggal ukur kosong pada {value:.{decimals}f}% pengukuran",
    },
    "quality_missing_height_pct": {
        "en": "height missing in {value:.{decimals}f}% of measurements",
        "id": "panjang/tinggi kosong pada {value:.{decimals}f}% pengukuran",
    },
    "quality_missing_weight_pct": {
        "en": "weight missing in {value:.{decimals}f}% of measurements",
        "id": "berat kosong pada {value:.{decimals}f}% pengukuran",
    },
    "quality_missing_position_pct": {
        "en": "lying/standing missing in {value:.{decimals}f}% of measurements",
        "id": "cara ukur (berbaring/berdiri) kosong pada {value:.{decimals}f}% pengukuran",
    },
    "quality_birth_day_heaping_pct": {
        "en": "birth date on the 1st or 15th for {value:.{decimals}f}% of children",
        "id": "tanggal lahir pada tanggal 1 atau 15 untuk {value:.{decimals}f}% anak",
    },
    "quality_age_out_of_range_pct": {
        "en": "age outside 0-59 months in {value:.{decimals}f}% of measurements",
        "id": "umur di luar 0-59 bulan pada {value:.{decimals}f}% pengukuran",
    },
    "quality_flagged_haz_pct": {
        "en": "HAZ flagged (< -6 or > 6) in {value:.{decimals}f}% of measurements",
        "id": "z TB/U ditandai (< -6 atau > 6) pada {value:.{decimals}f}% pengukuran",
    },
    "quality_flagged_waz_pct": {
        "en": "WAZ flagged (< -6 or > 5) in {value:.{decimals}f}% of measurements",
        "id": "z BB/U ditandai (< -6 atau > 5) pada {value:.{decimals}f}% pengukuran",
    },
    "quality_flagged_whz_pct": {
        "en": "WHZ flagged (< -5 or > 5) in {value:.{decimals}f}% of measurements",
        "id": "z BB/TB ditandai (< -5 atau > 5) pada {value:.{decimals}f}% pengukuran",
    },
    "quality_position_flag_pct": {
        "en": "standing under 9 months in {value:.{decimals}f}% of measurements",
        "id": "diukur berdiri di bawah umur 9 bulan pada {value:.{decimals}f}% pengukuran",
    },
    "quality_duplicate_pct": {
        "en": "same child measured again on the same day in {value:.{decimals}f}% of measurements",
        "id": "anak yang sama diukur lagi di hari yang sama pada {value:.{decimals}f}% pengukuran",
    },
    "quality_height_decrease_pct": {
        "en": "length/height falls by more than {cm:g} cm in {value:.{decimals}f}% of consecutive "
        "visits",
        "id": "panjang/tinggi turun lebih dari {cm:g} cm pada {value:.{decimals}f}% kunjungan "
        "berurutan",
    },
    "quality_height_repeated_pct": {
        "en": "identical height at 3+ visits over 2+ months for {value:.{decimals}f}% of children "
        "seen 3+ times",
        "id": "tinggi sama persis pada 3+ kunjungan selama 2+ bulan untuk {value:.{decimals}f}% "
        "anak yang diukur 3+ kali",
    },
    "quality_weight_velocity_pct": {
        "en": "implausible weight change in {value:.{decimals}f}% of consecutive visits",
        "id": "perubahan berat tidak wajar pada {value:.{decimals}f}% kunjungan berurutan",
    },
    "quality_sd_haz": {"en": "SD of HAZ {value:.2f}", "id": "SD z TB/U {value:.2f}"},
    "quality_skew_haz": {
        "en": "skewness of HAZ {value:+.2f}",
        "id": "kemencengan z TB/U {value:+.2f}",
    },
    "quality_kurtosis_haz": {
        "en": "excess kurtosis of HAZ {value:+.2f}",
        "id": "kurtosis berlebih z TB/U {value:+.2f}",
    },
    "quality_dps_height": {
        "en": "digit preference score of height {value:.0f}",
        "id": "skor preferensi angka tinggi {value:.0f}",
    },
    "quality_dps_weight": {
        "en": "digit preference score of weight {value:.0f}",
        "id": "skor preferensi angka berat {value:.0f}",
    },
    "quality_sex_ratio": {
        "en": "sex ratio {ratio:.2f} boys per girl, p {p} ({rating})",
        "id": "rasio jenis kelamin {ratio:.2f} anak laki-laki per anak perempuan, p {p} ({rating})",
    },
    "quality_one_sex": {
        "en": "only {sex} recorded, p {p} ({rating})",
        "id": "hanya {sex} yang tercatat, p {p} ({rating})",
    },
    "quality_age_ratio_smart": {
        "en": "age ratio 6-29 / 30-59 months {ratio:.2f} (expected SMART's {expected:g}), p {p} "
        "({rating})",
        "id": "rasio umur 6-29 / 30-59 bulan {ratio:.2f} (diharapkan {expected:g} menurut SMART), "
        "p {p} ({rating})",
    },
    "quality_age_ratio_area": {
        "en": "age ratio 6-29 / 30-59 months {ratio:.2f} (expected {expected:.2f} as in the whole "
        "area), p {p} ({rating})",
        "id": "rasio umur 6-29 / 30-59 bulan {ratio:.2f} (diharapkan {expected:.2f} seperti "
        "seluruh wilayah), p {p} ({rating})",
    },
    "quality_haz_gap": {
        "en": "mean HAZ {gap:.2f} {direction} the rest of {parent}, p {p} ({rating}): a biased "
        "length board, or a real difference",
        "id": "rerata z TB/U {gap:.2f} {direction} bagian lain {parent}, p {p} ({rating}): alat "
        "ukur panjang yang bias, atau perbedaan yang nyata",
    },
    "quality_heaping": {
        "en": "{text} (expected {expected:.1f}%), p {p} ({rating})",
        "id": "{text} (diharapkan {expected:.1f}%), p {p} ({rating})",
    },
    "quality_more_than": {
        "en": "{text} ({rating}: more than {limit:g}{unit})",
        "id": "{text} ({rating}: lebih dari {limit:g}{unit})",
    },
    "quality_either_way": {
        "en": "{text} ({rating}: {limit:g} or more either way)",
        "id": "{text} ({rating}: {limit:g} atau lebih, ke arah mana pun)",
    },
    "quality_or_more": {
        "en": "{text} ({rating}: {limit:g} or more)",
        "id": "{text} ({rating}: {limit:g} atau lebih)",
    },
    "quality_or_less": {
        "en": "{text} ({rating}: {limit:g} or less)",
        "id": "{text} ({rating}: {limit:g} atau kurang)",
    },
    "compare_summary": {
        "en": "{words} {direction} {size} points more in {group} {unit} (95% CI {low} to "
        "{high}; randomization p {chance}; {treated} of {units} {unit})",
        "id": "Prevalensi {words} {direction} {size} poin lebih banyak di {unit} {group} "
        "(IK 95% {low} s.d. {high}; p randomisasi {chance}; {treated} dari {units} {unit})",
    },
    "trend_title": {
        "en": "Trend against the target {targets}",
        "id": "Tren terhadap target {targets}",
    },
    "trend_target": {"en": "{pct}% by {year}", "id": "{pct}% pada {year}"},
    "quality_finding": {
        "en": "{where}: {rating} (score {score}): {reasons}",
        "id": "{where}: {rating} (skor {score}): {reasons}",
    },
    # the reader's warnings (kbtool.reading, as Said): each names its file
    "not_utf8_line": {
        "en": "{file}: line {line:,}: bytes that are not UTF-8, read as U+FFFD (\ufffd); the file "
        "is read as UTF-8, as its other characters are",
        "id": "{file}: baris {line:,}: byte yang bukan UTF-8, dibaca sebagai U+FFFD (\ufffd); "
        "berkas dibaca sebagai UTF-8, seperti karakter lainnya",
    },
    "not_utf8_lines": {
        "en": "{file}: {count:,} lines ({lines}): bytes that are not UTF-8, read as U+FFFD "
        "(\ufffd); the file is read as UTF-8, as its other characters are",
        "id": "{file}: {count:,} baris ({lines}): byte yang bukan UTF-8, dibaca sebagai U+FFFD "
        "(\ufffd); berkas dibaca sebagai UTF-8, seperti karakter lainnya",
    },
    "windows_1252": {
        "en": "{file}: read as Windows-1252: {bad:,} bytes of its first megabyte are not UTF-8, "
        "and only {characters:,} form UTF-8 characters",
        "id": "{file}: dibaca sebagai Windows-1252: {bad:,} byte di megabyte pertamanya bukan "
        "UTF-8, dan hanya {characters:,} yang membentuk karakter UTF-8",
    },
    "windows_1252_none": {
        "en": "{file}: read as Windows-1252: {bad:,} bytes of its first megabyte are not UTF-8, "
        "and none form UTF-8 characters",
        "id": "{file}: dibaca sebagai Windows-1252: {bad:,} byte di megabyte pertamanya bukan "
        "UTF-8, dan tidak ada yang membentuk karakter UTF-8",
    },
    "two_height_columns": {
        "en": "{file}: length and height in two columns: {length!r} read as recumbent length, "
        "{height!r} as standing height",
        "id": "{file}: panjang dan tinggi dalam dua kolom: {length!r} dibaca sebagai panjang "
        "badan (berbaring), {height!r} sebagai tinggi badan (berdiri)",
    },
    "column_chosen": {
        "en": "{file}: {column} read from {header!r}, ignoring {others}; choose another with "
        "--column {column}=NAME",
        "id": "{file}: {column} dibaca dari {header!r}, {others} diabaikan; pilih kolom lain "
        "dengan --column {column}=NAMA",
    },
    "no_date_columns": {
        "en": "{file}: no {missing} column found, and no age column: without ages HAZ, WAZ and "
        "BMIZ stay empty; name the column with --column {column}=NAME (columns seen: {seen})",
        "id": "{file}: kolom {missing} tidak ditemukan, dan tidak ada kolom umur: tanpa umur "
        "HAZ, WAZ dan BMIZ tetap kosong; sebutkan kolomnya dengan --column {column}=NAMA "
        "(kolom yang ada: {seen})",
    },
    "joined_rows": {
        "en": "{file}: lines {first}-{last} ({count:,} lines) were read as one row, rejected: a "
        "quoted cell opened at line {first} runs to line {last}, perhaps a quote never closed; "
        "fix it and read the file again",
        "id": "{file}: baris {first}-{last} ({count:,} baris) terbaca sebagai satu baris dan "
        "ditolak: sel berkutip yang dibuka di baris {first} berlanjut sampai baris {last}, "
        "mungkin tanda kutipnya tidak ditutup; perbaiki lalu baca ulang berkasnya",
    },
    "short_rows": {
        "en": "{file}: rows with fewer fields than the header, the first at line {line}, were "
        "read with their missing last cells empty (as Excel writes rows whose last cells are "
        "empty); if the file was cut short, check them",
        "id": "{file}: baris dengan kolom lebih sedikit dari header, yang pertama di baris "
        "{line}, dibaca dengan sel terakhirnya kosong (seperti Excel menulis baris yang sel "
        "terakhirnya kosong); jika berkasnya terpotong, periksa baris itu",
    },
    "other_unit": {
        "en": "{file}: {header!r}: {fit:,} of {filled:,} values look like {unit} ({range}); "
        "kbtool expects {expected}",
        "id": "{file}: {header!r}: {fit:,} dari {filled:,} nilai tampaknya dalam {unit} "
        "({range}); kbtool membaca {expected}",
    },
    "dates_either_way": {
        "en": "{file}: {header!r}: no day or month is over 12, so the dates read either way; "
        "read as day/month/year; if they are month/day/year, use --date-format mdy",
        "id": "{file}: {header!r}: tidak ada hari atau bulan di atas 12, jadi tanggal dapat "
        "dibaca dua cara; dibaca sebagai hari/bulan/tahun; jika sebenarnya bulan/hari/tahun, "
        "pakai --date-format mdy",
    },
    "dates_month_first": {
        "en": "{file}: {header!r}: dates read as month/day/year (the file's second numbers go "
        "over 12, more often than its first ones); --date-format dmy reads them day first",
        "id": "{file}: {header!r}: tanggal dibaca sebagai bulan/hari/tahun (angka kedua di "
        "berkas ini melewati 12, lebih sering daripada angka pertama); --date-format dmy "
        "membacanya hari dulu",
    },
    "dates_contradicted": {
        "en": "{file}: some dates read only as {shown} (a {part} number over 12), yet the "
        "file's dates are read as {read}: their rows are rejected as impossible dates; if the "
        "file is {shown}, use --date-format {code}",
        "id": "{file}: sebagian tanggal hanya dapat dibaca sebagai {shown} (angka {part} di atas "
        "12), padahal tanggal berkas ini dibaca sebagai {read}: barisnya ditolak sebagai "
        "tanggal mustahil; jika berkas ini {shown}, pakai --date-format {code}",
    },
}

# A result's notes (the `note` column): English text -> Indonesian.
_SCORES = ("HAZ", "WAZ", "WHZ", "BMIZ")
NOTES = {
    **{f"no child with a valid {z}": f"tidak ada anak dengan {z} yang sah" for z in _SCORES},
    "low precision": "presisi rendah",
}
_SUPPRESSED = re.compile(r"n < (\d+): figures suppressed")

# kbtool quality's ratings, in each language.
RATING_WORDS = {
    "excellent": {"en": "excellent", "id": "sangat baik"},
    "good": {"en": "good", "id": "baik"},
    "acceptable": {"en": "acceptable", "id": "cukup"},
    "problematic": {"en": "problematic", "id": "bermasalah"},
}

# Words kbtool quality's reasons name, in each language.
QUALITY_WORDS = {
    "boys": {"en": "boys", "id": "anak laki-laki"},
    "girls": {"en": "girls", "id": "anak perempuan"},
    "below": {"en": "below", "id": "di bawah"},
    "above": {"en": "above", "id": "di atas"},
}

# Words the reader's warnings name, in each language.
READER_WORDS = {
    "birth_date": {"en": "birth date", "id": "tanggal lahir"},
    "visit_date": {"en": "visit date", "id": "tanggal ukur"},
    "or": {"en": " or ", "id": " atau "},
    "metres": {"en": "metres", "id": "meter"},
    "grams": {"en": "grams", "id": "gram"},
    "centimetres": {"en": "centimetres", "id": "sentimeter"},
    "kilograms": {"en": "kilograms", "id": "kg"},
    "dmy": {"en": "day/month/year", "id": "hari/bulan/tahun"},
    "mdy": {"en": "month/day/year", "id": "bulan/hari/tahun"},
    "first": {"en": "first", "id": "pertama"},
    "second": {"en": "second", "id": "kedua"},
}

# What personal data a column holds (kbtool.privacy.personal_header) -> Indonesian.
PERSONAL_DATA = {
    "an identity number": "nomor identitas",
    "a name": "nama",
    "an address": "alamat",
    "a contact": "kontak",
}

# Why a row was rejected (kbtool.reading.values.REASONS and the field-count reason).
REASONS = {
    "unparseable sex": "jenis kelamin tidak terbaca",
    "unparseable measure": "cara ukur tidak terbaca",
    "unparseable oedema": "edema tidak terbaca",
    "unparseable number": "angka tidak terbaca",
    "unparseable date": "tanggal tidak terbaca",
    "impossible date": "tanggal mustahil",
    "date in the future": "tanggal di masa depan",
    "date before 1900": "tanggal sebelum 1900",
    "visit date before birth date": "tanggal ukur sebelum tanggal lahir",
    "height <= 0": "tinggi <= 0",
    "weight <= 0": "berat <= 0",
    "age_months < 0": "umur (bulan) < 0",
    "length and height both given, and they differ": "panjang dan tinggi berbeda",
}
_FIELDS = re.compile(r"expected (\d+) fields, found (\d+)")
_UNCLOSED = re.compile(
    r"\(an unclosed quote joins lines ([0-9,-]+), ([0-9,]+) lines, into this row\?\)"
)
_LONG_FIELD = re.compile(
    r"a field of ([0-9,]+) MB: longer than any register value \(limit ([0-9.]+) MB\)"
)
_ALSO = re.compile(r" \(also: ")


class _Numbers(string.Formatter):
    """Fills a message, numbers written as Indonesian writes them (34.747 baris; 12,5%)."""

    def format_field(self, value: object, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return indonesian_digits(text)
        return text


_SWAP_SEPARATORS = str.maketrans(",.", ".,")
_INDONESIAN = _Numbers()


def say(key: str, lang: str = "en", **values: object) -> str:
    """The message `key` in `lang`, filled with `values` (a value given as {language: words}
    in the words of `lang`, a Said as it says itself there)."""
    template = MESSAGES[key][lang]
    values = {
        k: v[lang] if isinstance(v, dict) else in_language(v, lang) if isinstance(v, Said) else v
        for k, v in values.items()
    }
    return _INDONESIAN.format(template, **values) if lang == "id" else template.format(**values)


def personal_data(what: str, lang: str) -> str:
    """What personal data a column holds (kbtool.privacy's words) in `lang`."""
    return what if lang == "en" else PERSONAL_DATA.get(what, what)


def note(text: str, lang: str) -> str:
    """A result's note in `lang` ("" stays "")."""
    if lang == "en" or not text:
        return text
    suppressed = _SUPPRESSED.fullmatch(text)
    if suppressed:
        return f"n < {suppressed[1]}: angka disembunyikan"
    return NOTES.get(text, text)


def reason(text: str, lang: str) -> str:
    """A reject reason in `lang`."""
    if lang == "en":
        return text
    text = _FIELDS.sub(r"seharusnya \1 kolom, ada \2", text)
    unclosed = "(tanda kutip yang tidak ditutup menggabungkan baris {}, {} baris, ke baris ini?)"
    text = _UNCLOSED.sub(lambda m: unclosed.format(*map(indonesian_digits, m.groups())), text)
    long_field = "isian sepanjang {} MB: lebih panjang dari nilai register mana pun (batas {} MB)"
    text = _LONG_FIELD.sub(lambda m: long_field.format(*map(indonesian_digits, m.groups())), text)
    for english, indonesian in REASONS.items():
        text = text.replace(english, indonesian)
    return _ALSO.sub(" (juga: ", text)


def indonesian_digits(text: str) -> str:
    """Numbers written in English ("1,497"; "1.5") as Indonesian writes them ("1.497"; "1,5")."""
    return text.translate(_SWAP_SEPARATORS)


class Said(str):
    """A message in English that keeps its key and values, so that a view can say it in
    another language: made below the views (the reader's warnings, quality's reasons), said
    above them."""

    key: str
    values: dict[str, object]

    def __new__(cls, key: str, **values: object) -> Said:
        said = super().__new__(cls, say(key, "en", **values))
        said.key, said.values = key, values
        return said

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, object]]:
        return (self.key,), self.values  # copy and pickle make it again from its key


def in_language(text: str, lang: str) -> str:
    """A message in `lang`: a Said as its template there says it, other text as it is."""
    return say(text.key, lang, **text.values) if isinstance(text, Said) else text
