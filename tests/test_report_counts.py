"""One scan, one number: the scan summary (``factsep scan --json``), the manifest, the report and
``factsep report`` count random facts by the one definition (:func:`factsep.span.is_random_fact`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from factsep.report import report_summary, write_report
from factsep.span import REJECTED, is_random_fact

ROOT = Path(__file__).resolve().parents[1]

# Sentences of this test: a repeated ISBN (no singleton), an accepted value of few bits (a date of
# birth), numbers left pending (a bare digit run beside a weak word), a rejected-looking price.
LINES = [
    "Order 1: the ISBN 978-0-306-40615-7 ships today, write to nora.lind@example.com.",
    "Order 2: ISBN 978-0-306-40615-7 again; pay to IBAN GB82 WEST 1234 5698 7654 32 please.",
    "Session 3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70 logged from 192.168.17.42 at noon.",
    "Patient Ana Ruiz, date of birth 14 March 1987, was seen by the nurse.",
    "Her reference is 4820 1937 5561 and the file number 73920184 was noted.",
    "Ticket 88213940 belongs to customer 5512 8830 1174 in the old system.",
    "The invoice total was 1,250.00 EUR for 3 items.",
    "Plain prose without anything memorable in it at all, just words.",
]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "factsep", *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_scan_manifest_and_report_count_random_facts_alike(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in LINES[:4]))
    (corpus / "b.txt").write_text("\n".join(LINES[4:]) + "\n")
    out = tmp_path / "out"
    res = _cli("scan", str(corpus), "--out", str(out), "--json", "--workers", "1")
    assert res.returncode == 0, res.stderr
    scanned = json.loads(res.stdout)

    spans = [row for part in sorted((out / "spans").glob("part-*.parquet")) for row in pq.read_table(part).to_pylist()]
    manifest = json.loads((out / "manifest.json").read_text())
    min_bits = manifest["config"]["detect"]["random_bits_threshold"]
    facts = [s for s in spans if is_random_fact(s["decision"], s["bits"], min_bits)]
    not_rejected = [s for s in spans if s["decision"] not in REJECTED]
    # the corpus has spans that are kept but are no random facts (pending, or too few bits), so a
    # count by any other rule would differ
    assert 0 < len(facts) < len(not_rejected)

    summary = report_summary(out)
    paths = write_report(out)
    counts = manifest["counts"]
    assert scanned["facts"] == counts["facts"] == summary["random_fact_spans"] == len(facts)
    distinct = {s["value_hash"] for s in facts}
    assert counts["distinct_values"] == summary["distinct_values"] == len(distinct)
    assert counts["singletons"] == summary["singletons"] == scanned["kinds"]["isbn"]["singletons"] + sum(
        k["singletons"] for name, k in scanned["kinds"].items() if name != "isbn"
    )
    assert scanned["monofact_rate"] == counts["monofact_rate"]
    assert abs(counts["monofact_rate"] - summary["monofact_rate"]) < 1e-6
    assert abs(scanned["bits_total"] - summary["bits_total"]) < 0.01 * len(scanned["kinds"])
    assert scanned["docs_with_facts"] == counts["docs_with_facts"] == summary["documents_with_facts"]
    assert summary["documents_with_facts"] == len({s["doc_id"] for s in facts})
    for kind, k in scanned["kinds"].items():
        rk = summary["kinds"][kind]
        assert (k["facts"], k["distinct_values"], k["singletons"]) == (
            rk["random_fact_spans"],
            rk["distinct_values"],
            rk["singletons"],
        ), kind
        assert manifest["monofact_rate"][kind] == k["monofact_rate"]

    html = Path(paths.html).read_text(encoding="utf-8")
    assert f">{len(facts)}<" in html
    printed = _cli("report", str(out))
    assert printed.returncode == 0, printed.stderr
    assert f"{len(facts)} random facts" in printed.stdout + printed.stderr
