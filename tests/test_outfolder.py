"""OUT as a product: one schema every loader reads, parts written once, state that survives damage
and a second run (issue 13; issue 17 items 8, 10, 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from factsep.decisions import Decision, append_decisions
from factsep.scan import ScanConfig, scan
from factsep.span import doc_key

ROOT = Path(__file__).resolve().parents[1]
PHONE = "+1 650 253 0000"


def deep_list(levels: int) -> Any:
    value: Any = ["bottom"]
    for _ in range(levels - 1):
        value = [value]
    return value


def mixed_corpus(root: Path) -> Path:
    """JSONL with ids, JSONL without ids (and a field nested 50 lists deep), a text file, and a
    Parquet file with extra columns of its own."""
    src = root / "mixed"
    src.mkdir(parents=True)
    with open(src / "with_ids.jsonl", "w", encoding="utf-8") as fh:
        for i in range(5):
            fh.write(json.dumps({"id": f"w{i}", "text": f"Order {i}: call {PHONE} before noon.", "lang": "en"}) + "\n")
    with open(src / "no_ids.jsonl", "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": f"Ring {PHONE} tonight.", "meta": deep_list(50)}) + "\n")
        fh.write(json.dumps({"text": "Nothing to see in this line.", "meta": None, "lang": 7}) + "\n")
        fh.write(json.dumps({"text": "ISBN 978-3-16-148410-0 is on the shelf."}) + "\n")
    (src / "note.txt").write_text(f"A plain note. Phone {PHONE}.\n", encoding="utf-8")
    table = pa.table({
        "id": pa.array([100, 101, 102], pa.int64()),
        "text": ["Mail ops@example.org now.", "Just words here.", f"Dial {PHONE}."],
        "score": [0.25, 0.5, 0.75],
        "labels": [["a"], [], ["b", "c"]],
    })
    pq.write_table(table, src / "extra.parquet")
    return src


@pytest.fixture(scope="module")
def mixed_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outfolder")
    out = root / "out"
    scan([str(mixed_corpus(root))], str(out), ScanConfig(batch_size=2))
    return out


EXPECTED_ROWS = 5 + 3 + 1 + 3


def test_every_loader_reads_every_row_with_every_column(mixed_out: Path, tmp_path: Path) -> None:
    import datasets
    import polars as pl
    import pyarrow.dataset as pads

    schema = pq.read_schema(next((mixed_out / "dataset").glob("part-*.parquet")))
    names = schema.names
    assert {"id", "text", "lang", "meta", "score", "labels", "doc_id", "source_file"} <= set(names)
    # the card makes OUT a Hugging Face dataset folder
    loaded = datasets.load_dataset(str(mixed_out), cache_dir=str(tmp_path / "hf"))
    assert loaded["train"].num_rows == EXPECTED_ROWS and loaded["train"].column_names == names
    spans = datasets.load_dataset(str(mixed_out), "spans", cache_dir=str(tmp_path / "hf"))
    assert spans["train"].num_rows == len(pl.read_parquet(str(mixed_out / "spans" / "*.parquet")))
    streamed = list(datasets.load_dataset(
        "parquet", data_files=str(mixed_out / "dataset" / "*.parquet"), streaming=True, split="train"
    ))
    assert len(streamed) == EXPECTED_ROWS and all(list(r) == names for r in streamed)
    frame = pl.read_parquet(str(mixed_out / "dataset" / "*.parquet"))
    assert frame.height == EXPECTED_ROWS and frame.columns == names
    table = pads.dataset(str(mixed_out / "dataset"), format="parquet").to_table()
    assert table.num_rows == EXPECTED_ROWS and table.schema.names == names
    rows = table.to_pylist()
    # every row knows which document it is and where it was read
    assert all(r["doc_id"] and r["source_file"] for r in rows)
    assert all((r["source_line"] is None) != (r["source_row"] is None) for r in rows)
    by_file = Counter(r["source_file"] for r in rows)
    assert by_file == {"with_ids.jsonl": 5, "no_ids.jsonl": 3, "note.txt": 1, "extra.parquet": 3}
    assert {r["doc_id"] for r in rows if r["source_file"] == "no_ids.jsonl"} == {
        "no_ids.jsonl:1", "no_ids.jsonl:2", "no_ids.jsonl:3"}
    assert sorted(r["source_row"] for r in rows if r["source_file"] == "extra.parquet") == [0, 1, 2]
    # input columns are kept losslessly: a column of one input is null elsewhere, one whose type
    # differs between inputs (id: strings and ints; lang: strings and an int) is JSON text
    extra = [r for r in rows if r["source_file"] == "extra.parquet"]
    assert [r["score"] for r in extra] == [0.25, 0.5, 0.75] and extra[2]["labels"] == ["b", "c"]
    assert all(r["score"] is None for r in rows if r["source_file"] != "extra.parquet")
    json_cols = set(schema.metadata[b"factsep.json_columns"].decode().split(","))
    assert {"id", "lang", "meta"} <= json_cols
    assert sorted(json.loads(r["id"]) for r in extra) == [100, 101, 102]
    assert {json.loads(r["id"]) for r in rows if r["source_file"] == "with_ids.jsonl"} == {f"w{i}" for i in range(5)}
    assert Counter(json.loads(r["lang"]) for r in rows if r["lang"] is not None) == {"en": 5, 7: 1}


def test_field_nested_50_deep_beside_a_valid_text_is_kept_as_json(mixed_out: Path) -> None:
    rows = [r for p in sorted((mixed_out / "dataset").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    deep = next(r for r in rows if r["doc_id"] == "no_ids.jsonl:1")
    assert json.loads(deep["meta"]) == deep_list(50)  # lossless
    assert deep["rf_count"] >= 1 and "<rf:phone_number>" in deep["tagged_text"]  # and the text was scanned
    manifest = json.loads((mixed_out / "manifest.json").read_text())
    assert manifest["counts"]["written"] == EXPECTED_ROWS and manifest["counts"]["quarantined"] == 0


def test_dataset_card_names_configs_counts_and_versions(mixed_out: Path) -> None:
    card = (mixed_out / "README.md").read_text(encoding="utf-8")
    header = card.split("---")[1]
    assert "config_name: dataset" in header and "path: dataset/part-*.parquet" in header
    assert "config_name: spans" in header and "path: spans/part-*.parquet" in header
    manifest = json.loads((mixed_out / "manifest.json").read_text())
    assert f"| documents | {EXPECTED_ROWS} |" in card
    assert f"| monofact rate | {manifest['counts']['monofact_rate']} |" in card
    assert manifest["detector_version"] in card and "| calibration |" in card
    assert "| phone_number |" in card


def _count_publishes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    import factsep.io.atomic as atomic

    published: Counter[str] = Counter()
    real = atomic.publish

    def counting(tmp: Path, path: str | Path) -> None:
        published[os.path.relpath(str(path))] += 1
        real(tmp, path)

    monkeypatch.setattr(atomic, "publish", counting)
    return published


def test_each_part_is_written_once_per_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = mixed_corpus(tmp_path)
    out = tmp_path / "out"
    # a decision in the ledger before the scan: decisions are applied in the one materialize step
    text = f"Order 0: call {PHONE} before noon."
    from factsep import Detector

    span = next(s for s in Detector().detect(text, doc_id="w0") if s.kind == "phone_number")
    append_decisions(out, [Decision(span.span_id, "human_reject", doc_key(text))])
    monkeypatch.chdir(tmp_path)
    published = _count_publishes(monkeypatch)
    scan([str(corpus)], "out", ScanConfig(batch_size=2))
    parts = {p: n for p, n in published.items() if "part-" in p}
    assert len([p for p in parts if p.startswith("out/dataset/")]) == 4
    assert len([p for p in parts if p.startswith("out/spans/")]) == 4
    assert set(parts.values()) == {1}, parts  # every part exactly once
    assert published["out/manifest.json"] == 1 and published["out/README.md"] == 1
    spans = [r for p in (out / "spans").glob("*.parquet") for r in pq.read_table(p).to_pylist()]
    assert next(s for s in spans if s["span_id"] == span.span_id)["decision"] == "human_reject"


def _shard_files(out: Path, pattern: str) -> list[Path]:
    return sorted(p for p in out.rglob(f"part-{pattern}*.parquet") if ".tmp-" not in p.name)


def test_truncated_part_is_rescanned_not_trusted(tmp_path: Path) -> None:
    corpus = mixed_corpus(tmp_path)
    out = tmp_path / "out"
    scan([str(corpus)], str(out))
    before = {p.name: p.read_bytes() for p in (out / "dataset").glob("*.parquet")}
    for p in _shard_files(out, "with_ids.jsonl"):  # cut from outside, behind the marker's back
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])
    again = scan([str(corpus)], str(out))
    assert again.shards == 4 and again.shards_resumed == 3  # the damaged shard was scanned again
    assert {p.name: p.read_bytes() for p in (out / "dataset").glob("*.parquet")} == before
    marker = json.loads(next((out / "state" / "shards").glob("with_ids.jsonl-*.json")).read_text())
    assert {"size", "blake2b"} <= set(marker["parts"]["docs"]) and marker["parts"]["docs"]["size"] > 0


def test_torn_manifest_does_not_crash_later_scans(tmp_path: Path) -> None:
    corpus = mixed_corpus(tmp_path)
    out = tmp_path / "out"
    first = scan([str(corpus)], str(out))
    text = (out / "manifest.json").read_text()
    (out / "manifest.json").write_text(text[: len(text) // 3])  # torn
    again = scan([str(corpus)], str(out))
    assert again.written == first.written and again.shards_resumed == 4
    assert json.loads((out / "manifest.json").read_text())["counts"]["written"] == first.written


def _big_corpus(root: Path) -> Path:
    src = root / "big"
    src.mkdir(parents=True)
    for f in range(2):
        with open(src / f"part{f}.jsonl", "w", encoding="utf-8") as fh:
            for i in range(6000):
                text = f"Line {i}: call {PHONE} or mail u{i}@example.org."
                fh.write(json.dumps({"id": f"{f}-{i}", "text": text}) + "\n")
    return src


def test_second_scan_into_the_same_out_fails_with_one_line_and_spares_the_first(tmp_path: Path) -> None:
    corpus = _big_corpus(tmp_path)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(
        [sys.executable, "-m", "factsep", "scan", str(corpus), "--out", str(out), "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.time() + 300
        while not (out / "state" / "lock.owner").exists():
            assert first.poll() is None, first.communicate()
            assert time.time() < deadline, "the first scan never took OUT's lock"
            time.sleep(0.05)
        second = subprocess.run(
            [sys.executable, "-m", "factsep", "scan", str(corpus), "--out", str(out)],
            env=env, capture_output=True, text=True, timeout=300,
        )
        stdout, stderr = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.returncode == 1, second.stderr[-2000:]
    lines = [line for line in second.stderr.splitlines() if line.strip() and "PyTorch" not in line]
    assert len(lines) == 1 and "in use by scan" in lines[0], second.stderr[-2000:]
    assert first.returncode == 0, stderr[-3000:]
    rows = sum(pq.read_metadata(p).num_rows for p in (out / "dataset").glob("*.parquet"))
    assert rows == 12000 and not list(out.rglob(".tmp-*"))


def test_shard_cache_key_follows_the_calibration_files_content(tmp_path: Path) -> None:
    """Sync refits the calibration file in place: a Prefect re-run must not reuse stale shards."""
    import dataclasses

    from factsep import orchestration as orch
    from factsep.scan import plan_shards

    corpus = mixed_corpus(tmp_path)
    calibration = tmp_path / "calibration.json"
    calibration.write_text(json.dumps({"version": 1, "kinds": {}}), encoding="utf-8")
    settings = orch.load_settings(None)
    settings = dataclasses.replace(settings, detect=dataclasses.replace(settings.detect,
                                                                       calibration_path=str(calibration)))
    shard = plan_shards([str(corpus)], settings.scan)[0]
    before = orch.shard_cache_key(shard, str(tmp_path / "out"), settings, "epoch")
    assert orch.shard_cache_key(shard, str(tmp_path / "out"), settings, "epoch") == before
    calibration.write_text(json.dumps({"version": 1, "kinds": {"isbn": {"x": [0, 1], "y": [0, 1]}}}),
                           encoding="utf-8")
    assert orch.shard_cache_key(shard, str(tmp_path / "out"), settings, "epoch") != before


def test_an_export_into_out_exports_is_a_config_of_the_card(tmp_path: Path) -> None:
    import datasets

    from factsep.export import ExportConfig, export

    out = tmp_path / "out"
    scan([str(mixed_corpus(tmp_path))], str(out))
    (out / "exports").mkdir()
    res = export(str(out), str(out / "exports" / "tagged.parquet"), ExportConfig(format="tagged"))
    assert "config_name: tagged" in (out / "README.md").read_text(encoding="utf-8")
    loaded = datasets.load_dataset(str(out), "tagged", cache_dir=str(tmp_path / "hf"))["train"]
    assert loaded.num_rows == res.rows == EXPECTED_ROWS
