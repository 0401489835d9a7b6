"""The catalogues translators edit as data: every message (kbtool/words.toml) in both
languages, naming the same values; every word of kbtool/terms.toml in both, and the words
the code looks up by its own constants."""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

import pytest

from kbtool.prevalence import TOTAL_LABEL, UNKNOWN_LABEL
from kbtool.trend import INSUFFICIENT, OFF_TRACK, ON_TRACK
from kbtool.words import LANGS, MESSAGES, say, terms

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


def test_every_term_is_words_in_both_languages() -> None:
    catalogue = tomllib.loads((KBTOOL / "terms.toml").read_text(encoding="utf-8"))
    tables = [(m, t, words) for m, module in catalogue.items() for t, words in module.items()]
    assert len(tables) > 20, "every table is found"
    for module, table, words in tables:
        for key, texts in words.items():
            if (module, table) == ("words", "reasons"):  # English -> Indonesian
                assert isinstance(texts, str) and texts.strip(), key
            else:
                assert len(texts) == len(LANGS) and all(isinstance(t, str) for t in texts), key
                assert fields(texts[0]) == fields(texts[1]), key


def test_terms_looked_up_by_the_codes_constants_are_there() -> None:
    assert set(terms("groups.labels")["id"]) == {TOTAL_LABEL, UNKNOWN_LABEL}
    assert set(terms("trend.status_words")["id"]) == {ON_TRACK, OFF_TRACK, INSUFFICIENT}


def test_terms_merge_tables_in_order() -> None:
    merged = terms("groups.headers", "prevalence.headers")
    assert merged["id"]["kelurahan"] == "Kelurahan" and merged["id"]["sex"] == "JK"
    assert list(merged["en"])[: len(terms("groups.headers")["en"])] == list(
        terms("groups.headers")["en"]
    )


def test_english_counts_agree_in_number_and_indonesian_has_no_plural() -> None:
    assert say("corrections", "en", count=1) == " (1 correction)"
    assert say("corrections", "en", count=2) == " (2 corrections)"
    assert say("corrections", "en", count=0) == " (0 corrections)"
    assert say("corrections", "id", count=1234) == " (1.234 koreksi)"
    said = say("undated_some", "en", count=1)
    assert said.startswith("1 measurement without") and "measurements" not in said


def _indonesian_texts() -> list[tuple[str, str]]:
    """Every Indonesian text of both catalogues, with where it is."""
    texts = [(key, said["id"]) for key, said in MESSAGES.items()]
    catalogue = tomllib.loads((KBTOOL / "terms.toml").read_text(encoding="utf-8"))
    for module_name, module in catalogue.items():
        for table_name, table in module.items():
            for key, words in table.items():
                text = words if isinstance(words, str) else words[LANGS.index("id")]
                texts.append((f"{module_name}.{table_name}.{key}", text))
    return texts


def test_indonesian_spells_z_score_one_way() -> None:
    """Indonesian text named the z-score "z-score", "Z-score", "z-score-nya" and "Z-skor", the
    report's method four lines under the method sheet's: one spelling, "Z-skor" ("Z-skornya")."""
    other = re.compile(r"(?<!kbtool )z-?score|skor-z|z-skor", re.IGNORECASE)  # not the command
    spelled = [
        (where, found)
        for where, text in _indonesian_texts()
        for found in other.findall(text)
        if found != "Z-skor"
    ]
    assert spelled == []
