"""Identifiers of no other kind: python-stdnum's registry codes and high-entropy tokens.

bits: for a stdnum format, as for other identifiers; for a token, its length times log2 of the
alphabet its character classes span (see factsep.kinds.base.charset_bits).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from factsep.detection.scoring import validator_weight
from factsep.kinds.base import Kind, Validation, charset_bits, register
from factsep.kinds.ids import (
    _NOT_RIVAL,
    ALNUM_PATTERN,
    BANK_WORDS,
    ID_NEGATIVE,
    ID_PATTERN,
    NATIONAL_WORDS,
    SECURITY_WORDS,
    TAX_WORDS,
    id_bits,
    stdnum_validator,
)

TOKEN_PATTERN = (r"\b[A-Za-z][A-Za-z0-9_\-]*[0-9][A-Za-z0-9_\-]*"
                 r"|\b[0-9][0-9_\-]*[A-Za-z][A-Za-z0-9_\-]*")
# Library and agency codes: a country or agency prefix, a hyphen, up to 11 characters (ISIL).
ISIL_PATTERN = r"\b[A-Z]{1,4}-[A-Za-z0-9:/\-]{1,11}\b"
# Energy identification codes: two digits, an object type letter, 12 characters, a check character.
EIC_PATTERN = r"\b\d{2}[A-Z][A-Z0-9\-]{12}[A-Z0-9]\b"
_WORDLIKE = re.compile(r"[a-z]{5,}|[A-Z][a-z]{3,}")
#: A token is one run of characters: a word of letters and a space before it make a name and a
#: code of it ("EIC 21X...": the code's name), whose code alone is the reading.
_NAMED = re.compile(r"[A-Za-z]{2,}\s")
#: A part family's name: digits then a run of "x" standing for any digit ("sc16is7xx", "stm32f4xx",
#: "74HC5xx"); random text rarely ends in two x's.
_FAMILY_WILDCARD = re.compile(r"\d[xX]{2,}$")
_stdnum = stdnum_validator("generic_id")
GENERIC_WORDS = ("id", "code", "ref", "reference", "key", "token", "serial", "tracking", "ticket",
                 "license", "licence", "confirmation", "booking", "voucher", "coupon", "imei", "cas",
                 "registration", "number", "no", "#")
#: "code" is a word of this kind, but a family's own word before it names that family's code
#: ("stock code", "fiscal code", "bank code"): no registry code of no other kind. Words shared by
#: families, too common or this kind's own ("registration code", "licence code") say nothing.
_FAMILY_CODES = tuple(sorted({f"{w} code" for words in (TAX_WORDS, NATIONAL_WORDS, SECURITY_WORDS, BANK_WORDS)
                              for w in words if w.isalpha() and w not in _NOT_RIVAL and w not in GENERIC_WORDS}))


def _transitions(value: str) -> int:
    kinds = ["d" if c.isdigit() else "a" if c.isalpha() else "s" for c in value]
    return sum(1 for x, y in zip(kinds, kinds[1:]) if x != y and "s" not in (x, y))


def validate(value: str, opts: Mapping[str, Any]) -> list[Validation] | None:
    found = _stdnum(value, opts) or []
    if not found and _looks_random(value):
        found = [Validation(normalized=value, subtype="token", validated=False,
                            strength=validator_weight("generic", "token"))]
    return found or None


def _looks_random(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    letters = sum(c.isalpha() for c in value)
    return (len(value) >= 8 and digits >= 3 and letters >= 2 and _transitions(value) >= 3
            and not _NAMED.match(value) and not _WORDLIKE.search(value) and charset_bits(value) >= 40
            and not _FAMILY_WILDCARD.search(value))


def bits(normalized: str) -> float:
    return id_bits(normalized) if not _looks_random(normalized) else charset_bits(normalized)


GENERIC_ID = register(Kind(
    name="generic_id",
    pattern=f"{EIC_PATTERN}|{TOKEN_PATTERN}|{ID_PATTERN}|{ALNUM_PATTERN}|{ISIL_PATTERN}",
    validate=validate,
    bits=bits,
    bits_rule="stdnum formats: as national/tax ids; tokens: length * log2(alphabet of their classes)",
    context=GENERIC_WORDS,
    negative=("version", "v", "cve", "rfc", "model", "build", "release", "sha", "size") + ID_NEGATIVE + _FAMILY_CODES,
    prior=0.35,
    specificity=10,
    example="7ZQ4-K9WX-2M8T",
    description="python-stdnum registry codes (CAS, IMEI, ISIL...) and high-entropy tokens",
    min_len=5,
    min_digits=0,
    formats=True,
))
