"""Finalize's memory does not grow with the corpus: what it holds while it writes is bounded.

Peak RSS is measured in ``bench/memory.py``; these tests check the causes one by one, without
timing anything: no object with one entry per distinct value is alive while the dataset parts
are written, the kind statistics are not a second read of every span, and the scan's detector
(whose caches fill up to their bound) is gone before finalize starts.
"""

from __future__ import annotations

import gc
import json
import random
import secrets
import shutil
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from factsep import counts as counts_mod
from factsep.io import atomic
from factsep.io import fs as outfs
from factsep.io.layout import Layout
from factsep.run import materialize as mat
from factsep.scan import ScanConfig, scan

COPIES = 40


def _corpus(path: Path, docs: int) -> None:
    rng = random.Random(5)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(docs):
            rid = uuid.UUID(int=rng.getrandbits(128), version=4)
            fh.write(json.dumps({"id": f"n{i}", "text": f"Note {i}: the upload finished, request id {rid}."}) + "\n")


@pytest.fixture(scope="module")
def wide_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """An OUT of COPIES shards, every value distinct: one real scan, its shard copied with fresh
    value hashes (what a corpus of COPIES times as many distinct values would give materialize)."""
    root = tmp_path_factory.mktemp("wide")
    _corpus(root / "notes.jsonl", 300)
    out = root / "out"
    scan([str(root / "notes.jsonl")], str(out), ScanConfig(workers=1))
    layout = Layout.of(str(out))
    run = json.loads((out / "state" / "run.json").read_text())
    shard = run["shards"][0]
    det = pq.read_table(layout.detections_part(shard["shard_id"]))
    shards = []
    for k in range(COPIES):
        sid = f"copy{k:03d}-{secrets.token_hex(6)}"
        shutil.copy(layout.docs_part(shard["shard_id"]), layout.docs_part(sid))
        fresh = pa.array([secrets.token_hex(16) for _ in range(det.num_rows)], pa.string())
        pq.write_table(det.set_column(det.schema.get_field_index("value_hash"), "value_hash", fresh),
                       layout.detections_part(sid))
        shards.append({**shard, "shard_id": sid, "url": f"{shard['url']}#{k}", "rel": f"{shard['rel']}#{k}"})
    for p in (layout.docs_part(shard["shard_id"]), layout.detections_part(shard["shard_id"]),
              layout.dataset_part(shard["shard_id"]), layout.spans_part(shard["shard_id"])):
        Path(p).unlink()
    run["shards"] = shards
    (out / "state" / "run.json").write_text(json.dumps(run))
    return out, det.num_rows * COPIES


def _big_objects(threshold: int, old: frozenset[int] = frozenset()) -> list[str]:
    """Live containers and frames with at least ``threshold`` entries (type and size), leaving out
    the objects whose ids are in ``old`` (alive before, e.g. other tests' module-level tables)."""
    found = []
    for o in gc.get_objects():
        if id(o) in old:
            continue
        try:
            if isinstance(o, pl.DataFrame):
                n = o.height
            elif isinstance(o, (pl.Series, pa.Array, pa.ChunkedArray, list, dict, set)):
                n = len(o)
            elif isinstance(o, (pa.Table, pa.RecordBatch)):
                n = o.num_rows
            else:
                continue
        except Exception:  # noqa: BLE001 - an object half torn down by the collector
            continue
        if n >= threshold:
            found.append(f"{type(o).__name__}[{n}]")
    return found


def test_no_frame_of_every_value_is_held_while_parts_are_written(
    wide_out: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, distinct = wide_out
    assert distinct >= 10_000  # far above a batch (1,024 documents here hold ~300 spans)
    seen: list[list[str]] = []
    write = atomic.AtomicParquetWriter.write
    old = frozenset(id(o) for o in gc.get_objects())

    def watched(self: atomic.AtomicParquetWriter, table: Any) -> None:
        write(self, table)
        if "/dataset/" in self.path.replace("\\", "/") and len(seen) % 8 == 0:
            seen.append(_big_objects(distinct // 3, old))
        elif "/dataset/" in self.path.replace("\\", "/"):
            seen.append([])

    monkeypatch.setattr(atomic.AtomicParquetWriter, "write", watched)
    result = mat.materialize(str(out))
    assert len(seen) == COPIES
    assert [s for s in seen if s] == [], "objects with one entry per value alive while writing"
    # and the counts are the corpus's: every value once, in the counts file and the span parts
    layout = Layout.of(str(out))
    counts = pl.read_parquet(layout.counts)
    expected = counts_mod.value_counts([layout.detections_part(s) for s in mat.shard_ids(layout)])
    assert counts.equals(expected)
    assert counts.height == distinct and counts["corpus_count"].max() == 1
    spans = pl.read_parquet(layout.span_parts())
    assert spans.height == distinct and spans["singleton"].all()
    assert sum(k["spans"] for k in result.kinds.values()) == distinct


def test_kind_stats_do_not_read_every_span_again(wide_out: tuple[Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Materialize has each written span in hand: its stats come from a bucket partition made
    while writing (one bucket in memory), not a second pass of polars over every span part."""
    out, _ = wide_out
    layout = Layout.of(str(out))
    expected = counts_mod.kind_stats(layout.span_parts())
    scanned: list[list[str]] = []
    real = outfs.scan_parquet

    def spy(paths: list[str]) -> Any:
        scanned.append([str(p) for p in paths])
        return real(paths)

    monkeypatch.setattr(outfs, "scan_parquet", spy)
    result = mat.materialize(str(out))
    spans_dir = layout.spans_dir.replace("\\", "/")
    assert [p for ps in scanned for p in ps if p.replace("\\", "/").startswith(spans_dir)] == []
    assert result.kinds == expected


def test_scan_releases_its_detector_before_finalize(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The detector's caches fill to their bound during the shards; finalize must not sit on them."""
    import weakref

    from factsep import scan as scan_mod

    _corpus(tmp_path / "notes.jsonl", 20)
    built: list[weakref.ref[Any]] = []
    alive: list[bool] = []
    real_detector, real_finalize = scan_mod._detector, scan_mod.finalize

    def detector(config: Any) -> Any:
        d = real_detector(config)
        built.append(weakref.ref(d))
        return d

    def finalize(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        alive.append(any(ref() is not None for ref in built))
        return real_finalize(*args, **kwargs)

    monkeypatch.setattr(scan_mod, "_DETECTORS", {})  # a detector other tests left is not this scan's
    monkeypatch.setattr(scan_mod, "_detector", detector)
    monkeypatch.setattr(scan_mod, "finalize", finalize)
    summary = scan([str(tmp_path / "notes.jsonl")], str(tmp_path / "out"), ScanConfig(workers=1))
    assert summary.written == 20 and summary.spans >= 20
    assert built and alive == [False]
