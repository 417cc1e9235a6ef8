"""Phone numbers of any region, validated with phonenumbers.

bits: the national significant number (NSN) has a first digit of about 9 choices and free digits
after it: ``log2(9) + 3.32 * (len(NSN) - 1)``; a 10-digit NSN is about 33 bits.

Engine: the native core (``factsep._native.PhoneTables``) reads numbers from tables generated from
the installed phonenumbers metadata (``factsep.kinds.phone_tables``), with the package's verdicts
(``tests/test_native_phone.py`` holds them verdict for verdict), 20-50x faster; what it does not
mirror (non-ASCII input, RFC 3966) it hands back and phonenumbers reads. phonenumbers is the
reference: ``FACTSEP_PHONE_ENGINE=phonenumbers`` (or no extension, or a phonenumbers release whose
metadata the generator cannot read) uses it alone.
"""

from __future__ import annotations

import functools
import math
import os
import re
import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from factsep.detection.scoring import validator_weight
from factsep.kinds import phone_tables
from factsep.kinds.base import PHONE_WORDS, QUANTITY_WORDS, Kind, Validation, date_or_quantity, register
from factsep.kinds.ids import ID_FAMILY_WORDS

# A leading + or (, then 7 to 15 digits, each followed by at most 3 separators, not cut inside a
# longer run of digits or a date glued on ("(212)736-5000 03/15/2021"), and an extension ("ext. 12",
# "x12", or "-8866" after a Chinese line).
PATTERN = (
    r"(?:\+ ?|\(\+?)?(?:\d[ \-./()]{0,3}){6,14}\d(?!\d|[/.]\d)"
    r"(?: ?(?:ext\.?|[xX]) ?\d{1,5}|-\d{1,5}(?!\d))?"
)


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _nsn_bits(nsn: str) -> float:
    return math.log2(9) + 3.3219 * (len(nsn) - 1) if nsn else 0.0


#: Logits of the writing conventions of phone numbers ([validator.phones] of the weight table).
W_SHAPE = {name: validator_weight("phones", name) for name in ("plus", "parentheses", "groups", "slash", "bare_digits")}


def _shape_strength(value: str) -> float:
    """Writing conventions of phone numbers: a +, a (area), groups split by - . or space."""
    s = 0.0
    stripped = value.lstrip()
    if stripped.startswith(("+", "(+", "00")):
        s += W_SHAPE["plus"]
    if "(" in value and ")" in value:
        s += W_SHAPE["parentheses"]
    groups = sum(1 for c in value if c in " -./")
    if 1 <= groups <= 5:
        s += W_SHAPE["groups"]
    if "/" in value and not stripped.startswith("+"):
        s += W_SHAPE["slash"]
    if stripped.isdigit() and not stripped.startswith("00"):
        s += W_SHAPE["bare_digits"]  # a bare digit string is as often an account, an id or a quantity
    return s


#: Logits when the digits are grouped as the region's numbering plan groups them (555-123-4567).
W_PLAN_GROUPS = validator_weight("phones", "plan_groups")
#: Logits when hyphens, dots or slashes split the digits where the plan does not ("412-73-20584"
#: is a Korean business number, not a San Francisco line): the layout is some other format's.
W_PLAN_MISMATCH = validator_weight("phones", "plan_mismatch")
_PUNCTUATED = re.compile(r"\d[\-./]+\d")
_GROUPS = re.compile(r"\d+")


class Reading(NamedTuple):
    """What phonenumbers says of one (text, region): parse, is_valid_number, is_possible_number,
    region_code_for_number, and format_number in E164 (and NATIONAL, INTERNATIONAL when valid)."""

    valid: bool
    possible: bool
    region: str | None
    e164: str
    nsn: str
    national: str | None
    international: str | None


def _load_tables() -> Any | None:
    """The native phone tables, or None (phonenumbers alone) when asked or unbuilt.

    Tables for another phonenumbers version than the shipped copy's are built from the installed
    metadata (``phone_tables.tables_text``), so an upgrade of the package never leaves the core
    reading old metadata; if that metadata cannot be read, phonenumbers is used alone, with a warning.
    """
    if os.environ.get("FACTSEP_PHONE_ENGINE", "auto") == "phonenumbers":
        return None
    try:
        from factsep import _native
    except ImportError:
        return None
    if not hasattr(_native, "PhoneTables"):
        return None
    try:
        tables = _native.PhoneTables(phone_tables.tables_text())
    except Exception as exc:  # a phonenumbers release whose internals the generator does not know
        warnings.warn(f"phone tables could not be built from phonenumbers {phonenumbers.__version__} "
                      f"({type(exc).__name__}): phone checks use phonenumbers alone", stacklevel=2)
        return None
    if tables.version != phonenumbers.__version__:
        return None
    return tables


_TABLES: Any | None = _load_tables()
#: The status of a native verdict: parsed, parse raises, deferred to phonenumbers.
_PARSED, _NOT_A_NUMBER = 0, 1


def engine() -> str:
    """``native`` when the core reads numbers, else ``phonenumbers``."""
    return "native" if _TABLES is not None else "phonenumbers"


def set_engine(name: str) -> None:
    """Switch engines in this process (``native`` or ``phonenumbers``), for A/B runs and tests."""
    global _TABLES
    if name not in ("native", "phonenumbers"):
        raise ValueError(f"unknown phone engine {name!r}: use native or phonenumbers")
    if name == "phonenumbers":
        _TABLES = None
        return
    previous = os.environ.pop("FACTSEP_PHONE_ENGINE", None)
    try:
        _TABLES = _load_tables()
    finally:
        if previous is not None:
            os.environ["FACTSEP_PHONE_ENGINE"] = previous
    if _TABLES is None:
        raise RuntimeError("the native phone engine needs factsep._native built from native/ "
                           "and tables from the installed phonenumbers (factsep.kinds.phone_tables)")


def read_with_phonenumbers(text: str, region: str | None) -> Reading | None:
    """The reference: the package's own verdicts (None when parse raises)."""
    try:
        num = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    valid = phonenumbers.is_valid_number(num)
    return Reading(
        valid=valid,
        possible=phonenumbers.is_possible_number(num),
        region=phonenumbers.region_code_for_number(num),
        e164=phonenumbers.format_number(num, PhoneNumberFormat.E164),
        nsn=phonenumbers.national_significant_number(num),
        national=phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL) if valid else None,
        international=phonenumbers.format_number(num, PhoneNumberFormat.INTERNATIONAL) if valid else None,
    )


def _from_native(v: tuple[Any, ...]) -> Reading:
    _, code, nsn, _, valid, possible, region, _, national, international = v
    return Reading(valid, possible, region, f"+{code}{nsn}", nsn, national, international)


def read(text: str, region: str | None) -> Reading | None:
    """phonenumbers' verdicts on one (text, region), from the core when it can give them."""
    if _TABLES is not None:
        v = _TABLES.verdict(text, region)
        if v[0] == _PARSED:
            return _from_native(v)
        if v[0] == _NOT_A_NUMBER:
            return None
    return read_with_phonenumbers(text, region)


def read_many(pairs: list[tuple[str, str | None]], threads: int = 0) -> list[Reading | None]:
    """``read`` of many pairs at once, the GIL released in the core."""
    if _TABLES is None:
        return [read_with_phonenumbers(t, r) for t, r in pairs]
    found = _TABLES.verdicts([t for t, _ in pairs], [r for _, r in pairs], True, threads)
    return [_from_native(v) if v[0] == _PARSED else None if v[0] == _NOT_A_NUMBER
            else read_with_phonenumbers(t, r) for v, (t, r) in zip(found, pairs)]


def _grouped_as_plan(value: str, r: Reading) -> bool:
    """The value's digit groups are those of the national or international format of the number."""
    groups = [len(g) for g in _GROUPS.findall(value)]
    if len(groups) < 2:
        return False
    for formatted in (r.national, r.international):
        plan = [len(g) for g in _GROUPS.findall(formatted or "")]
        if groups == plan or groups == plan[-len(groups):] and sum(groups) >= 7:
            return True
    return False


def _layout(value: str, r: Reading) -> float:
    if not r.valid:
        return 0.0
    if _grouped_as_plan(value, r):
        return W_PLAN_GROUPS
    return W_PLAN_MISMATCH if _PUNCTUATED.search(value) else 0.0


_EXTENSION = re.compile(r" ?(?:ext\.?|[xX]) ?\d{1,5}$")
_DASH_EXTENSION = re.compile(r"-\d{1,5}$")


def validate(value: str, opts: Mapping[str, Any]) -> Validation | None:
    found = _validate(value, opts)
    if (found is None or not found.validated) and _DASH_EXTENSION.search(value):
        # "+86 10 65529988-8012": a valid line and its extension, written with a hyphen
        line = _validate(_DASH_EXTENSION.sub("", value), opts)
        if line is not None and line.validated:
            return line
    return found


def _validate(value: str, opts: Mapping[str, Any]) -> Validation | None:
    digits = _digits(_EXTENSION.sub("", value))  # the line's number, without its extension
    if not 7 <= len(digits) <= 15 or len(set(digits)) <= 1 or date_or_quantity(value.strip()):
        return None
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    regions = opts.get("phone_regions") or ("US",)
    candidates = [None] if text.startswith(("+", "(+")) else list(regions)
    best: Validation | None = None
    for region in candidates:
        r = read(text.replace("(+", "+").replace("(0)", ""), region)
        if r is None:
            continue
        valid = r.valid
        if not (valid or r.possible):
            continue
        v = Validation(
            normalized=r.e164,
            subtype=r.region or region,
            validated=valid,
            strength=_shape_strength(value) + (0.0 if valid else -0.6) + _layout(value, r),
            context=country_words(r.region) if valid and r.region else (),
        )
        if valid:
            return v
        best = best or v
    if best is None:
        # Phone-shaped but outside every numbering plan tried: weak evidence, left to context.
        best = Validation(normalized=digits, subtype=None, validated=False,
                          strength=_shape_strength(value) - 1.4)
    return best


#: Names people write for a country beside its numbers besides its English name ("in the UK").
_COUNTRY_ALIASES = {"GB": ("uk", "britain", "england", "scotland", "wales"), "US": ("usa", "america"),
                    "NL": ("holland", "netherlands"), "KR": ("korea",), "RU": ("russia",), "CZ": ("czechia",)}


@functools.cache
def country_words(region: str) -> tuple[str, ...]:
    """The number's country named near it ("0800 89 1131 in the UK", "Japan: 03-..."): a context
    word of the reading in that region, as a format's name is of its format."""
    try:
        from phonenumbers.geocoder import _region_display_name

        name = _region_display_name(region, "en").lower()
    except Exception:  # a phonenumbers release without it: the aliases alone
        name = ""
    return tuple(dict.fromkeys(w for w in (name, *_COUNTRY_ALIASES.get(region, ())) if w))


def bits(normalized: str) -> float:
    digits = _digits(normalized)
    if normalized.startswith("+"):
        r = read(normalized, None)
        if r is not None:
            return _nsn_bits(r.nsn)
    return _nsn_bits(digits[-10:])


PHONE = register(Kind(
    name="phone_number",
    pattern=PATTERN,
    validate=validate,
    bits=bits,
    bits_rule="log2(9) + log2(10) * (NSN digits - 1): the first NSN digit is never 0",
    context=PHONE_WORDS + ("contact", "ring", "text", "reach", "号码", "office", "desk", "answer",
                           "message", "messages"),
    negative=("isbn", "page", "pages", "pp", "version", "v", "price", "$", "€", "£", "total",
              "ssn", "account", "conta", "zip", "serial", "invoice", "order", "iban", "card",
              "issn", "doi", "year", "years", "=", "*", "×", "kg", "km", "id", "license", "licence",
              "driver", "passport", "tax", "vat", "registration", "company", "business", "fiscal",
              "taxpayer", "identity", "national", "personal", "insurance", "bank", "routing")
    + ID_FAMILY_WORDS + QUANTITY_WORDS,
    prior=0.55,
    specificity=40,
    example="+1 650-253-0000",
    description="telephone numbers of any region (phonenumbers)",
    min_len=7,
    min_digits=7,
))
