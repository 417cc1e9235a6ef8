"""The native numerals (native/src/numerals.rs) against the Python rules of factsep.detection.numerals.

``references`` and ``not_a_fact`` of the core must give the reference implementation's answer on
every document of the evaluation sets, the samples, the multilingual sentences, real changelogs and
the real-text sample, and on generated and hostile text (Unicode that Python's ``re`` and Rust's
``regex`` read differently: ``ı``/``İ`` under ``(?i)``, combining marks, superscript digits, the
information separators ``str.isspace`` counts). Skipped only when the extension is not built.
"""

from __future__ import annotations

import gzip
import sys
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsep.detection import numerals

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path("/work/shared/eval")
sys.path.insert(0, str(ROOT / "bench"))

try:
    from factsep import _native
except ImportError:  # pragma: no cover - a checkout without a build
    _native = None

pytestmark = pytest.mark.skipif(_native is None or not hasattr(_native, "numeral_references"),
                                reason="factsep._native is not built: pip install -e . builds it")


def native_refs(text: str) -> list[numerals.Reference]:
    found = _native.numeral_references(text)
    assert found is not None
    codes = _native.REFERENCE_CODES
    return [numerals.Reference(s, e, *codes[c], text[s:e]) for s, e, c in found]


def assert_same_refs(docs: list[str]) -> int:
    n = 0
    for i, text in enumerate(docs):
        want = numerals.references_python(text)
        got = native_refs(text)
        assert got == want, f"doc {i}: {sorted(set(got) ^ set(want), key=lambda r: r.start)[:4]}"
        n += len(want)
    return n


# ---- corpora ----------------------------------------------------------------------------------------

@cache
def eval_docs() -> tuple[str, ...]:
    from quality import load_docs

    return tuple(d.text for d in load_docs(EVAL)) if EVAL.exists() else ()


@cache
def sample_docs() -> tuple[str, ...]:
    import pyarrow.parquet as pq

    docs: list[str] = []
    for path in sorted((ROOT / "samples").rglob("*")):
        if path.suffix == ".parquet":
            docs.extend(str(t) for t in pq.read_table(path).column("text").to_pylist())
        elif path.name.endswith(".gz"):
            docs.extend(gzip.open(path, "rt", encoding="utf-8", errors="replace").read().splitlines())
        elif path.is_file():
            docs.append(path.read_text(encoding="utf-8", errors="replace"))
    return tuple(docs)


@cache
def multilingual_docs() -> tuple[str, ...]:
    from realtext_multilingual import docs

    return tuple(d.text for d in docs())


@cache
def changelog_docs() -> tuple[str, ...]:
    from speed import changelog_docs as load

    return tuple(load(2.0))


@cache
def realtext_docs() -> tuple[str, ...]:
    from realtext import build

    return tuple(d.text for d in build())


CORPORA = {"eval": eval_docs, "samples": sample_docs, "multilingual": multilingual_docs,
           "changelogs": changelog_docs, "realtext": realtext_docs}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_same_references_on_every_corpus(name: str) -> None:
    docs = list(CORPORA[name]())
    if not docs:
        pytest.skip(f"no {name} documents on this machine")
    found = assert_same_refs(docs)
    if name in ("changelogs", "realtext"):
        assert found > 100  # the corpora hold references: the comparison compared something


# ---- generated and hostile text -----------------------------------------------------------------------

#: Pieces dense in what the rules read: cues, separators, digits, hex, and the characters where
#: Python's and Rust's regex engines differ unless the port spells them out.
PIECES = [
    "CVE-", "CAN-", "2021", "1999", "-", "#", "#1234", "#123", "#abc", "#ff0000", "1029349", "12345", "4711",
    "Closes: ", "closes", "CLOSES", "close", "closed", "fixes ", "fıx", "FİX", "fix", "see ", "bug", "Bug#", "bugs ",
    "LP", "lp: ", "PR ", "PR", "GH", "BZ", "gh-", "bpo-", "gh-issue-", "c++/", "issue ", "ticket ", "no. ",
    "nr ", "number ", "rhbz", "boo#", "DSA-", "DLA-", "USN-", "GHSA-", "JDK-", "ABC-SA-", "TALOS-", "/issues/",
    "/pull/", "bugs.debian.org/", "show_bug.cgi?id=", "hdl.handle.net/", "handle: ", "handle) ", "10.1000/",
    "commit ", "Commit: ", "upstream ", "cherry-picked from ", "revert ", "since ", "sha1 ", "git ", "hash=",
    "3d7a2d78", "2322fe2", "deadbeef12", "0123456789abcdef0123456789abcdef01234567", "abcdef0", "1a2b3c4d5e6f7",
    "-g", "+git20200101.", "git20200101+", "20200101123456~", "/commit/", "?h=", ";id=", "/tree/", "/blob/",
    "* [", "] ", "  ", "    ", "\t", "\n", "\n\n", " ", ",", ", ", ":", "=", "'", '"', "(", ")", "[", "]", "/",
    ".", "_", "&", "colour", "color: ", "rgb", "style=", "- ", "* ", "\u2022 ", "x", "A", "Z", "é", "中",
    "ı", "İ", "ſ", "\u212a", "\u00b2", "\u0301", "\u0663\u0664\u0665", "\u0966\u0967\u0968", "\x1c", "\x1f",
    "\u3000", "\u00a0", "\u2028", "\u200d", "\u203f", "Ⅻ", "ⓐ", "\u0345", "getting-started: ",
]


def assigned(c: str) -> bool:
    """Characters Python's Unicode data knows (the core's tables are a later Unicode version)."""
    return unicodedata.category(c) not in ("Cn", "Cs")


texts = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=60).map("".join),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(st.characters(codec="utf-8").filter(assigned),
                                                        max_size=4)), max_size=40).map("".join),
    st.text(st.sampled_from("0123456789abcdefCVEPRGH#-:/ \n.,()[]'\"ıİ\u0301\u00b2"), max_size=200),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=1, max_size=4))
def test_same_references_on_generated_text(docs: list[str]) -> None:
    assert_same_refs(docs)


def hostile() -> Iterator[tuple[str, str]]:
    mb = 1_000_000
    yield "digits", "7" * mb
    yield "no spaces", ("Closes:#1234,CVE-2021-1234;commit=3d7a2d78" * (mb // 40))[:mb]
    yield "hash numbers", "#1234 " * (mb // 6)
    yield "bug lines", "12345 fix\n" * (mb // 10)
    yield "at-dots", "@." * (mb // 2)


@pytest.mark.parametrize("name,text", list(hostile()), ids=[n for n, _ in hostile()])
def test_hostile_input_gives_the_same_references(name: str, text: str) -> None:
    assert native_refs(text) == numerals.references_python(text)


def test_lone_surrogates_go_to_the_python_rules() -> None:
    text = "Closes: #123456 \ud800 CVE-2021-12345"
    assert _native.numeral_references(text) is None
    assert numerals.references(text) == numerals.references_python(text)


def test_engine_switch() -> None:
    text = "Closes: #1029349"
    try:
        numerals.set_engine("python")
        assert numerals.engine() == "python"
        want = numerals.references(text)
        numerals.set_engine("native")
        assert numerals.engine() == "native"
        assert numerals.references(text) == want
    finally:
        numerals.set_engine("native")
    with pytest.raises(ValueError):
        numerals.set_engine("fast")
