"""The message catalogue (kbtool/words.toml), which translators edit as data: every message in
both languages, naming the same values."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from kbtool.words import LANGS, MESSAGES, say

KBTOOL = Path(__file__).parent.parent / "kbtool"


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_a_message_says_the_same_values_in_every_language(key: str) -> None:
    said = MESSAGES[key]
    assert sorted(said) == sorted(LANGS)
    assert all(said[lang].strip() for lang in LANGS)
    assert fields(said["id"]) == fields(said["en"])


def test_every_key_the_code_names_is_in_the_catalogue() -> None:
    named = set()
    for path in KBTOOL.rglob("*.py"):
        named |= set(re.findall(r"\b(?:say|Said)\(\s*\"([^\"]+)\"", path.read_text()))
    assert named, "the pattern finds the calls"
    assert sorted(named - set(MESSAGES)) == []


def test_a_long_message_is_one_line_of_text() -> None:
    """A catalogue line ending in a backslash continues the text with one space, no newline."""
    text = say("undated_all", "en", what="count")
    assert "\n" not in text and "  " not in text
    assert text.startswith("warning: no measurement has a visit date, so there is nothing to count")
