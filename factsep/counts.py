"""Corpus counts and monofact rates, computed as aggregations over the span files.

Nothing here holds the corpus in a Python dict: polars scans ``OUT/spans/part-*.parquet`` (written by
any number of machines) and groups by ``value_hash``. The result has one row per distinct value.
Per kind, the *monofact rate* is the share of distinct random-fact values that occur exactly once in
the corpus: the Good-Turing estimate that bounds a calibrated model's hallucination rate on that kind
of fact. What a random fact is, is :func:`factsep.span.is_random_fact`; :func:`random_fact` is its
polars form and :func:`random_values` the one table of distinct random-fact values that the scan
summary, the manifest and the report all count from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from factsep.io import fs as outfs
from factsep.span import ACCEPTED, PENDING_REVIEW, REJECTED

COUNTS_FILE = "counts.parquet"
#: First characters of a value hash (hex): :func:`kind_stats` aggregates values one bucket at a time.
_HASH_DIGITS = "0123456789abcdef"
#: Buckets of value hashes: one per first hex digit, and one for anything else (null, empty, other).
N_BUCKETS = len(_HASH_DIGITS) + 1
_BUCKET_INDEX = {c: i for i, c in enumerate(_HASH_DIGITS)}
_HASH_SCHEMA = pa.schema([pa.field("value_hash", pa.string())])


def span_parts(out: str | Path) -> list[str]:
    from factsep.io.layout import Layout

    return Layout.of(out).span_parts()


def _scan(paths: Sequence[str]) -> pl.LazyFrame:
    """Local parts or parts on an object store (``OUT`` as an fsspec URL) alike."""
    return outfs.scan_parquet([str(p) for p in paths])


def value_hashes(paths: Sequence[str]) -> pl.LazyFrame:
    """The ``value_hash`` column of span (or detections) parts, lazily."""
    return _scan(paths).select("value_hash")


def count_values(frames: Sequence[pl.LazyFrame]) -> pl.DataFrame:
    """``value_hash -> corpus_count`` over lazy frames of value hashes (rows are occurrences)."""
    if not frames:
        return pl.DataFrame(schema={"value_hash": pl.String, "corpus_count": pl.Int64})
    hashes = pl.concat([f.select(pl.col("value_hash").cast(pl.String)) for f in frames])
    # one bucket (first character of the hash) at a time: the group-by holds a sixteenth of the
    # occurrences, not the value column of every span
    return pl.concat([
        hashes.filter(bucket).group_by("value_hash").agg(pl.len().cast(pl.Int64).alias("corpus_count")).collect()
        for bucket in _buckets()
    ]).sort("value_hash")


def _buckets() -> list[pl.Expr]:
    """Filters that split value hashes into disjoint buckets covering all of them (nulls too)."""
    first = pl.col("value_hash").str.slice(0, 1)
    return [first == c for c in _HASH_DIGITS] + [~first.is_in(list(_HASH_DIGITS)) | first.is_null()]


def bucket_of(value_hash: str | None) -> int:
    """The bucket of one value hash: :func:`_buckets` in Python (its index in that list)."""
    return _BUCKET_INDEX.get(value_hash[:1], N_BUCKETS - 1) if value_hash else N_BUCKETS - 1


def _bucket_indices(hashes: pa.Array) -> pa.Array:
    """:func:`bucket_of` over an Arrow array of value hashes."""
    first = pc.utf8_slice_codeunits(hashes.cast(pa.string()), 0, 1)
    found = pc.index_in(first, value_set=pa.array(list(_HASH_DIGITS)))
    return pc.fill_null(found, N_BUCKETS - 1)


def bucket_file(folder: Path, bucket: int) -> Path:
    return folder / f"bucket-{bucket:02d}.parquet"


def partition_hashes(batches: Iterable[pa.Array], folder: Path) -> list[int]:
    """Split a stream of value hashes into one Parquet file per bucket under ``folder``, each in
    the order read; returns the buckets written.

    Memory is one input batch: the files, not a frame, hold what grows with the corpus. The
    ``i``-th hash of a bucket's file is that bucket's ``i``-th hash of the stream, which is how
    :class:`BucketStream` gives counts back in the order of the stream.
    """
    with BucketWriter(folder, _HASH_SCHEMA) as writer:
        for arr in batches:
            writer.write(pa.Table.from_arrays([arr.cast(pa.string())], schema=_HASH_SCHEMA))
    return writer.buckets


class BucketWriter:
    """Rows with a ``value_hash`` column, appended to one Parquet file per bucket under ``folder``
    in the order written (scratch files: plain writers, removed with their folder)."""

    def __init__(self, folder: Path, schema: pa.Schema) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.schema = schema
        self._writers: dict[int, pq.ParquetWriter] = {}

    @property
    def buckets(self) -> list[int]:
        return sorted(self._writers)

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        table = table.cast(self.schema)
        idx = _bucket_indices(table.column("value_hash").combine_chunks())
        for b in pc.unique(idx).to_pylist():
            if b not in self._writers:
                self._writers[b] = pq.ParquetWriter(bucket_file(self.folder, b), self.schema,
                                                    compression="zstd", compression_level=1)
            self._writers[b].write_table(table.filter(pc.equal(idx, b)))

    def close(self) -> None:
        for w in self._writers.values():
            w.close()

    def __enter__(self) -> BucketWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def count_buckets(folders: Sequence[Path]) -> Iterator[tuple[int, pl.DataFrame]]:
    """``(bucket, value_hash -> corpus_count)`` for each bucket, over the partitions of
    :func:`partition_hashes` in ``folders``; each frame sorted by hash, so the frames in bucket
    order are :func:`count_values` of the same hashes.

    One bucket is in memory at a time: about a sixteenth of the occurrences and distinct values.
    """
    for b in range(N_BUCKETS):
        files = [str(bucket_file(f, b)) for f in folders if bucket_file(f, b).exists()]
        if not files:
            continue
        yield b, (
            pl.scan_parquet(files).group_by("value_hash")
            .agg(pl.len().cast(pl.Int64).alias("corpus_count")).collect().sort("value_hash")
        )


def empty_counts() -> pl.DataFrame:
    return pl.DataFrame(schema={"value_hash": pl.String, "corpus_count": pl.Int64})


class BucketStream:
    """Per-occurrence counts of a stream partitioned by :func:`partition_hashes`, given back in
    the stream's order: :meth:`next` takes the next count of the hash's bucket.

    Holds one Parquet batch per bucket, not a count per occurrence.
    """

    def __init__(self, folder: Path, batch_size: int = 8192) -> None:
        self._folder = folder
        self._batch_size = batch_size
        self._its: dict[int, Iterator[int]] = {}

    def _iter(self, bucket: int) -> Iterator[int]:
        path = count_file(self._folder, bucket)
        if not path.exists():
            return
        for rb in outfs.iter_batches(pq.ParquetFile(path), self._batch_size, ["corpus_count"]):
            yield from rb.column(0).to_pylist()

    def next(self, value_hash: str | None) -> int:
        b = bucket_of(value_hash)
        it = self._its.get(b)
        if it is None:
            it = self._its[b] = self._iter(b)
        try:
            return int(next(it))
        except StopIteration:
            raise ValueError(f"no count left in bucket {b} of {self._folder}: the partition is short") from None


def count_file(folder: Path, bucket: int) -> Path:
    return folder / f"count-{bucket:02d}.parquet"


def write_stream_counts(folder: Path, bucket: int, counts: pl.DataFrame) -> None:
    """The corpus count of every hash in ``folder``'s partition of ``bucket``, in its order
    (a hash with no count gets 1), for :class:`BucketStream`."""
    part = bucket_file(folder, bucket)
    if not part.exists():
        return
    got = (
        pl.read_parquet(part).join(counts, on="value_hash", how="left", maintain_order="left")
        .select(pl.col("corpus_count").fill_null(1))
    )
    got.write_parquet(count_file(folder, bucket), compression="zstd", compression_level=1)


def value_counts(paths: Sequence[str]) -> pl.DataFrame:
    """``value_hash -> corpus_count``: occurrences of each value over all spans of all parts.

    Every detected span counts, whatever its decision: the count says how often the corpus repeats
    the value, which does not change when a human reviews one occurrence.
    """
    return count_values([value_hashes(paths)] if paths else [])


def random_fact(min_bits: float, include_pending: bool = False) -> pl.Expr:
    """:func:`factsep.span.is_random_fact` over span columns ``decision`` and ``bits``.

    ``include_pending`` also counts spans still waiting for review: the upper end of the range.
    """
    decisions = ACCEPTED | {PENDING_REVIEW} if include_pending else ACCEPTED
    return pl.col("decision").is_in(sorted(decisions)) & (pl.col("bits") >= min_bits)


def random_values(spans: pl.LazyFrame, min_bits: float, include_pending: bool = False) -> pl.LazyFrame:
    """One row per distinct random-fact value: kind, value_hash, bits, spans, count (in the corpus).

    ``count`` is the scan's ``corpus_count`` when finalize filled it, else the spans of that value
    counted here (every decision, since the corpus repeats a value whatever we decided about it).
    """
    occurrences = spans.group_by("value_hash").agg(pl.len().alias("_n_all"))
    return (
        spans.filter(random_fact(min_bits, include_pending))
        .group_by(["kind", "value_hash"])
        .agg(
            pl.col("bits").cast(pl.Float64).mean().alias("bits"),
            pl.col("corpus_count").max().alias("_cc"),
            pl.len().alias("spans"),
        )
        .join(occurrences, on="value_hash", how="left")
        .with_columns(pl.coalesce(pl.col("_cc"), pl.col("_n_all")).alias("count"))
        .drop(["_cc", "_n_all"])
    )


def kind_stats(paths: Sequence[str], min_bits: float | None = None) -> dict[str, dict[str, Any]]:
    """Per kind: spans by decision, ``facts`` (random-fact spans), and over the distinct random-fact
    values: ``distinct_values``, ``singletons``, ``monofact_rate``, ``bits_total`` (their bits, the
    memory they need). ``min_bits`` defaults to the detector's ``random_bits_threshold``.

    Reads ``corpus_count`` from the parts, so call it after counts were written into them.
    """
    if not paths:
        return {}
    if min_bits is None:
        from factsep.config import DetectorConfig

        min_bits = DetectorConfig().random_bits_threshold
    lf = _scan(paths).select(list(STATS_COLUMNS))
    per_span = _per_span(lf, min_bits).collect()
    # one value's spans all fall in one bucket (its hash's first character), so the per-value
    # aggregation holds a bucket's values at a time, not the value column of every span
    per_value = (
        pl.concat([
            _per_value(lf.filter(bucket), min_bits).collect()
            for bucket in _buckets()
        ])
        .group_by("kind")
        .agg(pl.col("distinct_values").sum(), pl.col("singletons").sum(), pl.col("bits_total").sum())
    )
    return _stats_rows(per_span, per_value)


#: Span columns that :func:`kind_stats` and :func:`bucket_stats` read.
STATS_COLUMNS: tuple[str, ...] = ("kind", "value_hash", "bits", "decision", "corpus_count")


def bucket_stats(folder: Path, min_bits: float) -> dict[str, dict[str, Any]]:
    """:func:`kind_stats` of spans partitioned by bucket under ``folder`` (a :class:`BucketWriter`
    of :data:`STATS_COLUMNS`): the same figures, one bucket in memory at a time."""
    per_span: list[pl.DataFrame] = []
    per_value: list[pl.DataFrame] = []
    for b in range(N_BUCKETS):
        path = bucket_file(folder, b)
        if not path.exists():
            continue
        lf = pl.scan_parquet(str(path))
        per_span.append(_per_span(lf, min_bits).collect())
        per_value.append(_per_value(lf, min_bits).collect())
    if not per_span:
        return {}
    return _stats_rows(
        pl.concat(per_span).group_by("kind").agg(pl.all().sum()),
        pl.concat(per_value).group_by("kind").agg(pl.all().sum()),
    )


def _per_span(lf: pl.LazyFrame, min_bits: float) -> pl.LazyFrame:
    return lf.group_by("kind").agg(
        pl.len().alias("spans"),
        random_fact(min_bits).sum().alias("facts"),
        pl.col("decision").is_in(sorted(ACCEPTED)).sum().alias("accepted"),
        (pl.col("decision") == PENDING_REVIEW).sum().alias("pending_review"),
        pl.col("decision").is_in(sorted(REJECTED)).sum().alias("rejected"),
    )


def _per_value(lf: pl.LazyFrame, min_bits: float) -> pl.LazyFrame:
    return random_values(lf, min_bits).group_by("kind").agg(
        pl.len().alias("distinct_values"),
        (pl.col("count") == 1).sum().alias("singletons"),
        pl.col("bits").sum().alias("bits_total"),
    )


def _stats_rows(per_span: pl.DataFrame, per_value: pl.DataFrame) -> dict[str, dict[str, Any]]:
    values = {r["kind"]: r for r in per_value.to_dicts()}
    result: dict[str, dict[str, Any]] = {}
    for row in per_span.sort("kind").to_dicts():
        kind = row.pop("kind")
        v = values.get(kind, {"distinct_values": 0, "singletons": 0, "bits_total": 0.0})
        distinct = int(v["distinct_values"])
        singles = int(v["singletons"])
        row = {k: int(x) for k, x in row.items()}
        row["bits_total"] = round(float(v["bits_total"] or 0.0), 3)
        row["distinct_values"] = distinct
        row["singletons"] = singles
        row["monofact_rate"] = round(singles / distinct, 6) if distinct else None
        result[kind] = row
    return result


def totals(stats: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Corpus-wide sums of :func:`kind_stats`, with the overall monofact rate."""
    keys = ("spans", "facts", "accepted", "pending_review", "rejected", "distinct_values", "singletons")
    out: dict[str, Any] = {k: sum(int(s[k]) for s in stats.values()) for k in keys}
    out["bits_total"] = round(sum(float(s["bits_total"]) for s in stats.values()), 3)
    out["monofact_rate"] = round(out["singletons"] / out["distinct_values"], 6) if out["distinct_values"] else None
    return out
