"""The core's label and denial signals (factsep._native.ValueSignals) against the Python rules.

``Detector._native_words`` must give what ``Detector._label`` and ``ContextReader.denies`` (the
reference) give, for every kind at every candidate of every evaluation set, the samples, the
multilingual sentences and 2 MB of Debian changelogs, and on generated text dense in label words,
denial cues, sentence ends and the characters where ASCII and Unicode rules part; and the detector
must give the same spans with ``FACTSEP_SIGNALS_ENGINE=python``. Skipped only when the extension is
not built (a worktree on PYTHONPATH): CI builds it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factsep import Detector
from factsep.detection import detector as detector_module
from factsep.detection.detector import NATIVE_SIGNALS_ASSUME, _native_signals_hold

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path("/work/shared/eval")
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

pytestmark = pytest.mark.skipif(detector_module._native is None
                                or not hasattr(detector_module._native, "ValueSignals"),
                                reason="factsep._native is not built (or older than signals.rs): pip install -e .")

_DETECTOR: Detector | None = None


def detector() -> Detector:
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = Detector()
    return _DETECTOR


def test_the_core_mirrors_these_rules() -> None:
    """The constants and sentence ends signals.rs takes as given are still the Python rules'."""
    assert _native_signals_hold(), f"the Python rules moved from what signals.rs mirrors: {NATIVE_SIGNALS_ASSUME}"
    d = detector()
    assert d._signals is not None
    assert set(d._signal_ids) == {k.name for k in d.kinds}  # every declared kind on the core


def compare(d: Detector, text: str, start: int, end: int) -> tuple[int, int]:
    """Every kind's (label, denied) at ``text[start:end]`` on both paths; returns (asked, answered
    by the core without the Python path)."""
    asked = answered = 0
    doc = detector_module._native.numeral_text(text)
    for kind in d.kinds:
        phrases = d._phrases_of(kind)
        ids = d._signal_ids[kind.name]
        want = (d._label(text, start, phrases), d.context.denies(text, start, end, phrases.denial))
        got = d._native_words(text, start, end, phrases, ids)
        assert got == want, (kind.name, start, end, text[max(0, start - 80):end + 80])
        asked += 1
        if doc is not None and d._signals.label(doc, start, ids[0], ids[1]) != -2 \
                and (ids[2] < 0 or d._signals.denies(doc, start, end, ids[2]) != -1):
            answered += 1
    return asked, answered


def assert_same_signals(docs: list[str]) -> tuple[int, int]:
    """Both paths at every cover candidate (and the candidate one character shorter each side)."""
    d = detector()
    asked = answered = 0
    for i in range(0, len(docs), 256):
        batch = docs[i:i + 256]
        for cand in d.engine.find(batch):
            text = batch[cand.doc]
            spans = {(cand.start, cand.end)}
            if cand.end - cand.start > 2:
                spans.add((cand.start + 1, cand.end - 1))
            for s, e in spans:
                a, n = compare(d, text, s, e)
                asked += a
                answered += n
    return asked, answered


def spans_of(d: Detector, docs: list[str]) -> list[list[tuple[Any, ...]]]:
    out = []
    for i in range(0, len(docs), 256):
        out.extend([(s.start, s.end, s.kind, s.subtype, s.confidence, s.decision, s.detector) for s in spans]
                   for spans in d.detect_batch(docs[i:i + 256]))
    return out


def assert_same_spans(docs: list[str]) -> None:
    native = Detector()
    assert native._signals is not None
    reference = Detector()
    reference._signals = None  # what FACTSEP_SIGNALS_ENGINE=python gives
    assert spans_of(native, docs) == spans_of(reference, docs)


def eval_docs() -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    for path in sorted(EVAL.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        sets[path.name] = [str(r.get("text") or r.get("value") or "") for r in rows]
    return sets


def test_same_signals_on_every_eval_set() -> None:
    sets = eval_docs()
    assert sets, f"no evaluation sets under {EVAL}"
    for name, docs in sets.items():
        asked, answered = assert_same_signals(docs)
        assert asked > 0, name
        assert_same_spans(docs)


def test_same_signals_on_samples() -> None:
    from native_support import sample_docs

    docs = sample_docs()
    asked, answered = assert_same_signals(docs)
    assert answered > asked // 2  # the core, not the fallback, answered most
    assert_same_spans(docs)


def test_same_signals_on_multilingual_sentences() -> None:
    from realtext_multilingual import docs

    texts = [d.text for d in docs()]
    asked, _ = assert_same_signals(texts)
    assert asked > 100
    assert_same_spans(texts)


def test_same_signals_on_real_changelogs() -> None:
    from speed import changelog_docs

    try:
        docs = changelog_docs(2.0)
    except SystemExit:
        pytest.skip("no Debian changelogs on this machine")
    asked, answered = assert_same_signals(docs)
    assert answered > asked * 0.8
    assert_same_spans(docs)


# Text dense in what the signals turn on: label words of several kinds and their tails, denial cues,
# sentence ends, word characters that glue, the white space Python's \s has and the regex crate's
# lacks, and characters that are not ASCII (letters, CJK cues, the Kelvin sign and dotless i whose
# case forms are ASCII).
_PIECES = ["phone", "Phone", "PHONES", "tel", "Tel.", "fax", "Fax", "e-mail", "email", "mail", "isbn", "ISBN",
           "vat", "VAT", "tax", "iban", "card", "number", "no.", "nr", "No", "#", ":", "is not", "isn't", "is not a",
           "invalid", "not a valid", "doesn't look like", "wrong", "fake", "不是", "不像", "n'est pas", "ist kein",
           "não é", "x", "_", "9", "s", "es", ".", "!", "?", ";", "\n", " ", " ", " ", "  ", "\t", "\x1c", "\x0b",
           "é", "中", "\u212a", "\u0131", "\u0130", "ſ", "电话", "。", "-", "/"]


@st.composite
def texts(draw: st.DrawFn) -> tuple[str, int, int]:
    parts = draw(st.lists(st.sampled_from(_PIECES), max_size=60))
    text = "".join(parts)
    value = draw(st.sampled_from(["4111 1111 1111 1111", "617-253-1000", "a@b.co", "DE89370400440532013000"]))
    cut = draw(st.integers(0, len(text)))
    return text[:cut] + value + text[cut:], cut, cut + len(value)


@settings(max_examples=600, deadline=None)
@given(texts())
def test_same_signals_on_generated_text(case: tuple[str, int, int]) -> None:
    text, start, end = case
    compare(detector(), text, start, end)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES + list("abcdefghijklmnopqrstuvwxyz0123456789")), max_size=80),
       st.integers(0, 400), st.integers(0, 40))
def test_same_signals_at_arbitrary_spans(parts: list[str], start: int, length: int) -> None:
    text = "".join(parts)
    start = min(start, len(text))
    compare(detector(), text, start, min(start + length, len(text)))


def test_offsets_outside_the_text_are_no_panic() -> None:
    d = detector()
    doc = detector_module._native.numeral_text("tel: 12")
    assert d._signals.denies(doc, 5, 99, 0) == -1
    assert d._signals.label(doc, 99, 0, -1) == -2
    assert d._signals.denies(doc, 6, 5, 0) == -1
    with pytest.raises(ValueError):
        detector_module._native.ValueSignals("(", r"\s*$", [], [])


def test_hostile_text_stays_linear() -> None:
    """A megabyte of label words and denial cues: one call a value reads a bounded window."""
    d = detector()
    text = "is not a phone: " * 65536
    doc = detector_module._native.numeral_text(text)
    ids = d._signal_ids["phone_number"]
    for start in range(16, len(text), len(text) // 64):
        assert d._signals.denies(doc, start, start + 3, ids[2]) in (0, 1)
        assert d._signals.label(doc, start, ids[0], ids[1]) in (-1, 0, 1)


def test_python_flag_keeps_the_reference_path() -> None:
    code = "from factsep import Detector; print(Detector()._signals is None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "FACTSEP_SIGNALS_ENGINE": "python", "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "True"
