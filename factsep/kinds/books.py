"""ISBN and ISSN, checksum-validated with python-stdnum.

bits: an ISBN is normalized to ISBN-13: one bit for the 978/979 prefix plus nine free digits
(the check digit is fixed), 30.9 bits. An ISSN has seven free digits, 23.3 bits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn

from factsep.detection.scoring import validator_weight
from factsep.kinds.base import PHONE_WORDS, QUANTITY_WORDS, Kind, Validation, date_or_quantity, digit_bits, register
from factsep.kinds.ids import ID_FAMILY_WORDS, W_LAYOUT_MISMATCH, separator_positions


def validate_isbn(value: str, opts: Mapping[str, Any]) -> Validation | None:
    try:
        number = stdnum_isbn.validate(value)
    except Exception:
        return None
    if len(set(number[:-1])) <= 1:
        return None
    isbn13 = stdnum_isbn.to_isbn13(number)
    hyphenated = "-" in value or " " in value
    strength = validator_weight("books", "isbn13") if len(number) == 13 else validator_weight(
        "books", "isbn10_separated") if hyphenated else validator_weight("books", "isbn10_bare")
    if hyphenated and not _hyphenated_as_published(value, number):
        strength += W_LAYOUT_MISMATCH
    # evidence beyond the check digit: the 978/979 prefix of an ISBN-13, or the registration ranges
    published = hyphenated and _hyphenated_as_published(value, number)
    return Validation(normalized=isbn13, subtype=f"isbn{len(number)}", validated=True, checksum=True,
                      strength=strength, evidence=len(number) == 13 or published)


def _hyphenated_as_published(value: str, number: str) -> bool:
    """Publishers print an ISBN split at its registration group, registrant and publication
    (0-306-40615-2); a separator elsewhere ("120-81-47521", a Korean business number) says the
    digits are something else. Fewer separators than the ranges allow are fine (978-0306406157)."""
    try:
        published = stdnum_isbn.format(number)
    except Exception:
        return True  # a range python-stdnum does not know: no verdict
    return separator_positions(value) <= separator_positions(published)


ISBN = register(Kind(
    name="isbn",
    pattern=r"\b97[89][ \-]?(?:\d[ \-]?){9}\d\b|\b(?:\d[ \-]?){9}[\dXx]\b",
    validate=validate_isbn,
    bits=lambda normalized: 1.0 + digit_bits(9),
    bits_rule="1 bit for the 978/979 prefix + 9 free digits; the check digit is fixed: 30.9",
    context=("isbn", "isbn-10", "isbn-13", "book", "edition", "publisher", "press", "hardcover",
             "paperback", "ed", "vol", "published", "isbn:"),
    negative=PHONE_WORDS + ("order", "invoice", "account") + ID_FAMILY_WORDS,
    prior=0.65,
    specificity=85,
    example="978-0-306-40615-7",
    description="International Standard Book Numbers, ISBN-10 and ISBN-13 (python-stdnum isbn)",
    min_len=10,
    min_digits=9,
))


def validate_issn(value: str, opts: Mapping[str, Any]) -> Validation | None:
    if date_or_quantity(value):
        return None  # 1952-1960: a span of years, whatever its check digit says
    try:
        number = stdnum_issn.validate(value)
    except Exception:
        return None
    return Validation(normalized=stdnum_issn.format(number), subtype=None, validated=True, checksum=True,
                      strength=validator_weight("books", "issn_hyphenated" if "-" in value else "issn_bare"),
                      evidence="-" in value)


ISSN = register(Kind(
    name="issn",
    pattern=r"\b\d{4}[ \-]?\d{3}[\dXx]\b",
    validate=validate_issn,
    bits=lambda normalized: digit_bits(7),
    bits_rule="7 free digits; the check digit is fixed: 23.3",
    context=("issn", "journal", "serial", "periodical", "magazine", "eissn", "e-issn", "print"),
    negative=("phone", "tel", "page", "year", "years", "-") + QUANTITY_WORDS,
    prior=0.45,
    specificity=70,
    example="0378-5955",
    description="International Standard Serial Numbers (python-stdnum issn)",
    min_len=8,
    min_digits=7,
))

_ = math
