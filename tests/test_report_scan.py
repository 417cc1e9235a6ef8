"""End to end on a real scan: scan a small corpus, report it, export it, and check they agree."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from factsep.export import ExportConfig, export  # noqa: E402
from factsep.report import report_summary, write_report  # noqa: E402
from factsep.scan import ScanConfig, scan  # noqa: E402
from factsep.span import ACCEPTED  # noqa: E402

LINES = [
    "Order 1: the ISBN 978-0-306-40615-7 ships today, write to nora.lind@example.com.",
    "Order 2: ISBN 978-0-306-40615-7 again; pay to IBAN GB82 WEST 1234 5698 7654 32 please.",
    "Session 3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70 logged from 192.168.17.42 at noon.",
    "Reach Mr. Okafor at okafor.b@example.org or on his ISBN 978-1-86197-876-9 book page.",
    "Plain prose without anything memorable in it at all, just words.",
    "The server 10.20.30.40 answered request 7d9e2b1c-0f3a-4e5b-8c6d-1a2b3c4d5e6f quickly.",
]


def test_scan_report_export_agree(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "docs.jsonl").write_text(
        "".join(json.dumps({"id": f"doc{i}", "text": t}) + "\n" for i, t in enumerate(LINES)) + "{broken\n"
    )
    out = tmp_path / "out"
    scan([str(corpus)], str(out), config=ScanConfig(workers=1))

    paths = write_report(out)
    summary = report_summary(out)
    assert Path(paths.html).stat().st_size > 10_000
    assert summary["documents"] == len(LINES)
    assert summary["quarantined"] == 1

    # Recompute the headline numbers from the span files with plain pyarrow.
    spans: list[dict] = []
    for part in sorted((out / "spans").glob("part-*.parquet")):
        spans += pq.read_table(part).to_pylist()
    assert summary["spans"] == len(spans) > 0
    occurrences = Counter(s["value_hash"] for s in spans)
    random = [s for s in spans if s["decision"] in ACCEPTED and s["bits"] >= summary["min_bits"]]
    values = {s["value_hash"]: s["bits"] for s in random}
    assert summary["distinct_values"] == len(values) > 0
    singles = [v for v in values if occurrences[v] == 1]
    assert summary["singletons"] == len(singles)
    assert summary["distinct_values"] > summary["singletons"]  # the ISBN is stated twice
    assert abs(summary["bits_total"] - sum(values.values())) < 1e-3
    assert abs(summary["params_needed"] - summary["bits_total"] / 2) < 1e-6
    for value in ("978-0-306-40615-7", "nora.lind@example.com", "GB82"):
        assert value not in Path(paths.html).read_text(encoding="utf-8")

    tagged = pl.read_parquet(export(out, tmp_path / "t.parquet", ExportConfig(format="tagged")).path)
    assert int(tagged["rf_count"].sum()) == summary["random_fact_spans"]
    assert tagged["text"].str.contains("<rf:isbn>978-0-306-40615-7</rf:isbn>").sum() == 2
    abstain = pl.read_parquet(export(out, tmp_path / "a.parquet", ExportConfig(format="abstain")).path)
    assert abstain.height == summary["singletons"]
    by_id = {s["span_id"]: s for s in spans}
    assert {by_id[i]["value_hash"] for i in abstain["span_id"]} == set(singles)
    repeated_isbn = [s for s in random if s["kind"] == "isbn" and s["text"] == "978-0-306-40615-7"]
    assert len(repeated_isbn) == 2 and not set(abstain["span_id"]) & {s["span_id"] for s in repeated_isbn}
    assert set(abstain["completion"]) == {f"<unknown:{by_id[i]['kind']}>" for i in abstain["span_id"]}
