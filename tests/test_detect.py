"""Detection API, overlaps, properties and hostile inputs."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import factsep
from factsep import Detector, DetectorConfig, Span
from factsep.detection.candidates import CandidateEngine
from factsep.kinds import registry
from factsep.span import AUTO_REJECT, DECISIONS, make_span_id

DETECTOR = Detector()


def kinds_of(text: str) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start:s.end]) for s in DETECTOR.detect(text) if not s.rejected]


def test_detect_returns_span_records_with_attribute_access() -> None:
    spans = factsep.detect("Reach me on +44 20 7946 0958 any time.")
    assert [s.kind for s in spans] == ["phone_number"]
    s = spans[0]
    assert isinstance(s, Span)
    assert s.text == "+44 20 7946 0958" and s.subtype == "GB"
    assert s.validated and 0.0 < s.confidence <= 1.0 and s.bits > 25
    assert s.corpus_count is None and s.singleton is None
    assert s.decision in DECISIONS


def test_value_hash_is_normalized_across_spellings() -> None:
    a = DETECTOR.detect("ISBN 978-0-306-40615-7")[0]
    b = DETECTOR.detect("isbn: 0306406152")[0]
    assert a.kind == b.kind == "isbn"
    assert a.value_hash == b.value_hash


def test_span_id_hashes_document_text_not_location() -> None:
    text = "card 4111 1111 1111 1111"
    a = DETECTOR.detect(text, doc_id="a.jsonl:1")[0]
    b = DETECTOR.detect(text, doc_id="b.jsonl:9")[0]
    assert a.span_id == b.span_id
    assert a.span_id != make_span_id("other", a.start, a.end, a.kind)


def test_detect_batch_yields_one_list_per_text_in_order() -> None:
    texts = ["nothing here", "mail bob@example.com", "", "IP 192.0.2.7 and 198.51.100.9"]
    out = list(DETECTOR.detect_batch(texts, doc_ids=["a", "b", "c", "d"]))
    assert [len(x) for x in out] == [0, 1, 0, 2]
    assert {s.doc_id for s in out[3]} == {"d"}
    with pytest.raises(ValueError, match="doc_ids"):
        list(DETECTOR.detect_batch(["x"], doc_ids=["a", "b"]))


def test_batch_equals_one_by_one() -> None:
    texts = ["Tel. 030 1234567, Berlin", "IBAN GB82 WEST 1234 5698 7654 32 ✓ café", "x" * 50,
             "née le 3/4/1981, born 12 May 1981"]
    batch = list(DETECTOR.detect_batch(texts, [str(i) for i in range(len(texts))]))
    single = [DETECTOR.detect(t, str(i)) for i, t in enumerate(texts)]
    assert batch == single


@pytest.mark.parametrize(("text", "kind"), [
    ("ISBN 978-3-16-148410-0", "isbn"),          # contains phone-like digit runs
    ("card 4012 8888 8888 1881 on file", "credit_card"),  # Luhn card, not a generic id
])
def test_more_specific_kind_wins_overlaps(text: str, kind: str) -> None:
    found = kinds_of(text)
    assert [k for k, _ in found] == [kind]


@pytest.mark.parametrize(("text", "kind", "subtype"), [
    # Separators where a format writes them: the format's reading wins over rivals whose examples
    # and format() never put a hyphen there.
    ("Entry: 6-2601-8159", "national_id", "stdnum.cr.cpf"),       # not a nine-digit UNP
    ("Entry: 3087-16-9", "generic_id", "stdnum.casrn"),           # not a Romanian CUI or a phone
    ("Entry: 281-94-82199", "tax_id", "stdnum.kr.brn"),           # 3-2-5 is no US phone plan
    ("Entry: 03-0931-3664958-58", "bank_account", "stdnum.nz.bankaccount"),
    ("Call 650-253-0000 now", "phone_number", "US"),              # 3-3-4 is the US plan
])
def test_layout_decides_between_readings(text: str, kind: str, subtype: str) -> None:
    spans = DETECTOR.detect(text)
    assert [(s.kind, s.subtype) for s in spans] == [(kind, subtype)]


def test_context_decides_between_rival_kinds_even_when_one_reading_is_strong() -> None:
    # Alone, the tax reading is auto-accepted whatever its context; next to a phone reading of the
    # same digits, "call" must be read.
    assert kinds_of("VAT 347-897-1331") == [("tax_id", "347-897-1331")]
    assert kinds_of("call me at 347-897-1331") == [("phone_number", "347-897-1331")]


@pytest.mark.parametrize(("text", "value"), [
    ("The VAT ES B21299722 was checked.", "ES B21299722"),      # country code, then a letter-led number
    ("Please quote the CUSIP 984032979.", "984032979"),          # a context word is no prefix
    ("national ID: E0801125006531", "E0801125006531"),
    ("Entry: CHE-596.663.747 MWST here", "CHE-596.663.747 MWST"),  # the suffix is the format's
    ("Entry: J 19763638 N", "J 19763638 N"),                    # a check letter after a space
    ("My VAT is DE136695976 I think", "DE136695976"),            # ... but not the word "I"
])
def test_letter_prefixes(text: str, value: str) -> None:
    assert [v for _, v in kinds_of(text)] == [value]


@pytest.mark.parametrize("text", ["0161 496 0734 ext. 123", "+44 (0) 161 1234567 ext 123", "650-253-0000 x 12"])
def test_phone_extensions_belong_to_the_number(text: str) -> None:
    assert kinds_of(f"My phone number is {text}.") == [("phone_number", text)]


def test_numbers_run_into_words_of_scripts_without_spaces_are_whole() -> None:
    # In Chinese the number follows the last character directly; that is no cut-off token.
    spans = DETECTOR.detect("我的电话是02079460958。")
    assert [(s.kind, s.text, s.decision) for s in spans] == [("phone_number", "02079460958", "auto_accept")]


def test_id_card_is_national_context() -> None:
    assert DETECTOR.detect("ID card number: 1607125131083")[0].kind == "national_id"


def test_a_label_names_the_value_after_it() -> None:
    # "Personal" argues for a national id, but the label right before the number says phone.
    assert kinds_of("Personal Info: Phone: 0393 1144137  E-mail: x") == [("phone_number", "0393 1144137")]


def test_thresholds_drive_decisions() -> None:
    text = "The reference 81726354 was noted."
    strict = Detector(DetectorConfig(review_low=0.99, review_high=0.999))
    lenient = Detector(DetectorConfig(review_low=0.0, review_high=0.01))
    assert {s.decision for s in strict.detect(text)} <= {AUTO_REJECT}
    assert {s.decision for s in lenient.detect(text)} == {"auto_accept"}


def test_unknown_kind_in_config_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        Detector(DetectorConfig(kinds=("phone", "isbn")))


def test_config_restricts_kinds() -> None:
    d = Detector(DetectorConfig(kinds=("email_address",)))
    spans = d.detect("bob@example.com +1 650 253 0000")
    assert [s.kind for s in spans] == ["email_address"]


def test_context_words_move_confidence_both_ways() -> None:
    phones = Detector(DetectorConfig(kinds=("phone_number",)))
    bare = phones.detect("see 0176 24819375 ok")
    pos = phones.detect("call my mobile 0176 24819375 ok")
    neg = phones.detect("see page 0176 24819375 ok")
    c = {name: max((s.confidence for s in spans if s.kind == "phone_number"), default=0.0)
         for name, spans in (("bare", bare), ("pos", pos), ("neg", neg))}
    assert c["pos"] > c["bare"] > c["neg"]


def test_blank_pipeline_has_lemmas_for_context() -> None:
    from factsep.detection.context import load_pipeline

    doc = load_pipeline("blank:en")("Phones and addresses")
    assert [t.lemma_ for t in doc] == ["phone", "and", "address"]


def test_unicode_offsets_are_code_points() -> None:
    text = "📞 电话 +86 138 0013 8000 — 🙂 e-mail: zoë@example.com"
    spans = DETECTOR.detect(text)
    assert {s.kind for s in spans} >= {"phone_number"}
    for s in spans:
        assert text[s.start:s.end] == s.text


# ---- properties -----------------------------------------------------------------------------------

FACTS = ["+1 650-253-0000", "978-0-306-40615-7", "4111 1111 1111 1111", "bob@example.com",
         "192.0.2.44", "DE89 3704 0044 0532 0130 00", "3f2b8c1e-9d4a-4e6b-8a7c-2d1e0f9b5a43"]
text_strategy = st.lists(
    st.one_of(st.text(max_size=30), st.sampled_from(FACTS), st.sampled_from([" ", "\n", "-", "📞", "é"])),
    max_size=12,
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_strategy)
def test_properties_offsets_text_overlap_determinism(text: str) -> None:
    spans = DETECTOR.detect(text)
    again = DETECTOR.detect(text)
    assert spans == again
    last_end = 0
    for s in spans:
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start:s.end] == s.text
        assert s.start >= last_end, "spans overlap"
        last_end = s.end
        assert s.kind in registry()


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_no_unicode_input_raises(text: str) -> None:
    DETECTOR.detect(text)


def test_surrogates_do_not_raise() -> None:
    text = "bad \ud800 surrogate then +1 650-253-0000"
    spans = DETECTOR.detect(text)
    assert any(s.kind == "phone_number" and text[s.start:s.end] == s.text for s in spans)


# ---- hostile inputs --------------------------------------------------------------------------------

@pytest.mark.timeout(120)
def test_megabyte_of_digits_finishes() -> None:
    DETECTOR.detect("7" * 1_000_000)
    DETECTOR.detect("4111 " * 50_000)


@pytest.mark.timeout(120)
def test_ten_megabyte_line_without_spaces_finishes() -> None:
    engine = CandidateEngine(list(registry().values()))
    engine.find(["a1" * 5_000_000])
    DETECTOR.detect("x-1." * 2_500_000)


# ---- CLI --------------------------------------------------------------------------------------------

def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "factsep", *args], input=stdin, capture_output=True,
                          text=True, timeout=300)


def test_cli_detect_masks_values_unless_asked() -> None:
    text = "Call +1 650-253-0000 now"
    masked = run_cli("detect", "-", "--json", stdin=text)
    assert masked.returncode == 0, masked.stderr
    rec = json.loads(masked.stdout.splitlines()[0])
    assert rec["kind"] == "phone_number" and rec["text"] is None
    assert "650-253" not in masked.stdout
    shown = run_cli("detect", "-", "--show-values", stdin=text)
    assert shown.returncode == 0 and "650-253-0000" in shown.stdout
    table = run_cli("detect", "-", stdin=text)
    assert "650-253" not in table.stdout and "+9 999-999-9999" in table.stdout


def test_cli_kinds_lists_every_kind() -> None:
    out = run_cli("kinds")
    assert out.returncode == 0, out.stderr
    for name in registry():
        assert name in out.stdout


def test_cover_pattern_finds_every_kinds_example() -> None:
    """Stage one's cover must contain every kind's values, or stage two never sees them."""
    engine = CandidateEngine(list(registry().values()))
    for name, kind in registry().items():
        lead = f"{kind.context[0]}:" if kind.context else "Noted:"
        text = f"{lead} {kind.example} (see above)"
        start = text.index(kind.example)
        cands = engine.find([text])
        assert any(c.start <= start and start + len(kind.example) <= c.end for c in cands), name
        found = [s.kind for s in DETECTOR.detect(text) if s.start == start]
        assert found == [name], f"{name} example {kind.example!r} found as {found}"


_LABEL_TAILS = st.text(alphabet=" \t\n.:#,-)(1aZK\u0130\u0131\u017f\u212a\u0345", max_size=12)


@given(head=st.text(max_size=20), word=st.sampled_from(sorted({w for k in registry().values() for w in k.context})),
       tail=_LABEL_TAILS)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_label_shortcut_never_hides_a_label(head: str, word: str, tail: str) -> None:
    """The cheap check before the label searches only rules out regions the searches reject."""
    from factsep.detection.detector import _may_end_label

    text = head + word + tail
    start = len(text)
    lo = max(start - 24, 0)
    if any(rx.search(text, lo, start) for rx in _label_patterns()):
        assert _may_end_label(text, lo, start)


@functools.cache
def _label_patterns() -> list:
    from factsep.detection.detector import _label_pattern

    patterns = [_label_pattern(words) for k in registry().values() for words in (k.context, k.negative)]
    return [rx for rx in patterns if rx is not None]


_DENIAL_PARTS = ["is", "isn't", "s not", "was not", "are n't", "does not look like", "doesn't seem",
                 "do not appear like", "not a", "not an", "not valid", "invalid", "wrong", "fake", "bogus",
                 "no es", "nao e", "nao parece", "n'est pas", "ne sont pas", "ist kein", "sind keine",
                 "not", "no", "a", "phone", "x", "_", "1", "-", ".", " ", "  ", "'", "\n"]


@given(st.lists(st.sampled_from(_DENIAL_PARTS) | st.text(alphabet="aeinostINOST'_1 ", max_size=4), max_size=14),
       st.randoms(use_true_random=False))
@settings(max_examples=500)
def test_denial_cues_in_re2_are_those_of_re(parts: list[str], rng) -> None:
    """On ASCII text the RE2 twin of the denial pattern finds exactly the cues Python's re does."""
    from factsep.detection.context import _DENIAL, _DENIAL_ASCII

    if _DENIAL_ASCII is None:
        return
    text = "".join(p.upper() if rng.random() < 0.2 else p for p in parts)
    assert [m.span() for m in _DENIAL_ASCII.finditer(text)] == [m.span() for m in _DENIAL.finditer(text)]


# ---- what a number is, read before formats (factsep.detection.numerals) ----------------------------

REAL_TEXT_NEGATIVES = [
    # years and year lists of copyright lines
    "Copyright: 2011, 2015-2016, 2021 Jane Maintainer",
    # a changelog header's version, read as an address or a phone number by its shape
    "libfoo (3.4.1.2-1) unstable; urgency=medium",
    "  * Declare compliance with Debian Policy 4.6.1.0.",
    # the tail of a changelog trailer's timestamp
    " -- Jane Maintainer <jane@people.example>  Wed, 12 Jan 2022 01:00:23 -0400",
    # a ZIP+4 code of a licence's postal address
    "Foundation, Inc., 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301, USA.",
    # a code table and an RGB tuple
    "    colours = [(175, 215, 255), (95, 135, 175)]",
    "    None,  # 3020..3029",
    # standard and regulation numbers
    "as defined in DFARS 252.227-7013 and RFC 3986.",
    # well-known constants
    "    sock.connect(('127.0.0.1', 8080))",
    # a snapshot date
    "  * Update to the branch snapshot 20210714.",
    # a doctest's output lines: example values of a docstring
    "    >>> list(convergents(pi))\n    3\n    22/7\n    333/106\n    355/113\n",
    # a placeholder address
    "    Connection closed by user x 10.2.2.2 port 1234 [preauth]",
    # what follows a tilde is a version
    "    which was dropped in 0~20180514-0.2 by mistake.",
    # house and suite numbers of postal addresses
    "The parcel went to 4821 77 Harbour Street, Leeds.",
    "Mrs. Ann Smith Apt. 918 42371 Storvegen 12",
    # a value may not end inside a word or an abbreviation
    "Morgan Stanley 40913 Ráday utca 66.",
    "Acme Labs 61530 P.O. Box 211",
    # a country code and a word joined by a hyphen is a compound, not a library code (ISIL)
    "    # Leave the NO-WRAP flag alone here.",
    "The format takes an IT-managed key list.",
    # digits grouped in thousands are no evidence of a format that checks nothing
    "        pos base <anchor 410 700> mark @TOP;",
    # paragraphs of a regulation's sections
    "consistent with 32 C.F.R. 311.5102-1 through 311.5102-7 (May 2001)",
    # a vanity number's digits, a patch file's number, an address's local part written with "at"
    "Support line 611-44-41-ACME for the boards.",
    "      + 03-771452-fix-missing-cflags.patch: Ditto.",
    "Zhang Wei <13912345678 at 126.com>",
    # a code page is no SEPA creditor identifier: those start with a country code
    "  * Handle CP1252 in the charset converter.",
    # a URL with a user part is no mailbox, and the host of an address is no host address
    "The page qrs@tuv.org/wiki#cite_3 is a link, not a mailbox.",
    "k_7@131.127.119.2 bounced as a bad address",
    # a street name, then the unit of the building
    "Please return to 81734 3301 Wexcombe Suite 410, Leeds.",
]


@pytest.mark.parametrize("text", REAL_TEXT_NEGATIVES, ids=[t[:30] for t in REAL_TEXT_NEGATIVES])
def test_numbers_that_are_no_random_facts_are_not_tagged(text: str) -> None:
    spans = [s for s in Detector().detect(text) if s.decision != "auto_reject" and s.kind != "email_address"]
    assert spans == [], [(s.text, s.kind, s.subtype) for s in spans]


REFERENCES = [
    ("  * Fix the build with the new toolchain (Closes: #1047211)", "1047211", "generic_id", "reference.debian_bug"),
    ("    - CVE-2024-31337: heap overflow in the parser", "CVE-2024-31337", "generic_id", "reference.cve"),
    ("      PR c++/112233, PR target/110011 (x86)", "112233", "generic_id", "reference.pr"),
    ("  * [3e1f9a7] Drop the obsolete patch", "3e1f9a7", "hex_digest", "commit.abbreviated"),
    ("  * Backport upstream commit 9c0d4e2b1a to fix the crash.", "9c0d4e2b1a", "hex_digest", "commit.abbreviated"),
    # "#" and six digits in prose is a reference, not a colour: in parentheses, in a list
    ("  * Drop the nightly cron job (#612207), it moved upstream.", "612207", "generic_id", "reference.issue"),
    ("- Fix static analysis findings (#803311, #803312, #803319)", "803319", "generic_id", "reference.issue"),
    # a bulleted bug list and CPython's NEWS references
    ("- 701422 - crash on start\n- 701577 - leak in the cache\n", "701577", "generic_id", "reference.bug_list"),
    ("- gh-issue-104411: Fix the line number of the error.", "104411", "generic_id", "reference.pr"),
]


@pytest.mark.parametrize(("text", "value", "kind", "subtype"), REFERENCES, ids=[r[1] for r in REFERENCES])
def test_reference_numbers_and_commit_ids_are_found_as_what_they_are(text: str, value: str, kind: str,
                                                                      subtype: str) -> None:
    spans = [s for s in Detector().detect(text) if s.decision != "auto_reject"]
    start = text.index(value)
    got = [(s.start, s.end, s.kind, s.subtype) for s in spans]
    assert (start, start + len(value), kind, subtype) in got, got
    assert all(s.kind == kind for s in spans if s.start < start + len(value) and start < s.end), got
    assert "+" in next(s.detector for s in spans if s.start == start)  # the cue that found it is named


def test_a_bare_checksum_waits_for_review_and_a_label_decides() -> None:
    """A format with one check digit and no other evidence is a hypothesis: pending, not accepted;
    the same digits after their format's name are accepted."""
    det = Detector()
    bare = [s for s in det.detect("It read 44051401359 on the back.") if s.decision != "auto_reject"]
    assert bare and all(s.decision == "pending_review" for s in bare), [(s.kind, s.confidence) for s in bare]
    labelled = [s for s in det.detect("Her PESEL is 44051401359.") if s.kind == "national_id"]
    assert labelled and labelled[0].decision == "auto_accept"


def test_every_reference_signal_has_a_weight() -> None:
    """A cue numerals.references can report is a named feature of the scoring table."""
    import re

    from factsep.detection import numerals
    from factsep.detection.scoring import W_REFERENCE

    source = open(numerals.__file__, encoding="utf-8").read()
    signals = set(re.findall(r'"(\w+)", re\.compile', source)) | set(
        re.findall(r'"reference\.\w+", "(\w+)"', source)) | set(re.findall(r'"hash_cue" if cue else "(\w+)"', source))
    assert signals and signals <= set(W_REFERENCE), signals - set(W_REFERENCE)


def test_a_bare_mobile_number_beside_han_text_is_a_chinese_phone() -> None:
    """Without a phone word, a valid Chinese mobile number in Chinese text is read as a phone, not
    as one of the foreign formats whose check digit it passes by chance (numbers made up here,
    kept when phonenumbers calls them valid in CN)."""
    import random

    import phonenumbers

    rng = random.Random(12)
    numbers: list[str] = []
    while len(numbers) < 60:
        number = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
        if phonenumbers.is_valid_number(phonenumbers.parse(number, "CN")):
            numbers.append(number)
    misread = {}
    for number in numbers:
        spans = DETECTOR.detect(f"某会所：{number}")
        if [(s.kind, s.subtype) for s in spans] != [("phone_number", "CN")]:
            misread[number] = [(s.kind, s.subtype) for s in spans]
    assert not misread, misread
