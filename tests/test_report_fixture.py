"""A small scan output (OUT/) written the way the scan contract lays it out, for report/export tests.

Values are found in the text by position, so offsets, counts and singletons are computed, never
typed in. ``build_out(path)`` returns the documents and spans it wrote so tests can derive
expectations independently of the code under test.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from factsep.config import TagConfig
from factsep.span import (
    ACCEPTED,
    AUTO_ACCEPT,
    AUTO_REJECT,
    HUMAN_ACCEPT,
    PENDING_REVIEW,
    REJECTED,
    SPAN_ARROW_TYPE,
    Span,
    doc_key,
    make_span_id,
    make_value_hash,
    spans_to_table,
)

# (text, [(value, kind, bits, confidence, decision)])
DOCS: list[tuple[str, list[tuple[str, str, float, float, str]]]] = [
    (
        "Call Ana at +1 415 555 0132 about the order.",
        [("+1 415 555 0132", "phone_number", 31.0, 0.93, AUTO_ACCEPT)],
    ),
    (
        "The book ISBN 978-0-306-40615-7 is out; also call +1 415 555 0132.",
        [
            ("978-0-306-40615-7", "isbn", 30.0, 0.97, AUTO_ACCEPT),
            ("+1 415 555 0132", "phone_number", 31.0, 0.91, AUTO_ACCEPT),
        ],
    ),
    (
        "Write to zoë.müller@example.org or ring +44 20 7946 0958.",
        [
            ("zoë.müller@example.org", "email_address", 40.0, 0.88, AUTO_ACCEPT),
            ("+44 20 7946 0958", "phone_number", 30.0, 0.55, PENDING_REVIEW),
        ],
    ),
    (
        "Session id 3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70 expired at page 12.",
        [
            ("3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70", "uuid", 122.0, 0.99, AUTO_ACCEPT),
            ("12", "generic_id", 3.0, 0.15, AUTO_REJECT),
        ],
    ),
    (
        "Reviewed: +33 1 42 68 53 00 is the office line.",
        [("+33 1 42 68 53 00", "phone_number", 29.0, 0.60, HUMAN_ACCEPT)],
    ),
    ("Nothing random in this sentence at all.", []),
    (
        "Low-bit code 4711 accepted, ISBN 978-0-306-40615-7 again.",
        [
            ("4711", "generic_id", 8.0, 0.80, AUTO_ACCEPT),
            ("978-0-306-40615-7", "isbn", 30.0, 0.96, AUTO_ACCEPT),
        ],
    ),
]

TAGS = TagConfig()


def make_docs() -> list[tuple[str, str, list[Span]]]:
    """(doc_id, text, spans) with corpus counts filled."""
    out = []
    counts: Counter[str] = Counter()
    for i, (text, facts) in enumerate(DOCS):
        key = doc_key(text)
        spans = []
        for value, kind, bits, conf, decision in facts:
            start = text.index(value)
            end = start + len(value)
            norm = value.replace(" ", "").replace("-", "").lower()
            vh = make_value_hash(kind, norm)
            counts[vh] += 1
            spans.append(
                Span(
                    span_id=make_span_id(key, start, end, kind),
                    doc_id=f"d{i}",
                    start=start,
                    end=end,
                    kind=kind,
                    subtype="isbn13" if kind == "isbn" else None,
                    text=value,
                    value_hash=vh,
                    confidence=conf,
                    bits=bits,
                    validated=True,
                    detector="fixture/1",
                    decision=decision,
                )
            )
        out.append((f"d{i}", text, spans))
    for _, _, spans in out:
        for s in spans:
            s.corpus_count = counts[s.value_hash]
            s.singleton = counts[s.value_hash] == 1
    return out


def _tagged(text: str, spans: list[Span]) -> str:
    pieces, pos = [], 0
    for s in sorted((s for s in spans if s.decision in ACCEPTED), key=lambda s: s.start):
        pieces += [
            text[pos : s.start],
            TAGS.open.format(kind=s.kind),
            text[s.start : s.end],
            TAGS.close.format(kind=s.kind),
        ]
        pos = s.end
    return "".join(pieces) + text[pos:]


def build_out(path: Path, with_quarantine: bool = True, finalized: bool = True, parts: int = 2) -> list:
    """Write OUT/spans, OUT/dataset, manifest and quarantine under ``path``; return make_docs()."""
    docs = make_docs()
    if not finalized:
        for _, _, spans in docs:
            for s in spans:
                s.corpus_count = None
                s.singleton = None
    (path / "spans").mkdir(parents=True)
    (path / "dataset").mkdir(parents=True)
    chunks = [docs[i::parts] for i in range(parts)]
    for n, chunk in enumerate(chunks):
        shard = f"s{n:04d}"
        spans = [s for _, _, ss in chunk for s in ss]
        pq.write_table(spans_to_table(spans), path / "spans" / f"part-{shard}.parquet")
        rows = {
            "id": [d for d, _, _ in chunk],
            "text": [t for _, t, _ in chunk],
            "random_facts": [[s.to_dict() for s in ss if s.decision not in REJECTED] for _, _, ss in chunk],
            "tagged_text": [_tagged(t, ss) for _, t, ss in chunk],
            "rf_count": [sum(s.decision in ACCEPTED for s in ss) for _, _, ss in chunk],
            "rf_bits": [float(sum(s.bits for s in ss if s.decision in ACCEPTED)) for _, _, ss in chunk],
            "rf_singletons": [sum(bool(s.singleton) and s.decision in ACCEPTED for s in ss) for _, _, ss in chunk],
        }
        schema = pa.schema(
            [
                ("id", pa.string()),
                ("text", pa.string()),
                ("random_facts", pa.list_(SPAN_ARROW_TYPE)),
                ("tagged_text", pa.string()),
                ("rf_count", pa.int32()),
                ("rf_bits", pa.float32()),
                ("rf_singletons", pa.int32()),
            ]
        )
        pq.write_table(pa.Table.from_pydict(rows, schema=schema), path / "dataset" / f"part-{shard}.parquet")
    manifest = {
        "run_id": "fixture-run",
        "schema_version": "1.0",
        "inputs": [{"url": "samples/fixture.jsonl"}],
        "config": {
            "scan": {"text_field": "text", "id_field": "id"},
            "detect": {"review_low": 0.35, "review_high": 0.75, "random_bits_threshold": 12.0},
        },
    }
    (path / "manifest.json").write_text(json.dumps(manifest))
    if with_quarantine:
        (path / "quarantine").mkdir()
        lines = [
            {
                "file": "fixture.jsonl",
                "line": 9,
                "reason": "invalid JSON: SECRET-RAW-9999",
                "record": "{oops",
            },
            {"file": "fixture.jsonl", "line": 12, "reason": "missing text field", "record": "{}"},
            {"file": "fixture.jsonl", "line": 15, "reason": "invalid JSON: other", "record": "]"},
        ]
        (path / "quarantine" / "part-s0000.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return docs


def test_fixture_is_consistent(tmp_path: Path) -> None:
    docs = build_out(tmp_path)
    for _, text, spans in docs:
        for s in spans:
            assert text[s.start : s.end] == s.text
    assert len(list((tmp_path / "spans").glob("part-*.parquet"))) == 2
