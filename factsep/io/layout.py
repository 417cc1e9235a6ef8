"""Every path under OUT, in one place.

Why one object: scan, materialize, review, report and export all read and write under OUT, on
the flow's machine and on Dask workers alike; when each built its own paths, a renamed folder or a
new state file had to be found in ten modules. :class:`Layout` names each file once, for a local
folder or an fsspec URL alike (paths are joined with :func:`factsep.io.fs.join`).

```
OUT/README.md                    dataset card (Hugging Face), written by materialize
OUT/dataset/part-<shard>.parquet the training dataset (one schema for the whole OUT)
OUT/spans/part-<shard>.parquet   one row per span
OUT/quarantine/part-<shard>.jsonl, review.jsonl
OUT/review/tasks.json            Label Studio import file (no server configured)
OUT/manifest.json                run id, inputs, config, counts (factsep.run.manifest)
OUT/report.html, report.md
OUT/state/run.json               plan and configs of the scan (factsep.run.state)
OUT/state/review.json            where OUT was routed: Label Studio URL and project
OUT/state/shards/<shard>.json    completion markers (with their parts' sizes and checksums)
OUT/state/docs/part-<shard>.parquet        a shard's documents, as the scan read them
OUT/state/detections/part-<shard>.parquet  a shard's spans, as the detector found them
OUT/state/counts.parquet         value_hash -> corpus_count
OUT/state/decisions.jsonl, routing.jsonl, inferred.json, calibration.json, last_sync.json
OUT/state/hash_key.json          the per-corpus value-hash key, or its check value (factsep.hashkey)
OUT/state/materialize.pending    set while a materialize is due (a killed sync is completed)
OUT/state/lock                   the OS file lock around read-modify-writes of OUT's state
OUT/state/tmp/<step>/            scratch of one step (a shard's document chunks, the counts by
                                 hash bucket), never published; in the machine's temp dir when
                                 OUT is remote
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from factsep.io import fs as outfs


@dataclass(frozen=True)
class Layout:
    """The paths of one OUT (a local path or an fsspec URL, as given)."""

    out: str

    @classmethod
    def of(cls, out: str | Path | Layout) -> Layout:
        if isinstance(out, Layout):
            return out
        text = str(out)
        return cls(text.rstrip("/") if outfs.is_remote(text) else text)

    def join(self, *parts: str) -> str:
        return outfs.join(self.out, *parts)

    @property
    def remote(self) -> bool:
        return outfs.is_remote(self.out)

    # ---- folders -------------------------------------------------------------------------------
    @property
    def dataset_dir(self) -> str:
        return self.join("dataset")

    @property
    def spans_dir(self) -> str:
        return self.join("spans")

    @property
    def quarantine_dir(self) -> str:
        return self.join("quarantine")

    @property
    def review_dir(self) -> str:
        return self.join("review")

    @property
    def state_dir(self) -> str:
        return self.join("state")

    @property
    def markers_dir(self) -> str:
        return self.join("state", "shards")

    @property
    def docs_dir(self) -> str:
        return self.join("state", "docs")

    @property
    def detections_dir(self) -> str:
        return self.join("state", "detections")

    @property
    def exports_dir(self) -> str:
        return self.join("exports")

    # ---- files of the whole run ------------------------------------------------------------------
    @property
    def readme(self) -> str:
        return self.join("README.md")

    @property
    def manifest(self) -> str:
        return self.join("manifest.json")

    @property
    def report_html(self) -> str:
        return self.join("report.html")

    @property
    def report_md(self) -> str:
        return self.join("report.md")

    @property
    def run_file(self) -> str:
        return self.join("state", "run.json")

    @property
    def review_target(self) -> str:
        return self.join("state", "review.json")

    @property
    def counts(self) -> str:
        return self.join("state", "counts.parquet")

    @property
    def decisions(self) -> str:
        return self.join("state", "decisions.jsonl")

    @property
    def routing(self) -> str:
        return self.join("state", "routing.jsonl")

    @property
    def inferred(self) -> str:
        return self.join("state", "inferred.json")

    @property
    def calibration(self) -> str:
        return self.join("state", "calibration.json")

    @property
    def last_sync(self) -> str:
        return self.join("state", "last_sync.json")

    @property
    def hash_key(self) -> str:
        return self.join("state", "hash_key.json")

    @property
    def pending_materialize(self) -> str:
        return self.join("state", "materialize.pending")

    @property
    def lock(self) -> str:
        return self.join("state", "lock")

    @property
    def lock_owner(self) -> str:
        return self.join("state", "lock.owner")

    @property
    def epoch(self) -> str:
        return self.join("state", "flow_epoch")

    @property
    def tasks_file(self) -> str:
        return self.join("review", "tasks.json")

    @property
    def review_quarantine(self) -> str:
        return self.join("quarantine", "review.jsonl")

    def scratch(self, name: str) -> str:
        """A local folder for one step's scratch files, never published.

        Under ``OUT/state/tmp`` for a local OUT; for a remote OUT on this machine (scratch is
        written and read back at once, and must not cost a round trip to the store).
        """
        if not self.remote:
            return self.join("state", "tmp", name)
        import hashlib
        import tempfile

        scope = hashlib.blake2b(self.out.encode("utf-8"), digest_size=6).hexdigest()
        return str(Path(tempfile.gettempdir()) / "factsep-staging" / f"scratch-{scope}" / name)

    # ---- files of one shard ------------------------------------------------------------------
    def dataset_part(self, shard_id: str) -> str:
        return self.join("dataset", f"part-{shard_id}.parquet")

    def spans_part(self, shard_id: str) -> str:
        return self.join("spans", f"part-{shard_id}.parquet")

    def quarantine_part(self, shard_id: str) -> str:
        return self.join("quarantine", f"part-{shard_id}.jsonl")

    def marker(self, shard_id: str) -> str:
        return self.join("state", "shards", f"{shard_id}.json")

    def docs_part(self, shard_id: str) -> str:
        return self.join("state", "docs", f"part-{shard_id}.parquet")

    def detections_part(self, shard_id: str) -> str:
        return self.join("state", "detections", f"part-{shard_id}.parquet")

    def fault_count(self, shard_id: str) -> str:
        return self.join("state", "faults", f"{shard_id}.count")

    # ---- listings ----------------------------------------------------------------------------
    def dataset_parts(self) -> list[str]:
        return outfs.glob(self.dataset_dir, "part-*.parquet")

    def span_parts(self) -> list[str]:
        return outfs.glob(self.spans_dir, "part-*.parquet")

    def markers(self) -> list[str]:
        return outfs.glob(self.markers_dir, "*.json")


def layout(out: str | Path | Layout) -> Layout:
    """``Layout.of(out)``: the one way to name a path under OUT."""
    return Layout.of(out)
