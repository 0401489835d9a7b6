"""Z-scores as a terminal shows them: where each row comes from, its age, its z-scores, the
stunting status and the flags raised, under short headers (26 columns do not fit a screen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kbtool.scoring import ScoredTable, Tally
from kbtool.views.numbers import numbers
from kbtool.words import PERSONAL_DATA, in_language, say, terms

# column -> its decimals (None: text)
PREVIEW_COLUMNS = {"age_days": 0, "haz": 2, "haz_status": None, "waz": 2, "whz": 2, "bmiz": 2}
# the preview's headers (its columns' and the file's, line's and flags') and title
PREVIEW_WORDS = terms("zscore.preview_words")
LINE_WORDS = {"en": ("line ", "lines "), "id": ("baris ", "baris ")}
# each flag column's label in the preview's flags column
PREVIEW_FLAGS = terms("zscore.flags")


def preview(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The columns of a scored table a terminal shows (the file too when there are several),
    its numbers written as `lang` writes them."""
    words = PREVIEW_WORDS[lang]
    view = pd.DataFrame(index=table.index)
    sources = table["source_file"].unique()
    if len(sources) > 1:
        names = {path: Path(str(path)).name for path in sources}
        view[words["file"]] = table["source_file"].map(names)
    view[words["line"]] = table["source_line"]
    for name, decimals in PREVIEW_COLUMNS.items():
        column = table[name]
        view[words[name]] = column if decimals is None else numbers(column, lang, decimals)
    raised = [
        np.where(table[name].fillna(0).astype(bool).to_numpy(), label, "")
        for name, label in PREVIEW_FLAGS[lang].items()
    ]
    view[words["flags"]] = [" ".join(filter(None, labels)) for labels in zip(*raised, strict=True)]
    return view


def notes(scored: ScoredTable, lang: str) -> list[tuple[str, str | None]]:
    """What people should hear about a scored batch, with a rich style: the reader's warnings,
    and what was withheld, kept or renamed."""
    said: list[tuple[str, str | None]] = [(in_language(w, lang), "yellow") for w in scored.warnings]
    if scored.withheld:
        listed = ", ".join(
            f"{header!r} ({PERSONAL_DATA[lang].get(what, what)})"
            for header, what in scored.withheld.items()
        )
        said.append((say("withheld", lang, columns=listed), None))
    said += [(say("kept", lang, column=header), "yellow") for header in scored.kept]
    if scored.keep_unmatched:
        files = ", ".join(Path(str(source["file"])).name for source in scored.sources)
        withheld = ", ".join(map(repr, scored.withheld)) or PREVIEW_WORDS[lang]["none_withheld"]
        said += [
            (say("keep_unmatched", lang, column=name, files=files, withheld=withheld), "yellow")
            for name in scored.keep_unmatched
        ]
    said += [
        (say("renamed", lang, column=name, renamed=new), "yellow")
        for name, new in scored.renamed.items()
    ]
    return said


def without_zscores(tally: Tally, files: int, lang: str) -> str | None:
    """The line about scored rows that got no z-score at all, or None when there are none."""
    if not tally.without_zscores:
        return None
    first = tally.first_without
    places = [f"{file}:{line}" if files > 1 else str(line) for file, line in first]
    word = "" if files > 1 else LINE_WORDS[lang][len(places) > 1]
    where = word + ", ".join(places)
    more = ", ..." if tally.without_zscores > len(first) else ""
    return say("without_zscores", lang, count=tally.without_zscores, where=where + more)
