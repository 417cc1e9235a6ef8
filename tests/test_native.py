"""The Rust core (factsep._native) against its references.

The candidate pass must give the RE2 pass's (doc, start, end) exactly, on every evaluation set, the
samples, real text and generated text; the structural checks must give python-stdnum's, ipaddress's
and uuid's verdict on every generated value; a panic or bad input comes back as a Python exception.
Skipped only when the extension is not built (a worktree on PYTHONPATH): CI builds it.
"""

from __future__ import annotations

import glob
import gzip
import ipaddress
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from native_support import sample_docs
from stdnum import isbn, issn, luhn
from stdnum.iso7064 import mod_97_10

from factsep.detection import candidates
from factsep.detection.candidates import COVER_PATTERN, CandidateEngine

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path("/work/shared/eval")

pytestmark = pytest.mark.skipif(candidates._native is None,
                                reason="factsep._native is not built: pip install -e . builds it")


def spans(engine: CandidateEngine, docs: list[str]) -> list[tuple[int, int, int]]:
    return [(c.doc, c.start, c.end) for c in engine.find(docs)]


@pytest.fixture(scope="module")
def engines() -> tuple[CandidateEngine, CandidateEngine]:
    return CandidateEngine([], engine="native"), CandidateEngine([], engine="re2")


def assert_same(engines: tuple[CandidateEngine, CandidateEngine], docs: list[str]) -> int:
    native, re2 = engines
    want = spans(re2, docs)
    got = spans(native, docs)
    assert got == want, f"first difference: {sorted(set(got) ^ set(want))[:5]}"
    return len(want)


def eval_docs() -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    for path in sorted(EVAL.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        sets[path.name] = [str(r.get("text") or r.get("value") or "") for r in rows]
    return sets


def changelog_text(limit: int) -> list[str]:
    docs: list[str] = []
    size = 0
    for path in sorted(glob.glob("/usr/share/doc/*/changelog*.gz")):
        try:
            text = gzip.open(path, "rt", encoding="utf-8", errors="replace").read()
        except (OSError, EOFError):
            continue
        docs.append(text)  # whole files: long documents are cut into slices like the RE2 pass's
        size += len(text)
        if size >= limit:
            break
    return docs


def test_same_candidates_on_every_eval_set(engines: tuple[CandidateEngine, CandidateEngine]) -> None:
    sets = eval_docs()
    assert sets, f"no evaluation sets under {EVAL}"
    for name, docs in sets.items():
        assert assert_same(engines, docs) > 0, name


def test_same_candidates_on_samples(engines: tuple[CandidateEngine, CandidateEngine]) -> None:
    assert assert_same(engines, sample_docs()) > 100


def test_same_candidates_on_real_changelogs(engines: tuple[CandidateEngine, CandidateEngine]) -> None:
    docs = changelog_text(3_000_000)
    if not docs:
        pytest.skip("no Debian changelogs on this machine")
    assert assert_same(engines, docs) > 1000
    # the same documents in batches of one: a batch is only a unit of work
    native, _ = engines
    assert [s for i, d in enumerate(docs[:50]) for s in [(i, c.start, c.end) for c in native.find([d])]] == \
        spans(native, docs[:50])


def test_threads_do_not_change_candidates() -> None:
    docs = changelog_text(1_000_000) + sample_docs()
    one = CandidateEngine([], engine="native", threads=1).find_offsets(docs)
    two = CandidateEngine([], engine="native", threads=2).find_offsets(docs)
    assert [v.tolist() for v in one] == [v.tolist() for v in two]


# text made of what the cover pattern turns on: digits, capitals, separators, dashes, @, non-ASCII
_ALPHABET = "0123456789 0123456789 ABCDEFXZ abcxyz.,:/-+()@#'_\n\u2013\u2014\u00e9\u4e2d\U0001f600\x00"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=400), min_size=1, max_size=6))
def test_same_candidates_on_generated_text(docs: list[str]) -> None:
    assert_same((CandidateEngine([], engine="native"), CandidateEngine([], engine="re2")), docs)


@pytest.mark.parametrize("make", [
    lambda: "4" * 1_000_000,  # a megabyte of digits
    lambda: "ab1-cd2_ef3." * 90_000,  # a line with no spaces
    lambda: "@." * 500_000,  # a megabyte of @.
    lambda: ("12 " * 300_000).strip(),  # one long chain over spaces
    lambda: "x@" + "a." * 400_000,
], ids=["digits", "no-spaces", "at-dot", "chain", "dots"])
def test_hostile_input(engines: tuple[CandidateEngine, CandidateEngine], make) -> None:
    text = make()
    assert_same(engines, [text, "before " + text[:1000] + " after"])
    native, _ = engines
    for c in native.find([text]):
        assert c.end - c.start <= native.max_chars


def test_surrogates_and_non_ascii(engines: tuple[CandidateEngine, CandidateEngine]) -> None:
    docs = ["Tel \u2013 030 1234 5678 \ud800 und 0176\u201312345678",
            "\u4e2d\u6587 978-3-16-148410-0 \U0001f600 x@y.de",
            "caf\u00e9 DE89 3704 0044 0532 0130 00 \udfff"]
    assert assert_same(engines, docs) >= 4


def test_offsets_are_buffers_arrow_wraps() -> None:
    engine = CandidateEngine([], engine="native")
    docs = ["call 030 1234 5678 or x@y.de", "no facts here", "ISBN 978-3-16-148410-0"]
    doc, start, end = engine.find_offsets(docs)
    cols = [pa.Array.from_buffers(pa.int32(), len(v), [None, pa.py_buffer(v)]) for v in (doc, start, end)]
    assert [c.to_pylist() for c in cols] == [list(t) for t in zip(*spans(engine, docs))]
    assert cols[0].to_pylist() == [0, 0, 2]


def test_auto_picks_native_and_the_detector_runs_on_it() -> None:
    from factsep import Detector

    assert CandidateEngine([]).engine == "native"
    assert Detector().engine.engine == "native"


def test_without_the_extension_auto_falls_back_to_re2() -> None:
    # a worktree on PYTHONPATH has no build: hide the extension and the pass still runs, on RE2
    code = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'factsep._native':\n"
        "            raise ImportError('hidden')\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from factsep.detection.candidates import CandidateEngine\n"
        "e = CandidateEngine([])\n"
        "print(e.engine, [(c.start, c.end) for c in e.find(['call 030 1234 5678'])])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split(" ", 1)[0] == "re2"
    assert "(5, 18)" in out.stdout


FORK_SCRIPT = """
import os
import signal
from factsep.detection.candidates import CandidateEngine
engine = CandidateEngine([], engine="native")
docs = ["call 030 1234 5678 today"] * 64
engine.find(docs)  # the parent's pool is running now
pid = os.fork()
if pid == 0:
    signal.alarm(60)  # a hung child ends itself
    os._exit(0 if len(engine.find(docs)) == 64 else 3)
print("child exit", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def test_a_forked_child_scans_with_its_own_threads() -> None:
    # a child forked after the pool started has the pool but not its threads: work sent to it
    # would wait forever (datatrove's and Python's fork-based pools fork like this)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", FORK_SCRIPT], capture_output=True, text=True, env=env,
                         timeout=90, check=True)
    assert out.stdout.strip() == "child exit 0"


def test_errors_come_back_as_python_exceptions() -> None:
    from factsep import _native

    with pytest.raises(RuntimeError, match="panicked"):
        _native._panic_for_test()
    with pytest.raises(ValueError, match="does not compile"):
        _native.CoverScanner("(unclosed", 16384, 128)
    scanner = _native.CoverScanner(COVER_PATTERN, 16384, 128)
    with pytest.raises(ValueError, match="str or bytes"):
        scanner.scan(["ok", 3])
    with pytest.raises(ValueError, match="unknown check"):
        _native.check("nope", ["1"])
    # and the core still works after them
    assert scanner.scan(["030 1234"])[3] == 1


# ---- structural checks, verdict for verdict against the libraries -------------------------------


def native_check(name: str, values: list[str]) -> list[int]:
    from factsep import _native

    raw = _native.check(name, values)
    return [b - 256 if b > 127 else b for b in raw]


def stdnum_verdict(module, value: str) -> int:
    return int(module.is_valid(value))


def uuid_verdict(value: str) -> int:
    canonical = len(value) == 36 and all(value[i] == "-" for i in (8, 13, 18, 23))
    try:
        version = uuid.UUID(value).version
    except ValueError:
        return -1
    if not canonical:
        return -1
    return -2 if version is None else version


def ip_verdict(value: str) -> int:
    try:
        return ipaddress.ip_address(value).version
    except ValueError:
        return 0


DIGITS = st.text(alphabet="0123456789", min_size=0, max_size=20)


def with_valid(gen: st.SearchStrategy[str], fix) -> st.SearchStrategy[str]:
    """Values drawn from ``gen`` and, as often, made valid by ``fix`` (so both verdicts are tested)."""
    return st.one_of(gen, gen.map(fix))


def _luhn_fix(v: str) -> str:
    return v + luhn.calc_check_digit(v) if v else "0"


def _isbn13_fix(v: str) -> str:
    from stdnum import ean

    body = ("978" + v + "000000000")[:12]
    return body + ean.calc_check_digit(body)


def _isbn10_fix(v: str) -> str:
    body = (v + "000000000")[:9]
    return body + isbn._calc_isbn10_check_digit(body)


def _issn_fix(v: str) -> str:
    body = (v + "0000000")[:7]
    return body + issn.calc_check_digit(body)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(with_valid(DIGITS, _luhn_fix), st.text(alphabet="0123456789a -", max_size=20)), max_size=40))
def test_luhn_matches_stdnum(values: list[str]) -> None:
    assert native_check("luhn", values) == [stdnum_verdict(luhn, v) for v in values]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(
    with_valid(st.text(alphabet="0123456789", min_size=0, max_size=10), _isbn13_fix),
    with_valid(st.text(alphabet="0123456789", min_size=0, max_size=9), _isbn10_fix),
    st.text(alphabet="0123456789Xx -\t", max_size=16),
), max_size=40))
def test_isbn_matches_stdnum(values: list[str]) -> None:
    assert native_check("isbn", values) == [stdnum_verdict(isbn, v) for v in values]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(
    with_valid(st.text(alphabet="0123456789", max_size=7), _issn_fix),
    st.text(alphabet="0123456789Xx -", max_size=11),
), max_size=40))
def test_issn_matches_stdnum(values: list[str]) -> None:
    assert native_check("issn", values) == [stdnum_verdict(issn, v) for v in values]


def _iban_fix(v: str) -> str:
    body = (v + "GB00")[:4]
    rest = v[4:] or "1"
    check = mod_97_10.calc_check_digits(rest + body[:2])
    return body[:2] + check + rest


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(
    with_valid(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabz", max_size=34), _iban_fix),
    st.text(alphabet="0123456789ABZaz -", max_size=34),
), max_size=40))
def test_iban_mod97_matches_stdnum(values: list[str]) -> None:
    assert native_check("iban_mod97", values) == [int(mod_97_10.is_valid(v[4:] + v[:4])) for v in values]


HEX = "0123456789abcdefABCDEF"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.text(alphabet=HEX, min_size=36, max_size=36).map(lambda s: "-".join([s[:8], s[9:13], s[14:18], s[19:23],
                                                                            s[24:]])),
    st.text(alphabet=HEX + "-{}g", max_size=38),
), max_size=40))
def test_uuid_version_matches_uuid(values: list[str]) -> None:
    assert native_check("uuid_version", values) == [uuid_verdict(v) for v in values]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda a: a.exploded),
    st.lists(st.integers(0, 300).map(str) | st.sampled_from(["01", "00", "", "1a"]), min_size=3, max_size=5)
    .map(".".join),
    st.text(alphabet="0123456789abcdefABCDEF:.", max_size=45),
), max_size=40))
def test_ip_version_matches_ipaddress(values: list[str]) -> None:
    assert native_check("ip_version", values) == [ip_verdict(v) for v in values]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=HEX + "gx- ", max_size=40), max_size=40))
def test_hex_matches_python(values: list[str]) -> None:
    assert native_check("hex", values) == [int(bool(v) and all(c in HEX for c in v)) for v in values]
