"""manifest.json: what a run read, with which settings, and what it found. Its only writer.

Everything but ``run_id`` and ``timestamps`` depends only on the inputs and the config, so two runs
over the same corpus give manifests that differ in those keys alone. Scan's finalize writes it
whole (:func:`write`); materialize (from sync) updates its counts (:func:`refresh`). A manifest
that does not parse or fails :data:`MANIFEST_SCHEMA` (torn by hand, or by a tool) is read as
absent, so later scans write a new one instead of crashing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import jsonschema

from factsep import __version__
from factsep.io import fs as outfs
from factsep.io.atomic import read_json, write_json
from factsep.io.layout import Layout
from factsep.span import SCHEMA_VERSION

MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["run_id", "schema_version", "inputs", "config", "counts"],
    "properties": {
        "run_id": {"type": "string"},
        "schema_version": {"type": "string"},
        "inputs": {"type": "array"},
        "config": {"type": "object"},
        "counts": {"type": "object"},
        "monofact_rate": {"type": "object"},
    },
}


def read(out: str | Layout) -> dict[str, Any] | None:
    """The manifest, or None when there is none or it is torn or foreign."""
    path = Layout.of(out).manifest
    if not outfs.exists(path):
        return None
    try:
        data = read_json(path)
        jsonschema.validate(data, MANIFEST_SCHEMA)
    except (ValueError, OSError, jsonschema.ValidationError):
        return None
    return dict(data)


def write(out: str | Layout, manifest: dict[str, Any]) -> str:
    jsonschema.validate(manifest, MANIFEST_SCHEMA)
    path = Layout.of(out).manifest
    write_json(path, manifest)
    return path


def refresh(out: str | Layout, materialized: dict[str, Any]) -> None:
    """After materialize, the manifest's fact counts follow the new decisions (no manifest: none)."""
    manifest = read(out)
    if manifest is None:
        return
    counts = manifest.setdefault("counts", {})
    counts.update(materialized["totals"])
    counts["docs_with_facts"] = materialized["docs_with_facts"]
    counts["kinds"] = materialized["kinds"]
    manifest["monofact_rate"] = {kind: stats["monofact_rate"] for kind, stats in materialized["kinds"].items()}
    manifest.setdefault("timestamps", {})["rewritten_at"] = _iso(time.time())
    write(out, manifest)

if TYPE_CHECKING:
    from factsep.config import DetectorConfig, TagConfig
    from factsep.scan import ScanConfig, ScanSummary, Shard, ShardResult


_INPUT_COUNTS = ("read", "written", "quarantined", "skipped", "spans")


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
    inputs: list[dict[str, Any]] = []
    by_url: dict[str, dict[str, Any]] = {}
    for s in shards:
        r = by_id[s.shard_id]
        counts = {k: getattr(r, k) for k in _INPUT_COUNTS}
        item = by_url.get(s.url)
        if item is None:
            item = by_url[s.url] = {
                "shard_id": s.shard_id,
                "url": s.url,
                "path": s.rel,
                "format": s.format,
                "compression": s.compression,
                "fingerprint": s.fingerprint,
                "counts": dict.fromkeys(_INPUT_COUNTS, 0),
                "quarantine_reasons": {},
            }
            inputs.append(item)
        for k, v in counts.items():
            item["counts"][k] += v
        reasons = item["quarantine_reasons"]
        for k, v in r.quarantine_reasons.items():
            reasons[k] = reasons.get(k, 0) + v
        if s.start is not None:  # a file read as several shards: each one's range and counts
            item["shard_id"] = None
            unit = "row_group" if s.format == "parquet" else "byte"
            item.setdefault("shards", []).append({
                "shard_id": s.shard_id, "unit": unit, "start": s.start, "end": s.end,
                ("first_row" if unit == "row_group" else "first_line"): s.first_loc + (0 if unit == "row_group" else 1),
                "bytes": s.size, "counts": counts,
            })
    for item in inputs:
        item["quarantine_reasons"] = dict(sorted(item["quarantine_reasons"].items()))
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
            "files": len(inputs),
            "shards": len(shards),
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
