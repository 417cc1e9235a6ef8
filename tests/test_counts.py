"""Corpus counts and monofact rates over span parts written as if by several machines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from factsep import counts
from factsep.span import Span, make_value_hash, spans_to_table


def span(kind: str, value: str, decision: str = "auto_accept", bits: float = 10.0, n: int = 0) -> Span:
    return Span(
        span_id=f"{kind}-{value}-{n}",
        doc_id=f"d{n}",
        start=0,
        end=len(value),
        kind=kind,
        subtype=None,
        text=value,
        value_hash=make_value_hash(kind, value),
        confidence=0.9,
        bits=bits,
        validated=True,
        detector="test",
        decision=decision,
    )


def write_parts(tmp_path: Path, parts: list[list[Span]]) -> list[str]:
    (tmp_path / "spans").mkdir()
    paths = []
    for i, spans in enumerate(parts):
        path = tmp_path / "spans" / f"part-m{i}.parquet"
        pq.write_table(spans_to_table(spans), path)
        paths.append(str(path))
    return paths


def test_value_counts_across_parts(tmp_path: Path) -> None:
    a = [span("phone_number", "1"), span("phone_number", "2"), span("isbn", "1", n=1)]
    b = [span("phone_number", "1", "auto_reject", n=2), span("phone_number", "3"), span("isbn", "9")]
    c: list[Span] = []  # a machine whose shard had no spans
    paths = write_parts(tmp_path, [a, b, c])
    assert counts.span_parts(tmp_path) == sorted(paths)
    got = dict(zip(*counts.value_counts(paths).to_dict(as_series=False).values(), strict=True))
    expected = Counter(s.value_hash for s in a + b)
    assert got == dict(expected)
    # kinds namespace the hash: the same digits as phone and as isbn are different values
    assert got[make_value_hash("isbn", "1")] == 1 and got[make_value_hash("phone_number", "1")] == 2


def test_kind_stats_monofact_rate(tmp_path: Path) -> None:
    spans = [
        span("phone_number", "1", n=0),
        span("phone_number", "1", "pending_review", n=1),
        span("phone_number", "2", n=2),
        span("phone_number", "3", "auto_reject", n=3),
        span("phone_number", "4", "human_accept", bits=20.0, n=4),
        span("uuid", "u", bits=122.0, n=5),
    ]
    paths = write_parts(tmp_path, [spans])
    vc = dict(zip(*counts.value_counts(paths).to_dict(as_series=False).values(), strict=True))
    with_counts = [s.with_(corpus_count=vc[s.value_hash], singleton=vc[s.value_hash] == 1) for s in spans]
    pq.write_table(spans_to_table(with_counts), paths[0])
    stats = counts.kind_stats(paths, min_bits=5.0)
    phone = stats["phone_number"]
    # random facts are accepted spans of >= 5 bits: values 1, 2, 4 (the pending and the rejected span
    # are not); value 1 occurs twice in the corpus (its pending span counts there) -> singletons 2, 4
    assert phone["spans"] == 5 and phone["facts"] == 3 and phone["rejected"] == 1
    assert phone["accepted"] == 3 and phone["pending_review"] == 1
    assert phone["distinct_values"] == 3 and phone["singletons"] == 2
    assert abs(phone["monofact_rate"] - 2 / 3) < 1e-6
    assert phone["bits_total"] == 40.0  # the distinct values' bits: 10 + 10 + 20
    assert stats["uuid"]["monofact_rate"] == 1.0
    total = counts.totals(stats)
    assert total["distinct_values"] == 4 and total["singletons"] == 3 and total["monofact_rate"] == 0.75
    # the threshold is part of the definition: at 15 bits only value 4 and the uuid are random facts
    high = counts.kind_stats(paths, min_bits=15.0)
    assert high["phone_number"]["facts"] == 1 and high["phone_number"]["bits_total"] == 20.0


def test_empty_inputs() -> None:
    assert counts.value_counts([]).height == 0
    assert counts.kind_stats([]) == {}
    assert counts.totals({})["monofact_rate"] is None
