"""The store's imports and damaged files as a terminal shows them."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from kbtool.store import DamagedFile, ImportSummary
from kbtool.words import in_language, say, terms

Line = tuple[str, str | None]  # a message and its rich style


def short_identity(identity: str) -> str:
    """A source's SHA-256 shortened as git abbreviates it, the sheet after `#` kept (the sheets
    of one workbook have one SHA-256)."""
    sha, hash_sign, sheet = identity.partition("#")
    return sha[:12] + hash_sign + sheet


def sources_view(sources: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """`kbtool sources` on a terminal: the import time to the minute, a short SHA-256 (as git
    abbreviates), the counts; the machine formats keep everything."""
    view = sources.drop(columns=["import_id", "size_bytes"]).copy()
    view["imported_at"] = sources["imported_at"].dt.strftime("%Y-%m-%d %H:%M")
    view["sha256"] = sources["sha256"].map(short_identity)
    view = view.rename(columns=lambda name: name.removeprefix("rows_"))
    return view.rename(columns=SOURCES_HEADERS[lang])


# the table's headers: the column (after its rows_ prefix) in English, and in Indonesian
SOURCES_HEADERS = terms("store.sources_headers")


def damaged_frame(damaged: list[DamagedFile]) -> pd.DataFrame:
    """One row per damaged store file: where, what is wrong, its rows, the import and sources."""
    types = {"path": "str", "problem": "str", "rows": "int64", "import_id": "str", "sources": "str"}
    frame = pd.DataFrame(map(asdict, damaged), columns=list(types))
    frame["sources"] = frame["sources"].map("; ".join)
    return frame.astype(types)  # typed when empty too: text columns, not float64


def damaged_view(damaged: list[DamagedFile], lang: str = "en") -> pd.DataFrame:
    """`kbtool store check` on a terminal: the damaged files, problems and headers in `lang`;
    the problem first, as a narrow terminal shows the leading columns (a path is long)."""
    view = damaged_frame(damaged)
    view["problem"] = [in_language(d.problem, lang) for d in damaged]
    view = view[["problem", *(c for c in view.columns if c != "problem")]]
    return view.rename(columns=DAMAGED_HEADERS[lang])


# the damaged files' headers, in English and in Indonesian
DAMAGED_HEADERS = terms("store.damaged_headers")


def import_lines(summary: ImportSummary, lang: str) -> list[Line]:
    """What an import did, file by file, then in total, and what needs attention."""
    lines: list[Line] = []
    for source in summary.sources:
        if source.status != "imported":
            status = say(source.status, lang)
            sha = short_identity(source.sha256)
            lines.append(
                (say("source_skipped", lang, file=source.file, status=status, sha=sha), None)
            )
            continue
        text = say(
            "source_rows", lang, file=source.file, read=source.rows_read,
            stored=source.rows_stored, duplicate=source.rows_duplicate,
            rejected=source.rows_rejected,
        )  # fmt: skip
        if source.corrections:
            text += say("corrections", lang, count=source.corrections)
        lines.append((text, None))
    if summary.landed:
        lines.append((say(
            "import_done", lang, import_id=summary.import_id, store=summary.store,
            stored=summary.rows_stored, duplicate=summary.rows_duplicate,
            rejected=summary.rows_rejected,
        ), None))  # fmt: skip
    if summary.matched_across_keys:
        lines.append((say("matched_store", lang, count=summary.matched_across_keys), None))
    for import_id, rows in summary.reverted_imports.items():
        lines.append((say("reverts", lang, count=rows, import_id=import_id), "yellow"))
    if summary.rows_without_key:
        lines.append((say("without_key", lang, count=summary.rows_without_key), "yellow"))
    if summary.unknown_kelurahan:
        names = sorted(summary.unknown_kelurahan)
        shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
        lines.append((say("unknown_kelurahan", lang, names=shown), "yellow"))
    lines += [(in_language(text, lang), "yellow") for text in summary.warnings]
    if summary.rows_rejected and summary.rejects_file:
        lines.append((say("import_rejects", lang, path=summary.rejects_file), None))
    return lines


def repaired_lines(damaged: list[DamagedFile], lang: str) -> list[Line]:
    """What `kbtool store repair` set aside and which files to import again."""
    if not damaged:
        return [(say("sound", lang), None)]
    lines: list[Line] = [
        (say(
            "set_aside", lang, path=d.path, problem=d.problem, rows=d.rows,
            import_id=d.import_id,
        ), None)
        for d in damaged
    ]  # fmt: skip
    files = ", ".join(sorted({source for d in damaged for source in d.sources}))
    lines.append((say("import_again", lang, files=files), "yellow"))
    return lines
