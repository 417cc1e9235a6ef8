"""UUIDs, hex digests, secrets and API keys, crypto addresses and VINs.

bits: a UUID4 carries 122 random bits, other UUIDs 62 (time-based ones are mostly predictable);
a hex digest 4 bits a character; a secret its random part by character classes; a Bitcoin or
Ethereum address the 160-bit hash it encodes; a VIN its model year, plant and six-digit serial (30).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from stdnum import bitcoin as stdnum_bitcoin

from factsep.detection.scoring import validator_weight
from factsep.kinds.base import Kind, Validation, charset_bits, register

_HEX = "[0-9a-fA-F]"
_GUID = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"


def _unwrap(value: str) -> str:
    """The GUID inside its usual wrappers: braces, a URN, or an SQL binary literal (X'...')."""
    if value[:2] in ("X'", "x'") and value.endswith("'"):
        return value[2:-1]
    return value.removeprefix("urn:uuid:").strip("{}")


def validate_uuid(value: str, opts: Mapping[str, Any]) -> Validation | None:
    try:
        u = uuid.UUID(_unwrap(value))
    except ValueError:
        return None
    if u.int == 0 or len(set(u.hex)) <= 2:
        return None
    return Validation(normalized=str(u), subtype=f"v{u.version}" if u.version else None, validated=True)


UUID = register(Kind(
    name="uuid",
    # the wrappers are part of the written GUID: "{...}", "urn:uuid:...", SQL's X'...'
    pattern=(rf"(?:urn:uuid:)?\{{?\b{_GUID}\b\}}?|\{{{_HEX}{{32}}\}}|\b[xX]'(?:{_GUID}|{_HEX}{{32}})'"),
    validate=validate_uuid,
    bits=lambda normalized: 122.0 if normalized[14] == "4" else 62.0,
    bits_rule="UUID4: 122 random bits; other versions: 62 (timestamps and node ids are guessable)",
    context=("uuid", "guid", "id", "request", "trace", "session", "key"),
    prior=0.95,
    specificity=90,
    example="3f2b8c1e-9d4a-4e6b-8a7c-2d1e0f9b5a43",
    description="UUIDs / GUIDs (stdlib uuid)",
    min_len=34,
))

#: 16 characters: a 64-bit hash or id (xxHash, SipHash, a long OpenPGP key id, a trace id). Bare hex
#: of that length is a hash far more often than one of the formats of its shape (ISAN, EIC).
_DIGEST_LENGTHS = {16: "hex64", 32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384",
                   128: "sha512"}
#: The hex alphabet in its order, twice: a value that is a run of it ("0123456789abcdef",
#: "456789abcdef0123") is the alphabet written out in code, not a digest.
_HEX_RUN = "0123456789abcdef" * 2


def validate_hex(value: str, opts: Mapping[str, Any]) -> Validation | None:
    subtype = _DIGEST_LENGTHS.get(len(value))
    # a digest's characters are drawn at random: 16 of them show fewer than 7 distinct ones 0.1% of
    # the time, 32 fewer than 8 almost never
    fewest = 7 if len(value) == 16 else 8
    if subtype is None or value.isdigit() or value.isalpha() or len(set(value.lower())) < fewest:
        return None
    if not (value.islower() or value.isupper() or value.isdigit()):
        return None
    if value.lower() in _HEX_RUN or _hex_of_text(value):
        return None
    return Validation(normalized=value.lower(), subtype=subtype, validated=True)


def _hex_of_text(value: str) -> bool:
    """Hex that spells printable ASCII is encoded text (a URL in a camo link, a string in a dump),
    not a digest: 8 random bytes are all printable 0.04% of the time, 16 bytes almost never."""
    data = bytes.fromhex(value)
    return all(0x20 <= b < 0x7F or b in (0x09, 0x0A, 0x0D) for b in data)


HEX_DIGEST = register(Kind(
    name="hex_digest",
    pattern=rf"\b{_HEX}{{16,128}}\b",
    validate=validate_hex,
    bits=lambda normalized: 4.0 * len(normalized),
    bits_rule="4 bits per hex character",
    context=("sha", "sha1", "sha256", "md5", "hash", "digest", "checksum", "commit", "sum", "fingerprint", "key"),
    prior=0.85,
    specificity=60,
    example="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    description="hex digests of common hash lengths (64-bit ids, MD5 to SHA-512)",
    min_len=16,
))

# Well-known key prefixes: (subtype, regex of the whole key).
SECRET_FORMATS = (
    ("aws_access_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,251}\b"),
    ("github_pat", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    ("slack_token", r"\bxox[abprs]-[A-Za-z0-9\-]{10,72}\b"),
    ("stripe_key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,99}\b"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    ("openai_key", r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{20,164}\b"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,600}\.eyJ[A-Za-z0-9_\-]{8,600}\.[A-Za-z0-9_\-]{8,600}"),
)
_PREFIXES = ("AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "sk_live_",
             "sk_test_", "rk_live_", "rk_test_", "AIza", "sk-", "eyJ")


def validate_secret(value: str, opts: Mapping[str, Any]) -> Validation | None:
    import re

    for subtype, rx in SECRET_FORMATS:
        if re.fullmatch(rx, value):
            return Validation(normalized=value, subtype=subtype, validated=True)
    return None


def secret_bits(normalized: str) -> float:
    for prefix in _PREFIXES:
        if normalized.startswith(prefix):
            normalized = normalized[len(prefix):]
            break
    return min(charset_bits(normalized), 256.0)


SECRET = register(Kind(
    name="secret",
    pattern="|".join(rx for _, rx in SECRET_FORMATS),
    validate=validate_secret,
    bits=secret_bits,
    bits_rule="the part after the vendor prefix: length * log2(alphabet of its classes), at most 256",
    context=("key", "token", "secret", "api", "password", "credential", "auth", "bearer"),
    negative=("example", "placeholder", "xxxx"),
    prior=0.9,
    specificity=88,
    example="AKIAIOSFODNN7EXAMPLE",
    description="API keys and tokens with a known vendor prefix, and JWTs",
    min_len=20,
))


def validate_crypto(value: str, opts: Mapping[str, Any]) -> Validation | None:
    if value.lower().startswith("0x"):
        body = value[2:]
        if len(body) == 40 and len(set(body.lower())) > 4:
            return Validation(normalized=value.lower(), subtype="ethereum", validated=True,
                              strength=validator_weight("secrets", "ethereum"))
        return None
    try:
        norm = stdnum_bitcoin.validate(value)
    except Exception:
        return None
    return Validation(normalized=norm, subtype="bitcoin", validated=True, checksum=True)


CRYPTO = register(Kind(
    name="crypto_address",
    pattern=(r"\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b|\b(?:bc1|BC1)[02-9AC-HJ-NP-Zac-hj-np-z]{8,87}\b"
             r"|\b0x[0-9a-fA-F]{40}\b"),
    validate=validate_crypto,
    bits=lambda normalized: 160.0,
    bits_rule="the 160-bit public key hash the address encodes",
    context=("bitcoin", "btc", "wallet", "address", "ethereum", "eth", "send", "crypto", "pay"),
    prior=0.9,
    specificity=85,
    example="1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    description="Bitcoin (python-stdnum bitcoin, base58check and bech32) and Ethereum addresses",
    min_len=14,
))

_VIN_VALUES = {**{str(i): i for i in range(10)},
               **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10)))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """ISO 3779 / FMVSS 115 check digit (position 9); python-stdnum has no VIN module."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS))
    r = total % 11
    return "X" if r == 10 else str(r)


def validate_vin(value: str, opts: Mapping[str, Any]) -> Validation | None:
    v = value.upper()
    if len(v) != 17 or any(c in "IOQ" for c in v) or v.isdigit() or v.isalpha():
        return None
    if sum(c.isdigit() for c in v[-4:]) < 4:
        return None
    checksum = vin_check_digit(v) == v[8]
    return Validation(normalized=v, subtype="north_america" if checksum else None, validated=True,
                      checksum=checksum, strength=0.0 if checksum else validator_weight("secrets", "vin_no_checksum"))


VIN = register(Kind(
    name="vin",
    pattern=r"\b[A-HJ-NPR-Z0-9]{17}\b",
    validate=validate_vin,
    bits=lambda normalized: math.log2(33) * 2 + 6 * math.log2(10),
    bits_rule="model year and plant (2 chars of 33) + 6-digit serial: 30 bits; make and model are guessable",
    context=("vin", "vehicle", "chassis", "car", "frame", "registration", "truck"),
    prior=0.7,
    specificity=78,
    example="1M8GDM9AXKP042788",
    description="vehicle identification numbers (ISO 3779 check digit)",
    min_len=17,
    min_digits=4,
))
