"""Phone numbers of any region, validated with phonenumbers.

bits: the national significant number (NSN) has a first digit of about 9 choices and free digits
after it: ``log2(9) + 3.32 * (len(NSN) - 1)``; a 10-digit NSN is about 33 bits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

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


def _shape_strength(value: str) -> float:
    """Writing conventions of phone numbers: a +, a (area), groups split by - . or space."""
    s = 0.0
    stripped = value.lstrip()
    if stripped.startswith(("+", "(+", "00")):
        s += 0.8
    if "(" in value and ")" in value:
        s += 0.4
    groups = sum(1 for c in value if c in " -./")
    if 1 <= groups <= 5:
        s += 0.4
    if "/" in value and not stripped.startswith("+"):
        s -= 0.6
    if stripped.isdigit() and not stripped.startswith("00"):
        s -= 1.2  # a bare digit string is as often an account, an id or a quantity
    return s


#: Logits when the digits are grouped as the region's numbering plan groups them (555-123-4567).
W_PLAN_GROUPS = 1.4
#: Logits when hyphens, dots or slashes split the digits where the plan does not ("412-73-20584"
#: is a Korean business number, not a San Francisco line): the layout is some other format's.
W_PLAN_MISMATCH = -1.2
_PUNCTUATED = re.compile(r"\d[\-./]+\d")
_GROUPS = re.compile(r"\d+")


def _grouped_as_plan(value: str, num: phonenumbers.PhoneNumber) -> bool:
    """The value's digit groups are those of the national or international format of the number."""
    groups = [len(g) for g in _GROUPS.findall(value)]
    if len(groups) < 2:
        return False
    for fmt in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL):
        plan = [len(g) for g in _GROUPS.findall(phonenumbers.format_number(num, fmt))]
        if groups == plan or groups == plan[-len(groups):] and sum(groups) >= 7:
            return True
    return False


def _layout(value: str, num: phonenumbers.PhoneNumber, valid: bool) -> float:
    if not valid:
        return 0.0
    if _grouped_as_plan(value, num):
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
        try:
            num = phonenumbers.parse(text.replace("(+", "+").replace("(0)", ""), region)
        except NumberParseException:
            continue
        valid = phonenumbers.is_valid_number(num)
        possible = valid or phonenumbers.is_possible_number(num)
        if not possible:
            continue
        subtype = phonenumbers.region_code_for_number(num) or region
        v = Validation(
            normalized=phonenumbers.format_number(num, PhoneNumberFormat.E164),
            subtype=subtype,
            validated=valid,
            strength=_shape_strength(value) + (0.0 if valid else -0.6) + _layout(value, num, valid),
        )
        if valid:
            return v
        best = best or v
    if best is None:
        # Phone-shaped but outside every numbering plan tried: weak evidence, left to context.
        best = Validation(normalized=digits, subtype=None, validated=False,
                          strength=_shape_strength(value) - 1.4)
    return best


def bits(normalized: str) -> float:
    digits = _digits(normalized)
    if normalized.startswith("+"):
        try:
            num = phonenumbers.parse(normalized, None)
            return _nsn_bits(phonenumbers.national_significant_number(num))
        except NumberParseException:
            pass
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
