"""National, tax, security and bank identifiers: the python-stdnum formats, one kind each family.

A candidate is tried only against the modules that accept its shape (length and the positions of
letters and digits after removing separators), learnt once per shape from python-stdnum's own
InvalidLength verdicts, so cost grows with candidates, not with the 150 formats.

bits: the compact value's characters by class (log2(10) a digit, log2(26) a letter) less one
check character when python-stdnum confirmed a checksum.
"""

from __future__ import annotations

import json
import math
import random
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
from stdnum.exceptions import InvalidLength, ValidationError

from factsep.detection.scoring import validator_weight
from factsep.kinds import stdnum_table
from factsep.kinds.base import (
    DASHES,
    ID_SUFFIXES,
    PHONE_WORDS,
    Kind,
    Validation,
    Validator,
    date_or_quantity,
    register,
)

#: Logits: a value written in the format's own layout ("DE 136 695 976"), per bit of redundancy
#: missing to one check digit (more redundancy than that does not make one family likelier than
#: another: the priors decide), per doubling of formats accepting the value, for bare digit strings of
#: ten or fewer digits, for five digits or fewer, and for a value without digits.
#: (All weights in factsep/detection/data/weights.toml, [validator.ids].)
W_FORMATTED = validator_weight("ids", "formatted")
W_REDUNDANCY = validator_weight("ids", "redundancy")
W_REDUNDANCY_EXTRA = validator_weight("ids", "redundancy_extra")
ONE_CHECK_DIGIT = 3.3  # bits: log2(10)
W_REDUNDANCY_CHECKSUM = validator_weight("ids", "redundancy_checksum")
W_AMBIGUITY = validator_weight("ids", "ambiguity")
W_BARE_SHORT = validator_weight("ids", "bare_short")
W_NO_DIGIT = validator_weight("ids", "no_digit")
#: Logits per nat of letter-pair surprise past that of nine words in ten: capitals that read like
#: no word ("AIRRHKHH") are likelier a code than capitals that do ("ABSOLUTE"). -6.4 nats a pair
#: is the 10th percentile of 1,190 BIC-valid capitalised words of Debian changelogs.
W_UNWORDLIKE = validator_weight("ids", "unwordlike")
WORD_PAIR_LOGP = validator_weight("ids", "word_pair_logp")
W_FIVE_DIGITS = validator_weight("ids", "five_digits")
#: Logits when the value's hyphens, dots or slashes fall where the format never puts a separator
#: (a hyphenated "1-0073-2041" read as a nine-digit UNP, written bare in every example).
W_LAYOUT_MISMATCH = validator_weight("ids", "layout_mismatch")
#: Logits when the format zero-pads the value to its length ("112050318" as CPF 01-1205-0318).
W_PADDED = validator_weight("ids", "padded")
#: Bits of redundancy that are evidence of a format on their own: two check characters or more.
EVIDENT_REDUNDANCY = validator_weight("ids", "evident_redundancy")

_SEP = re.compile(rf"[\s\-./:,{DASHES}]")
_SHAPE = str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "9" * 10 + "A" * 26)

# An identifier: up to 4 letters of prefix (or a country code and a letter: "ES B-61524837"), then
# a digit, then letters/digits in groups split by single separators (or a dash between spaces:
# "670899406 - 6", before a digit); a trailing group is either digit-bearing, one or two check letters, or a VAT
# suffix ("MWST").
ID_PATTERN = (
    r"\b(?:[A-Z]{2}[ \-]{1,3}[A-Z]-? ?|[A-Z]{1,4}:? ?[\-.]?|[A-Z]{2} ?_D_ ?)?\d"
    r"(?:[0-9A-Z]{4}[0-9A-Z]*(?:_G_)*|[0-9A-Z]*(?:_G_)+)"
).replace("_G_", r"(?:[ \-./]| ?_D_ ?(?=\d)|, ?)(?:[0-9A-Z]*\d[0-9A-Z]*|(?:[A-Z]{1,2}|_SUFFIX_)\b)").replace(
    "_SUFFIX_", "|".join(ID_SUFFIXES)).replace("_D_", f"[\\-{DASHES}]")
# At least five characters, or a separated group: a lone number is no identifier. Repetition is
# unbounded on purpose: bounded counts blow up RE2's DFA, and every prefix of a match is a match,
# so a long run is one long candidate (split later), never a quadratic rescan.
# Codes of capitals with few digits: BIC (bank, country, location, branch) and WKN (six characters).
BIC_PATTERN = r"\b[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b"
WKN_PATTERN = r"\b[A-Z0-9]{6}\b"

#: Words near a number that make it a quantity, a price, a version or a reference to something else.
ID_NEGATIVE = PHONE_WORDS + (
               "page", "pages", "pp", "pp.", "p.", "version", "eur", "usd", "gbp", "cost", "costs",
               "paid", "v", "price", "$", "€", "£", "isbn",
               "ticket", "tracking", "zip", "postal", "=", "+", "*", "×",
               "population", "inhabitant", "people", "bytes", "total", "release", "firmware", "build",
               "coordinates", "about", "approximately",
               # a payment card's number: "credit card 0604 2607 0011" is no identity number
               "credit", "debit", "mastercard", "amex")

# Identifiers that start with letters and carry digits later (codice fiscale, RFC, PAN, UEN).
ALNUM_PATTERN = r"\b[A-Z]{2,6}[0-9][0-9A-Z]{3,20}\b"


@cache
def _letter_pairs() -> tuple[dict[str, float], float]:
    data = json.loads((Path(__file__).parent / "data" / "letter_bigrams.json").read_text())
    pairs: dict[str, int] = data["pairs"]
    total = sum(pairs.values())
    return {k: math.log(v / total) for k, v in pairs.items()}, math.log(0.5 / total)


def word_logp(letters: str) -> float:
    """Mean log-probability of the letter pairs of a word, from place names in many languages
    (scripts/make_letter_bigrams.py): about -5.7 for words, -7.5 for bank codes."""
    logp, unseen = _letter_pairs()
    padded = f"^{letters.upper()}$"
    return sum(logp.get(a + b, unseen) for a, b in zip(padded, padded[1:])) / (len(padded) - 1)


def _unwordlike(letters: str) -> float:
    """Logits for a code of capitals that a format's checks accept (a BIC's country), by how
    little it reads like a word. Codes with digits, or formats without checks (an all-letter WKN
    is any six capitals), get nothing."""
    if not letters.isalpha():
        return 0.0
    return W_UNWORDLIKE * min(max(WORD_PAIR_LOGP - word_logp(letters), -1.0), 2.0)


#: ISO 3166 country codes (phonenumbers' regions, with the SEPA countries' own).
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)

#: Digits grouped in threes the way quantities are written: "350 800", "12.345.678".
_THOUSANDS = re.compile(r"\d{1,3}(?:([ .,\u00a0])\d{3})(?:\1\d{3})*")


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


_SHAPE_MODULES: dict[tuple[str, str], tuple[str, ...]] = {}


#: Lengths python-stdnum does not check itself (its lei module checks only the mod 97 digits).
_LENGTHS: dict[str, tuple[int, ...]] = {"lei": (20,)}


def modules_for_shape(kind: str, value_shape: str, sample: str) -> tuple[str, ...]:
    """The kind's modules that do not reject this shape by length, learnt from the first sample."""
    key = (kind, value_shape)
    names = _SHAPE_MODULES.get(key)
    if names is None:
        if len(_SHAPE_MODULES) > 50_000:
            _SHAPE_MODULES.clear()
        names = tuple(
            name for name in stdnum_table.KIND_MODULES[kind]
            if (module := stdnum_table.load(name)) is not None and _accepts_length(module, sample)
            and len(compact(sample).replace("/", "")) in _LENGTHS.get(name, range(1, 99))
        )
        _SHAPE_MODULES[key] = names
    return names


_WORD_PREFIX = re.compile(r"^([A-Za-z]{2,5}):? ")


@cache
def _prefix_words(kind: str) -> frozenset[str]:
    from factsep.kinds.base import get_kind

    return stdnum_table.prefix_words() | frozenset(get_kind(kind).context) | {"id", "no", "nr", "ref"}


def _tiny_groups(value: str) -> bool:
    """1.2.3.256 or 3.4.5-6 are versions and arithmetic; more than six groups is a list of numbers.

    Only one-digit groups count: a one-letter group is a check letter or series (A-123456-B). A
    leading group of letters is a prefix ("SE 55 67 59 32 48 01": a country code), no number of a list.
    """
    groups = [g for g in _SEP.split(value) if g]
    if groups and groups[0].isalpha():
        groups = groups[1:]
    tiny = sum(len(g) == 1 and g.isdigit() for g in groups)
    return len(groups) > 6 or (len(groups) >= 3 and tiny >= 2 and sum(map(len, groups)) <= 9)


_REDUNDANCY: dict[tuple[str, str], float] = {}
_SAMPLES = 24


def redundancy_bits(name: str, value_shape: str, layout: str | None = None) -> float:
    """Bits a format's checks fix: log2(1 / share of random values of this shape it accepts).

    Learnt once per (module, shape) from a few seeded random values: a check digit gives about
    3.3 bits, a check digit plus a date or region rule more, a bare length rule (a WKN) none. A
    match of a format that accepts most random values of its shape is no evidence at all.
    ``layout`` is the shape with the value's separators ("99999/9999"), for values the validator
    also tries as written: a sample counts as accepted the same way.
    """
    key = (name, layout or value_shape)
    bits = _REDUNDANCY.get(key)
    if bits is None:
        module = stdnum_table.load(name)
        rng = random.Random(zlib.crc32(f"{name}|{key[1]}".encode()))
        ok = 0
        for _ in range(_SAMPLES):
            written = "".join(rng.choice(_DIGITS) if ch == "9" else rng.choice(_LETTERS) if ch == "A" else ch
                              for ch in layout or value_shape)
            ok += any(_accepts(module, s) for s in dict.fromkeys((compact(written), written)))
        bits = math.log2((_SAMPLES + 1) / (ok + 0.5))
        if len(_REDUNDANCY) > 50_000:
            _REDUNDANCY.clear()
        _REDUNDANCY[key] = bits
    return bits


def _accepts(module: Any, value: str) -> bool:
    """Whether the python-stdnum module takes the value (any error it raises is a no)."""
    try:
        module.validate(value)
    except Exception:
        return False
    return True


_DIGITS = "0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


_DOC_ARGUMENT = re.compile(r">>> [\w.]*\('([^'\n]+)'")
_PUNCTUATION_RUN = re.compile(rf"[\s\-./{DASHES}]*[\-./{DASHES}][\s\-./{DASHES}]*")
_SEPARATOR_RUN = re.compile(rf"[\s\-./:,(){DASHES}]+")


@lru_cache(maxsize=4_096)  # asked once per format that accepts the value, in a row: a small bound suffices
def separator_positions(value: str, pattern: re.Pattern[str] = _SEPARATOR_RUN) -> frozenset[int]:
    """Where separators stand, counted in characters from the end: a dropped leading zero or a
    country prefix does not move them."""
    value = value.strip()
    return frozenset(len(compact(value[m.end():])) for m in pattern.finditer(value)
                     if 0 < m.start() and m.end() < len(value))


@cache
def _documented_layouts(name: str) -> frozenset[frozenset[int]]:
    """Separator positions of each value in the module's own docstring examples."""
    module = stdnum_table.load(name)
    examples = _DOC_ARGUMENT.findall(getattr(module, "__doc__", None) or "")
    return frozenset(layout for layout in map(separator_positions, examples) if layout)


def _layout(name: str, value: str, written: str | None) -> tuple[bool, bool | None, bool]:
    """How the value is written, against the format's format() output and docstring examples:
    (separators exactly where one of them has them; hyphens, dots and slashes only where some of
    them have separators -- None for a value without any; every separator, spaces too, where some
    of them have one)."""
    layouts = _documented_layouts(name)
    if written:
        layouts = layouts | {separator_positions(written)}
    positions = separator_positions(value)
    exact = bool(positions) and positions in layouts
    anywhere = frozenset().union(*layouts)
    within = positions <= anywhere
    punctuated = separator_positions(value, _PUNCTUATION_RUN)
    if not punctuated:
        return exact, None, within
    return exact, punctuated <= anywhere, within


def _format(module: Any, number: str) -> str | None:
    fmt = getattr(module, "format", None)
    if fmt is None:
        return None
    try:
        return fmt(number)
    except Exception:
        return None


def stdnum_validator(kind: str):
    def validate(value: str, opts: Mapping[str, Any]) -> list[Validation] | None:
        c = compact(value)
        if len(c) < 5 or len(c) > 34 or len(set(c)) <= 1 or _tiny_groups(value):
            return None
        if date_or_quantity(value):
            return None  # 03/04/1975, 2021-03-14: dates are not identifiers
        word = _WORD_PREFIX.match(value)
        # Two capitals may be a country code even when they spell a context word ("NO 923 614 587
        # MVA"): the formats that carry one decide.
        country = word is not None and len(word.group(1)) == 2 and word.group(1).isupper()
        if word and not country and word.group(1).lower() in _prefix_words(kind):
            return None  # "CUIT 20-...", "tax ID 45...": a context word, not part of the value
        found: list[Validation] = []
        # ro.onrc, tn.mf: the slashes are part of the format, and a register number may stand in
        # for them with spaces ("J12 79772 2015"); ISIL: the hyphen after the prefix.
        slashed = "/" in value or (kind == "generic_id" and "-" in value
                                   and (value[:1].isalpha() or len(value) == 16)) or (
            value[:1].isalpha() and value[1:2].isdigit() and " " in value)
        value_shape = c.translate(_SHAPE) + ("/" if slashed else "")
        bare, short = value.isdigit(), c.isdigit() and len(c) <= 10
        for name in modules_for_shape(kind, value_shape, value if slashed else c):
            module = stdnum_table.load(name)
            try:
                number = module.validate(c)  # type: ignore[union-attr]  (compact: cleaning is slow)
            except Exception:
                if not slashed:
                    continue
                try:
                    number = module.validate(value)  # type: ignore[union-attr]
                except Exception:
                    continue
            if name == "eu.at_02" and c[:2] not in _REGIONS:
                continue  # a creditor identifier starts with an ISO country code ("CP1255" is a code page)
            if any(_accepts(stdnum_table.load(delegate), c) for delegate in stdnum_table.delegates(name)):
                continue  # th.tin reading a th.pin: the person's number, found as national_id
            normalized = number if isinstance(number, str) else c
            written = _format(module, normalized)
            # Positions count from the end: people drop the leading zeros a format pads with
            # ("1-0319-0552" for CPF 01-0319-0552).
            formatted, layout, within = _layout(name, value, written)
            # The module zero-padded a shorter number: weaker evidence of this format.
            padded = len(compact(normalized)) > len(c) and not (formatted or layout)
            if c[0] == "0" and compact(normalized) == c.lstrip("0"):
                continue  # ... or dropped leading zeros (li.peid): "00421..." is a dialling prefix
            redundancy = redundancy_bits(name, value_shape, value.upper().translate(_SHAPE) if slashed else None)
            # Short digits split where this format does not split them ("8377 52") are as common
            # as bare ones: the split is no evidence of the format.
            split_off_format = short and not bare and not within
            prefix = re.match(r"[A-Z]{2,3}", value.upper())
            # a layout is evidence of a format, unless the format checks nothing and the layout is
            # the way every number is grouped ("350 800", "123.123": thousands)
            thousands = redundancy < W_REDUNDANCY_CHECKSUM and _THOUSANDS.fullmatch(value) is not None
            evidence = (formatted and bool(separator_positions(value)) and not thousands) \
                or redundancy >= EVIDENT_REDUNDANCY or (
                prefix is not None and name.split(".")[0].upper()[:2] == prefix.group()[:2] and "." in name)
            wordlike = False
            if redundancy >= 1.0 and c[:2].isalpha() and c[:2].isupper() and not slashed \
                    and redundancy_bits(name, value_shape, c[:2] + value_shape[2:]) < 1.0:
                # a format that checks nothing but its country code ("MT19937", an algorithm's
                # name, read as a Maltese excise number): letters glued to digits name products
                # and algorithms as often, so it needs its format's name
                wordlike = True
            if not any(ch.isdigit() for ch in value):
                # letters only: a word in capitals ("DAMAGE", "READLINELIB") passes many a format's
                # letter checks, so a word-like one needs its format's name; a country code and
                # letters joined by a hyphen is as often a compound or an acronym ("NO-BREAK",
                # "CA-specified") as a library code: no evidence without the word ISIL either
                letters = re.sub(r"[^A-Za-z]", "", value.split("-", 1)[-1] if name == "isil" else value)
                wordlike = word_logp(letters) > WORD_PAIR_LOGP
                evidence = evidence and name != "isil"
            found.append(Validation(
                normalized=normalized, subtype=f"stdnum.{name}", validated=True, evidence=evidence,
                needs_context=wordlike,
                checksum=redundancy >= W_REDUNDANCY_CHECKSUM,
                strength=(W_FORMATTED if formatted else 0.0)
                + (W_LAYOUT_MISMATCH if layout is False else 0.0) + (W_PADDED if padded else 0.0)
                + (_unwordlike(c) if redundancy >= 1.0 else 0.0)
                + W_REDUNDANCY * min(redundancy - ONE_CHECK_DIGIT, 0.0)
                + W_REDUNDANCY_EXTRA * max(redundancy - ONE_CHECK_DIGIT, 0.0)
                + (W_BARE_SHORT if split_off_format else 0.0),
                context=stdnum_table.acronyms(name) or ((name.rsplit(".", 1)[-1],) if wordlike else ()),
            ))
        if not found:
            return None
        # Many formats accepting the same digits means each of them says less.
        ambiguity = W_AMBIGUITY * math.log2(len(found))
        if bare and short:
            ambiguity += W_BARE_SHORT  # bare short digit strings are the commonest numbers of all
        if c.isdigit() and len(c) <= 5:
            ambiguity += W_FIVE_DIGITS  # ZIP codes, street numbers, counts: context must say more
        if not any(ch.isdigit() for ch in c):
            ambiguity += W_NO_DIGIT  # BIC- or WKN-shaped words: capitals are common, context decides
        found.sort(key=lambda v: -v.strength)
        return [replace(v, strength=v.strength + ambiguity) for v in found]

    return validate


def id_bits(normalized: str) -> float:
    c = compact(normalized)
    digits = sum(ch.isdigit() for ch in c)
    letters = sum(ch.isalpha() for ch in c)
    return max(digits - 1, 0) * math.log2(10) + letters * math.log2(26) * 0.5


_COMMON = dict(validate=None, bits=id_bits, min_len=5, min_digits=2,
               bits_rule="log2(10) per digit less one check digit; letters count half (often prefixes)")


def _id_kind(name: str, context: tuple[str, ...], prior: float, specificity: int, example: str,
             description: str, pattern: str = f"{ID_PATTERN}|{ALNUM_PATTERN}", min_digits: int = 5,
             extra: Callable[[str], Validation | None] | None = None) -> Kind:
    """A family of python-stdnum formats; ``extra``: a reading of formats python-stdnum lacks."""
    validate = stdnum_validator(name)
    if extra is not None:
        validate = _with_extra(validate, extra)
    return register(Kind(
        name=name, pattern=pattern, validate=validate, bits=id_bits,
        bits_rule=_COMMON["bits_rule"], context=context,
        negative=ID_NEGATIVE + _rival_words(name),
        prior=prior, specificity=specificity, example=example, description=description,
        min_len=5, min_digits=min_digits, formats=True,
    ))


def _with_extra(validate: Validator, extra: Callable[[str], Validation | None]) -> Validator:
    def both(value: str, opts: Mapping[str, Any]) -> list[Validation] | None:
        got = validate(value, opts)
        found = got if isinstance(got, list) else [got] if got is not None else []
        more = extra(value)
        return [*found, more] if more is not None else (found or None)

    return both


#: US driving licences: no check character, one format per state (one or two letters and 4 to 14
#: digits, maybe a letter after; 5 to 13 digits, maybe grouped; digits then one or two letters;
#: "123AB4567"). Read as a national id only beside a licence word.
_DRIVING_LICENCE = re.compile(
    r"[A-Z]{1,2}\d{4,14}[A-Z]?|\d{5,13}|\d{2,5}(?:[ \-]\d{2,5}){1,3}|\d{7,9}[A-Z]{1,2}|\d{3}[A-Z]{2}\d{4}")
DRIVING_LICENCE_WORDS = ("driver", "driving", "licence", "license", "dl")
#: Logits: a format anything of its length fits; the licence word carries the reading.
W_DRIVING_LICENCE = validator_weight("ids", "driving_licence")


def driving_licence(value: str) -> Validation | None:
    if _DRIVING_LICENCE.fullmatch(value) is None or sum(c.isdigit() for c in value) < 5:
        return None
    return Validation(normalized=compact(value), subtype="us.driving_licence", validated=False,
                      strength=W_DRIVING_LICENCE, context=DRIVING_LICENCE_WORDS, needs_context=True)


TAX_WORDS = (
    "tax", "vat", "tin", "company", "business", "registration", "registered", "fiscal", "ein",
    "btw", "tva", "iva", "mwst", "ust", "nif", "cif", "abn", "uid", "steuernummer", "siren",
    "siret", "rfc", "ruc", "nit", "cnpj", "inn", "kvk", "crn", "gst", "firm", "corporate",
    "enterprise", "org", "organisation", "organization", "taxpayer")
NATIONAL_WORDS = (
    "identity", "national", "personal", "passport", "citizen", "social", "insurance",
    "birth", "licence", "license", "driver", "resident", "dni", "nie", "cpf", "pesel",
    "bsn", "personnummer", "fødselsnummer", "hetu", "aadhaar", "nric", "curp", "egn",
    "cnp", "kennitala", "amka", "cedula", "cédula", "patient", "nhs",  # not "ssn": us_ssn has it
    "id card", "identity card", "national id")
SECURITY_WORDS = (
    "isin", "cusip", "sedol", "lei", "figi", "wkn", "security", "securities", "stock", "share",
    "shares", "bond", "fund", "ticker", "instrument", "equity")
BANK_WORDS = (
    "account", "bank", "konto", "cuenta", "conta", "compte", "routing", "aba", "bic", "swift",
    "cbu", "ccc", "sort", "transfer", "wire", "deposit", "kontonr")
_FAMILY_WORDS = {"tax_id": TAX_WORDS, "national_id": NATIONAL_WORDS, "security_id": SECURITY_WORDS,
                 "bank_account": BANK_WORDS}
#: Words too common, or shared across families ("social security"), to argue against a family.
_NOT_RIVAL = frozenset({"security", "registration", "registered", "sort", "transfer", "wire", "deposit",
                        "fund", "birth", "company", "business", "firm", "org", "national"})


def _rival_words(kind: str) -> tuple[str, ...]:
    """Words naming another family ("ISIN", "passport", "VAT") count against this one."""
    own = set(_FAMILY_WORDS[kind])
    return tuple(sorted({w for k, words in _FAMILY_WORDS.items() if k != kind for w in words
                         if w not in own and w not in _NOT_RIVAL}))


TAX_ID = _id_kind(
    "tax_id", TAX_WORDS,
    0.75, 56, "DE 136 695 976", "tax, VAT and company registration numbers (python-stdnum)")

NATIONAL_ID = _id_kind(
    "national_id", NATIONAL_WORDS,
    0.45, 55, "44051401359", "personal identity numbers of any country (python-stdnum), US driving licences",
    extra=driving_licence)

SECURITY_ID = _id_kind(
    "security_id", SECURITY_WORDS,
    0.5, 60, "US0378331005", "security identifiers: ISIN, CUSIP, SEDOL, LEI, FIGI, WKN (python-stdnum)",
    pattern=f"{ID_PATTERN}|{ALNUM_PATTERN}|{WKN_PATTERN}", min_digits=0)

BANK_ACCOUNT = _id_kind(
    "bank_account", BANK_WORDS,
    0.45, 58, "285 0590940 0904181352 01", "bank account, routing and bank codes (python-stdnum)",
    pattern=f"{ID_PATTERN}|{ALNUM_PATTERN}|{BIC_PATTERN}", min_digits=0)


#: Words naming any identifier family: other kinds (phones, ISBNs) take them as negative context.
ID_FAMILY_WORDS = tuple(sorted({w for words in _FAMILY_WORDS.values() for w in words} - _NOT_RIVAL
                               - {"social", "personal", "insurance", "share", "stock"}))
