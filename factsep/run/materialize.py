"""Materialize: documents + detections + human decisions + corpus counts -> dataset and span parts.

Why one step: a scan writes what it read and what it detected (``OUT/state/docs`` and
``OUT/state/detections``, once per shard); everything that changes later (a human decision, a
refitted stratum, a new shard that changes corpus counts) only needs this step again. Each
published part (``OUT/dataset/part-*``, ``OUT/spans/part-*``) is written exactly once per call,
with one schema for the whole OUT (:mod:`factsep.run.columns`), then the manifest's counts and
the dataset card (``OUT/README.md``) follow. Scan's finalize and review's sync both call
:func:`materialize`; nothing else writes those parts.

A call first records ``OUT/state/materialize.pending`` and removes it when all is written, so a
run killed half way (a sync after appending decisions) is completed by the next sync or scan.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from factsep import counts as counts_mod
from factsep.config import DetectorConfig, TagConfig, load_section
from factsep.decisions import DecisionIndex
from factsep.errors import FactsepError
from factsep.io import fs as outfs
from factsep.io.atomic import AtomicParquetWriter, write_bytes
from factsep.io.layout import Layout
from factsep.run import columns, lock, pool
from factsep.run import state as run_state
from factsep.span import SCHEMA_VERSION, SPAN_ARROW_SCHEMA, SPAN_FIELDS, Span

#: Column of a detections part: the row of the span's document in the shard's docs part.
ROW = "__row"
#: Column of a docs part: the document's key (hash of its text), which decisions refer to.
DOC_KEY = "__doc_key"
DETECTIONS_SCHEMA = pa.schema([*SPAN_ARROW_SCHEMA, pa.field(ROW, pa.int64(), nullable=False)])
#: Columns the scan adds to every row to say which document it is and where it was read.
SOURCE_FIELDS: list[pa.Field] = [
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_line", pa.int64(), nullable=True),
    pa.field("source_row", pa.int64(), nullable=True),
]
SOURCE_COLUMNS: tuple[str, ...] = tuple(f.name for f in SOURCE_FIELDS)


class MaterializeError(FactsepError):
    """A docs part and its detections part do not belong together (rescan the shard)."""


@dataclass
class Materialized:
    docs: int
    docs_with_facts: int
    kinds: dict[str, dict[str, Any]]
    totals: dict[str, Any]
    schema: pa.Schema

    def to_dict(self) -> dict[str, Any]:
        return {"docs": self.docs, "docs_with_facts": self.docs_with_facts, "kinds": self.kinds,
                "totals": self.totals}


def pending(out: str | Layout) -> bool:
    """Whether a materialize was begun and not finished (a killed sync or finalize)."""
    return outfs.exists(Layout.of(out).pending_materialize)


def mark_pending(out: str | Layout) -> None:
    """Say a materialize is due before changing what it reads (decisions, inferred.json)."""
    write_bytes(Layout.of(out).pending_materialize, b"materialize\n")


def clear_pending(out: str | Layout) -> None:
    outfs.remove(Layout.of(out).pending_materialize)


def shard_ids(out: str | Layout) -> list[str]:
    """Shards of the run whose docs and detections parts are there, in plan order."""
    layout = Layout.of(out)
    state = run_state.read(layout)
    return [
        s["shard_id"] for s in state["shards"]
        if outfs.exists(layout.docs_part(s["shard_id"])) and outfs.exists(layout.detections_part(s["shard_id"]))
    ]


def dataset_schema(out: str | Layout, ids: Sequence[str], text_field: str) -> pa.Schema:
    """The one schema of every dataset part of OUT (input columns unified, then the added ones)."""
    layout = Layout.of(out)
    from factsep.scan import FACT_FIELDS

    reserved = {*SOURCE_COLUMNS, DOC_KEY, *(f.name for f in FACT_FIELDS)}
    schemas = [outfs.parquet_file(layout.docs_part(i)).schema_arrow for i in ids]
    fields = columns.unify(schemas, skip=reserved)
    if text_field not in {f.name for f in fields}:
        fields.insert(0, pa.field(text_field, pa.string()))
    meta = {
        "factsep.schema_version": SCHEMA_VERSION,
        "factsep.json_columns": ",".join(f.name for f in fields if columns.is_json(f)),
    }
    return pa.schema([*fields, *SOURCE_FIELDS, *FACT_FIELDS], metadata=meta)


@dataclass
class CorpusCounts:
    """``value_hash -> corpus_count`` kept on disk by hash bucket, read back per detection.

    Why not a frame: it has one row per distinct value (~40 B each), so holding it for the whole
    write grows with the corpus, and a batch's hashes fall in every bucket, so looking them up on
    disk per batch would read it all again for every batch. Instead each shard's detected hashes
    are partitioned by bucket in detection order (:func:`factsep.counts.partition_hashes`), each
    bucket is counted and joined once, and the shard's write takes the counts back in detection
    order (:class:`factsep.counts.BucketStream`). Memory: one bucket at a time while counting
    (a sixteenth of the occurrences), one batch per bucket while writing.
    """

    folders: dict[str, Path]
    #: value hash of each span people added (the overlay adds them) -> its corpus count
    added: dict[str, int]
    distinct: int

    def stream(self, sid: str) -> counts_mod.BucketStream:
        return counts_mod.BucketStream(self.folders[sid])

    def count_of(self, value_hash: str, detected: dict[str, int]) -> int:
        """A span's count: the one of its detection in this batch, else of a span people added."""
        got = detected.get(value_hash)
        return got if got is not None else self.added.get(value_hash, 1)


def corpus_counts(out: str | Layout, ids: Sequence[str], decisions: DecisionIndex, scratch: Path) -> CorpusCounts:
    """Count every value over the spans materialize will write, without writing them; writes
    ``OUT/state/counts.parquet`` (one bucket at a time) and the per-shard counts under ``scratch``.

    Detected spans are counted from the detections parts; spans people added (which the overlay
    adds to every copy of their document) are counted once per copy of that document.
    """
    layout = Layout.of(out)
    det = [layout.detections_part(i) for i in ids]
    folders: dict[str, Path] = {}
    for n, sid in enumerate(ids):
        folders[sid] = scratch / f"shard-{n:06d}"
        pf = outfs.parquet_file(layout.detections_part(sid))
        counts_mod.partition_hashes(
            (rb.column(0) for rb in outfs.iter_batches(pf, 65536, ["value_hash"])), folders[sid]
        )
    partitions = list(folders.values())
    added_hashes: set[str] = set()
    if decisions.added_by_doc and ids:
        keys = sorted(decisions.added_by_doc)
        # docs parts differ in their input columns: each is scanned for its key column alone
        copies = dict(
            pl.concat([outfs.scan_parquet([layout.docs_part(i)]).select(DOC_KEY) for i in ids])
            .filter(pl.col(DOC_KEY).is_in(keys)).group_by(DOC_KEY).agg(pl.len().alias("n"))
            .collect().iter_rows()
        )
        added_ids = sorted({d.span_id for ds in decisions.added_by_doc.values() for d in ds})
        detected = set(
            outfs.scan_parquet(det).select("span_id").filter(pl.col("span_id").is_in(added_ids))
            .collect()["span_id"].to_list()
        )
        extra: list[str] = []
        for key, n in copies.items():
            seen: set[str] = set()
            for d in decisions.added_by_doc[key]:
                if d.span is not None and d.span_id not in detected and d.span_id not in seen:
                    seen.add(d.span_id)
                    extra.extend([str(d.span["value_hash"])] * int(n))
        if extra:
            partitions.append(scratch / "added")
            counts_mod.partition_hashes([pa.array(extra, pa.string())], partitions[-1])
        added_hashes = {str(d.span["value_hash"]) for ds in decisions.added_by_doc.values() for d in ds
                        if d.span is not None}
    added: dict[str, int] = {}
    distinct = 0
    schema = counts_mod.empty_counts().to_arrow().schema
    with AtomicParquetWriter(layout.counts, schema, row_group_size=1 << 20) as writer:
        for bucket, frame in counts_mod.count_buckets(partitions):
            writer.write(frame.to_arrow())
            distinct += frame.height
            for folder in folders.values():
                counts_mod.write_stream_counts(folder, bucket, frame)
            mine = sorted(h for h in added_hashes if counts_mod.bucket_of(h) == bucket)
            if mine:
                added.update(_lookup(frame, mine))
    return CorpusCounts(folders, added, distinct)


def _lookup(counts: pl.DataFrame, hashes: list[str]) -> dict[str, int]:
    wanted = pl.DataFrame({"value_hash": sorted(set(hashes))})
    joined = wanted.join(counts, on="value_hash", how="left")
    return dict(zip(joined["value_hash"].to_list(), joined["corpus_count"].fill_null(1).to_list(), strict=True))


def _detections(path: str) -> Iterator[tuple[int, Span]]:
    pf = outfs.parquet_file(path)
    for rb in outfs.iter_batches(pf, 8192, [*SPAN_FIELDS, ROW]):
        rows = rb.column(ROW).to_pylist()
        names = list(SPAN_FIELDS)
        cols = [rb.column(n).to_pylist() for n in names]
        for i, row in enumerate(rows):
            yield int(row), Span(**{n: c[i] for n, c in zip(names, cols, strict=True)})


def _overlay(spans: list[Span], decisions: DecisionIndex, no_values: bool, key: str) -> list[Span]:
    """The one place human and inferred decisions are applied to a document's spans."""
    if not len(decisions):
        return spans
    result = decisions.apply(spans, key)
    if no_values:
        result = [s.with_(text=None) if s.text is not None else s for s in result]
    return result


def _shard(
    layout: Layout, sid: str, schema: pa.Schema, text_field: str, tags: TagConfig,
    decisions: DecisionIndex, counts: CorpusCounts, no_values: bool, row_group_size: int, min_bits: float,
    stats: counts_mod.BucketWriter,
) -> tuple[int, int]:
    from factsep.scan import FACT_FIELDS, fact_columns

    n_inputs = len(schema) - len(SOURCE_FIELDS) - len(FACT_FIELDS)
    input_fields = list(schema)[:n_inputs]
    docs = with_facts = 0
    stream = _detections(layout.detections_part(sid))
    counted = counts.stream(sid)
    head: tuple[int, Span] | None = next(stream, None)
    span_writer = AtomicParquetWriter(layout.spans_part(sid), SPAN_ARROW_SCHEMA, row_group_size=65536)
    ds_writer = AtomicParquetWriter(layout.dataset_part(sid), schema, row_group_size=row_group_size)
    try:
        for rb in outfs.iter_batches(outfs.parquet_file(layout.docs_part(sid)), 1024):
            table = pa.Table.from_batches([rb])
            texts = table.column(text_field).to_pylist()
            keys = table.column(DOC_KEY).to_pylist()
            lists: list[list[Span]] = []
            detected: dict[str, int] = {}  # this batch's detected values -> corpus count
            for i, key in enumerate(keys):
                mine: list[Span] = []
                while head is not None and head[0] == docs + i:
                    mine.append(head[1])
                    detected[head[1].value_hash] = counted.next(head[1].value_hash)
                    head = next(stream, None)
                lists.append(_overlay(mine, decisions, no_values, key))
            lists = [
                [s.with_(corpus_count=(n := counts.count_of(s.value_hash, detected)), singleton=n == 1)
                 for s in spans]
                for spans in lists
            ]
            span_table = pa.Table.from_pylist([_row(s) for spans in lists for s in spans], schema=SPAN_ARROW_SCHEMA)
            span_writer.write(span_table)
            stats.write(span_table.select(list(counts_mod.STATS_COLUMNS)))
            cols = columns.conform(table, input_fields) + [table.column(n) for n in SOURCE_COLUMNS]
            cols += fact_columns(texts, lists, tags)
            ds_writer.write(pa.Table.from_arrays(cols, schema=schema))
            docs += table.num_rows
            with_facts += sum(1 for spans in lists if any(s.is_random_fact(min_bits) for s in spans))
        if head is not None:
            raise MaterializeError(f"{layout.detections_part(sid)} has spans past the last document of its shard")
        span_writer.close()
        ds_writer.close()
    except BaseException:
        span_writer.abort()
        ds_writer.abort()
        raise
    return docs, with_facts


def _row(s: Span) -> dict[str, Any]:
    return {name: getattr(s, name) for name in SPAN_FIELDS}


def materialize(out: str | Layout, ids: Sequence[str] | None = None, publish: bool = True) -> Materialized:
    """Write every dataset and span part of OUT once from its docs, detections, decisions and counts.

    Then the counts file and, with ``publish``, the manifest's counts and the dataset card (scan's
    finalize writes those itself, once, after it). Idempotent: the same state gives the same
    bytes, so a killed call is simply run again.
    """
    layout = Layout.of(out)
    pool.use_returning_pool()
    with lock.out_lock(layout, "materialize"):
        mark_pending(layout)
        state = run_state.read(layout)
        scan_cfg = state["scan"]
        tags = load_section(TagConfig, state["tags"])
        text_field = str(scan_cfg.get("text_field", "text"))
        min_bits = load_section(DetectorConfig, state["detect"]).random_bits_threshold
        ids = list(ids) if ids is not None else shard_ids(layout)
        decisions = DecisionIndex.load(layout.out)
        scratch = Path(layout.scratch("counts"))
        shutil.rmtree(scratch, ignore_errors=True)  # a killed call's; we hold the lock
        try:
            counts = corpus_counts(layout, ids, decisions, scratch)
            schema = dataset_schema(layout, ids, text_field)
            docs = with_facts = 0
            # the written spans' stats columns, by bucket: kind_stats one bucket at a time
            stats_schema = pa.schema([SPAN_ARROW_SCHEMA.field(c) for c in counts_mod.STATS_COLUMNS])
            with counts_mod.BucketWriter(scratch / "stats", stats_schema) as stats:
                for sid in ids:
                    d, w = _shard(layout, sid, schema, text_field, tags, decisions, counts,
                                  bool(scan_cfg.get("no_values")), int(scan_cfg.get("row_group_size", 2048)),
                                  min_bits, stats)
                    docs += d
                    with_facts += w
            kinds = counts_mod.bucket_stats(scratch / "stats", min_bits)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        result = Materialized(docs, with_facts, kinds, counts_mod.totals(kinds), schema)
        if publish:
            from factsep.io import manifest
            from factsep.run import card

            manifest.refresh(layout, result.to_dict())
            card.write_card(layout, result)
            outfs.remove(layout.pending_materialize)
    return result
