"""The Rust e-mail, Base58Check and bech32 checks against the Python validators the kinds use.

``email`` must agree with ``factsep.kinds.network.validate_email``, ``bitcoin`` with
``stdnum.bitcoin.is_valid`` (Base58Check P2PKH/P2SH, bech32 segwit), ``base58check`` with
stdnum's ``b58decode`` and a double SHA-256, and ``bech32`` with BIP 173 / BIP 350 written here over
stdnum's checksum: verdict for verdict on generated valid values and their mutations.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import bitcoin

from factsep.detection import candidates
from factsep.kinds.network import validate_email

pytestmark = pytest.mark.skipif(candidates._native is None or not hasattr(candidates._native, "ContextAutomaton"),
                                reason="factsep._native is not built (or older than these checks)")

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def native(name: str, values: list[str]) -> list[int]:
    out = candidates._native.check(name, values)  # type: ignore[union-attr]
    return [b - 256 if b > 127 else b for b in out]


def b58encode(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + s


def with_check(payload: bytes) -> bytes:
    return payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def bech32_encode(hrp: str, data: list[int], const: int) -> str:
    values = bitcoin._expand_hrp(hrp) + data
    poly = bitcoin.bech32_checksum(values + [0] * 6) ^ const
    return hrp + "1" + "".join(B32[d] for d in data + [(poly >> 5 * (5 - i)) & 31 for i in range(6)])


def to_5bit(raw: bytes) -> list[int]:
    acc, bits, out = 0, 0, []
    for b in raw:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def bech32_reference(value: str) -> int:
    """BIP 173 decoding with BIP 350's second constant: 1 bech32, 2 bech32m, 0 invalid."""
    if len(value) > 90 or any(not 33 <= ord(c) <= 126 for c in value):
        return 0
    if value.lower() != value and value.upper() != value:
        return 0
    low = value.lower()
    sep = low.rfind("1")
    if sep < 1 or len(low) - sep - 1 < 6 or any(c not in B32 for c in low[sep + 1:]):
        return 0
    poly = bitcoin.bech32_checksum(bitcoin._expand_hrp(low[:sep]) + [B32.index(c) for c in low[sep + 1:]])
    return {1: 1, 0x2BC830A3: 2}.get(poly, 0)


def base58check_reference(value: str) -> int:
    if not value or any(c not in B58 for c in value):
        return 0
    raw = bitcoin.b58decode(value)
    return int(len(raw) > 4 and hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4] == raw[-4:])


def mutations(value: str, rng: random.Random, alphabet: str) -> list[str]:
    out = [value, value.upper(), value.lower(), value[:-1], value[1:], " " + value + " ", value + "\n",
           value[:5] + " " + value[5:], value + rng.choice(alphabet)]
    for _ in range(6):
        i = rng.randrange(len(value))
        out.append(value[:i] + rng.choice(alphabet) + value[i + 1:])
        j = rng.randrange(len(value))
        chars = list(value)
        chars[i], chars[j] = chars[j], chars[i]
        out.append("".join(chars))
    return out


def addresses(rng: random.Random) -> list[str]:
    values = []
    for _ in range(150):
        values.append(b58encode(with_check(bytes([rng.choice((0, 5))]) + rng.randbytes(20))))
        version = rng.choice((0, 0, 1, 16, 17))
        program = rng.randbytes(rng.choice((20, 32, 2, 40, 1, 41, 25)))
        values.append(bech32_encode("bc", [version] + to_5bit(program), rng.choice((1, 0x2BC830A3))))
        values.append(b58encode(with_check(rng.randbytes(rng.randrange(0, 40)))))
        values.append(bech32_encode(rng.choice(("tb", "bc", "a", "x1y")), to_5bit(rng.randbytes(rng.randrange(0, 30))),
                                    rng.choice((1, 0x2BC830A3))))
    return values


def test_bitcoin_base58check_and_bech32_match_their_references() -> None:
    rng = random.Random(11)
    values = [m for v in addresses(rng) for m in mutations(v, rng, B58 + B32 + "0OIl")]
    values += ["", "1", "11111", "3", "bc1", "bc1qqqqqqqq", "1" * 30, "BC1Q" + "q" * 40]
    assert len(values) > 5000
    assert sum(bitcoin.is_valid(v) for v in values) > 300  # the valid ones are there too
    assert native("bitcoin", values) == [int(bitcoin.is_valid(v)) for v in values]
    assert native("base58check", values) == [base58check_reference(v) for v in values]
    assert native("bech32", values) == [bech32_reference(v) for v in values]


_EMAIL_CHARS = "abcXYZ019._%+-@\n"


@settings(max_examples=600, deadline=None)
@given(st.lists(st.text(alphabet=_EMAIL_CHARS, max_size=30), min_size=1, max_size=20))
def test_email_matches_validate_email(values: list[str]) -> None:
    assert native("email", values) == [int(validate_email(v, {}) is not None) for v in values]


def test_email_matches_on_generated_addresses() -> None:
    rng = random.Random(5)
    values = []
    for _ in range(400):
        local = "".join(rng.choice("abcdefxyz0189._%+-") for _ in range(rng.randint(1, 70)))
        labels = ["".join(rng.choice("abcz09-") for _ in range(rng.randint(1, 66))) for _ in range(rng.randint(1, 4))]
        labels.append(rng.choice(("org", "com", "de", "c0m", "x")))
        value = f"{local}@{'.'.join(labels)}"
        values += mutations(value, rng, _EMAIL_CHARS)
    values += ["jane.doe@example.org", "a@b.co", "a@b.c\n", "a\n@b.co", "a@b\n.co", "@b.co", "a@", "a@b", "a@@b.co"]
    want = [int(validate_email(v, {}) is not None) for v in values]
    assert sum(want) > 200
    assert native("email", values) == want
