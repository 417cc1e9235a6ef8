"""Payment cards, IBANs and US social security numbers.

bits: a card is its digits less the 6-digit issuer prefix and the Luhn check digit; an IBAN is
its BBAN less a 4-character bank code; an SSN has 899 areas x 99 groups x 9999 serials (29.7 bits).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import itin as stdnum_itin
from stdnum.us import ssn as stdnum_ssn

from factsep.detection.scoring import validator_weight
from factsep.kinds.base import PHONE_WORDS, Kind, Validation, digit_bits, register

# Issuer prefixes: (network, prefixes, lengths).
_NETWORKS: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...] = (
    ("amex", ("34", "37"), (15,)),
    ("visa", ("4",), (13, 16, 19)),
    ("mastercard", tuple(str(i) for i in range(51, 56)) + tuple(str(i) for i in range(2221, 2721)),
     (16,)),
    ("discover", ("6011", "65") + tuple(str(i) for i in range(644, 650)), (16, 19)),
    ("jcb", tuple(str(i) for i in range(3528, 3590)) + ("35",), (16, 17, 18, 19)),
    ("jcb", ("1800", "2131"), (15,)),
    ("diners", ("36", "38", "39", "300", "301", "302", "303", "304", "305"), (14, 16, 19)),
    ("unionpay", ("62",), (16, 17, 18, 19)),
    ("maestro", ("50", "56", "57", "58", "63", "67"), (12, 13, 14, 15, 16, 17, 18, 19)),
)


def _network(digits: str) -> str | None:
    for name, prefixes, lengths in _NETWORKS:
        if len(digits) in lengths and digits.startswith(prefixes):
            return name
    return None


def validate_card(value: str, opts: Mapping[str, Any]) -> Validation | None:
    digits = "".join(c for c in value if c.isdigit())
    if not 12 <= len(digits) <= 19 or len(set(digits)) <= 1:
        return None
    network = _network(digits)
    if network is None or not luhn.is_valid(digits):
        return None
    return Validation(normalized=digits, subtype=network, validated=True, checksum=True)


CREDIT_CARD = register(Kind(
    name="credit_card",
    pattern=r"\b\d{4}(?:[ \-]?\d{4}){2}(?:[ \-]?\d{1,7})?\b|\b\d{4}[ \-]?\d{6}[ \-]?\d{4,5}\b",
    validate=validate_card,
    bits=lambda normalized: digit_bits(max(len(normalized) - 7, 0)),
    bits_rule="log2(10) * (digits - 6 issuer digits - 1 Luhn check digit)",
    context=("card", "credit", "debit", "visa", "mastercard", "amex", "cc", "payment", "pay",
             "charged", "expires", "exp", "cvv", "卡"),
    negative=("isbn", "order", "tracking", "invoice") + PHONE_WORDS,
    prior=0.8,
    specificity=80,
    example="4111 1111 1111 1111",
    description="payment card numbers: issuer prefix and Luhn (python-stdnum luhn)",
    min_len=12,
    min_digits=12,
))


def validate_iban(value: str, opts: Mapping[str, Any]) -> Validation | None:
    try:
        norm = stdnum_iban.validate(value)
    except Exception:
        return None
    return Validation(normalized=norm, subtype=norm[:2], validated=True, checksum=True)


IBAN = register(Kind(
    name="iban",
    pattern=r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?\b",
    validate=validate_iban,
    bits=lambda normalized: digit_bits(max(len(normalized) - 8, 0)),
    bits_rule="log2(10) * (BBAN length - 4 bank-code characters); country and check digits are fixed",
    context=("iban", "account", "bank", "transfer", "wire", "sepa", "konto", "cuenta", "conta",
             "compte", "payee", "beneficiary"),
    negative=(),
    prior=0.9,
    specificity=85,
    example="DE89 3704 0044 0532 0130 00",
    description="International Bank Account Numbers (python-stdnum iban, mod 97)",
    min_len=15,
    min_digits=8,
))


def validate_ssn(value: str, opts: Mapping[str, Any]) -> list[Validation] | None:
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) != 9:
        return None
    dashed = value.count("-") == 2 or value.count(" ") == 2
    for module, subtype in ((stdnum_ssn, "ssn"), (stdnum_itin, "itin")):
        try:
            norm = module.validate(digits)
        except Exception:
            continue
        return [Validation(normalized=norm, subtype=subtype, validated=True,
                           strength=validator_weight("payments", "ssn_grouped" if dashed else "ssn_bare"))]
    return None


US_SSN = register(Kind(
    name="us_ssn",
    pattern=r"\b\d{3}[ \-]?\d{2}[ \-]?\d{4}\b",
    validate=validate_ssn,
    bits=lambda normalized: math.log2(899 * 99 * 9999),
    bits_rule="log2(899 areas * 99 groups * 9999 serials) = 29.7",
    context=("ssn", "social", "security", "itin", "taxpayer", "ss#", "ss"),
    negative=("order", "isbn", "zip") + PHONE_WORDS,
    prior=0.55,
    specificity=65,
    example="536-22-8726",
    description="US social security and individual taxpayer numbers (python-stdnum us.ssn, us.itin)",
    min_len=9,
    min_digits=9,
))
