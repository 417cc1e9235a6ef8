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
from factsep.kinds.months import month_alternation, month_of

_MONTH_RX = month_alternation()
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|\.)?"
PATTERN = (
    r"\b\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}\b"
    rf"|\b{_DAY} (?:de )?{_MONTH_RX},? (?:de )?\d{{4}}\b"
    rf"|\b{_MONTH_RX} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b"
    # year, month and day with their unit characters: 1987年3月14日 (Chinese, Japanese), 1987년 3월 14일
    r"|\b\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日"
    r"|\b\d{4} ?년 ?\d{1,2} ?월 ?\d{1,2} ?일"
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
    """Numeric dates (year-first, day-first, else month-first; day-first only with dots, which
    month-first writers do not use), dates with a month name of any language in
    factsep/kinds/months.py, and year-month-day with CJK or Korean unit characters."""
    words = re.findall(r"[^\W\d_]+|\d+", value)
    nums = [int(w) for w in words if w.isdigit()]
    months = [m for m in map(month_of, (w for w in words if not w.isdigit())) if m is not None]
    if months and len(nums) >= 2:
        day, year = (nums[0], nums[-1]) if nums[-1] > 31 else (nums[-1], nums[0])
        return _plausible(year, months[0], day)
    if len(nums) != 3:
        return None
    a, b, c = nums
    if len(words[0]) == 4:
        return _plausible(a, b, c)
    if "." in value:
        return _plausible(c, b, a)
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
             "nascimento", "geboortedatum", "生年月日", "生まれ", "誕生日",
             "geb.", "生于", "생년월일", "출생", "태어", "생일"),
    negative=("died", "released", "published", "due", "invoice", "order", "updated", "version"),
    prior=0.75,
    specificity=35,
    requires_context=True,
    example="14 March 1987",
    description="dates of birth: a calendar date with birth context within the window",
    min_len=6,
    min_digits=3,
))
