"""Dates of birth: a valid calendar date with birth context close by.

bits: a birth date among about 100 years of days, log2(365.25 * 100) = 15.2.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

from factsep.kinds.base import Kind, Validation, register

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_MONTH_RX = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
             r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
PATTERN = (
    r"\b\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)? {_MONTH_RX},? \d{{4}}\b"
    rf"|\b{_MONTH_RX} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b"
)


def _plausible(year: int, month: int, day: int) -> dt.date | None:
    if year < 100:
        year += 1900 if year > 30 else 2000
    try:
        d = dt.date(year, month, day)
    except ValueError:
        return None
    return d if 1900 <= d.year <= dt.date.today().year else None


def parse_date(value: str) -> dt.date | None:
    """Day-first, month-first and year-first numeric dates, and dates with a month name."""
    words = re.findall(r"[A-Za-z]+|\d+", value)
    nums = [int(w) for w in words if w.isdigit()]
    names = [w for w in words if w.isalpha() and w[:3].lower() in _MONTHS]
    if names and len(nums) >= 2:
        month = _MONTHS[names[0][:3].lower()]
        day, year = (nums[0], nums[-1]) if nums[-1] > 31 else (nums[-1], nums[0])
        return _plausible(year, month, day)
    if len(nums) != 3:
        return None
    a, b, c = nums
    if len(words[0]) == 4:
        return _plausible(a, b, c)
    return _plausible(c, b, a) or _plausible(c, a, b)


def validate(value: str, opts: Mapping[str, Any]) -> Validation | None:
    d = parse_date(value)
    if d is None:
        return None
    return Validation(normalized=d.isoformat(), subtype=None, validated=True)


DATE_OF_BIRTH = register(Kind(
    name="date_of_birth",
    pattern=PATTERN,
    validate=validate,
    bits=lambda normalized: math.log2(365.25 * 100),
    bits_rule="one day among about 100 years: log2(36525) = 15.2",
    context=("born", "birth", "birthday", "dob", "d.o.b", "birthdate", "date of birth", "nee", "née",
             "né", "geboren", "nacido", "nacida", "nascido", "nascida", "naissance", "出生", "生日",
             "b.", "geburtsdatum", "geburtstag", "nació", "nacimiento", "nato", "nata", "nascita", "nasceu",
             "nascimento", "geboortedatum", "生年月日", "生まれ", "誕生日"),
    negative=("died", "released", "published", "due", "invoice", "order", "updated", "version"),
    prior=0.75,
    specificity=35,
    requires_context=True,
    example="14 March 1987",
    description="dates of birth: a calendar date with birth context within the window",
    min_len=6,
    min_digits=3,
))
