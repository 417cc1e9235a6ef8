"""The decisions ledger: append-only, latest wins, torn lines never swallow a new record."""

from __future__ import annotations

from pathlib import Path

import pytest

from factsep.decisions import Decision, DecisionIndex, append_decisions, latest_decisions, ledger_path
from factsep.span import HUMAN_ACCEPT, HUMAN_ADDED, HUMAN_REJECT, Span


def span(start: int, end: int, span_id: str = "s1", decision: str = "pending_review") -> Span:
    return Span(span_id=span_id, doc_id="d", start=start, end=end, kind="isbn", subtype=None, text="x",
                value_hash="h", confidence=0.5, bits=30.0, validated=True, detector="t", decision=decision)


def test_latest_decision_wins_and_is_applied(tmp_path: Path) -> None:
    append_decisions(tmp_path, [Decision("s1", HUMAN_ACCEPT, "k")])
    append_decisions(tmp_path, [Decision("s1", HUMAN_REJECT, "k")])
    assert latest_decisions(tmp_path)["s1"].decision == HUMAN_REJECT
    out = DecisionIndex.load(tmp_path).apply([span(0, 3)], "k")
    assert [s.decision for s in out] == [HUMAN_REJECT]


def test_human_added_spans_join_their_document_only(tmp_path: Path) -> None:
    added = span(5, 9, span_id="s2").to_dict()
    append_decisions(tmp_path, [Decision("s2", HUMAN_ADDED, "k", span=added)])
    index = DecisionIndex.load(tmp_path)
    assert [s.span_id for s in index.apply([span(0, 3)], "k")] == ["s1", "s2"]
    assert [s.span_id for s in index.apply([span(0, 3)], "other")] == ["s1"]


def test_torn_last_line_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    append_decisions(tmp_path, [Decision("s1", HUMAN_ACCEPT, "k")])
    with open(ledger_path(tmp_path), "a", encoding="utf-8") as fh:
        fh.write('{"span_id": "s9", "decis')  # a crash mid-write
    append_decisions(tmp_path, [Decision("s2", HUMAN_REJECT, "k")])
    assert set(latest_decisions(tmp_path)) == {"s1", "s2"}


def test_only_human_decisions_go_to_the_ledger() -> None:
    with pytest.raises(ValueError, match="ledger decision"):
        Decision("s1", "auto_accept", "k")
