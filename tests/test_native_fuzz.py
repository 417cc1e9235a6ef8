"""Fuzzing the Rust core through its Python boundary: no panic, crash or hang crosses into Python.

Every entry point of ``factsep._native`` gets arbitrary input from hypothesis (any code point,
lone surrogates, NUL, bytes that are not UTF-8, wrong types) and must return a well-formed result
or raise a Python exception naming the problem; the native context reader must still give the
reference reader's answer. ``native/tests/fuzz.rs`` fuzzes the same entry points below the
boundary (``cargo test``); ``.ci/run`` runs both within a bounded time.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsep.detection import candidates
from factsep.detection import context as context_module
from factsep.detection.candidates import COVER_PATTERN, SLICE
from factsep.detection.context import ContextReader

_native = candidates._native
pytestmark = pytest.mark.skipif(_native is None or context_module._native is None,
                                reason="factsep._native is not built: pip install -e . builds it")

CHECKS = ("luhn", "iban_mod97", "isbn", "issn", "uuid_version", "ip_version", "hex", "email", "bitcoin",
          "base58check", "bech32")

# any code point, lone surrogates included, weighted towards what the core reads
texts = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=300),
    st.text(alphabet="0123456789 -.@:/+()#xXabcbc1qé中\u2013\x00\n\ud800", max_size=300),
)
items = st.one_of(texts, st.binary(max_size=300))
fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def chars(item: str | bytes) -> int:
    """Code points, as the core counts them in bytes it was handed (every byte but a continuation byte)."""
    return len(item) if isinstance(item, str) else sum(b & 0xC0 != 0x80 for b in item)


@fuzz
@given(st.lists(items, max_size=5))
def test_cover_scan_takes_anything(batch: list[str | bytes]) -> None:
    scanner = _native.CoverScanner(COVER_PATTERN, SLICE, 128)
    doc, start, end, n = scanner.scan(batch)
    docs, starts, ends = (struct.unpack(f"={n}i", b) for b in (doc, start, end))
    for d, s, e in zip(docs, starts, ends):
        assert 0 <= d < len(batch) and 0 <= s < e <= chars(batch[d])


@fuzz
@given(st.lists(items, max_size=8), st.sampled_from(CHECKS))
def test_checks_take_anything(values: list[str | bytes], name: str) -> None:
    try:
        verdicts = _native.check(name, values)
    except ValueError:  # a str that cannot be held
        return
    assert len(verdicts) == len(values)


def test_bad_types_raise_python_errors() -> None:
    with pytest.raises(ValueError, match="str or bytes"):
        _native.check("luhn", [1])
    with pytest.raises(ValueError, match="unknown check"):
        _native.check("nope", ["1"])
    with pytest.raises(ValueError, match="empty"):
        _native.ContextAutomaton([""], [[0]], [[[0]]])
    with pytest.raises(ValueError, match="pattern 5"):
        _native.ContextAutomaton(["a"], [[0]], [[[5]]])
    with pytest.raises(RuntimeError, match="panicked"):
        _native._panic_for_test()


@fuzz
@given(texts, texts)
def test_context_automaton_takes_anything(left: str, right: str) -> None:
    reader = ContextReader(native=True)
    assert reader.native is not None
    hits = reader.native.window(left, right)
    if hits is None:  # not ASCII (a lone surrogate included): the reference path reads it
        assert not (left + right).isascii()
        return
    words, runs, _ = hits
    assert all(0 <= w < len(reader.native.ids) for w in words)
    assert all(0 <= s < e <= len(left) + 3 + len(right) for s, e in zip(runs[::2], runs[1::2]))


@fuzz
@given(texts, st.integers(0, 300), st.integers(1, 30))
def test_native_reader_matches_the_reference_on_anything(text: str, at: int, width: int) -> None:
    start = min(at, len(text))
    end = min(start + width, len(text))
    words = (("phone", "tel", "tel:", "e-mail", "date of birth", "isbn-10", "电话"), ("v", "$", "pages", "company"))
    want = ContextReader(native=False).read(text, start, end, *words)
    assert ContextReader(native=True).read(text, start, end, *words) == want
