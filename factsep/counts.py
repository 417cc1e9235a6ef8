"""Corpus counts and monofact rates, computed as aggregations over the span files.

Nothing here holds the corpus in a Python dict: polars scans ``OUT/spans/part-*.parquet`` (written by
any number of machines) and groups by ``value_hash``. The result has one row per distinct value.
Per kind, the *monofact rate* is the share of distinct values (among spans not rejected) that occur
exactly once in the corpus: the Good-Turing estimate that bounds a calibrated model's hallucination
rate on that kind of fact.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from factsep.io import fs as outfs
from factsep.span import REJECTED

COUNTS_FILE = "counts.parquet"


def span_parts(out: str | Path) -> list[str]:
    return outfs.glob(outfs.join(out, "spans"), "part-*.parquet")


def _scan(paths: Sequence[str]) -> pl.LazyFrame:
    """Local parts or parts on an object store (``OUT`` as an fsspec URL) alike."""
    return outfs.scan_parquet([str(p) for p in paths])


def value_counts(paths: Sequence[str]) -> pl.DataFrame:
    """``value_hash -> corpus_count``: occurrences of each value over all spans of all parts.

    Every detected span counts, whatever its decision: the count says how often the corpus repeats
    the value, which does not change when a human reviews one occurrence.
    """
    if not paths:
        return pl.DataFrame(schema={"value_hash": pl.String, "corpus_count": pl.Int64})
    return (
        _scan(paths)
        .group_by("value_hash")
        .agg(pl.len().cast(pl.Int64).alias("corpus_count"))
        .sort("value_hash")
        .collect()
    )


def kind_stats(paths: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per kind: spans, facts (not rejected), accepted, pending, distinct values, singletons, bits.

    Reads ``corpus_count`` from the parts, so call it after counts were written into them.
    """
    if not paths:
        return {}
    lf = _scan(paths).with_columns(pl.col("decision").is_in(sorted(REJECTED)).alias("_rejected"))
    per_span = (
        lf.group_by("kind")
        .agg(
            pl.len().alias("spans"),
            (~pl.col("_rejected")).sum().alias("facts"),
            pl.col("decision").is_in(["auto_accept", "human_accept", "human_added"]).sum().alias("accepted"),
            (pl.col("decision") == "pending_review").sum().alias("pending_review"),
            pl.col("_rejected").sum().alias("rejected"),
            pl.col("bits").filter(~pl.col("_rejected")).sum().cast(pl.Float64).alias("bits_total"),
        )
        .collect()
    )
    per_value = (
        lf.filter(~pl.col("_rejected"))
        .group_by("kind", "value_hash")
        .agg(pl.col("corpus_count").max().alias("n"))
        .group_by("kind")
        .agg(
            pl.len().alias("distinct_values"),
            (pl.col("n") == 1).sum().alias("singletons"),
        )
        .collect()
    )
    values = {r["kind"]: r for r in per_value.to_dicts()}
    result: dict[str, dict[str, Any]] = {}
    for row in per_span.sort("kind").to_dicts():
        kind = row.pop("kind")
        v = values.get(kind, {"distinct_values": 0, "singletons": 0})
        distinct = int(v["distinct_values"])
        singles = int(v["singletons"])
        row = {k: int(x) if k != "bits_total" else round(float(x or 0.0), 3) for k, x in row.items()}
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
