"""What kbtool says to people, in English and Bahasa Indonesia (--lang id): the catalogues
words.toml (messages) and terms.toml (words views name), a result's notes, reject reasons.
Machine formats keep English column names: they are an interface."""

from __future__ import annotations

import numbers
import re
import string
import tomllib
from importlib.resources import files
from typing import Any

LANGS = ("en", "id")


def _catalogue(name: str) -> dict[str, Any]:
    return tomllib.loads(files("kbtool").joinpath(name).read_text(encoding="utf-8"))


# The word tables: {"module": {"table": {key: [English, Indonesian]}}} (terms.toml).
_TERMS = _catalogue("terms.toml")


def terms(*tables: str) -> dict[str, dict[str, str]]:
    """The word tables named ("prevalence.headers"), merged in order, as one table per
    language: {"en": {key: English}, "id": {key: Indonesian}}."""
    merged: dict[str, list[str]] = {}
    for name in tables:
        module, table = name.split(".")
        merged |= _TERMS[module][table]
    return {lang: {key: texts[i] for key, texts in merged.items()} for i, lang in enumerate(LANGS)}


def _each_language(table: str) -> dict[str, dict[str, str]]:
    """A word table as {key: {language: words}}, the form `say` takes a value in."""
    module, name = table.split(".")
    return {
        key: dict(zip(LANGS, texts, strict=True)) for key, texts in _TERMS[module][name].items()
    }


# The messages, each in every language of LANGS.
MESSAGES: dict[str, dict[str, str]] = _catalogue("words.toml")

# A result's notes (the `note` column): English text -> Indonesian.
_SCORES = ("HAZ", "WAZ", "WHZ", "BMIZ")
NOTES = {
    **{f"no child with a valid {z}": f"tidak ada anak dengan {z} yang sah" for z in _SCORES},
    "low precision": "presisi rendah",
}
_SUPPRESSED = re.compile(r"n < (\d+): figures suppressed")

RATING_WORDS = _each_language("words.ratings")  # kbtool quality's ratings
QUALITY_WORDS = _each_language("words.quality")  # words kbtool quality's reasons name
READER_WORDS = _each_language("words.reader")  # words the reader's warnings name
PERSONAL_DATA = terms("words.personal_data")  # what a personal column holds
# why a row was rejected (kbtool.reading.values.REASONS...): English -> Indonesian
REASONS: dict[str, str] = _TERMS["words"]["reasons"]
_FIELDS = re.compile(r"expected (\d+) fields, found (\d+)")
_UNCLOSED = re.compile(
    r"\(an unclosed quote joins lines ([0-9,-]+), ([0-9,]+) lines, into this row\?\)"
)
_LONG_FIELD = re.compile(
    r"a field of ([0-9,]+) MB: longer than any register value \(limit ([0-9.]+) MB\)"
)
_ALSO = re.compile(r" \(also: ")


class _Message(string.Formatter):
    """Fills a message: `{count:plural}` is English's plural "s" after a count other than 1
    ("1 row", "2 rows"); in Indonesian (`indonesian`) it is nothing and numbers are written as
    Indonesian writes them (34.747 baris; 12,5%)."""

    def __init__(self, indonesian: bool) -> None:
        self.indonesian = indonesian

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec == "plural":
            return "" if self.indonesian or value == 1 else "s"
        text = super().format_field(value, format_spec)
        if self.indonesian and isinstance(value, numbers.Real) and not isinstance(value, bool):
            return indonesian_digits(text)
        return text


_SWAP_SEPARATORS = str.maketrans(",.", ".,")
_FILL = {"en": _Message(indonesian=False), "id": _Message(indonesian=True)}


def say(key: str, lang: str = "en", **values: object) -> str:
    """The message `key` in `lang`, filled with `values` (a value given as {language: words}
    in the words of `lang`, a Said as it says itself there)."""
    template = MESSAGES[key][lang]
    values = {
        k: v[lang] if isinstance(v, dict) else in_language(v, lang) if isinstance(v, Said) else v
        for k, v in values.items()
    }
    return _FILL[lang].format(template, **values)


def note(text: str, lang: str) -> str:
    """A result's note in `lang` ("" stays "")."""
    if lang == "en" or not text:
        return text
    if suppressed := _SUPPRESSED.fullmatch(text):
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
