"""Tags cannot be forged: tag syntax already in a document is escaped, reversibly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factsep.config import TagConfig
from factsep.export import ExportConfig, export
from factsep.scan import ScanConfig, scan
from factsep.span import AUTO_ACCEPT, AUTO_REJECT, PENDING_REVIEW, Span
from factsep.tags import escape_text, opener, read_tags, tag_text, unescape, untag

DEFAULT = TagConfig()
TEMPLATES = [
    DEFAULT,
    TagConfig(open="[[{kind}|{bits}]]", close="[[/]]"),
    TagConfig(open="⟦{kind}:{bits}⟧", close="⟦/⟧"),
    TagConfig(open="<fact kind={kind}>", close="</fact>", escape="~"),
    TagConfig(open="[{kind}|{subtype}]", close="[/]"),
    TagConfig(open="abab{kind}:", close="ab/ab", escape="%"),  # the lead recurs inside the opener
]
#: Characters that make tag syntax of every template above, and its escapes.
PIECES = ["<", ">", "/", "rf:", "\\", "[", "]", "[[", "|", "⟦", "⟧", "~", "%", "ab", "a", "fact ", "kind="]
PIECES += ["x", " ", "é"]


def make_span(start: int, end: int, kind: str, decision: str = AUTO_ACCEPT, bits: float = 30.0) -> Span:
    return Span(str(start), "d", start, end, kind, None, None, "h", 0.9, bits, True, "t", decision=decision)


def test_a_literal_tag_in_the_text_is_not_a_tag() -> None:
    text = "Pay with <rf:credit_card>fake</rf:credit_card> or card 4111 1111 1111 1111."
    real = make_span(text.index("4111"), len(text) - 1, "credit_card")
    tagged = tag_text(text, [real])
    assert re.findall(r"<rf:credit_card>(.*?)</rf:credit_card>", tagged) == ["4111 1111 1111 1111"]
    assert r"<\rf:credit_card>fake<\/rf:credit_card>" in tagged  # escaped, readable
    back, spans = read_tags(tagged)
    assert back == text
    assert [(s.start, s.end, s.kind) for s in spans] == [(real.start, real.end, "credit_card")]


def test_escaping_touches_only_tag_syntax() -> None:
    code = r"if a < b and path == 'C:\temp': x = '<div>' + '</p>' + '<r f:>'"
    assert escape_text(code) == code
    assert escape_text(r"a <\rf: b") == r"a <\\rf: b"
    assert unescape(escape_text(r"a <\rf: b")) == r"a <\rf: b"
    assert escape_text("", DEFAULT) == ""


def test_escaping_off_keeps_the_old_behaviour() -> None:
    off = TagConfig(escape="")
    text = "x <rf:uuid>y</rf:uuid>"
    assert escape_text(text, off) == text and tag_text(text, [], off) == text


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"escape": "ab"}, "one character"),
        ({"escape": "r"}, "appears in the tag templates"),
        ({"open": "{kind}>"}, "start with literal text"),
        ({"open": "<{name}>"}, "only"),
        ({"open": "<rf:{kind"}, "not a valid template"),
    ],
)
def test_bad_tag_settings_say_what_to_change(settings_: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TagConfig(**settings_)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TEMPLATES), st.lists(st.sampled_from(PIECES), max_size=25).map("".join))
def test_property_unescape_inverts_escape_and_leaves_no_opener(tags: TagConfig, text: str) -> None:
    escaped = escape_text(text, tags)
    assert unescape(escaped, tags) == text
    for template in (tags.open, tags.close):
        lit = opener(template)
        if len(lit) >= 2:
            assert lit not in escaped
        else:  # a one-character opener survives, but always followed by the escape character
            assert all(escaped[i + 1 : i + 2] == tags.escape for i, ch in enumerate(escaped) if ch == lit)


@st.composite
def text_with_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = "".join(draw(st.lists(st.sampled_from(PIECES + ["<rf:uuid>", "</rf:uuid>", "[[/]]"]), max_size=25)))
    spans = []
    for _ in range(draw(st.integers(0, 4)) if text else 0):
        a = draw(st.integers(0, len(text) - 1))
        b = draw(st.integers(a + 1, len(text)))
        kind = draw(st.sampled_from(["uuid", "phone_number", "credit_card"]))
        decision = draw(st.sampled_from([AUTO_ACCEPT, AUTO_ACCEPT, PENDING_REVIEW, AUTO_REJECT]))
        spans.append(make_span(a, b, kind, decision, draw(st.sampled_from([8.0, 30.5, 122.0]))))
    return text, spans


def test_an_opener_across_the_text_and_the_tag_after_it_is_escaped() -> None:
    # "ab" + "abab..." reads "abab" two characters early unless the text before the tag is escaped
    # with the tag in view; the same for a value's end and its close tag ("ab/" + "ab/ab").
    tags = TagConfig(open="abab{kind}:", close="ab/ab", escape="%")
    for text, (a, b) in [("xxab<", (4, 5)), ("ab/", (0, 3)), ("<<ab<", (4, 5))]:
        tagged = tag_text(text, [make_span(a, b, "uuid")], tags)
        back, found = read_tags(tagged, tags)
        assert back == text and [(s.start, s.end) for s in found] == [(a, b)], tagged


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TEMPLATES), text_with_spans())
def test_property_tags_read_back_are_exactly_the_tags_written(tags: TagConfig, case: tuple[str, list[Span]]) -> None:
    text, spans = case
    tagged = tag_text(text, spans, tags)
    back, found = read_tags(tagged, tags)
    assert back == text and untag(tagged, tags) == text
    expected, pos = [], 0
    for s in sorted((s for s in spans if s.accepted), key=lambda s: (s.start, -s.end)):
        if s.start >= pos:
            expected.append((s.start, s.end, s.kind))
            pos = s.end
    assert [(f.start, f.end, f.kind) for f in found] == expected


def test_scan_and_tagged_export_cannot_be_forged(tmp_path: Path) -> None:
    """End to end: a document quoting the tag syntax, scanned and exported; only real facts are tags."""
    forged = "<rf:credit_card>fake</rf:credit_card>"
    docs = [
        {"id": "a", "text": f"Quoted {forged} here. Call +1 650-253-0000 tomorrow."},
        {"id": "b", "text": "No facts here, only <rf:phone_number> written as text."},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(d) + "\n" for d in docs))
    scan([str(src)], str(tmp_path / "out"), ScanConfig())
    rows = {r["id"]: r for r in pq.read_table(tmp_path / "out" / "dataset").to_pylist()}
    exported = export(tmp_path / "out", tmp_path / "t.parquet", ExportConfig(format="tagged"))
    by_id = dict(zip(*pl.read_parquet(exported.path).select("id", "text").to_dict(as_series=False).values()))
    for doc, tags_expected in zip(docs, (["phone_number"], []), strict=True):
        for tagged in (rows[doc["id"]]["tagged_text"], by_id[doc["id"]]):
            assert re.findall(r"<rf:([a-z_]+)>", tagged) == tags_expected
            assert forged not in tagged and "<rf:phone_number> written" not in tagged
            assert untag(tagged) == doc["text"]
    assert re.findall(r"<rf:([a-z_]+)>(.*?)</rf:", rows["a"]["tagged_text"]) == [("phone_number", "+1 650-253-0000")]
