"""What a kind of random fact is: one small declaration, registered once.

A kind gives a candidate pattern (RE2 syntax, so the whole catalogue compiles into one linear-time
pass), a validator that normalizes a candidate or refuses it, context words, a prior and a
``bits(normalized)`` rule. Adding a kind is writing one :class:`Kind` and calling :func:`register`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Validation:
    """A validator's verdict on one candidate value.

    ``checksum`` means a check digit or similar redundancy confirmed the value (strong evidence);
    ``validated`` means a validator accepted it (a checksum, a numbering plan, a strict grammar).
    ``strength`` moves confidence in logits for evidence that is neither (e.g. a phone that is only
    possible, not valid).
    """

    normalized: str
    subtype: str | None = None
    validated: bool = True
    checksum: bool = False
    strength: float = 0.0
    #: Context words of the subtype (e.g. "NIF" for stdnum.es.nif), added to the kind's own.
    context: tuple[str, ...] = ()
    #: A format with no check of its own (a US driving licence) is a reading only where one of its
    #: ``context`` words stands near it, as ``Kind.requires_context`` for a whole kind. Validators
    #: list such readings last.
    needs_context: bool = False
    #: A structure chance rarely produces (the format's own separators, its country prefix, two
    #: check characters or more): evidence of the format beyond one checksum, like a context word.
    evidence: bool = False


#: ``validate(value, opts)``; opts carries detector settings such as ``phone_regions``.
Validator = Callable[[str, Mapping[str, Any]], "Validation | list[Validation] | None"]


@dataclass(frozen=True)
class Kind:
    """One kind of random fact. See the module docstring; fields are documented inline."""

    name: str
    #: Candidate pattern in RE2 syntax (no look-around, no back-references). Must not match "\x00".
    pattern: str
    #: Returns a Validation (or several, ranked best first, for ambiguous formats) or None.
    validate: Validator
    #: Information in the normalized value, in bits; ``bits_rule`` says how it is counted.
    bits: Callable[[str], float]
    bits_rule: str
    #: Words near the value that make this kind more likely ("isbn", "tel"), lower-case lemmas.
    context: tuple[str, ...] = ()
    #: Words that make it less likely ("page", "version", "$").
    negative: tuple[str, ...] = ()
    #: Probability that a validated match of this kind, with no context either way, is a real one.
    prior: float = 0.6
    #: Higher wins when two kinds claim overlapping text.
    specificity: int = 50
    #: A kind that is only credible with a context word (e.g. date_of_birth).
    requires_context: bool = False
    #: Its validator tries formats that are hypotheses (the python-stdnum families): the Detector
    #: validates them only where the number can be an identifier -- not inside a reference number,
    #: not a year list, version or timestamp (factsep.detection.numerals) -- so the costly
    #: validators run on the few values that can become a span, not on every digit string.
    formats: bool = False
    #: One example value, shown by ``factsep kinds`` and used in tests.
    example: str = ""
    description: str = ""
    #: Cheap pre-checks on the candidate before the kind's regex runs (applied by the Detector).
    min_len: int = 1
    max_len: int = 128
    min_digits: int = 0
    needs_char: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


_REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind to the catalogue. Names are unique: datasets, reviews and evaluations share them."""
    if kind.name in _REGISTRY:
        raise ValueError(f"kind {kind.name!r} is registered twice")
    _REGISTRY[kind.name] = kind
    return kind


def registry() -> dict[str, Kind]:
    from factsep import kinds as _kinds  # noqa: F401  (importing the package registers the catalogue)

    return dict(_REGISTRY)


def get_kind(name: str) -> Kind:
    kinds = registry()
    try:
        return kinds[name]
    except KeyError:
        raise KeyError(f"unknown kind {name!r}; known kinds: {', '.join(sorted(kinds))}") from None


# ---- bits helpers shared by the catalogue ---------------------------------------------------------

def log2(n: float) -> float:
    return math.log2(n) if n > 1 else 0.0


def digit_bits(n_free_digits: int) -> float:
    """Free decimal digits carry log2(10) = 3.32 bits each."""
    return n_free_digits * math.log2(10)


def charset_bits(value: str) -> float:
    """Bits of a token drawn from the character classes it uses: len * log2(alphabet size).

    The alphabet is the union of classes present (digits 10, lower 26, upper 26, other 2).
    """
    alphabet = 0
    if any(c.isdigit() for c in value):
        alphabet += 10
    if any(c.islower() for c in value):
        alphabet += 26
    if any(c.isupper() for c in value):
        alphabet += 26
    if any(not c.isalnum() for c in value):
        alphabet += 2
    return len(value) * log2(max(alphabet, 2))


def count_digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


_DATE_OR_RANGE = re.compile(
    r"^(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:1[89]|20)\d\d(?: \d\d?)?"
    r"|(?:1[89]|20)\d\d[/.\-]\d{1,2}[/.\-]\d{1,2}(?: \d\d?)?"
    r"|(?:1[89]|20)\d\d ?[\-–/] ?(?:1[89]|20)\d\d|(?:1[89]|20)\d\d[\-/.](?:0[1-9]|1[0-2]))$"
)
_QUANTITY = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^\d{1,3}\.\d{4,}$")


_RANGE = re.compile(r"^(\d{1,5}) ?[\-–] ?(\d{1,5})$")


def date_or_quantity(value: str) -> bool:
    """03/04/1975, 2021-03-14, 1998-2004, 8,336,817, 43.259481, 1123-1187: dates, year and page
    ranges, amounts and decimals, not identifiers. A range has two numbers of one length, the second a little larger."""
    if _DATE_OR_RANGE.match(value) or _QUANTITY.match(value):
        return True
    m = _RANGE.match(value)
    return bool(m and abs(len(m.group(1)) - len(m.group(2))) <= 1
                and 0 < int(m.group(2)) - int(m.group(1)) <= 500)


#: Dashes people write between the groups of a number besides "-": hyphen, non-breaking hyphen,
#: figure dash, en dash, em dash, horizontal bar ("712 304 955 — 4", "01‐0853‐7960212‐63").
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015"

#: Words written after a number as part of it: the VAT suffixes of Switzerland and Norway
#: ("CHE-116.281.710 MWST", "974 760 673 MVA"). The candidate pass keeps them with the number.
ID_SUFFIXES = ("MWST", "MwSt", "TVA", "IVA", "MVA")

#: Words that say a nearby number is a telephone number: context of phone_number, negative
#: context of every identifier family.
PHONE_WORDS = ("phone", "tel", "telephone", "call", "calling", "mobile", "cell", "fax", "dial",
               "whatsapp", "sms", "hotline", "answering", "電話", "电话", "手机", "telefone", "telefon",
               "téléphone", "teléfono", "telefono", "telefônico", "telefónico", "celular", "handy", "tel.",
               "phone:", "tel:", "toll-free", "tollfree", "toll", "freephone",
               # verbs and compounds of the languages above that name a phone or a call
               "mobil", "telefonisch", "rufnummer", "telefonnummer", "handynummer", "anrufen", "rufen",
               "portable", "joindre", "bellen", "telefoonnummer", "mobiele", "móvil", "llame", "llamar",
               "cellulare", "chiami", "chiamare", "ligue", "ligar",
               "फोन", "फ़ोन", "전화", "телефон", "هاتف", "携帯")

#: Words that make a nearby number a quantity, a version or a measurement: negative for every
#: numeric kind.
QUANTITY_WORDS = ("bytes", "people", "inhabitant", "population", "total", "about", "approximately",
                  "release", "firmware", "build", "coordinates", "pages", "pp", "pp.", "price")
