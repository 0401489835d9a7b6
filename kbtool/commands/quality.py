"""`kbtool quality`: is this register trustworthy? Plausibility and data quality per group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kbtool.commands.options import (
    ColumnOption,
    FormatOption,
    LangOption,
    OptionalInputsArg,
    OutputOption,
    RejectsOption,
    SheetOption,
    StoreOption,
    check_lang,
)

if TYPE_CHECKING:
    import pandas as pd

    from kbtool.quality import QualityReport

# the measurement columns quality_report reads (plus the --by column, and kelurahan for posyandu,
# whose mean HAZ is compared with the rest of its kelurahan)
NEEDED_COLUMNS = (
    "child_key",
    "sex",
    "birth_date",
    "visit_date",
    "weight_kg",
    "height_cm",
    "measure",
    "oedema",
    "age_days",
    "lenhei_cm",
    "position_flag",
    "haz",
    "haz_flag",
    "waz",
    "waz_flag",
    "whz",
    "whz_flag",
)
BY_CHOICES = ("posyandu", "kelurahan", "kecamatan")
# "all": every measurement together, no period column (quality_report's period=None)
PERIOD_CHOICES = ("year", "month", "all")
# --fail-on LEVEL fails on a row rated LEVEL or worse (kbtool.quality.RATINGS order)
FAIL_ON_CHOICES = ("problematic", "acceptable", "good")
# how a rated cell looks in the table view
RATING_STYLES = {"problematic": "bold red", "acceptable": "yellow"}
# how many failing groups the --fail-on message names before "and N more"
FAILING_NAMED = 10

# The table view: a terminal cannot show 35 columns, so related figures share one column (the
# largest value, styled by the worst rating among them); machine formats keep every column.
# view key -> (columns shown, the value's format, the columns whose ratings style the cell)
VIEW_COLUMNS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "n_rows": (("n_rows",), "count", ()),
    "n_children": (("n_children",), "count", ()),
    "missing": (
        (
            "missing_sex_pct",
            "missing_birth_date_pct",
            "missing_visit_date_pct",
            "missing_height_pct",
            "missing_weight_pct",
            "age_out_of_range_pct",
        ),
        "pct",
        (
            "missing_sex_pct",
            "missing_birth_date_pct",
            "missing_visit_date_pct",
            "missing_height_pct",
            "missing_weight_pct",
            "age_out_of_range_pct",
        ),
    ),
    "heaping": (("birth_day_heaping_pct",), "pct", ("birth_day_heaping_pct",)),
    "flagged": (
        ("flagged_haz_pct", "flagged_waz_pct", "flagged_whz_pct"),
        "pct",
        ("flagged_haz_pct", "flagged_waz_pct", "flagged_whz_pct"),
    ),
    "duplicate": (("duplicate_pct",), "pct", ("duplicate_pct",)),
    "mean_haz": (("mean_haz",), "z", ()),
    "gap": (("mean_haz_gap",), "z", ("mean_haz_gap_p",)),
    "sd_haz": (("sd_haz",), "ratio", ("sd_haz",)),
    "skew_haz": (("skew_haz",), "z", ("skew_haz",)),
    "kurtosis_haz": (("kurtosis_haz",), "z", ("kurtosis_haz",)),
    "dps_height": (("dps_height",), "whole", ("dps_height",)),
    "dps_weight": (("dps_weight",), "whole", ("dps_weight",)),
    "sex_ratio": (("sex_ratio",), "ratio", ("sex_ratio_p",)),
    "age_ratio": (("age_ratio",), "ratio", ("age_ratio_p",)),
    "height_decrease": (("height_decrease_pct",), "pct", ("height_decrease_pct",)),
    "height_repeated": (("height_repeated_pct",), "pct", ("height_repeated_pct",)),
    "weight_velocity": (("weight_velocity_pct",), "pct", ("weight_velocity_pct",)),
    "score": (("score",), "count", ()),
    "rating": (("rating",), "text", ("rating",)),
}
HEADERS = {
    "en": {
        "year": "Year",
        "period": "Period",
        "posyandu": "Posyandu",
        "kelurahan": "Kelurahan",
        "kecamatan": "Kecamatan",
        "n_rows": "Rows",
        "n_children": "Children",
        "missing": "Missing %",
        "heaping": "1st/15th %",
        "flagged": "Flagged %",
        "duplicate": "Dup. %",
        "mean_haz": "Mean z",
        "gap": "Gap z",
        "sd_haz": "SD",
        "skew_haz": "Skew",
        "kurtosis_haz": "Kurt.",
        "dps_height": "DPS h",
        "dps_weight": "DPS w",
        "sex_ratio": "M/F",
        "age_ratio": "Age r.",
        "height_decrease": "Shrink %",
        "height_repeated": "Copied %",
        "weight_velocity": "Wt jump %",
        "score": "Score",
        "rating": "Rating",
    },
    "id": {
        "year": "Tahun",
        "period": "Periode",
        "posyandu": "Posyandu",
        "kelurahan": "Kelurahan",
        "kecamatan": "Kecamatan",
        "n_rows": "Baris",
        "n_children": "Anak",
        "missing": "Kosong %",
        "heaping": "Tgl 1/15%",
        "flagged": "Flag %",
        "duplicate": "Ganda %",
        "mean_haz": "Rerata z",
        "gap": "Beda z",
        "sd_haz": "SB",
        "skew_haz": "Miring",
        "kurtosis_haz": "Kurt.",
        "dps_height": "DPS tb",
        "dps_weight": "DPS bb",
        "sex_ratio": "L/P",
        "age_ratio": "Umur r.",
        "height_decrease": "TB turun %",
        "height_repeated": "TB sama %",
        "weight_velocity": "BB loncat %",
        "score": "Skor",
        "rating": "Nilai",
    },
}
LABELS = {
    "en": {},
    "id": {
        "All": "Semua",
        "(unknown)": "(tidak diketahui)",
        "excellent": "sangat baik",
        "good": "baik",
        "acceptable": "cukup",
        "problematic": "bermasalah",
    },
}
FINDINGS_HEADING = {"en": "Where to look first:", "id": "Yang perlu diperiksa dulu:"}
NO_FINDINGS = {
    "en": "no group rated acceptable or problematic",
    "id": "tidak ada kelompok yang dinilai cukup atau bermasalah",
}


def quality(
    inputs: OptionalInputsArg = None,
    store: StoreOption = None,
    by: Annotated[
        str,
        typer.Option(
            "--by", help="Group by posyandu, kelurahan or kecamatan.", case_sensitive=False
        ),
    ] = "posyandu",
    period: Annotated[
        str,
        typer.Option(
            "--period",
            help="year, month, or all (every measurement together, no period column).",
            case_sensitive=False,
        ),
    ] = "year",
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 (after writing the output) when any group, or a whole-area row, is "
            "rated this or worse: problematic, acceptable or good. For cron and CI.",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    lang: LangOption = "en",
    output: OutputOption = None,
    fmt: FormatOption = None,
    column: ColumnOption = None,
    sheet: SheetOption = None,
    rejects: RejectsOption = None,
) -> None:
    """Data quality and plausibility per group and period: completeness, WHO flags, digit
    preference, the HAZ distribution, sex and age ratios, heights that fall or repeat; a SMART
    penalty score and rating (docs/quality.md gives every threshold and source).

    Machine formats (csv, jsonl, json, parquet) carry the table, every column; the "where to
    look first" findings go to stderr, into the json meta notes and parquet metadata, and into an
    xlsx sheet "findings". On a terminal related figures share a column and problem cells are
    coloured. Reads the store, or INPUT files (or '-') directly without touching the store.
    """
    from kbtool.commands.common import load_measurements
    from kbtool.errors import UsageError
    from kbtool.quality import METHOD, quality_report
    from kbtool.writing import Provenance, resolve_format, write_result

    lang = check_lang(lang)
    by = by.lower()
    if by not in BY_CHOICES:
        raise UsageError(f"--by {by}: not a grouping; choose from {', '.join(BY_CHOICES)}")
    period = period.lower()
    if period not in PERIOD_CHOICES:
        raise UsageError(f"--period must be one of {', '.join(PERIOD_CHOICES)}, not {period!r}")
    fail_level = _parse_fail_on(fail_on)
    fmt = resolve_format(fmt, output)
    needed = (*NEEDED_COLUMNS, by, *(("kelurahan",) if by == "posyandu" else ()))

    frame, sources, origin = load_measurements(
        inputs, store, needed, column=column, sheet=sheet, rejects=rejects
    )

    report = quality_report(
        frame, by=by, period=None if period == "all" else period, child_key="child_key"
    )
    lines = finding_lines(report)
    provenance = Provenance(
        command="quality",
        options={**origin, "by": by, "period": period, "fail_on": fail_on},
        sources=sources,
        notes=[f"method: {METHOD}", *(f"where to look first: {line}" for line in lines)],
    )
    view, styles = table_view(report, lang=lang)
    write_result(
        report.table,
        fmt=fmt,
        output=output,
        provenance=provenance,
        title="Data quality" if lang == "en" else "Kualitas data",
        table_frame=view,
        cell_styles=styles,
        max_table_rows=len(view),  # an aggregate: every group is shown
        extra_sheets={"findings": report.findings},
    )
    _print_findings(report, lang)
    if fail_level is not None:
        _fail_if_rated(report, fail_level)


def _parse_fail_on(value: str | None) -> str | None:
    from kbtool.errors import UsageError

    if value is None:
        return None
    level = value.lower()
    if level not in FAIL_ON_CHOICES:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON_CHOICES)}, not {value!r}")
    return level


def _row_label(record: pd.Series, report: QualityReport) -> str:
    """'2024 Posyandu Melati' (the period, if any, then the group)."""
    parts = [str(record[name]) for name in ("year", "period") if name in record.index]
    return " ".join([*parts, str(record[report.by])])


def finding_lines(report: QualityReport) -> list[str]:
    """One line per finding: where, rating and score, then the reasons."""
    return [
        f"{_row_label(record, report)}: {record['rating']} (score {record['score']}): "
        f"{record['reasons']}"
        for _, record in report.findings.iterrows()  # at most `top` (10) rows
    ]


def _print_findings(report: QualityReport, lang: str) -> None:
    from kbtool.console import err_console

    lines = finding_lines(report)
    if not lines:
        err_console.print(NO_FINDINGS[lang], markup=False)
        return
    err_console.print(FINDINGS_HEADING[lang], markup=False, style="bold")
    for line, rating in zip(lines, report.findings["rating"], strict=True):
        err_console.print(f"  {line}", markup=False, style=RATING_STYLES.get(str(rating)))


def _fail_if_rated(report: QualityReport, level: str) -> None:
    """Exit 1 naming the rows rated `level` or worse."""
    from kbtool.console import err_console
    from kbtool.quality import RATINGS

    worst_allowed = RATINGS.index(level)
    codes = report.table["rating"].map({r: i for i, r in enumerate(RATINGS)})
    failing = report.table[codes.fillna(-1).to_numpy() >= worst_allowed]
    if failing.empty:
        return
    names = [
        f"{_row_label(row, report)} ({row['rating']})"
        for _, row in failing.head(FAILING_NAMED).iterrows()
    ]
    more = len(failing) - len(names)
    err_console.print(
        f"kbtool: quality: {len(failing)} row(s) rated {level} or worse (--fail-on {level}): "
        + ", ".join(names)
        + (f" and {more} more" if more > 0 else ""),
        markup=False,
    )
    raise typer.Exit(1)


def _formatted(values: pd.Series, kind: str) -> list[str]:
    import numpy as np

    if kind == "text":
        return ["" if v is None or v != v else str(v) for v in values.astype(object)]
    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    pattern = {"count": "{:.0f}", "pct": "{:.1f}", "z": "{:+.2f}", "ratio": "{:.2f}"}.get(kind)
    texts = []
    for value in numbers:
        if np.isnan(value):
            texts.append("")
        elif np.isinf(value):
            texts.append("inf" if value > 0 else "-inf")
        elif kind == "whole":
            texts.append(f"{np.floor(value + 0.5):.0f}")  # DPS as ENA shows it
        else:
            assert pattern is not None
            texts.append(pattern.format(value))
    return texts


def table_view(
    report: QualityReport, *, lang: str = "en"
) -> tuple[pd.DataFrame, dict[str, list[str | None]]]:
    """The table as people read it (short headers, related figures in one column, labels in
    `lang`) and a rich style per cell from the report's ratings (problematic bold red,
    acceptable yellow)."""
    import numpy as np
    import pandas as pd

    from kbtool.quality import RATINGS

    table = report.table
    headers, labels = HEADERS[lang], LABELS[lang]
    rank = {rating: index for index, rating in enumerate(RATINGS)}
    view = pd.DataFrame(index=range(len(table)))
    styles: dict[str, list[str | None]] = {}
    for name in (c for c in ("year", "period", report.by) if c in table.columns):
        view[headers[name]] = [labels.get(v, v) for v in table[name].astype(object).tolist()]
    for key, (columns, kind, rated) in VIEW_COLUMNS.items():
        if key == "gap" and report.by != "posyandu":
            continue  # only posyandu are compared with their kelurahan
        if len(columns) == 1:
            values = table[columns[0]]
        else:
            values = pd.Series(
                np.fmax.reduce(
                    [table[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in columns]
                )
            )
        texts = _formatted(values, kind)
        if key == "rating":
            texts = [labels.get(text, text) for text in texts]
        header = headers[key]
        view[header] = texts
        if rated:
            worst = np.full(len(table), -1)
            for name in rated:
                codes = [rank.get(r, -1) if r else -1 for r in report.cells[name]]
                worst = np.maximum(worst, np.asarray(codes, dtype=np.int64))
            styles[header] = [
                RATING_STYLES.get(RATINGS[code]) if code >= 0 else None for code in worst
            ]
    return view, styles
