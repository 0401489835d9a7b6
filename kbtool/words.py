"""What kbtool says to people, in English and Bahasa Indonesia (--lang id).

Machine formats keep English column names (they are an interface); the words people read are
here and in the catalogue words.toml: stderr messages, the reader's warnings (kept as Said: key
and values), the notes of a result, the reasons a row was rejected (the reader, the library and
the views all say things).
"""

from __future__ import annotations

import numbers
import re
import string
import tomllib
from collections.abc import Hashable, Mapping
from importlib.resources import files
from typing import TypeVar

LANGS = ("en", "id")

_Key = TypeVar("_Key", bound=Hashable)
_Text = TypeVar("_Text")


def by_language(pairs: Mapping[_Key, tuple[_Text, _Text]]) -> dict[str, dict[_Key, _Text]]:
    """Words written beside their translation, {key: (English, Indonesian)}, as one table per
    language, {"en": {key: English}, "id": {key: Indonesian}}."""
    return {lang: {key: texts[i] for key, texts in pairs.items()} for i, lang in enumerate(LANGS)}


# The messages, each in every language of LANGS: a catalogue a translator can edit as data.
MESSAGES: dict[str, dict[str, str]] = tomllib.loads(
    files("kbtool").joinpath("words.toml").read_text(encoding="utf-8")
)

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

# What personal data a column holds (kbtool.privacy.personal_header), in each language.
PERSONAL_DATA = by_language(
    {
        "an identity number": ("an identity number", "nomor identitas"),
        "a name": ("a name", "nama"),
        "an address": ("an address", "alamat"),
        "a contact": ("a contact", "kontak"),
    }
)

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
