"""Month names and abbreviations of the languages the birth words cover, as one declared table.

Why: a date of birth is as often written "14. März 1987" or "14 de marzo de 1987" as "14 March
1987"; the cover pattern (factsep/detection/candidates.py) and the date_of_birth kind both build
their month alternations from this table, so the two never disagree. The names are the CLDR
wide and abbreviated month names (lower case, as CLDR writes them for these languages); the
patterns accept each with an upper-case first letter too. Only literal alternations are built:
the cover pattern runs over UTF-8 bytes, where a character class would take a letter's bytes one
by one.
"""

from __future__ import annotations

import re
import unicodedata

#: Language -> twelve entries, January first; each entry is "name|abbreviation|...".
MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("january|jan", "february|feb", "march|mar", "april|apr", "may", "june|jun", "july|jul",
           "august|aug", "september|sep|sept", "october|oct", "november|nov", "december|dec"),
    "de": ("januar|jan|jänner", "februar|feb", "märz|mär|maerz", "april|apr", "mai", "juni|jun", "juli|jul",
           "august|aug", "september|sep|sept", "oktober|okt", "november|nov", "dezember|dez"),
    "fr": ("janvier|janv", "février|févr|fevrier", "mars", "avril|avr", "mai", "juin", "juillet|juil",
           "août|aout", "septembre|sept", "octobre|oct", "novembre|nov", "décembre|déc|decembre"),
    "es": ("enero|ene", "febrero|feb", "marzo|mar", "abril|abr", "mayo|may", "junio|jun", "julio|jul",
           "agosto|ago", "septiembre|setiembre|sep|sept", "octubre|oct", "noviembre|nov", "diciembre|dic"),
    "pt": ("janeiro|jan", "fevereiro|fev", "março|mar", "abril|abr", "maio|mai", "junho|jun", "julho|jul",
           "agosto|ago", "setembro|set", "outubro|out", "novembro|nov", "dezembro|dez"),
    "it": ("gennaio|gen", "febbraio|feb", "marzo|mar", "aprile|apr", "maggio|mag", "giugno|giu", "luglio|lug",
           "agosto|ago", "settembre|set", "ottobre|ott", "novembre|nov", "dicembre|dic"),
    "nl": ("januari|jan", "februari|feb", "maart|mrt", "april|apr", "mei", "juni|jun", "juli|jul",
           "augustus|aug", "september|sep|sept", "oktober|okt", "november|nov", "december|dec"),
}


def _fold(word: str) -> str:
    return unicodedata.normalize("NFC", word).lower().rstrip(".")


#: Every name and abbreviation (folded) -> month number. No two languages give one word two months.
MONTH_NUMBER: dict[str, int] = {}
for _names in MONTHS.values():
    for _i, _entry in enumerate(_names):
        for _w in _entry.split("|"):
            if MONTH_NUMBER.setdefault(_w, _i + 1) != _i + 1:
                raise ValueError(f"month word {_w!r} names two months")


def month_of(word: str) -> int | None:
    """The month a name or abbreviation (any case, with or without its full stop) stands for."""
    return MONTH_NUMBER.get(_fold(word))


def month_alternation() -> str:
    """A regex group of every month word, lower case and capitalized, longest first, then an optional "."."""
    words = {v for w in MONTH_NUMBER for v in (w, w[0].upper() + w[1:])}
    alts = sorted(words, key=lambda w: (-len(w), w))
    return "(?:" + "|".join(re.escape(w) for w in alts) + r")\.?"
