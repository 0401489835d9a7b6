"""How results look to people: terminal tables, Indonesian words, the sheets that explain.
Machine formats carry the library's frames unchanged, so statistics stay free of presentation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kbtool.words import in_language
from kbtool.writing import ABOUT, SOURCE_KEYS


def labelled(values: Iterable[Any], labels: Mapping[str, str]) -> list[Any]:
    """Each value in the words of `labels` (text without a label, and numbers, as they are)."""
    return [labels.get(v, v) if isinstance(v, str) else v for v in values]


def made_how(about: Mapping[str, Any], lang: str = "en") -> list[tuple[str, str]]:
    """The rows every method sheet ends with: the method notes, kbtool's version, when, the
    options and the source files of a provenance (`Provenance.to_dict()`), named in `lang`
    (the option names and source keys after "option" and "source" are kbtool's own)."""
    words, keys = ABOUT[lang], SOURCE_KEYS[lang]
    return [
        *((words["method"], in_language(note, lang)) for note in about.get("notes", [])),
        (words["version"], about["kbtool_version"]),
        (words["created"], about["created"]),
        *(
            (f"{words['option']} {key}", str(value))
            for key, value in about.get("options", {}).items()
        ),
        *(
            (
                words["source"],
                ", ".join(f"{keys.get(k, k)}={v}" for k, v in source.items()),
            )
            for source in about.get("sources", [])
        ),
    ]


def bold_totals(is_total: Iterable[bool]) -> list[str | None]:
    """A rich style per row: the whole area's rows bold."""
    return ["bold" if total else None for total in is_total]
