"""End-to-end corpus scan: outputs, counts that add up, schemas, determinism, resume, decisions, CLI."""

from __future__ import annotations

import gzip
import json
import shutil
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import fsspec
import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from factsep.cli import app
from factsep.config import TagConfig
from factsep.decisions import Decision, append_decisions
from factsep.io.quarantine import read_quarantine
from factsep.io.schemas import dataset_json_schema, schema_files_current
from factsep.scan import (
    FACT_COLUMNS,
    ScanConfig,
    finalize,
    plan_shards,
    rewrite_parts,
    scan,
    scan_shard,
    tag_text,
)
from factsep.span import (
    SPAN_ARROW_SCHEMA,
    SPAN_ARROW_TYPE,
    Span,
    doc_key,
    make_span_id,
    make_value_hash,
    span_json_schema,
)

ROOT = Path(__file__).resolve().parents[1]
PHONE = "+1 650 253 0000"
ISBN = "978-3-16-148410-0"
TEMPLATES = [
    "Call {phone} about order 48213, total $1,299.00.",
    "Book ISBN {isbn}, pp. 12-40, version v2.3.1.",
    "request {uuid} from 10.1.{n}.3",
    "mail user{n}@example.org today",
    "IBAN DE89 3704 0044 0532 0130 00 please",
    "nothing to see here, just {n} apples",
]


def doc(i: int) -> str:
    return TEMPLATES[i % len(TEMPLATES)].format(phone=PHONE, isbn=ISBN, uuid=uuid.UUID(int=i, version=4), n=i)


def make_corpus(root: Path) -> Path:
    """Four formats, a sub-folder, some bad records: 26 documents, 4 bad, 1 blank, 1 hidden file."""
    src = root / "corpus"
    (src / "sub").mkdir(parents=True)
    lines = [json.dumps({"id": f"a{i}", "text": doc(i), "n": i, "tags": ["x"] * (i % 3)}) for i in range(12)]
    lines[5:5] = ['{"id": "broken", "text": "cut', "", json.dumps({"id": "nul", "text": None})]
    (src / "a.jsonl").write_text("\n".join(lines) + "\n")
    b = [json.dumps({"text": doc(i), "n": "mixed" if i % 2 else i}) for i in range(12, 18)]
    (src / "sub" / "b.jsonl.gz").write_bytes(gzip.compress(("\n".join(b) + "\n").encode(), mtime=0))
    table = pa.table(
        {
            "id": pa.array(range(100, 107), pa.int32()),
            "text": [doc(i) for i in range(18, 24)] + [None],
            "score": [0.5] * 7,
        }
    )
    pq.write_table(table, src / "c.parquet")
    (src / "sub" / "d.txt").write_text(f"Born on 14 March 1962 in Leeds. Call {PHONE}.\n")
    (src / "sub" / "e.txt").write_bytes(b"caf\xe9 latin-1")
    (src / ".hidden.jsonl").write_text(json.dumps({"text": doc(1)}) + "\n")
    return src


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("scan"))


@pytest.fixture(scope="module")
def out(corpus: Path) -> Path:
    target = corpus.parent / "out"
    scan([str(corpus)], str(target), ScanConfig(batch_size=4))
    return target


def read_parts(out: Path, kind: str) -> pa.Table:
    tables = [pq.read_table(p) for p in sorted((out / kind).glob("part-*.parquet"))]
    return pa.concat_tables([t.select(FACT_COLUMNS) if kind == "dataset" else t for t in tables])


def all_spans(out: Path) -> list[Span]:
    return [Span.from_dict(r) for r in read_parts(out, "spans").to_pylist()]


def manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text())


def test_counts_add_up(out: Path) -> None:
    m = manifest(out)
    c = m["counts"]
    assert c["read"] == c["written"] + c["quarantined"] + c["skipped"]
    assert (c["written"], c["quarantined"], c["skipped"], c["files"]) == (25, 4, 1, 5)
    for item in m["inputs"]:
        k = item["counts"]
        assert k["read"] == k["written"] + k["quarantined"] + k["skipped"], item["path"]
        assert set(item["fingerprint"]) == {"size", "mtime", "blake2b"}
    assert sum(pq.read_metadata(p).num_rows for p in (out / "dataset").glob("*.parquet")) == c["written"]
    for p in (out / "dataset").glob("*.parquet"):  # also the part of sub/e.txt, which had no good document
        assert "text" in pq.read_schema(p).names
    assert len(list(read_quarantine(out))) == c["quarantined"]
    assert m["schema_version"] and m["run_id"] and m["config"]["scan"]["text_field"] == "text"
    assert not any(p.name.startswith(".tmp-") for p in out.rglob("*"))
    assert not (out / "state" / "tmp").exists() or not any((out / "state" / "tmp").iterdir())


def test_quarantine_records(out: Path) -> None:
    recs = {(r["file"], r.get("line"), r.get("row")): r for r in read_quarantine(out)}
    assert recs[("a.jsonl", 6, None)]["reason"].startswith("invalid JSON")
    assert recs[("a.jsonl", 8, None)]["reason"] == "null text field 'text'"
    assert recs[("c.parquet", None, 6)]["reason"] == "null text field 'text'"
    latin = recs[("sub/e.txt", None, None)]
    assert latin["encoding"] == "base64" and latin["reason"].startswith("invalid UTF-8")


def test_dataset_keeps_input_columns_and_adds_facts(out: Path) -> None:
    paths = sorted((out / "dataset").glob("part-*.parquet"))
    schemas = [pq.read_schema(p) for p in paths]
    assert all(s == schemas[0] for s in schemas)  # one schema for every part of OUT
    ds = pa.concat_tables([pq.read_table(p) for p in paths])
    added = ["doc_id", "source_file", "source_line", "source_row", *FACT_COLUMNS]
    assert ds.column_names[-len(added):] == added
    assert set(ds.column_names[: -len(added)]) == {"id", "text", "n", "tags", "score"}
    assert ds.schema.field("tags").type == pa.list_(pa.string())
    assert pq.ParquetFile(paths[0]).metadata.row_group(0).column(0).compression == "ZSTD"
    rows = ds.to_pylist()
    a = [r for r in rows if r["source_file"] == "a.jsonl"]
    c = [r for r in rows if r["source_file"] == "c.parquet"]
    b = [r for r in rows if r["source_file"] == "sub/b.jsonl.gz"]
    assert [r["source_line"] for r in a][:5] == [1, 2, 3, 4, 5] and all(r["source_row"] is None for r in a)
    assert [r["source_row"] for r in c] == list(range(6))  # Parquet rows count from 0
    assert all(r["source_line"] is None and r["score"] == 0.5 for r in c)
    assert all(r["score"] is None for r in a + b)  # a column of one input is null in the others
    # "id" is a string in a.jsonl and an int32 in c.parquet, "n" ints and strings in b.jsonl:
    # such columns are JSON text (strings quoted), so no value changes its type or meaning
    json_cols = ds.schema.metadata[b"factsep.json_columns"].decode().split(",")
    assert set(json_cols) == {"id", "n"}
    assert ds.schema.field("id").metadata[b"factsep.json"] == b"1"
    assert [json.loads(r["id"]) for r in a][:2] == ["a0", "a1"] and json.loads(c[0]["id"]) == 100
    assert [json.loads(r["n"]) for r in b][:2] == [12, "mixed"] and all(r["id"] is None for r in b)
    assert {r["doc_id"] for r in a} >= {"a0", "a1"} and b[0]["doc_id"] == "sub/b.jsonl.gz:1"
    assert ds.schema.field("random_facts").type == pa.list_(SPAN_ARROW_TYPE)
    assert ds.schema.metadata[b"factsep.schema_version"]


def test_doc_ids_and_spans(out: Path) -> None:
    spans = all_spans(out)
    ids = {s.doc_id for s in spans}
    assert "a0" in ids and "100" in ids
    assert "sub/b.jsonl.gz:1" in ids and "sub/d.txt:1" in ids
    assert pq.read_schema(next(iter((out / "spans").glob("*.parquet")))).remove_metadata() == (
        SPAN_ARROW_SCHEMA.remove_metadata()
    )


def test_corpus_counts_and_monofact_rates(out: Path) -> None:
    spans = all_spans(out)
    expected = Counter(s.value_hash for s in spans)
    for s in spans:
        assert s.corpus_count == expected[s.value_hash] and s.singleton == (expected[s.value_hash] == 1)
    phone = make_value_hash("phone_number", "+16502530000")
    assert phone in expected and expected[phone] >= 5  # repeated across three shards
    facts = [s for s in spans if not s.rejected]
    kinds = manifest(out)["counts"]["kinds"]
    for kind, stats in kinds.items():
        values = {s.value_hash for s in facts if s.kind == kind}
        singles = {v for v in values if expected[v] == 1}
        assert stats["distinct_values"] == len(values) and stats["singletons"] == len(singles)
        rate = len(singles) / len(values) if values else None
        assert stats["monofact_rate"] == (None if rate is None else round(rate, 6))
        assert manifest(out)["monofact_rate"][kind] == stats["monofact_rate"]
    assert kinds["isbn"]["monofact_rate"] == 0.0 and kinds["uuid"]["monofact_rate"] == 1.0


def test_rows_totals_and_tags(out: Path) -> None:
    for row in read_parts(out, "dataset").to_pylist():
        facts = [Span.from_dict(f) for f in row["random_facts"]]
        assert row["rf_count"] == len(facts)
        assert abs(row["rf_bits"] - sum(f.bits for f in facts)) < 1e-3
        assert row["rf_singletons"] == sum(1 for f in facts if f.singleton)
        assert not any(f.rejected for f in facts)
        for f in facts:
            if f.accepted:
                assert f"<rf:{f.kind}>{f.text}</rf:{f.kind}>" in row["tagged_text"]
    texts = read_parts(out, "dataset").column("tagged_text").to_pylist()
    assert any(f"<rf:phone_number>{PHONE}</rf:phone_number>" in t for t in texts)
    assert any("just 5 apples" in t and "<rf:" not in t for t in texts)


def test_written_files_match_json_schemas(out: Path) -> None:
    assert schema_files_current(ROOT / "schemas"), "run: python -m factsep.io.schemas schemas"
    span_schema = json.loads((ROOT / "schemas" / "span.schema.json").read_text())
    dataset_schema = json.loads((ROOT / "schemas" / "dataset.schema.json").read_text())
    span_v = jsonschema.Draft202012Validator(span_schema)
    ds_v = jsonschema.Draft202012Validator(dataset_schema)
    for row in read_parts(out, "spans").to_pylist():
        span_v.validate(row)
    rows = [r for p in sorted((out / "dataset").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    for row in rows:
        ds_v.validate(row)
    # the validators can fail: a wrong type is caught
    bad = dict(rows[0], rf_count="3")
    with pytest.raises(jsonschema.ValidationError):
        ds_v.validate(bad)
    with pytest.raises(jsonschema.ValidationError):
        span_v.validate(dict(read_parts(out, "spans").to_pylist()[0], decision="maybe"))
    assert dataset_json_schema()["$defs"]["span"]["properties"] == span_json_schema()["properties"]


def test_rerun_resumes_and_same_input_gives_same_output(corpus: Path, out: Path, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in (out / "dataset").glob("*.parquet")}
    summary = scan([str(corpus)], str(out), ScanConfig(batch_size=4))
    assert summary.shards_resumed == summary.shards == 5
    assert {p.name: p.read_bytes() for p in (out / "dataset").glob("*.parquet")} == before
    clean = tmp_path / "clean"
    scan([str(corpus)], str(clean), ScanConfig(batch_size=4, workers=1))
    for sub in ("dataset", "spans", "quarantine"):
        names = sorted(p.name for p in (out / sub).iterdir())
        assert names == sorted(p.name for p in (clean / sub).iterdir())
        for name in names:
            assert (out / sub / name).read_bytes() == (clean / sub / name).read_bytes(), f"{sub}/{name}"
    m1, m2 = manifest(out), manifest(clean)
    for m in (m1, m2):
        m.pop("run_id")
        m.pop("timestamps")
    assert m1 == m2


def test_changed_config_or_input_rescans_shard(corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    shutil.copytree(corpus, src)
    target = tmp_path / "o"
    cfg = ScanConfig(batch_size=8)
    scan([str(src / "sub")], str(target), cfg)
    again = scan([str(src / "sub")], str(target), cfg, tags=TagConfig(open="[{kind}|{bits}]", close="[/]"))
    assert again.shards_resumed == 0
    tagged = read_parts(target, "dataset").column("tagged_text").to_pylist()
    assert any("[phone_number|" in t and "[/]" in t for t in tagged)
    (src / "sub" / "d.txt").write_text("changed: call +44 20 7946 0958 now\n")
    third = scan([str(src / "sub")], str(target), cfg, tags=TagConfig(open="[{kind}|{bits}]", close="[/]"))
    assert third.shards_resumed == third.shards - 1


def test_no_values_drops_text_keeps_hashes(corpus: Path, out: Path, tmp_path: Path) -> None:
    target = tmp_path / "nv"
    scan([str(corpus / "a.jsonl")], str(target), ScanConfig(no_values=True))
    spans = all_spans(target)
    assert spans and all(s.text is None for s in spans)
    full = {s.span_id: s.value_hash for s in all_spans(out) if s.doc_id.startswith("a")}
    assert {s.span_id: s.value_hash for s in spans} == full
    for row in read_parts(target, "dataset").to_pylist():
        assert all(f["text"] is None for f in row["random_facts"])


def test_plan_globs_hidden_and_memory_urls(corpus: Path, tmp_path: Path) -> None:
    shards = plan_shards([str(corpus / "**" / "*.txt"), str(corpus / "a.jsonl")], ScanConfig())
    assert sorted(s.rel for s in shards) == ["a.jsonl", "sub/d.txt", "sub/e.txt"]
    assert all(s.shard_id == plan_shards([s.url])[0].shard_id for s in shards)  # stable ids
    hidden = plan_shards([str(corpus)], ScanConfig(include_hidden=True))
    assert ".hidden.jsonl" in {s.rel for s in hidden}
    fs = fsspec.filesystem("memory")
    fs.pipe("/scan-mem/x/one.jsonl", (corpus / "a.jsonl").read_bytes())
    fs.pipe("/scan-mem/x/two.txt", b"Call +1 650 253 0000 today")
    try:
        summary = scan(["memory://scan-mem/x"], str(tmp_path / "mem"))
        assert summary.written == 13 and summary.quarantined == 2
        assert "two.txt:1" in {s.doc_id for s in all_spans(tmp_path / "mem")}
        via_file = scan([f"file://{corpus}/a.jsonl"], str(tmp_path / "file"))
        assert via_file.written == 12
    finally:
        fs.rm("/scan-mem", recursive=True)
    with pytest.raises(Exception, match="not found"):
        plan_shards([str(corpus / "nope.jsonl")])


def test_rewrite_parts_applies_human_decisions(corpus: Path, out: Path, tmp_path: Path) -> None:
    target = tmp_path / "dec"
    shutil.copytree(out, target)
    spans = all_spans(target)
    texts = {}
    for p in sorted((target / "dataset").glob("*.parquet")):
        for row in pq.read_table(p).to_pylist():
            for f in row["random_facts"]:
                texts[f["span_id"]] = row["text"]
    accepted = next(s for s in spans if s.accepted and s.start > 3)
    host_text = texts[accepted.span_id]
    key = doc_key(host_text)
    start = 0  # every template starts with a word no span covers
    added = Span(
        span_id=make_span_id(key, start, start + 3, "generic_id"),
        doc_id=accepted.doc_id,
        start=start,
        end=start + 3,
        kind="generic_id",
        subtype=None,
        text=host_text[start : start + 3],
        value_hash=make_value_hash("generic_id", "added"),
        confidence=1.0,
        bits=20.0,
        validated=False,
        detector="human",
        decision="human_added",
    )
    append_decisions(
        target,
        [
            Decision(accepted.span_id, "human_reject", key),
            Decision(added.span_id, "human_added", key, span=added.to_dict()),
        ],
    )
    rewrite_parts(str(target))
    after = {s.span_id: s for s in all_spans(target)}
    assert after[accepted.span_id].decision == "human_reject"
    copies = sum(
        t == host_text
        for p in (target / "dataset").glob("*.parquet")
        for t in pq.read_table(p).column("text").to_pylist()
    )
    # identical documents share a doc_key, so a span added on one is added on all of them
    assert after[added.span_id].decision == "human_added" and after[added.span_id].corpus_count == copies
    assert len(all_spans(target)) == len(spans) + copies
    rows = read_parts(target, "dataset").to_pylist()
    assert len(rows) == 25
    host = next(r for r in rows if any(f["span_id"] == added.span_id for f in r["random_facts"]))
    assert accepted.span_id not in {f["span_id"] for f in host["random_facts"]}
    rejected_now = sum(1 for s in all_spans(target) if s.kind == accepted.kind and s.rejected)
    assert manifest(target)["counts"]["kinds"][accepted.kind]["rejected"] == rejected_now >= 1  # manifest follows
    assert f"<rf:generic_id>{host_text[:3]}</rf:generic_id>" in host["tagged_text"]
    assert f">{accepted.text}</rf:" not in host["tagged_text"]
    # the latest decision wins: accepting it again brings it back into random_facts and the tags
    append_decisions(target, [Decision(accepted.span_id, "human_accept", key)])
    rewrite_parts(str(target))
    assert {s.span_id: s.decision for s in all_spans(target)}[accepted.span_id] == "human_accept"
    host = next(r for r in read_parts(target, "dataset").to_pylist() if r["tagged_text"].startswith("<rf:generic_id>"))
    assert f"<rf:{accepted.kind}>{accepted.text}</rf:{accepted.kind}>" in host["tagged_text"]
    # decisions survive a re-scan of the same corpus into the same OUT (shards resumed, finalize re-applies)
    scan([str(corpus)], str(target), ScanConfig(batch_size=4))
    assert {s.span_id: s.decision for s in all_spans(target)}[accepted.span_id] == "human_accept"
    # and a scan from scratch (new markers) applies the ledger while detecting
    for p in (target / "state" / "shards").glob("*.json"):
        p.unlink()
    scan([str(corpus)], str(target), ScanConfig(batch_size=4))
    again = {s.span_id: s for s in all_spans(target)}
    assert again[added.span_id].decision == "human_added" and again[accepted.span_id].decision == "human_accept"


def test_shard_api_for_flows(corpus: Path, tmp_path: Path) -> None:
    """plan_shards + scan_shard + finalize without scan(): what a flow does on many machines."""
    target = str(tmp_path / "flow")
    shards = plan_shards([str(corpus)], ScanConfig())
    events: list[Any] = []
    results = [scan_shard(s, target, ScanConfig(batch_size=3), on_progress=events.append) for s in shards]
    assert sum(e.bytes for e in events) == sum(s.fingerprint["size"] for s in shards)
    assert sum(e.docs for e in events) == 25 and sum(e.done for e in events) == len(shards)
    assert sum(e.quarantined for e in events) == 4
    assert scan_shard(shards[0], target, ScanConfig()).resumed is True  # batch size does not change output
    summary = finalize(target)  # shards and configs from the markers, as a flow's finalize task calls it
    assert summary.written == sum(r.written for r in results) == 25
    assert summary.to_dict()["kinds"] and json.loads(json.dumps(results[0].to_dict()))["shard_id"]


def test_tag_text_overlaps_and_templates() -> None:
    def s(start: int, end: int, kind: str, decision: str = "auto_accept") -> Span:
        return Span("i", "d", start, end, kind, "US", "x", "h", 0.9, 33.04, True, "t", decision=decision)

    text = "call 6502530000 now"
    spans = [s(5, 15, "phone_number"), s(5, 8, "generic_id"), s(16, 19, "generic_id", "pending_review")]
    assert tag_text(text, spans, TagConfig()) == "call <rf:phone_number>6502530000</rf:phone_number> now"
    tags = TagConfig(open="[[{kind}:{subtype}:{bits}]]", close="[[/]]")
    assert tag_text(text, spans[:1], tags) == "call [[phone_number:US:33.0]]6502530000[[/]] now"


def test_cli_json_quiet_and_exit_codes(corpus: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["scan", str(corpus / "sub"), "--out", str(tmp_path / "c1"), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["read"] == summary["written"] + summary["quarantined"] + summary["skipped"]
    assert summary["quarantined"] == 1
    quiet = runner.invoke(app, ["scan", str(corpus / "sub"), "--out", str(tmp_path / "c1")])
    assert quiet.exit_code == 0 and quiet.output == ""  # not a terminal: no bar, no text
    missing = runner.invoke(app, ["scan", str(tmp_path / "nope"), "--out", str(tmp_path / "c2")])
    assert missing.exit_code == 1 and "not found" in missing.output
    (tmp_path / "file").write_text("x")
    not_dir = runner.invoke(app, ["scan", str(corpus / "sub"), "--out", str(tmp_path / "file")])
    assert not_dir.exit_code == 2 and "not a folder" in not_dir.output
    bad_only = tmp_path / "bad"
    bad_only.mkdir()
    (bad_only / "x.bin").write_bytes(b"\x00\x01")
    (bad_only / "empty.jsonl").write_bytes(b"")
    nothing = runner.invoke(app, ["scan", str(bad_only), "--out", str(tmp_path / "c3")])
    assert nothing.exit_code == 1 and "no document could be read" in nothing.output
    assert len(list(read_quarantine(tmp_path / "c3"))) == 2  # still quarantined, never lost
