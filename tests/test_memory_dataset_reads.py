"""Report, export and review read dataset parts one row group at a time, and read the same rows.

One ``ParquetFile.iter_batches`` call over a whole file keeps memory that grows with the file
(see ``factsep.io.fs.iter_batches``), and a polars collect of a whole part holds every text of a
shard. These tests watch every ``iter_batches`` call on a dataset part of many row groups: each
must name one row group, and what the readers return must be what a plain read of the part gives.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from factsep import export, report
from factsep.io.layout import Layout
from factsep.review import data as review_data
from factsep.scan import ScanConfig, scan

DOCS = 120


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scanned OUT whose dataset part has many small row groups; some documents carry no id."""
    root = tmp_path_factory.mktemp("rowgroups")
    rng = random.Random(11)
    with open(root / "notes.jsonl", "w", encoding="utf-8") as fh:
        for i in range(DOCS):
            rid = uuid.UUID(int=rng.getrandbits(128), version=4)
            fh.write(json.dumps({"id": f"n{i}", "text": f"Entry {i} closed, request id {rid}, noted."}) + "\n")
    target = root / "out"
    scan([str(root / "notes.jsonl")], str(target), ScanConfig(workers=1, row_group_size=8))
    parts = Layout.of(str(target)).dataset_parts()
    assert parts and all(pq.ParquetFile(p).num_row_groups > 4 for p in parts)
    return target


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The ``row_groups`` argument of every ``ParquetFile.iter_batches`` call (None: the whole file)."""
    seen: list[Any] = []
    original = pq.ParquetFile.iter_batches

    def watched(self: pq.ParquetFile, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("row_groups"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", watched)
    return seen


def _rows(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for part in Layout.of(str(out)).dataset_parts():
        rows += pq.read_table(part).to_pylist()
    return rows


def _one_group_each(calls: list[Any]) -> None:
    assert calls, "the dataset parts were not read through ParquetFile.iter_batches"
    assert all(rg is not None and len(rg) == 1 for rg in calls), calls


def test_report_counts_documents_a_row_group_at_a_time(out: Path, calls: list[Any]) -> None:
    documents, with_facts = report._documents(out, min_bits=0.0)
    _one_group_each(calls)
    rows = _rows(out)
    assert documents == len(rows) == DOCS
    assert with_facts == sum(1 for r in rows if r["random_facts"])


def test_export_streams_documents_a_row_group_at_a_time(out: Path, calls: list[Any]) -> None:
    got = list(export._documents(out, "text", "id", batch_rows=5))
    _one_group_each(calls)
    assert [(t, len(f)) for _, t, f, _ in got] == [(r["text"], len(r["random_facts"] or [])) for r in _rows(out)]


def test_review_reads_documents_a_row_group_at_a_time(out: Path, calls: list[Any]) -> None:
    rows = _rows(out)
    ids = {r["doc_id"] if r.get("doc_id") is not None else r["id"]: r["text"] for r in rows}
    assert list(review_data.iter_documents(out, batch=7)) == list(ids.items())
    wanted = set(list(ids)[::9])
    texts = review_data._texts_by_id(out, wanted, None)
    _one_group_each(calls)
    assert texts == {k: [ids[k]] for k in wanted}
