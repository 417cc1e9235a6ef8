"""The report's numbers, recomputed here from the fixture's documents, and its privacy rules."""

from __future__ import annotations

import base64
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report_fixture import build_out, make_docs  # noqa: E402

from factsep.report import collect_report, report_summary, write_report  # noqa: E402
from factsep.span import ACCEPTED, HUMAN, PENDING_REVIEW  # noqa: E402

RAW_VALUES = ["+1 415 555 0132", "978-0-306-40615-7", "zoë.müller@example.org", "SECRET-RAW-9999"]


def expected(min_bits: float = 12.0, with_pending: bool = False) -> dict[str, dict[str, float]]:
    """Per-kind numbers straight from the fixture's documents (no polars, no report code)."""
    occurrences: dict[str, int] = defaultdict(int)
    for _, _, spans in make_docs():
        for s in spans:
            occurrences[s.value_hash] += 1
    values: dict[str, dict[str, float]] = defaultdict(dict)  # kind -> value_hash -> bits
    for _, _, spans in make_docs():
        for s in spans:
            counted = s.decision in ACCEPTED or (with_pending and s.decision == PENDING_REVIEW)
            if counted and s.bits >= min_bits:
                values[s.kind][s.value_hash] = s.bits
    out = {}
    for kind, vals in values.items():
        singles = sum(occurrences[v] == 1 for v in vals)
        out[kind] = {
            "distinct": len(vals),
            "singletons": singles,
            "monofact": singles / len(vals),
            "bits": sum(vals.values()),
            "gt": singles / sum(occurrences[v] for v in vals),
        }
    return out


@pytest.mark.parametrize("finalized", [True, False])
def test_per_kind_numbers(tmp_path: Path, finalized: bool) -> None:
    build_out(tmp_path, finalized=finalized)
    data = collect_report(tmp_path)
    exp = expected()
    got = {k.kind: k for k in data.kinds if k.distinct_values}
    assert set(got) == set(exp)
    for kind, e in exp.items():
        k = got[kind]
        assert k.distinct_values == e["distinct"]
        assert k.singletons == e["singletons"]
        assert k.monofact_rate == pytest.approx(e["monofact"])
        assert k.singleton_occurrence_share == pytest.approx(e["gt"])
        assert k.bits_total == pytest.approx(e["bits"])
        assert k.params_needed == pytest.approx(e["bits"] / 2)
    total_bits = sum(e["bits"] for e in exp.values())
    assert data.total.bits_total == pytest.approx(total_bits)
    assert data.total.distinct_values == sum(e["distinct"] for e in exp.values())
    docs = make_docs()
    all_spans = [s for _, _, ss in docs for s in ss]
    assert data.total.spans == len(all_spans)
    assert data.total.status.get("pending", 0) == sum(s.decision == PENDING_REVIEW for s in all_spans)
    assert data.total.status.get("human", 0) == sum(s.decision in HUMAN for s in all_spans)
    assert data.documents == len(docs)
    assert data.documents_with_facts == sum(any(s.decision in ACCEPTED for s in ss) for _, _, ss in docs)
    assert data.quarantine.records == 3
    assert data.quarantine.reasons == {"invalid JSON": 2, "missing text field": 1}


def test_subtypes(tmp_path: Path) -> None:
    build_out(tmp_path)
    data = collect_report(tmp_path)
    spans = [s for _, _, ss in make_docs() for s in ss if s.subtype == "isbn13"]
    row = next(r for r in data.subtypes if r["subtype"] == "isbn13")
    assert row["kind"] == "isbn" and row["spans"] == len(spans)
    assert row["distinct_values"] == len({s.value_hash for s in spans if s.decision in ACCEPTED})
    assert sum(r["spans"] for r in data.subtypes) == data.total.spans
    assert "isbn13" in Path(write_report(tmp_path).html).read_text(encoding="utf-8")


def test_pending_values_give_the_upper_end(tmp_path: Path) -> None:
    build_out(tmp_path)
    data = collect_report(tmp_path)
    up = expected(with_pending=True)
    phone = next(k for k in data.kinds if k.kind == "phone_number")
    assert phone.distinct_with_pending == up["phone_number"]["distinct"] == phone.distinct_values + 1
    assert phone.monofact_rate_with_pending == pytest.approx(up["phone_number"]["monofact"])
    assert data.total.params_with_pending == pytest.approx(sum(e["bits"] for e in up.values()) / 2)


def test_options_change_the_budget(tmp_path: Path) -> None:
    build_out(tmp_path)
    low = collect_report(tmp_path, min_bits=4.0, bits_per_param=4.0)
    exp = expected(min_bits=4.0)
    assert "generic_id" in exp  # the 8-bit code counts once the threshold drops
    assert low.total.bits_total == pytest.approx(sum(e["bits"] for e in exp.values()))
    assert low.total.params_needed == pytest.approx(low.total.bits_total / 4.0)


def test_html_is_self_contained_with_plots_and_no_values(tmp_path: Path) -> None:
    build_out(tmp_path)
    paths = write_report(tmp_path)
    html = Path(paths.html).read_text(encoding="utf-8")
    md = Path(paths.markdown).read_text(encoding="utf-8")
    images = re.findall(r"src='data:image/png;base64,([^']+)'", html)
    assert len(images) >= 4
    for img in images:
        assert base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", html), "report must not load anything remote"
    assert "<script" not in html
    for value in RAW_VALUES:
        assert value not in html and value not in md
    assert "monofact" in md and "phone_number" in md
    assert not list(tmp_path.glob(".report*"))  # no temporary files left behind


def test_show_values_includes_them(tmp_path: Path) -> None:
    build_out(tmp_path)
    paths = write_report(tmp_path, show_values=True)
    html = Path(paths.html).read_text(encoding="utf-8")
    assert "+1 415 555 0132" in html and "978-0-306-40615-7" in html
    assert "SECRET-RAW-9999" in html  # full quarantine reasons too


def test_show_values_after_a_no_values_scan(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    build_out(tmp_path)
    for part in (tmp_path / "spans").glob("part-*.parquet"):
        table = pq.read_table(part)
        i = table.schema.get_field_index("text")
        empty = pa.nulls(table.num_rows, pa.string())
        pq.write_table(table.set_column(i, table.schema.field(i), empty), part)
    html = Path(write_report(tmp_path, show_values=True).html).read_text(encoding="utf-8")
    assert "The scan dropped raw values" in html
    assert "+1 415 555 0132" not in html


def test_empty_output_still_reports(tmp_path: Path) -> None:
    (tmp_path / "spans").mkdir()
    paths = write_report(tmp_path)
    assert "factsep report" in Path(paths.html).read_text(encoding="utf-8")
    summary = report_summary(tmp_path)
    assert summary["spans"] == 0 and summary["monofact_rate"] is None


def test_report_summary_is_json_ready(tmp_path: Path) -> None:
    build_out(tmp_path)
    summary = json.loads(json.dumps(report_summary(tmp_path)))
    exp = expected()
    assert summary["distinct_values"] == sum(e["distinct"] for e in exp.values())
    assert summary["kinds"]["phone_number"]["monofact_rate"] == pytest.approx(exp["phone_number"]["monofact"])
    assert summary["params_needed"] == pytest.approx(summary["bits_total"] / 2)
    assert summary["quarantined"] == 3
    assert not any(v in json.dumps(summary) for v in RAW_VALUES)


def test_cli_report(tmp_path: Path) -> None:
    from factsep.cli import report as report_cli

    build_out(tmp_path)
    app = typer.Typer()
    report_cli.register(app)
    result = CliRunner().invoke(app, ["report", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").exists() and (tmp_path / "report.md").exists()
    assert "phone_number" in result.output and "50.0%" in result.output
    for value in RAW_VALUES:
        assert value not in result.output
    as_json = CliRunner().invoke(app, ["report", str(tmp_path), "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["distinct_values"] == sum(e["distinct"] for e in expected().values())
    missing = CliRunner().invoke(app, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2
