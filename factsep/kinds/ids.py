"""National, tax, security and bank identifiers: the python-stdnum formats, one kind each family.

A candidate is tried only against the modules that accept its shape (length and the positions of
letters and digits after removing separators), learnt once per shape from python-stdnum's own
InvalidLength verdicts, so cost grows with candidates, not with the 150 formats.

bits: the compact value's characters by class (log2(10) a digit, log2(26) a letter) less one
check character when python-stdnum confirmed a checksum.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from stdnum.exceptions import InvalidLength, ValidationError

from factsep.kinds import stdnum_table
from factsep.kinds.base import Kind, Validation, register

_SEP = re.compile(r"[\s\-./:,]")
_SHAPE = str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "9" * 10 + "A" * 26)

# An identifier: up to 4 letters of prefix, then a digit, then letters/digits in groups split by
# single separators; a trailing group is either digit-bearing or one or two check letters.
ID_PATTERN = (
    r"\b(?:[A-Z]{1,4}:? ?[\-.]?)?\d[0-9A-Z]*"
    r"(?:(?:[ \-./]|, ?)(?:[0-9A-Z]*\d[0-9A-Z]*|[A-Z]{1,2}\b)){0,8}"
)
# Identifiers that start with letters and carry digits later (codice fiscale, RFC, PAN, UEN).
ALNUM_PATTERN = r"\b[A-Z]{2,6}[0-9][0-9A-Z]{3,20}\b"


def compact(value: str) -> str:
    return _SEP.sub("", value).upper()


def shape(value: str) -> str:
    return compact(value).translate(_SHAPE)


def _accepts_length(module: Any, sample: str) -> bool:
    try:
        module.validate(sample)
    except InvalidLength:
        return False
    except (ValidationError, Exception):
        return True
    return True


@lru_cache(maxsize=20_000)
def modules_for_shape(kind: str, value_shape: str, sample: str) -> tuple[str, ...]:
    """The kind's modules that do not reject this shape by length (learnt from one sample)."""
    names = []
    for name in stdnum_table.KIND_MODULES[kind]:
        module = stdnum_table.load(name)
        if module is not None and _accepts_length(module, sample):
            names.append(name)
    return tuple(names)


def _tiny_groups(value: str) -> bool:
    """1.1.1.256 or 3.4.5-6: several one-digit groups are versions and arithmetic, not ids."""
    groups = [g for g in _SEP.split(value) if g]
    return len(groups) >= 3 and sum(len(g) == 1 for g in groups) >= 2


def _format_matches(module: Any, value: str, number: str) -> bool:
    fmt = getattr(module, "format", None)
    if fmt is None:
        return False
    try:
        return fmt(number) == value
    except Exception:
        return False


def stdnum_validator(kind: str):
    def validate(value: str, opts: Mapping[str, Any]) -> list[Validation] | None:
        c = compact(value)
        if len(c) < 5 or len(set(c)) <= 1 or _tiny_groups(value):
            return None
        found: list[Validation] = []
        for name in modules_for_shape(kind, c.translate(_SHAPE), c):
            module = stdnum_table.load(name)
            try:
                number = module.validate(value)  # type: ignore[union-attr]
            except Exception:
                continue
            normalized = number if isinstance(number, str) else c
            if len(compact(normalized)) > len(c):
                continue  # the module zero-padded a shorter number: no evidence of this format
            formatted = _format_matches(module, value, normalized) and not value.isalnum()
            found.append(Validation(
                normalized=normalized, subtype=f"stdnum.{name}", validated=True, checksum=True,
                strength=0.9 if formatted else 0.0,
                context=stdnum_table.acronyms(name),
            ))
        if not found:
            return None
        # Many formats accepting the same digits means each of them says less.
        ambiguity = -0.35 * math.log2(len(found))
        if value.isdigit() and len(value) <= 10:
            ambiguity -= 1.6  # bare short digit strings are the commonest numbers of all
        found.sort(key=lambda v: -v.strength)
        return [Validation(v.normalized, v.subtype, v.validated, v.checksum, v.strength + ambiguity,
                           v.context) for v in found]

    return validate


def id_bits(normalized: str) -> float:
    c = compact(normalized)
    digits = sum(ch.isdigit() for ch in c)
    letters = sum(ch.isalpha() for ch in c)
    return max(digits - 1, 0) * math.log2(10) + letters * math.log2(26) * 0.5


_COMMON = dict(validate=None, bits=id_bits, min_len=5, min_digits=2,
               bits_rule="log2(10) per digit less one check digit; letters count half (often prefixes)")


def _id_kind(name: str, context: tuple[str, ...], prior: float, specificity: int, example: str,
             description: str, pattern: str = f"{ID_PATTERN}|{ALNUM_PATTERN}") -> Kind:
    return register(Kind(
        name=name, pattern=pattern, validate=stdnum_validator(name), bits=id_bits,
        bits_rule=_COMMON["bits_rule"], context=context,
        negative=("page", "pages", "version", "v", "price", "$", "€", "phone", "tel", "isbn", "order",
                  "invoice", "ticket", "tracking", "zip", "postal"),
        prior=prior, specificity=specificity, example=example, description=description,
        min_len=5, min_digits=5,
    ))


TAX_ID = _id_kind(
    "tax_id",
    ("tax", "vat", "tin", "company", "business", "registration", "registered", "fiscal", "ein",
     "btw", "tva", "iva", "mwst", "ust", "nif", "cif", "abn", "uid", "steuernummer", "siren",
     "siret", "rfc", "ruc", "nit", "cnpj", "inn", "kvk", "crn", "gst", "firm", "corporate",
     "enterprise", "org", "organisation", "organization", "taxpayer"),
    0.62, 56, "DE 136 695 976", "tax, VAT and company registration numbers (python-stdnum)")

NATIONAL_ID = _id_kind(
    "national_id",
    ("id", "identity", "national", "personal", "passport", "citizen", "social", "insurance",
     "birth", "licence", "license", "driver", "resident", "dni", "nie", "cpf", "pesel",
     "bsn", "personnummer", "fødselsnummer", "hetu", "aadhaar", "nric", "curp", "egn", "ssn",
     "cnp", "kennitala", "amka", "cedula", "cédula", "patient", "nhs"),
    0.55, 55, "7501020018", "personal identity numbers of any country (python-stdnum)")

SECURITY_ID = _id_kind(
    "security_id",
    ("isin", "cusip", "sedol", "lei", "figi", "wkn", "security", "securities", "stock", "share",
     "shares", "bond", "fund", "ticker", "instrument", "equity"),
    0.7, 60, "US0378331005", "security identifiers: ISIN, CUSIP, SEDOL, LEI, FIGI, WKN (python-stdnum)")

BANK_ACCOUNT = _id_kind(
    "bank_account",
    ("account", "bank", "konto", "cuenta", "conta", "compte", "routing", "aba", "bic", "swift",
     "cbu", "ccc", "sort", "transfer", "wire", "deposit", "kontonr"),
    0.6, 58, "3000 0210 1200 0000 1090", "bank account, routing and bank codes (python-stdnum)")
