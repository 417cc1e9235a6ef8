"""manifest.json: what a run read, with which settings, and what it found.

Everything but ``run_id`` and ``timestamps`` depends only on the inputs and the config, so two runs
over the same corpus give manifests that differ in those keys alone.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from factsep import __version__
from factsep.span import SCHEMA_VERSION

if TYPE_CHECKING:
    from factsep.config import DetectorConfig, TagConfig
    from factsep.scan import ScanConfig, ScanSummary, Shard, ShardResult


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="seconds")


def build_manifest(
    summary: ScanSummary,
    shards: Sequence[Shard],
    results: Sequence[ShardResult],
    config: ScanConfig,
    detector_config: DetectorConfig,
    tags: TagConfig,
    detector_version: str,
    started_at: float,
    totals: dict[str, Any],
) -> dict[str, Any]:
    """The manifest as a plain dict (see docs/scan.md for the keys)."""
    by_id = {r.shard_id: r for r in results}
    inputs = []
    for s in shards:
        r = by_id[s.shard_id]
        inputs.append(
            {
                "shard_id": s.shard_id,
                "url": s.url,
                "path": s.rel,
                "format": s.format,
                "compression": s.compression,
                "fingerprint": s.fingerprint,
                "counts": {
                    "read": r.read,
                    "written": r.written,
                    "quarantined": r.quarantined,
                    "skipped": r.skipped,
                    "spans": r.spans,
                },
                "quarantine_reasons": r.quarantine_reasons,
            }
        )
    scan_cfg = config.to_dict()
    scan_cfg.pop("workers", None)  # how fast, not what: keeps manifests of equal runs equal
    scan_cfg.pop("storage_options", None)  # may hold credentials
    now = time.time()
    return {
        "run_id": summary.run_id,
        "timestamps": {
            "started_at": _iso(started_at),
            "finished_at": _iso(now),
            "seconds": round(now - started_at, 3),
        },
        "factsep_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "detector_version": detector_version,
        "inputs": inputs,
        "config": {
            "scan": scan_cfg,
            "detect": dataclasses.asdict(detector_config),
            "tags": dataclasses.asdict(tags),
        },
        "counts": {
            "files": len(shards),
            "read": summary.read,
            "written": summary.written,
            "quarantined": summary.quarantined,
            "skipped": summary.skipped,
            "bytes": summary.bytes,
            "docs_with_facts": summary.docs_with_facts,
            **totals,
            "quarantine_reasons": summary.quarantine_reasons,
            "kinds": summary.kinds,
        },
        "monofact_rate": {kind: stats["monofact_rate"] for kind, stats in summary.kinds.items()},
        "outputs": {
            "dataset": "dataset/part-*.parquet",
            "spans": "spans/part-*.parquet",
            "quarantine": "quarantine/part-*.jsonl",
            "counts": "state/counts.parquet",
        },
    }
