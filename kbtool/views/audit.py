"""An audit as people read it: a sentence per group, and a table of one line per group with a
disagreement (and the whole area), worst first; machine formats carry every group and indicator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kbtool.audit import AuditResult
from kbtool.audit.summary import share_percent
from kbtool.prevalence import TOTAL_LABEL
from kbtool.views import bold_totals, labelled
from kbtool.views.numbers import intervals, number, numbers
from kbtool.words import say, terms

HEADERS = terms("groups.headers", "audit.headers")
# what an indicator's prevalence counts (z < -2), for the headline
INDICATOR_NAMES = terms("audit.indicator_names")
CAUSE_LABELS = terms("audit.cause_labels")
ANOTHER_DATE = {"en": "another date", "id": "tanggal lain"}
LABELS = terms("groups.labels")
TITLES = terms("audit.titles")


def title(result: AuditResult, lang: str) -> str:
    return TITLES[lang]["table"].format(by=result.by)


def cause_label(cause: str, stale_date: Any, lang: str) -> str:
    """A cause in words; a stale age with its date."""
    day = "" if pd.isna(stale_date) else pd.Timestamp(stale_date).strftime("%Y-%m-%d")
    return CAUSE_LABELS[lang][cause].format(date=day or ANOTHER_DATE[lang])


def table_view(result: AuditResult, *, lang: str = "en") -> tuple[pd.DataFrame, list[str | None]]:
    """The terminal table and a style per row (the whole area bold). What matters most comes
    first, so a narrow terminal still shows it: the group, how many agree, the likely cause."""
    headers, by = HEADERS[lang], result.by
    lines = result.per_group_worst_first()
    view = pd.DataFrame(index=lines.index)
    view[headers["year"]] = lines["year"].astype(object).where(lines["year"].notna(), "")
    view[headers.get(by, by)] = labelled(lines[by].astype(str), LABELS[lang])
    view[headers["z"]] = numbers(share_percent(lines["z_agree"], lines["z_compared"]), lang)
    has_cause = lines["disagreements"] > 0
    view[headers["cause"]] = [
        cause_label(cause, day, lang) if shown else ""
        for cause, day, shown in zip(
            lines["main_cause"], lines["stale_date"], has_cause, strict=True
        )
    ]
    if "haz" in result.indicators:
        view[headers["stunted"]] = intervals(
            lines["register_pct"], lines["who_pct"], lang, 1, " / "
        )
        view[headers["difference"]] = numbers(lines["difference_points"], lang, sign=True)
    view[headers["explains"]] = [
        f"{number(count, lang, 0, grouped=True)}/{number(total, lang, 0, grouped=True)}"
        if total
        else ""
        for count, total in zip(
            lines["main_cause_rows"].astype(int), lines["disagreements"].astype(int), strict=True
        )
    ]
    view[headers["status"]] = numbers(
        share_percent(lines["status_agree"], lines["status_compared"]), lang
    )
    view[headers["max_abs_diff"]] = numbers(lines["max_abs_diff"], lang, 2)
    view[headers["rows"]] = lines["rows"].astype(np.int64)
    return view, bold_totals(lines[by].astype(str) == TOTAL_LABEL)


def finding_lines(result: AuditResult, lang: str = "en") -> list[str]:
    """One sentence per group with a disagreement, worst first: what explains most of them."""
    by = result.by
    lines = result.per_group_worst_first()
    lines = lines[lines[by].astype(str) != TOTAL_LABEL]
    several_years = result.table["year"].nunique(dropna=False) > 1
    found = []
    for record in lines.to_dict("records"):  # one per group, not per measurement
        where = str(LABELS[lang].get(str(record[by]), record[by]))  # "(unknown)" in --lang
        if several_years:
            where = f"{'' if pd.isna(record['year']) else record['year']} {where}".strip()
        main = str(record["main_cause"])
        found.append(
            say(
                "audit_unexplained" if main == "unexplained" else "audit_explained",
                lang,
                where=where,
                count=int(record["main_cause_rows"]),
                total=int(record["disagreements"]),
                cause=cause_label(main, record["stale_date"], lang),
            )
        )
    return found


def headline_lines(result: AuditResult, lang: str = "en") -> list[str]:
    """Per year and indicator, the whole area's prevalence by the register and by WHO."""
    table = result.table
    totals = table[table[result.by].astype(str) == TOTAL_LABEL]
    return [
        say(
            "audit_headline",
            lang,
            name=INDICATOR_NAMES[lang][str(record["indicator"])],
            year="" if pd.isna(record["year"]) else record["year"],
            register=record["register_pct"],
            who=record["who_pct"],
            difference=record["difference_points"],
        )
        for record in totals.to_dict("records")
        if not (pd.isna(record["register_pct"]) or pd.isna(record["who_pct"]))
    ]


def unrecognised_lines(
    result: AuditResult, headers: Mapping[str, str], lang: str = "en", shown: int = 5
) -> list[str]:
    """Per recorded column, the texts that are neither a value nor a mark of none."""
    found = []
    for column, values in result.unrecognised.groupby("column", sort=False):
        listed = [
            f"{value!r} ({number(rows, lang, 0, grouped=True)})"
            for value, rows in zip(
                values["value"].head(shown), values["rows"].head(shown), strict=True
            )
        ]
        more = len(values) - len(listed)
        found.append(
            say(
                "audit_unrecognised",
                lang,
                column=headers.get(str(column), str(column)),
                values=", ".join(listed) + (f", ... (+{more})" if more > 0 else ""),
            )
        )
    return found
