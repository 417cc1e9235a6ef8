"""The Rust context automaton (factsep._native.ContextAutomaton) against the Python reader.

The native path of :class:`ContextReader` must give the reference path's answer for every read the
detector makes: the same context hits and the same ``may_mention`` verdicts, and so the same spans,
on every evaluation set, the samples, multilingual sentences and 2 MB of Debian changelogs; and on
generated windows dense in context words, glue, phrases and plural forms. Skipped only when the
extension is not built (a worktree on PYTHONPATH): CI builds it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factsep import Detector
from factsep.detection import context as context_module
from factsep.detection.context import ContextReader, NativeWords, declared_words

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path("/work/shared/eval")
sys.path.insert(0, str(ROOT / "bench"))

pytestmark = pytest.mark.skipif(context_module._native is None,
                                reason="factsep._native is not built: pip install -e . builds it")

Call = tuple[Any, ...]


@contextmanager
def recording(calls: list[Call]) -> Iterator[None]:
    """Every read and may_mention the detector makes, with its arguments."""
    read, may = ContextReader.read, ContextReader.may_mention

    def rec_read(self: ContextReader, text: str, start: int, end: int, pos: Any, neg: Any) -> Any:
        pos, neg = tuple(pos), tuple(neg)
        calls.append(("read", text, start, end, pos, neg))
        return read(self, text, start, end, pos, neg)

    def rec_may(self: ContextReader, text: str, start: int, end: int, words: tuple[str, ...]) -> bool:
        calls.append(("may", text, start, end, words))
        return may(self, text, start, end, words)

    ContextReader.read, ContextReader.may_mention = rec_read, rec_may  # type: ignore[method-assign]
    try:
        yield
    finally:
        ContextReader.read, ContextReader.may_mention = read, may  # type: ignore[method-assign]


def replay(reader: ContextReader, calls: list[Call]) -> list[Any]:
    return [reader.read(*c[1:]) if c[0] == "read" else reader.may_mention(*c[1:]) for c in calls]


def spans_of(detector: Detector, docs: list[str]) -> list[list[tuple[Any, ...]]]:
    out = []
    for i in range(0, len(docs), 256):
        out.extend([(s.start, s.end, s.kind, s.subtype, s.confidence, s.decision) for s in spans]
                   for spans in detector.detect_batch(docs[i:i + 256]))
    return out


def assert_same_context(docs: list[str]) -> tuple[int, int]:
    """Same spans with and without the automaton, and the same answer to every context read.
    Returns (reads, windows the automaton answered)."""
    detector = Detector()
    assert detector.context.native is not None
    calls: list[Call] = []
    with recording(calls):
        native_spans = spans_of(detector, docs)
    detector.context = ContextReader(detector.config.spacy_model, detector.config.context_window, native=False)
    assert spans_of(detector, docs) == native_spans
    reference = replay(ContextReader(native=False), calls)
    reader = ContextReader(native=True)
    answered = 0
    window = reader.native.window  # type: ignore[union-attr]

    def counting(left: str, right: str) -> Any:
        nonlocal answered
        hits = window(left, right)
        answered += hits is not None
        return hits

    reader.native.window = counting  # type: ignore[union-attr,method-assign]
    native = replay(reader, calls)
    diffs = [(c[0], c[2:], r, n) for c, r, n in zip(calls, reference, native) if r != n]
    assert not diffs, f"{len(diffs)} of {len(calls)} reads differ, first: {diffs[:3]}"
    return len(calls), answered


def eval_docs() -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    for path in sorted(EVAL.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        sets[path.name] = [str(r.get("text") or r.get("value") or "") for r in rows]
    return sets


def test_same_context_on_every_eval_set() -> None:
    sets = eval_docs()
    assert sets, f"no evaluation sets under {EVAL}"
    for name, docs in sets.items():
        reads, answered = assert_same_context(docs)
        assert reads > 0, name


def test_same_context_on_samples() -> None:
    from test_native import sample_docs

    reads, answered = assert_same_context(sample_docs())
    assert answered > 100


def test_same_context_on_multilingual_sentences() -> None:
    from realtext_multilingual import docs

    reads, _ = assert_same_context([d.text for d in docs()])
    assert reads > 100


def test_same_context_on_real_changelogs() -> None:
    from speed import changelog_docs

    try:
        docs = changelog_docs(2.0)
    except SystemExit:
        pytest.skip("no Debian changelogs on this machine")
    reads, answered = assert_same_context(docs)
    assert answered > 1000  # the automaton, not the fallback, answered most windows


def test_declared_words_are_in_the_automaton() -> None:
    words = NativeWords(declared_words())
    assert {"phone", "isbn", "date of birth", "e-mail"} <= set(words.ids)
    # a word list of declared words needs no rebuild
    assert words.ids_of(("phone", "tel:", "isbn-10")) is not None and words.rebuilds == 0


# Windows dense in what the matching turns on: declared words (plurals, possessives, glue, case),
# phrases and their pieces, punctuation that spaCy splits or keeps.
_WORDS = ["phone", "phones", "Phone's", "tel", "tel:", "TEL.", "isbn", "isbn-10", "ISBN-13", "e-mail",
          "e", "mail", "-", "v", "number", "v-number", "date", "of", "birth", "dates", "company", "companies",
          "id", "ids", "tax", "vat", "no.", "no", "#", "$", "ss#", "pp.", "pages", "classes", "bus", "status",
          "fax-", "/fax", "(tel)", "x", "123", "4", "ok", "_id", "birthday", "d.o.b", "n°"]
_GLUE = [" ", " ", " ", "  ", "\n", "\t", ":", "-", "/", "(", ")", ",", ".", "'s", "#", "_", "9", "\x1c"]


@st.composite
def windows(draw: st.DrawFn) -> tuple[str, int, int]:
    parts = draw(st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(_GLUE)), max_size=24))
    text = "".join(w + g for w, g in parts)
    value = draw(st.sampled_from(["4111111111111111", "978-0-306-40615-7", "x"]))
    cut = draw(st.integers(0, len(text)))
    text = text[:cut] + value + text[cut:]
    return text, cut, cut + len(value)


_LISTS = [
    (("phone", "tel", "tel:", "fax"), ("pages", "pp.", "$")),
    (("isbn", "isbn-10", "isbn-13", "book"), ("v", "version")),
    (("date of birth", "birth", "dob", "d.o.b"), ("company",)),
    (("v-number", "tax id", "tax code", "company id", "vat"), ("v", "no", "#")),
    (("e-mail", "email", "mail"), ("ss#", "id", "status")),
]


@settings(max_examples=400, deadline=None)
@given(windows(), st.sampled_from(_LISTS))
def test_same_context_on_generated_windows(window: tuple[str, int, int],
                                           words: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    text, start, end = window
    reference, native = ContextReader(native=False), ContextReader(native=True)
    # only the lists' words too: no other declared word makes a run worth tokenizing by chance
    tight = ContextReader(native=True)
    tight.native = NativeWords(w for p, n in _LISTS for w in p + n)
    pos, neg = words
    want = reference.read(text, start, end, pos, neg)
    assert native.read(text, start, end, pos, neg) == want
    assert tight.read(text, start, end, pos, neg) == want
    mentioned = reference.may_mention(text, start, end, pos)
    assert native.may_mention(text, start, end, pos) == mentioned
    assert tight.may_mention(text, start, end, pos) == mentioned


@pytest.mark.parametrize("text", [
    "birth records of companies: 4111111111111111",  # a lemma not written: companies -> company
    "date of  birth 4111111111111111",  # two spaces keep the phrase apart
    "date of birth: 4111111111111111",
    "tax (id) 4111111111111111 and company id",  # a phrase over tokens of several runs
    "vat: tax return code 4111111111111111",  # a run without words still parts a phrase
    "the v-number 4111111111111111",  # a hyphenated word matched as its tokens' phrase
    "call 966-Fax/ 4111111111111111",  # a word glued to a hyphen
    "Phone's 4111111111111111 and TEL: x",
    "_phone 4111111111111111",  # after an underscore no word starts
    "9phone 4111111111111111",  # after a digit one does
    "US$4111111111111111 pp.",
])
def test_same_context_on_written_windows(text: str) -> None:
    start = text.index("4111")
    end = start + 16
    tight = ContextReader(native=True)
    tight.native = NativeWords(w for p, n in _LISTS for w in p + n)
    for pos, neg in _LISTS:
        want = ContextReader(native=False).read(text, start, end, pos, neg)
        assert tight.read(text, start, end, pos, neg) == want
        assert ContextReader(native=True).read(text, start, end, pos, neg) == want


def test_non_ascii_windows_take_the_reference_path() -> None:
    reader = ContextReader(native=True)
    text = "Téléphone: 0612345678, tel 0612345678"
    hit = reader.read(text, 11, 21, ("téléphone", "tel"), ())
    assert hit == ContextReader(native=False).read(text, 11, 21, ("téléphone", "tel"), ())
    assert hit.positive == ("téléphone", "tel")
    assert reader.native is not None and reader.native.window("Téléphone: ", ", tel") is None


def test_named_models_keep_the_python_path() -> None:
    with pytest.raises(RuntimeError, match="blank"):
        ContextReader("en_core_web_sm", native=True)
