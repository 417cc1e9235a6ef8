"""What a person decides from is in the report: the input files, what went to review and where,
every table complete or visibly paged, automatic decisions split into accepted and rejected, and a
sentence instead of a chart of 100% bars when every value is unique."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_report_fixture import build_out  # noqa: E402

import factsep.report as report_mod  # noqa: E402
from factsep.report import collect_report, make_plots, write_report  # noqa: E402
from factsep.review import route  # noqa: E402
from factsep.scan import ScanConfig, scan  # noqa: E402
from factsep.span import AUTO_ACCEPT, AUTO_REJECT, Span, make_span_id, make_value_hash, spans_to_table  # noqa: E402

LINES = {
    "orders.jsonl": [
        "Order 1: the ISBN 978-0-306-40615-7 ships today, write to nora.lind@example.com.",
        "Pay to IBAN GB82 WEST 1234 5698 7654 32 before Friday, reference 4820 1937 5561.",
    ],
    "notes.txt": [
        "Her customer number 5512 8830 1174 and the file 73920184 are in the old system.",
        "Session 3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70 logged from 192.168.17.42 at noon.",
    ],
}


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture()
def scanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "orders.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in LINES["orders.jsonl"]))
    (corpus / "notes.txt").write_text("\n".join(LINES["notes.txt"]) + "\n")
    out = tmp_path / "out"
    scan([str(corpus)], str(out), config=ScanConfig(workers=1))
    return out


def test_inputs_review_queue_and_status_split(scanned: Path) -> None:
    routed = route(scanned, budget=50)
    assert routed.tasks_total > 0
    paths = write_report(scanned)
    html = _text(Path(paths.html).read_text(encoding="utf-8"))
    md = Path(paths.markdown).read_text(encoding="utf-8")

    # the input files, by name, with their documents
    assert "Inputs (2 files)" in html
    for name, documents in (("orders.jsonl", 2), ("notes.txt", 1)):  # a JSON line each, a text file whole
        assert re.search(rf"{re.escape(name)} \S+ {documents} 0 ", html), name
        assert name in md

    # what went to review, how many, and where
    tasks = json.loads((scanned / "review" / "tasks.json").read_text())
    spans_sent = sum(len(json.loads(line)["spans"]) for line in (scanned / "state" / "routing.jsonl").open())
    where = str(scanned / "review" / "tasks.json")
    assert f"{len(tasks)} review tasks hold {spans_sent} spans" in html
    assert f"written for Label Studio import to {where}" in html
    assert f"{len(tasks)} review tasks" in md

    # automatic decisions apart: accepted and rejected columns, counted from the span files
    spans = [r for p in sorted((scanned / "spans").glob("part-*.parquet")) for r in pq.read_table(p).to_pylist()]
    decided = Counter(s["decision"] for s in spans)
    data = paths.data
    assert data.total.status.get("auto accepted", 0) == decided[AUTO_ACCEPT]
    assert data.total.status.get("auto rejected", 0) == decided[AUTO_REJECT]
    assert "auto accepted auto rejected pending human" in html
    assert " auto " not in html.replace("auto accepted", "").replace("auto rejected", "")


def _spans_with_subtypes(n: int, repeat_one: bool) -> list[Span]:
    spans = []
    for i in range(n):
        value = "same" if repeat_one and i < 2 else f"v{i}"
        spans.append(
            Span(
                span_id=make_span_id(f"doc{i}", 0, 8, "tax_id"),
                doc_id=f"d{i}",
                start=0,
                end=8,
                kind="tax_id",
                subtype=f"stdnum.x{i:02d}",
                text=None,
                value_hash=make_value_hash("tax_id", value),
                confidence=0.9,
                bits=20.0,
                validated=True,
                detector="test/1",
                decision=AUTO_ACCEPT,
            )
        )
    return spans


def _write_spans(out: Path, spans: list[Span]) -> None:
    (out / "spans").mkdir(parents=True)
    pq.write_table(spans_to_table(spans), out / "spans" / "part-s0000.parquet")


def test_every_subtype_is_listed_or_the_cut_is_visible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    _write_spans(out, _spans_with_subtypes(40, repeat_one=False))
    html = _text(Path(write_report(out).html).read_text(encoding="utf-8"))
    assert "Subtypes (40)" in html
    assert all(f"stdnum.x{i:02d}" in html for i in range(40))  # the old report kept 30
    assert "first " not in html

    monkeypatch.setattr(report_mod, "MAX_TABLE_ROWS", 10)
    paths = write_report(out)
    html = _text(Path(paths.html).read_text(encoding="utf-8"))
    assert "first 10 of 40 rows; all of them: report.md" in html
    md = Path(paths.markdown).read_text(encoding="utf-8")
    assert all(f"stdnum.x{i:02d}" in md for i in range(40))


def test_all_unique_values_get_a_sentence_not_a_chart_of_full_bars(tmp_path: Path) -> None:
    unique = tmp_path / "unique"
    _write_spans(unique, _spans_with_subtypes(6, repeat_one=False))
    data = collect_report(unique)
    assert data.total.singletons == data.total.distinct_values == 6
    html = Path(write_report(unique).html).read_text(encoding="utf-8")
    assert "id='all-unique'" in html and "Every one of the 6 distinct random-fact values is seen exactly once" in html
    assert "budget" in make_plots(data)  # the memory budget chart stays

    repeated = tmp_path / "repeated"
    build_out(repeated)  # the fixture states an ISBN and a phone number twice
    html = Path(write_report(repeated).html).read_text(encoding="utf-8")
    assert "all-unique" not in html and "<h2>Monofact rate and memory budget</h2>" in html
