"""The native numerals (native/src/numerals.rs) against the Python rules of factsep.detection.numerals.

``references`` and ``not_a_fact`` of the core must give the reference implementation's answer on
every document of the evaluation sets, the samples, the multilingual sentences, real changelogs and
the real-text sample, and on generated and hostile text (Unicode that Python's ``re`` and Rust's
``regex`` read differently: ``ı``/``İ`` under ``(?i)``, combining marks, superscript digits, the
information separators ``str.isspace`` counts). Skipped only when the extension is not built.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import native_support
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
    return tuple(native_support.sample_docs())


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
    "RFC - ", "RFC: ", "EC ", "EC - ", "(EC) No ",
    "ı", "İ", "ſ", "\u212a", "\u00b2", "\u0301", "\u0663\u0664\u0665", "\u0966\u0967\u0968", "\x1c", "\x1f",
    "\u3000", "\u00a0", "\u2028", "\u200d", "\u203f", "Ⅻ", "ⓐ", "\u0345", "getting-started: ",
    ":issue:`", ":bzbug:`", ":gh:`", "`", "!", "!2442", "(!", ", !", "* Bugs fixed:\n", "bugs closed:\n",
    " 775864 775865\n", "https://", "?m=", "&id=", "111352423504277", "12345.", "!=",
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


def test_the_core_is_ported_from_these_rules() -> None:
    """Fails when a rule of numerals.py changed and native/src/numerals.rs has not followed (the
    detector then uses the Python rules): port the change, then set ``RULES`` there to the digest."""
    assert _native.NUMERALS_RULES == numerals.rules_digest(), (
        f"numerals.py's rules (digest {numerals.rules_digest()}) are not the ones the core was ported from "
        f"({_native.NUMERALS_RULES}): port the change to native/src/numerals.rs and set RULES")
    assert numerals.engine() == "native"


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


# ---- not_a_fact ---------------------------------------------------------------------------------------

KINDS = ("generic_id", "phone_number", "date_of_birth", "ip_address", "email_address", "iban", "national_id")
_DEFER = -2


def native_verdict(doc, text: str, start: int, end: int, kind: str) -> str | None:
    """The dispatcher's answer, the core's where it gives one."""
    r = doc.not_a_fact(start, end, kind)
    if r >= 0:
        return _native.NUMERAL_REASONS[r]
    if r == -1:
        return None
    return numerals.not_a_fact_python(text, start, end, kind)


def spans_of(text: str) -> Iterator[tuple[int, int]]:
    """The candidates of the cover pass, and each cut by one character at either end (readings of a
    candidate are pieces of it)."""

    for c in _cover().find([text]):
        yield c.start, c.end
        if c.end - c.start > 2:
            yield c.start + 1, c.end
            yield c.start, c.end - 1


@cache
def _cover():
    from factsep.detection.candidates import CandidateEngine

    return CandidateEngine([])


def assert_same_verdicts(docs: list[str], kinds: tuple[str, ...] = KINDS) -> tuple[int, int, int]:
    """(values compared, reasons given, deferred to Python)."""
    n = reasons = deferred = 0
    for i, text in enumerate(docs):
        doc = _native.numeral_text(text)
        assert doc is not None
        for start, end in spans_of(text):
            for kind in kinds:
                want = numerals.not_a_fact_python(text, start, end, kind)
                got = native_verdict(doc, text, start, end, kind)
                assert got == want, (f"doc {i} [{start}:{end}] {text[start:end]!r} as {kind}: core {got!r}, "
                                     f"Python {want!r}; before {text[max(0, start - 40):start]!r}, "
                                     f"after {text[end:end + 40]!r}")
                n += 1
                reasons += want is not None
                # every span is tried as an IP address here (values with ':' go to Python's ipaddress)
                deferred += kind != "ip_address" and doc.not_a_fact(start, end, kind) == _DEFER
    return n, reasons, deferred


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_same_verdicts_on_every_corpus(name: str) -> None:
    docs = list(CORPORA[name]())
    if not docs:
        pytest.skip(f"no {name} documents on this machine")
    if name in ("changelogs", "realtext"):
        docs = docs[: len(docs) // 4]  # a quarter: every rule fires there, in a test's time
    n, reasons, deferred = assert_same_verdicts(docs)
    assert n > 0 and reasons > 0
    assert deferred <= max(0.001 * n, 20)  # digits int() refuses only


VALUES = [
    "2013, 2014, 2017", "1996-1999, 2000-2003", "1984,2000 S", "20200714", "26 2006", "13/2019", "2019Q3",
    "H1 2020", "12 +0200", "0x1f", "1.2.5.1-1", "52.227.19", "2.5.4.3", "10.1.1.1", "1.2.3.4", "127.0.0.1",
    "255.255.255.0", "192.168.1.20", "8.8.8.8", "2001:db8::1", "::1", "0.9583 0.8563", "108013.434",
    "1 0 0 0 0 0 1 1 1", "0-25689", "12345", "12345-6789", "227.7202-4", "5533", "12 34", "355/113",
    "4111 1111 1111 1111", "+49 30 123456", "02-687531", "20171227-0.1", "461.5, 590", "16, 37, 0, 900000",
    "11,12,13", "a1b2c3", "00ff00", "abc", "123", "1.0~rc1", "2.0+dfsg", "SP800", "RFC 4491", "12345678",
    "2010-202x", "1990 - 199X", "8859-1", "3.36.0 - 2020-03-08", "2.4.1 (2019-11-02)", "2.50.5", "350 -200",
    "041 117 132", "94079, 1090", "10.8.0.1", "192.168.0.1", "172.16.5.4", "2.30.1.2",
    "2024910556", "at-spi2-atk", "us-east-1", "no-tr64",
    "199912312359", "19991231235959", "311299", "241-508-4", "QUMA830214L59", "٢٠٢٠٠٧١٤", "²⁰²⁰0714", "12²", "x@y.org",
]
CONTEXT = [
    "", " ", "\n", "  ", "(", ")", "[", "]", ",", ", ", "#", "~", "-", "\u2212", "/", "a/", ":", "1:", ":3",
    "*", "..", "…", "version ", "Version: ", "v", "versión ", "バージョン", "upgraded to ", "policy ",
    "Standards-Version: ", ">= ", "(= ", "RFC ", "RFCs ", "ISO ", "section ", "§", "a§ ", "Table ", "No. ",
    "C.F.R. 1.2 through ", "48 C.F.R. ", "pkg (", ") unstable; urgency=medium", "foo (1.2.5.1-1) unstable; urgency=low",
    "CA ", "TX, ", "zip ", "Zİp: ", "example ", "e.g. >>> ", ">>> ", "... ", "\n>>> x\n", "is about 3.14",
    " = 3.1415929", " Main Street", " Rue de la Gare", " Hauptstraße", "Apt. ", "Suite #", " Οδός", "-fix",
    "-AMD", " at example.org", "-g56c6", "/s00453", "R", "ákóczi", ".O.", "P", "中", "ip ", "address ",
    "IP: ", "host ", "oid ", "OID=", "commonName=", "Linux ", "SP800-38D ", "+1", "~1", "-1", "-a", "1",
    "0x", "user", "@", "/path", "/b@y.org", "iso_", "iso-", "ISO-", " - 2020-03-08", " (2019-11-02)",
    "\n=====\n", "\n-----", "<anchor ", "<anchor 350 ", "\n041 117 132\n", "\n133 112 255\n", " 776306 775808\n",
    "P.O. Box ", " netmask 255.255.255.0", "inet ", " 255.255.0.0", "numbers like ", "Values such as ",
    "integers e.g., ", "inputs e.g.\n",
    "RFC - ", "RFC: ", "EC ", "EC - ", "(EC) No ",
    "ı", "İ", "ſ", "\u0301", "\u00b2", "\x1c", "\u3000", "\t",
]


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(CONTEXT), max_size=4).map("".join),
       st.one_of(st.sampled_from(VALUES), st.text(st.sampled_from("0123456789 .,-/:+~()abcxX²٣"), min_size=1,
                                                   max_size=14)),
       st.lists(st.sampled_from(CONTEXT), max_size=4).map("".join),
       st.sampled_from(KINDS))
def test_same_verdicts_on_generated_text(before: str, value: str, after: str, kind: str) -> None:
    text = before + value + after
    assert_same_verdict(text, len(before), len(before) + len(value), kind)


def assert_same_verdict(text: str, start: int, end: int, kind: str) -> None:
    doc = _native.numeral_text(text)
    try:
        want = numerals.not_a_fact_python(text, start, end, kind)
    except ValueError:  # int() of a superscript digit: the core hands these to Python
        assert doc.not_a_fact(start, end, kind) == _DEFER
        return
    assert native_verdict(doc, text, start, end, kind) == want, (text, start, end, kind)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.data())
def test_same_verdicts_on_any_span(text: str, data: st.DataObject) -> None:
    if len(text) < 1:
        return
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    assert_same_verdict(text, start, end, data.draw(st.sampled_from(KINDS)))


@pytest.mark.parametrize("name,text", list(hostile()), ids=[n for n, _ in hostile()])
def test_hostile_input_gives_the_same_verdicts(name: str, text: str) -> None:
    doc = _native.numeral_text(text)
    spans = [(s, e) for s, e in list(spans_of(text))[:300]] + [(0, 10), (len(text) - 10, len(text))]
    for s, e in spans:
        for kind in KINDS:
            assert native_verdict(doc, text, s, e, kind) == numerals.not_a_fact_python(text, s, e, kind)


def test_offsets_outside_the_text_go_to_python() -> None:
    doc = _native.numeral_text("abc 12345")
    assert doc.not_a_fact(4, 99, "generic_id") == _DEFER
    assert doc.not_a_fact(5, 5, "generic_id") == _DEFER
    assert numerals.not_a_fact("abc \ud800 12345", 6, 11, "generic_id") == numerals.not_a_fact_python(
        "abc \ud800 12345", 6, 11, "generic_id")


def test_rules_the_core_was_not_ported_from_keep_the_python_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numerals, "rules_digest", lambda: "0" * 16)
    try:
        with pytest.raises(RuntimeError):
            numerals.set_engine("native")
        assert numerals.engine() == "python"
    finally:
        monkeypatch.undo()
        numerals.set_engine("native")
    assert numerals.engine() == "native"


def test_a_line_of_colour_like_numbers() -> None:
    """Each "#" and three digits asks whether its line speaks of colours: the core reads a line's cues
    once (the Python rules copy the line a match), so a megabyte-long line of them stays linear."""
    for line in ("#123 " * 4000, "#123 #abc " * 2000, "color: #123 " * 2000, "#123 fill #456;" * 1000):
        assert native_refs(line) == numerals.references_python(line)
    big = "#123 " * 200_000
    assert len(native_refs(big)) == 200_000  # the first at the line's start too: a line start is no quote
    assert native_refs(big + "#a1f") == []  # a hex colour with a letter on the line: all colours
