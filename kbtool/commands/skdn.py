"""`kbtool skdn`: what a posyandu reports every month (S, D, N, T, 2T, BGM), and who to visit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kbtool.commands.common import tell
from kbtool.commands.options import Source, Writing, bad_option, by_option, command
from kbtool.errors import UsageError
from kbtool.measurements import NAME_COLUMN
from kbtool.skdn import (
    BUKU_KIA,
    BY_CHOICES,
    check_month_order,
    columns_needed,
    compute_skdn,
    followup_list,
    parse_month,
    provenance,
    read_kbm,
    read_sasaran,
)
from kbtool.skdn.sasaran import few
from kbtool.views.skdn import list_view, method_sheet, table_view, title
from kbtool.words import say

# a month of a city's posyandu fits a terminal; more goes to a file (-f csv, -o FILE)
SHOWN_ROWS = 500


def _month(value: str | None) -> str | None:
    """--from/--to: a month such as 2024-01."""
    if value is not None:
        try:
            parse_month(value)
        except UsageError as err:
            raise typer.BadParameter(str(err)) from err
    return value


def _month_option(name: str, first_or_last: str, example: str) -> Any:
    help = f"{first_or_last} month, e.g. {example} (default: every month the register has)."
    return typer.Option(name, help=help, metavar="YYYY-MM", callback=_month)


ByOption = Annotated[
    str, by_option(BY_CHOICES, "Group by posyandu (default), kelurahan, kecamatan or puskesmas.")
]
FromOption = Annotated[str | None, _month_option("--from", "First", "2024-01")]
ToOption = Annotated[str | None, _month_option("--to", "Last", "2024-12")]
SasaranOption = Annotated[
    Path | None,
    typer.Option(
        "--sasaran",
        help="S from this CSV/xlsx (columns: the group, year or month, sasaran) instead of "
        "the register's own count.",
        metavar="FILE",
        dir_okay=False,
    ),
]
KbmOption = Annotated[
    Path | None,
    typer.Option(
        "--kbm",
        help="The KBM table (columns age_months, kbm_g) instead of the Buku KIA's.",
        metavar="FILE",
        dir_okay=False,
    ),
]
ListOption = Annotated[
    bool,
    typer.Option(
        "--list",
        help="The follow-up list instead: one row per child and month with 2T, BGM or an "
        "implausible weight, located by register file and line.",
    ),
]
WithNamesOption = Annotated[
    bool,
    typer.Option(
        "--with-names",
        help="--list from INPUT files: add the register's name column (personal data, "
        "UU 27/2022: a warning says so).",
    ),
]


@command
def skdn(
    by: ByOption = "posyandu",
    first: FromOption = None,
    last: ToOption = None,
    sasaran: SasaranOption = None,
    kbm: KbmOption = None,
    follow_up: ListOption = False,
    with_names: WithNamesOption = False,
    *,
    writing: Writing,
    source: Source,
) -> None:
    """SKDN per posyandu and month: S (children to weigh), D (weighed), B (new), O (not
    weighed the month before), N (gained the KBM), T (did not), 2T (T twice running), BGM
    (below the red line), and D/S, N/D, T/D ratios. --list writes the kader's follow-up list
    instead. Reads the store, or INPUT files (or '-') directly.

    \b
    Examples:
      kbtool skdn --from 2024-01 --to 2024-12          # the store, per posyandu and month
      kbtool skdn register.csv --by kelurahan --sasaran sasaran.xlsx -o skdn.xlsx
      kbtool skdn register.csv --list --to 2024-06 -f csv --lang id
    """
    source.of_files(**{"--with-names": with_names})  # refused with the store
    _check_options(follow_up, with_names, sasaran, first, last)
    lang = writing.lang
    table = read_kbm(kbm) if kbm else BUKU_KIA
    targets = read_sasaran(sasaran, by) if sasaran else None
    needed = [*columns_needed(by, follow_up=follow_up), *([NAME_COLUMN] if with_names else [])]
    # S looks back 12 months and N/T one: the store is read whole, only these columns
    loaded = source.load(needed, lang)
    if follow_up:
        result = followup_list(
            loaded.whole(), by=by, first_month=first, last_month=last, kbm=table,
            names=NAME_COLUMN if with_names else None,
        )  # fmt: skip
        view, styles = list_view(result, lang=lang), None
    else:
        result = compute_skdn(
            loaded.whole(), by=by, first_month=first, last_month=last, kbm=table, sasaran=targets
        )
        view, styles = table_view(result, lang=lang)
        if unmatched := result.attrs["sasaran_unmatched"]:
            said = say("sasaran_unmatched", lang, count=len(unmatched), by=by, names=few(unmatched))
            tell(said, "yellow")
    if with_names:
        tell(say("with_names", lang), "yellow")
    about = provenance(result, loaded.origin, loaded.sources)
    writing.write(
        result,
        provenance=about,
        title=title(lang, follow_up=follow_up),
        table_frame=view,
        cell_styles=styles,
        max_table_rows=SHOWN_ROWS,
        extra_sheets={"method": method_sheet(about, lang)},
    )


def _check_options(
    follow_up: bool, with_names: bool, sasaran: Path | None, first: str | None, last: str | None
) -> None:
    """Usage errors of option combinations: names only on the list, S only on the table."""
    if with_names and not follow_up:
        raise bad_option("--with-names", "adds names to the follow-up list: use it with --list")
    if sasaran and follow_up:
        raise bad_option("--sasaran", "gives S to the SKDN table, not to --list")
    check_month_order(first, last)
