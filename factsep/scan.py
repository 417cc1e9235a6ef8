"""Corpus scan: input files -> shards -> docs and detections parts -> materialize -> manifest.

One shard is one input file, or one part of a big one: :func:`plan_shards` cuts a file over
``shard_bytes`` (64 MiB) into byte ranges at newlines (uncompressed JSON lines) or into row-group
ranges (Parquet), so that no shard's end-of-scan step grows with the file.
:func:`scan_shard` reads it in batches, detects spans, and writes
``OUT/state/docs/part-<shard_id>.parquet`` (the documents as read, with ``doc_id`` and source),
``OUT/state/detections/part-<shard_id>.parquet`` (the spans as detected) and its quarantine file,
each once, then a completion marker in ``OUT/state/shards/`` carrying the parts' sizes and
checksums; with a valid marker present it returns the recorded result, so a killed run resumes
where it stopped. :func:`finalize` calls :func:`factsep.run.materialize.materialize`, which counts
values over all shards, applies the human decisions and writes each dataset and span part once,
then writes ``manifest.json`` and the dataset card. :func:`scan` does all of it with a local
process pool, holding OUT's lock (:mod:`factsep.run.lock`). Paths come from
:class:`factsep.io.layout.Layout`. No Prefect here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from factsep import hashkey
from factsep.config import DetectorConfig, TagConfig, load_section
from factsep.errors import FactsepError
from factsep.io import fs as outfs
from factsep.io.atomic import (
    TMP_PREFIX,
    AtomicParquetWriter,
    read_json,
    remove_stale_tmp,
    write_json,
)
from factsep.io.layout import Layout
from factsep.io.quarantine import QuarantineWriter
from factsep.io.readers import (
    Bad,
    Batch,
    LineCutter,
    ReadOptions,
    ReadRange,
    detect_format,
    parquet_ranges,
    read_source,
)
from factsep.run import columns, lock, pool
from factsep.run import state as run_state
from factsep.run.materialize import DETECTIONS_SCHEMA, DOC_KEY, ROW, SOURCE_COLUMNS, SOURCE_FIELDS
from factsep.span import (
    SCHEMA_VERSION,
    SPAN_ARROW_TYPE,
    SPAN_FIELDS,
    Span,
    doc_key,
    hash_key,
)
from factsep.tags import tag_text

#: Columns the scan adds to every dataset row after ``doc_id`` and the source columns (an input
#: column of the same name as any of them is replaced).
FACT_COLUMNS: tuple[str, ...] = ("random_facts", "tagged_text", "rf_count", "rf_bits", "rf_singletons")
FACT_FIELDS: list[pa.Field] = [
    pa.field("random_facts", pa.list_(SPAN_ARROW_TYPE), nullable=False),
    pa.field("tagged_text", pa.string(), nullable=False),
    pa.field("rf_count", pa.int32(), nullable=False),
    pa.field("rf_bits", pa.float32(), nullable=False),
    pa.field("rf_singletons", pa.int32(), nullable=True),
]
_GLOB_CHARS = re.compile(r"[*?\[]")


class ScanError(FactsepError):
    """A run that cannot proceed; ``exit_code`` is what the CLI returns."""

    exit_code = 1


class NothingToReadError(ScanError):
    """No input file matched, or no document could be read."""

    exit_code = 1


class OutputError(ScanError):
    """OUT cannot be created or written."""

    exit_code = 2


@dataclass
class ScanConfig:
    """How inputs are read and written. The ``[scan]`` section of the config file."""

    text_field: str = "text"
    id_field: str = "id"
    no_values: bool = False
    batch_size: int = 256
    workers: int = 1
    row_group_size: int = 2048
    max_record_bytes: int = 8 << 20
    max_raw_bytes: int = 1 << 20
    include_hidden: bool = False
    hash_content: bool = True
    #: a file over this many bytes becomes several shards of at most about this size (0: one shard
    #: per file); uncompressed JSON lines are cut at newlines, Parquet between row groups
    shard_bytes: int = 64 << 20
    storage_options: dict[str, Any] = field(default_factory=dict)
    #: options for OUT when it is on another store than the inputs (default: ``storage_options``)
    out_storage_options: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def public_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` without storage options, which may hold credentials (for files in OUT)."""
        data = self.to_dict()
        data.pop("storage_options", None)
        data.pop("out_storage_options", None)
        return data

    def register_out(self, out: str) -> None:
        """Let every access to ``out`` in this process use this config's storage options."""
        options = self.storage_options if self.out_storage_options is None else self.out_storage_options
        outfs.register_storage_options(out, options)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ScanConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data or {}) - names)
        if unknown:
            raise ValueError(f"unknown ScanConfig option(s) {unknown}; valid: {sorted(names)}")
        return cls(**(data or {}))

    def read_options(self) -> ReadOptions:
        return ReadOptions(
            text_field=self.text_field,
            id_field=self.id_field,
            batch_size=self.batch_size,
            max_record_bytes=self.max_record_bytes,
            max_raw_bytes=self.max_raw_bytes,
        )

    def output_signature(self) -> dict[str, Any]:
        """The options that change what is written (batch size and workers do not)."""
        return {
            k: getattr(self, k)
            for k in (
                "text_field",
                "id_field",
                "no_values",
                "row_group_size",
                "max_record_bytes",
                "max_raw_bytes",
            )
        }


@dataclass(frozen=True)
class Shard:
    """One unit of work: one input file, or one range of it.

    ``shard_id`` depends only on the file's URL, and for a range on the range too
    (``<file id>.b<start>-<end>`` in bytes, ``.g<start>-<end>`` in row groups; zero-padded, so
    the parts of one file sort in file order). ``start``/``end``: the range (bytes of a JSON lines
    file, row groups of a Parquet file; None: the whole file); ``first_loc``: lines (rows) of the
    file before it; ``size``: the input bytes it covers; ``byte_start``: where it begins.
    """

    shard_id: str
    url: str
    rel: str
    format: str
    compression: str | None
    fingerprint: dict[str, Any]
    start: int | None = None
    end: int | None = None
    first_loc: int = 0
    size: int | None = None
    byte_start: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shard:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})

    @property
    def part(self) -> ReadRange | None:
        """What the reader reads of the file (None: all of it)."""
        if self.start is None or self.end is None:
            return None
        return ReadRange(self.start, self.end, self.first_loc, self.byte_start)

    @property
    def range_key(self) -> tuple[int | None, int | None, int]:
        return (self.start, self.end, self.first_loc)

    @property
    def input_bytes(self) -> int:
        return int(self.size if self.size is not None else (self.fingerprint.get("size") or 0))


@dataclass
class ShardResult:
    """What one shard produced; stored as its completion marker."""

    shard_id: str
    url: str
    rel: str
    fingerprint: dict[str, Any]
    signature: str
    read: int = 0
    written: int = 0
    quarantined: int = 0
    skipped: int = 0
    spans: int = 0
    bytes: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    dataset_path: str = ""
    spans_path: str = ""
    quarantine_path: str | None = None
    detector_version: str = ""
    seconds: float = 0.0
    resumed: bool = False
    #: "docs" / "detections" -> {"size", "blake2b"} of the part as written (checked on resume)
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the shard's range of its file (see :class:`Shard`; None: the whole file)
    start: int | None = None
    end: int | None = None
    first_loc: int = 0
    size: int | None = None
    byte_start: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShardResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class ProgressEvent:
    """Progress of one shard since its last event (deltas), for bars and logs."""

    shard_id: str
    bytes: int = 0
    docs: int = 0
    facts: int = 0
    quarantined: int = 0
    done: bool = False


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass
class ScanSummary:
    """The outcome of a run: counts that add up (read = written + quarantined + skipped)."""

    run_id: str
    out: str
    shards: int
    shards_resumed: int
    read: int
    written: int
    quarantined: int
    skipped: int
    bytes: int
    spans: int
    facts: int
    docs_with_facts: int
    bits_total: float
    monofact_rate: float | None
    kinds: dict[str, dict[str, Any]]
    quarantine_reasons: dict[str, int]
    seconds: float
    manifest: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------------------------
# planning


def _strip(url: str) -> tuple[Any, str]:
    fs, path = fsspec.core.url_to_fs(url)
    return fs, path


def _is_hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def _shard_id(url: str) -> str:
    """File name (readable) plus a hash of the whole URL (unique): the same file, the same id."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", url.rstrip("/").rsplit("/", 1)[-1]).strip("._")[-48:] or "input"
    return f"{slug}-{hashlib.blake2b(url.encode('utf-8'), digest_size=6).hexdigest()}"


def plan_shards(inputs: list[str], config: ScanConfig | None = None, exclude: str | None = None) -> list[Shard]:
    """Expand files, folders (recursively) and globs, local or fsspec URLs, into sorted shards.

    Hidden files and folders (names starting with ".") are left out unless ``include_hidden``;
    ``exclude`` (usually OUT) is never scanned. A missing input is an error: a typo must not pass
    as an empty corpus.
    """
    config = config or ScanConfig()
    excluded = None
    if exclude:
        excluded = exclude.rstrip("/") if outfs.is_remote(exclude) else os.path.abspath(outfs.local_path(exclude))
    found: dict[str, Shard] = {}
    seen: set[str] = set()
    missing: list[str] = []
    for item in inputs:
        fs, path = fsspec.core.url_to_fs(item, **config.storage_options)
        if _GLOB_CHARS.search(path):
            prefix = _GLOB_CHARS.split(path, 1)[0]
            base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
            matches = sorted(fs.glob(path))
            files: list[str] = []
            for m in matches:
                files.extend(outfs.find_inputs(fs, m, config.include_hidden, excluded) if fs.isdir(m) else [m])
        elif fs.isdir(path):
            base = path.rstrip("/")
            files = outfs.find_inputs(fs, path, config.include_hidden, excluded)
        elif fs.exists(path):
            base = path.rsplit("/", 1)[0] if "/" in path else ""
            files = [path]
        else:
            missing.append(item)
            continue
        for f in files:
            rel = f[len(base) :].lstrip("/") if base and f.startswith(base) else f.rsplit("/", 1)[-1]
            if not config.include_hidden and _is_hidden(rel):
                continue
            url = fs.unstrip_protocol(f)
            if excluded and "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
                if os.path.abspath(f).startswith(excluded + os.sep):
                    continue
            elif excluded and url.startswith(excluded + "/"):
                continue
            if url in seen:
                continue
            seen.add(url)
            fmt, compression = detect_format(f)
            for shard in _file_shards(fs, f, url, rel, fmt, compression, config):
                found[shard.shard_id] = shard
    if missing:
        raise NothingToReadError(f"input not found: {', '.join(missing)}")
    return sorted(found.values(), key=lambda s: (s.url, s.start or 0))


def _file_shards(
    fs: Any, path: str, url: str, rel: str, fmt: str, compression: str | None, config: ScanConfig
) -> list[Shard]:
    """One file's shards: the whole file, or its ranges when it is over ``shard_bytes``.

    JSON lines (uncompressed) are cut at newlines in the pass that hashes the file; a compressed
    stream cannot be entered mid-way, so it stays one shard. Parquet is cut between row groups
    (its footer says where they are). A text file is one document, one shard.
    """
    every = int(config.shard_bytes or 0)
    cutter = LineCutter(every) if every > 0 and fmt == "jsonl" and compression is None else None
    fingerprint = outfs.fingerprint(
        fs, path, config.hash_content, cutter.feed if cutter else None, every if cutter else -1
    )
    base = _shard_id(url)
    whole = [Shard(base, url, rel, fmt, compression, fingerprint)]
    size = int(fingerprint.get("size") or 0)
    if every <= 0 or size <= every or "unreadable" in fingerprint:
        return whole
    ranges: list[tuple[ReadRange, int]] = []
    unit = "b"
    if cutter is not None:
        ranges = [(ReadRange(a, b, lines, a), b - a) for a, b, lines in cutter.ranges()]
    elif fmt == "parquet":
        unit = "g"
        try:
            with fs.open(path, "rb") as fh:
                ranges = parquet_ranges(pq.ParquetFile(fh), size, every)
        except Exception:  # noqa: BLE001 - an unreadable file is one shard; its reader quarantines it
            return whole
    if len(ranges) <= 1:
        return whole
    width = 12 if unit == "b" else 6
    return [
        Shard(f"{base}.{unit}{r.start:0{width}d}-{r.end:0{width}d}", url, rel, fmt, compression, fingerprint,
              r.start, r.end, r.first_loc, nbytes, r.byte_start)
        for r, nbytes in ranges
    ]


# --------------------------------------------------------------------------------------------------
# one shard

_DETECTORS: dict[str, Any] = {}


def _detector(config: DetectorConfig) -> Any:
    """One Detector per process and config (building one loads kinds, patterns and spaCy)."""
    key = repr(config)
    if key not in _DETECTORS:
        from factsep import Detector

        _DETECTORS[key] = Detector(config)
    return _DETECTORS[key]


def release_detectors() -> None:
    """Drop this process's detectors before finalize: their caches (up to ``CACHE_BYTES``) would
    otherwise stay alive under finalize's own memory, adding the two peaks. Rebuilding one costs
    milliseconds (kinds, patterns and the spaCy pipeline are loaded once per process)."""
    import gc

    _DETECTORS.clear()
    gc.collect()


def _file_digest(path: str | None) -> str | None:
    if not path or not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        return hashlib.blake2b(fh.read(), digest_size=16).hexdigest()


def run_signature(config: ScanConfig, detector_config: DetectorConfig, tags: TagConfig, version: str) -> str:
    """Hash of everything that changes a shard's output; a marker with another signature is stale."""
    blob = {
        "scan": config.output_signature(),
        "detect": dataclasses.asdict(detector_config),
        "calibration": _file_digest(detector_config.calibration_path),
        "tags": dataclasses.asdict(tags),
        "detector": version,
        "schema": SCHEMA_VERSION,
        # a shard hashed with another key (an OUT from before keyed hashes, a changed key) is stale
        "hash_key": hashkey.check_value(hash_key()),
    }
    return hashlib.blake2b(json.dumps(blob, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()


def _paths(out: str | Path, shard_id: str) -> dict[str, str]:
    """A shard's files under OUT (paths or URLs) and its local scratch folder for document chunks."""
    layout = Layout.of(str(out))
    chunks = layout.scratch(shard_id)  # scratch, never published: on this machine
    return {
        "dataset": layout.dataset_part(shard_id),
        "spans": layout.spans_part(shard_id),
        "docs": layout.docs_part(shard_id),
        "detections": layout.detections_part(shard_id),
        "quarantine": layout.quarantine_part(shard_id),
        "marker": layout.marker(shard_id),
        "chunks": chunks,
    }


def _span_row(s: Span) -> dict[str, Any]:
    return {name: getattr(s, name) for name in SPAN_FIELDS}


def fact_columns(texts: Sequence[str], spans_lists: Sequence[Sequence[Span]], tags: TagConfig) -> list[pa.Array]:
    """The five added dataset columns for a batch of documents, in :data:`FACT_FIELDS` order."""
    facts = [[s for s in spans if not s.rejected] for spans in spans_lists]
    singles: list[int | None] = []
    for fs in facts:
        singles.append(None if any(s.singleton is None for s in fs) else sum(1 for s in fs if s.singleton))
    return [
        pa.array([[_span_row(s) for s in fs] for fs in facts], type=pa.list_(SPAN_ARROW_TYPE)),
        pa.array([tag_text(t, sp, tags) for t, sp in zip(texts, spans_lists, strict=True)], type=pa.string()),
        pa.array([len(fs) for fs in facts], type=pa.int32()),
        pa.array([float(sum(s.bits for s in fs)) for fs in facts], type=pa.float32()),
        pa.array(singles, type=pa.int32()),
    ]


#: Columns a docs part holds besides the input's: where each document was read, and its key.
_RESERVED: tuple[str, ...] = (*FACT_COLUMNS, *SOURCE_COLUMNS, DOC_KEY)


def input_table(rows: list[dict[str, Any]], schema: pa.Schema | None) -> pa.Table:
    """The input columns of a batch, reserved names dropped; Parquet inputs keep their schema.

    A column Arrow cannot hold as one type, or one nested too deep for Parquet, is kept as JSON
    text (:mod:`factsep.run.columns`).
    """
    if schema is not None:
        keep = pa.schema([f for f in schema if f.name not in _RESERVED])
        table = pa.Table.from_pylist([{k: r.get(k) for k in keep.names} for r in rows], schema=keep)
        return columns.storable(table)
    names: dict[str, None] = {}
    for r in rows:
        for k in r:
            if k not in _RESERVED:
                names.setdefault(k, None)
    made = [columns.column(k, [r.get(k) for r in rows]) for k in names]
    return pa.Table.from_arrays([a for _, a in made], schema=pa.schema([f for f, _ in made]))


def detect_isolated(detector: Any, texts: list[str], ids: list[str]) -> list[list[Span] | str]:
    """Spans per document; a document the detector fails on gets the error text instead."""
    try:
        return [list(spans) for spans in detector.detect_batch(texts, ids)]
    except Exception:  # noqa: BLE001 - isolate the bad document(s) one by one
        result: list[list[Span] | str] = []
        for t, i in zip(texts, ids, strict=True):
            try:
                result.append(next(iter(detector.detect_batch([t], [i]))))
            except Exception as exc:  # noqa: BLE001
                result.append(f"detector error ({type(exc).__name__}: {exc})")
        return result


def part_record(path: str) -> dict[str, Any]:
    """Size and blake2b of a written part, for its shard's completion marker."""
    h = hashlib.blake2b(digest_size=16)
    size = 0
    with outfs.open_file(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return {"size": size, "blake2b": h.hexdigest()}


def _part_intact(path: str, record: Any) -> bool:
    """Whether a part is the one its marker recorded: same size, and (local OUT) same checksum.

    A remote part's size is checked only: reading it back whole on every resume would cost a
    download of the whole output.
    """
    if not isinstance(record, dict) or not outfs.exists(path):
        return False
    if outfs.is_remote(path):
        fs, p = outfs.to_fs(path)
        return int(fs.size(p) or -1) == record.get("size")
    if os.path.getsize(outfs.local_path(path)) != record.get("size"):
        return False
    return part_record(path) == {"size": record.get("size"), "blake2b": record.get("blake2b")}


def _marker_valid(done: ShardResult, shard: Shard, signature: str, paths: dict[str, str]) -> bool:
    if done.signature != signature or done.fingerprint != shard.fingerprint:
        return False
    if (done.start, done.end, done.first_loc) != shard.range_key:
        return False
    return _part_intact(paths["docs"], done.parts.get("docs")) and _part_intact(
        paths["detections"], done.parts.get("detections")
    )


def read_marker(path: str) -> ShardResult | None:
    """A completion marker, or None when it is missing, torn or foreign (the shard is re-done)."""
    if not outfs.exists(path):
        return None
    try:
        return ShardResult.from_dict(read_json(path))
    except (ValueError, OSError, TypeError, AttributeError):
        return None


def scan_shard(
    shard: Shard,
    out: str,
    config: ScanConfig | None = None,
    detector_config: DetectorConfig | None = None,
    tags: TagConfig | None = None,
    on_progress: ProgressCallback | None = None,
) -> ShardResult:
    """Scan one input file (or its range) into its docs, detections and quarantine parts, then mark it done.

    Each part is written once; the published dataset and span parts are built from them by
    :func:`factsep.run.materialize.materialize` (in :func:`finalize`). Idempotent: if the shard's
    marker has the same fingerprint and signature and its parts have the recorded size and
    checksum, the recorded result is returned (``resumed=True``) without reading anything.
    """
    config = config or ScanConfig()
    detector_config = detector_config or DetectorConfig()
    tags = tags or TagConfig()
    config.register_out(out)
    pool.use_returning_pool()
    hashkey.activate(out)  # value hashes keyed with OUT's secret (made by the first scan)
    paths = _paths(out, shard.shard_id)
    from factsep.detection.detector import detector_version

    version = detector_version()  # without building a Detector: a finished shard needs none
    signature = run_signature(config, detector_config, tags, version)
    done = read_marker(paths["marker"])
    if done is not None and _marker_valid(done, shard, signature, paths):
        done.resumed = True
        if on_progress:
            on_progress(ProgressEvent(shard.shard_id, bytes=done.bytes, docs=done.written, done=True))
        return done
    started = time.perf_counter()
    if not outfs.is_remote(out):  # a remote OUT never holds staging files
        for key in ("docs", "detections", "quarantine"):
            folder = Path(paths[key]).parent
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.glob(f"{TMP_PREFIX}part-{shard.shard_id}.*"):
                stale.unlink(missing_ok=True)
    chunk_dir = Path(paths["chunks"])
    shutil.rmtree(chunk_dir, ignore_errors=True)
    chunk_dir.mkdir(parents=True, exist_ok=True)

    detector = _detector(detector_config)
    result = ShardResult(shard.shard_id, shard.url, shard.rel, shard.fingerprint, signature,
                         start=shard.start, end=shard.end, first_loc=shard.first_loc, size=shard.size,
                         byte_start=shard.byte_start)
    result.detector_version = version
    quarantine = QuarantineWriter(paths["quarantine"], shard.rel, config.max_raw_bytes)
    spans_writer = AtomicParquetWriter(paths["detections"], DETECTIONS_SCHEMA, row_group_size=65536)
    chunk_files: list[Path] = []
    last_bytes = 0
    try:
        for batch in read_source(shard.url, config.read_options(), config.storage_options, shard.part):
            result.read += batch.read
            result.skipped += batch.skipped
            for bad in batch.bad:
                quarantine.add(bad)
            facts = 0
            if batch.rows:
                facts = _scan_batch(
                    batch, shard, config, detector, quarantine, spans_writer, chunk_files, chunk_dir, result
                )
            result.quarantined = quarantine.count
            if on_progress:
                delta = max(0, batch.bytes_done - last_bytes)
                last_bytes = max(last_bytes, batch.bytes_done)
                on_progress(
                    ProgressEvent(
                        shard.shard_id,
                        bytes=delta,
                        docs=len(batch.rows),
                        facts=facts,
                        quarantined=len(batch.bad),
                    )
                )
        _write_dataset(paths["docs"], chunk_files, config.row_group_size, config.text_field)
        spans_writer.close()
        quarantine.close()
    except BaseException:
        spans_writer.abort()
        quarantine.abort()
        shutil.rmtree(chunk_dir, ignore_errors=True)
        raise
    shutil.rmtree(chunk_dir, ignore_errors=True)
    result.quarantined = quarantine.count
    result.quarantine_reasons = dict(sorted(quarantine.reasons.items()))
    result.bytes = shard.input_bytes
    result.dataset_path = str(paths["dataset"])
    result.spans_path = str(paths["spans"])
    result.quarantine_path = str(paths["quarantine"]) if quarantine.count else None
    result.parts = {"docs": part_record(paths["docs"]), "detections": part_record(paths["detections"])}
    result.seconds = round(time.perf_counter() - started, 3)
    write_json(paths["marker"], result.to_dict())
    if on_progress:
        on_progress(ProgressEvent(shard.shard_id, bytes=max(0, result.bytes - last_bytes), done=True))
    return result


def _scan_batch(
    batch: Batch,
    shard: Shard,
    config: ScanConfig,
    detector: Any,
    quarantine: QuarantineWriter,
    spans_writer: AtomicParquetWriter,
    chunk_files: list[Path],
    chunk_dir: Path,
    result: ShardResult,
) -> int:
    """Detect one batch, write its detections and a document chunk; returns facts found.

    Decisions are not applied here: materialize applies them, once, to every document.
    """
    tf, idf = config.text_field, config.id_field
    texts = [r[tf] for r in batch.rows]
    ids = [
        str(r[idf]) if r.get(idf) is not None else f"{shard.rel}:{loc}"
        for r, loc in zip(batch.rows, batch.locs, strict=True)
    ]
    detected = detect_isolated(detector, texts, ids)
    keep_rows: list[dict[str, Any]] = []
    keep: list[tuple[str, str, int]] = []
    spans_lists: list[list[Span]] = []
    for row, loc, text, doc_id, found in zip(batch.rows, batch.locs, texts, ids, detected, strict=True):
        if isinstance(found, str):
            raw = json.dumps(row, ensure_ascii=False, default=str)
            quarantine.add(Bad(batch.loc_name, loc, found, raw))
            continue
        spans = [s.with_(text=None) for s in found] if config.no_values else found
        keep_rows.append(row)
        keep.append((doc_id, text, int(loc)))
        spans_lists.append(spans)
    if not keep_rows:
        return 0
    first = result.written
    flat_rows = [
        {**_span_row(s), ROW: first + i} for i, spans in enumerate(spans_lists) for s in spans
    ]
    if flat_rows:
        spans_writer.write(pa.Table.from_pylist(flat_rows, schema=DETECTIONS_SCHEMA))
    table = input_table(keep_rows, batch.schema)
    line = batch.loc_name == "line"
    extra = {
        "doc_id": pa.array([d for d, _, _ in keep], pa.string()),
        "source_file": pa.array([shard.rel] * len(keep), pa.string()),
        "source_line": pa.array([loc if line else None for _, _, loc in keep], pa.int64()),
        "source_row": pa.array([None if line else loc for _, _, loc in keep], pa.int64()),
        DOC_KEY: pa.array([doc_key(t) for _, t, _ in keep], pa.string()),
    }
    for name, arr in extra.items():
        table = table.append_column(name, arr)
    chunk = chunk_dir / f"chunk-{len(chunk_files):06d}.parquet"
    pq.write_table(table, chunk, compression="zstd", compression_level=1)
    chunk_files.append(chunk)
    flat = [s for spans in spans_lists for s in spans]
    result.written += len(keep_rows)
    result.spans += len(flat)
    return sum(1 for s in flat if s.is_random_fact(detector.config.random_bits_threshold))


_DOC_EXTRA: list[pa.Field] = [*SOURCE_FIELDS, pa.field(DOC_KEY, pa.string(), nullable=False)]


def _write_dataset(path: str, chunk_files: list[Path], row_group_size: int, text_field: str) -> None:
    """The shard's docs part: its chunks in one schema (the text column always there)."""
    schemas = [pq.read_schema(p) for p in chunk_files]
    fields = columns.unify(schemas, skip=[f.name for f in _DOC_EXTRA])
    if text_field not in {f.name for f in fields}:
        fields.insert(0, pa.field(text_field, pa.string()))
    schema = pa.schema([*fields, *_DOC_EXTRA], metadata={"factsep.schema_version": SCHEMA_VERSION})
    with AtomicParquetWriter(path, schema, row_group_size=row_group_size) as writer:
        for chunk in chunk_files:
            # ParquetFile, not pq.read_table: that one starts pyarrow.dataset's machinery, ~40 MB
            # resident for the rest of the process (measured on a 20 MB shard's chunks)
            table = pq.ParquetFile(chunk).read()
            cols = columns.conform(table, fields) + [table.column(f.name) for f in _DOC_EXTRA]
            writer.write(pa.Table.from_arrays(cols, schema=schema))


# --------------------------------------------------------------------------------------------------
# run state, materialize, manifest


def _run_state(out: str | Path) -> dict[str, Any]:
    try:
        return run_state.read(str(out))
    except run_state.RunStateError as exc:
        raise ScanError(str(exc)) from None


_READ_FILE = object()


def write_run_state(
    out: str | Path,
    shards: Sequence[Shard],
    config: ScanConfig,
    detector_config: DetectorConfig,
    tags: TagConfig,
    applied: Any = _READ_FILE,
) -> None:
    """Record the plan and configs, so materialize (e.g. from sync) can run alone.

    ``applied``: the calibration the scan applied, when it is no longer the file's content (a
    finalize run alone after sync refitted the file); by default the file as it is now.
    Storage options are left out: they may hold credentials, and whoever reads OUT already has them.
    """
    run_state.write(
        str(out),
        {
            "shards": [s.to_dict() for s in shards],
            "scan": config.public_dict(),
            "detect": dataclasses.asdict(detector_config),
            "tags": dataclasses.asdict(tags),
            "calibration": (run_state.calibration_content(detector_config.calibration_path)
                            if applied is _READ_FILE else applied),
        },
    )


def rewrite_parts(out: str, shard_ids: Sequence[str] | None = None) -> dict[str, Any]:
    """Re-apply the decisions ledger and corpus counts to every dataset and span part of ``out``.

    :func:`factsep.run.materialize.materialize` under its old name (review's sync calls it).
    """
    from factsep.run.materialize import materialize

    try:
        return materialize(str(out), shard_ids).to_dict()
    except run_state.RunStateError as exc:
        raise ScanError(str(exc)) from None


def finalize(
    out: str,
    shards: Sequence[Shard] | None = None,
    config: ScanConfig | None = None,
    detector_config: DetectorConfig | None = None,
    tags: TagConfig | None = None,
    results: Sequence[ShardResult] | None = None,
    run_id: str | None = None,
    started_at: float | None = None,
) -> ScanSummary:
    """Materialize the dataset and span parts from every shard, then write the manifest and card.

    With no shards/configs given they are read from ``OUT/state/run.json`` (written by :func:`scan`
    or by an earlier finalize), so a flow may call this on any machine that sees OUT.
    """
    o = str(out)
    if config is not None:
        config.register_out(o)
    with lock.out_lock(o, "finalize"):
        return _finalize(o, shards, config, detector_config, tags, results, run_id, started_at)


def _finalize(
    o: str,
    shards: Sequence[Shard] | None,
    config: ScanConfig | None,
    detector_config: DetectorConfig | None,
    tags: TagConfig | None,
    results: Sequence[ShardResult] | None,
    run_id: str | None,
    started_at: float | None,
) -> ScanSummary:
    from factsep.io import manifest as manifest_mod
    from factsep.run import card
    from factsep.run.materialize import materialize

    t0 = time.time() if started_at is None else started_at
    state = run_state.read_or_none(o)
    if shards is None:
        shards = _marked_shards(o)
    if config is None:
        config = ScanConfig.from_dict(state["scan"]) if state else ScanConfig()
    # the calibration the shards were scanned with: the file's content when the scan calls this,
    # the recorded one when finalize runs alone (sync may have refitted the file since)
    applied: Any = _READ_FILE
    if detector_config is None:
        detector_config = load_section(DetectorConfig, state["detect"]) if state else DetectorConfig()
        if state:
            applied = state.get("calibration")
    if tags is None:
        tags = load_section(TagConfig, state["tags"]) if state else TagConfig()
    if not shards:
        raise NothingToReadError(f"no scanned shard in {o}/state/shards/")
    write_run_state(o, shards, config, detector_config, tags, applied)
    by_id = {r.shard_id: r for r in results or ()}
    done: list[ShardResult] = []
    for s in shards:
        r = by_id.get(s.shard_id) or read_marker(_paths(o, s.shard_id)["marker"])
        if r is None:
            raise ScanError(f"shard {s.shard_id} ({s.rel}) has not been scanned")
        done.append(r)
    _remove_stale_parts(o, {s.shard_id for s in shards})
    rewritten = materialize(o, [s.shard_id for s in shards], publish=False)
    reasons: Counter[str] = Counter()
    for r in done:
        reasons.update(r.quarantine_reasons)
    totals = rewritten.totals
    summary = ScanSummary(
        run_id=run_id or uuid.uuid4().hex,
        out=o,
        shards=len(done),
        shards_resumed=sum(1 for r in done if r.resumed),
        read=sum(r.read for r in done),
        written=sum(r.written for r in done),
        quarantined=sum(r.quarantined for r in done),
        skipped=sum(r.skipped for r in done),
        bytes=sum(r.bytes for r in done),
        spans=int(totals["spans"]),
        facts=int(totals["facts"]),
        docs_with_facts=int(rewritten.docs_with_facts),
        bits_total=float(totals["bits_total"]),
        monofact_rate=totals["monofact_rate"],
        kinds=rewritten.kinds,
        quarantine_reasons=dict(sorted(reasons.items())),
        seconds=round(time.time() - t0, 3),
        manifest=Layout.of(o).manifest,
    )
    detector_version = next((r.detector_version for r in done if r.detector_version), "")
    manifest = manifest_mod.build_manifest(
        summary, shards, done, config, detector_config, tags, detector_version, t0, totals
    )
    manifest_mod.write(o, manifest)
    card.write_card(o, rewritten)
    materialize_done(o)
    return summary


def materialize_done(out: str) -> None:
    """Clear the pending-materialize mark once the parts, manifest and card are all written."""
    outfs.remove(Layout.of(out).pending_materialize)


def _marked_shards(out: str) -> list[Shard]:
    """Every shard with a completion marker in OUT (what a flow scanned, possibly elsewhere)."""
    shards = []
    for p in Layout.of(out).markers():
        r = read_marker(p)
        if r is None:
            continue
        fmt, compression = detect_format(r.url)
        shards.append(Shard(r.shard_id, r.url, r.rel, fmt, compression, r.fingerprint,
                            r.start, r.end, r.first_loc, r.size, r.byte_start))
    return sorted(shards, key=lambda s: (s.url, s.start or 0))


def _remove_stale_parts(out: str, keep: set[str]) -> None:
    """Parts of shards no longer in the plan would be counted: remove them (and their markers)."""
    layout = Layout.of(out)
    for folder, suffix in (
        (layout.dataset_dir, ".parquet"), (layout.spans_dir, ".parquet"), (layout.quarantine_dir, ".jsonl"),
        (layout.docs_dir, ".parquet"), (layout.detections_dir, ".parquet"),
    ):
        for p in outfs.glob(folder, f"part-*{suffix}"):
            if outfs.name_of(p)[len("part-") : -len(suffix)] not in keep:
                outfs.remove(p)
    for p in layout.markers():
        if outfs.name_of(p)[: -len(".json")] not in keep:
            outfs.remove(p)


# --------------------------------------------------------------------------------------------------
# the whole run


def prepare_out(out: str | Path, config: ScanConfig | None = None) -> str:
    """Create OUT's folders (or check a remote OUT is writable) or fail with :class:`OutputError`.

    Returns OUT as later steps name it: a local path, or the URL of a remote OUT.
    """
    if outfs.is_remote(out):
        return _prepare_remote_out(str(out).rstrip("/"), config)
    o = Path(outfs.local_path(str(out)))
    try:
        if o.exists() and not o.is_dir():
            raise OutputError(f"OUT {o} exists and is not a folder")
        for sub in ("dataset", "spans", "state/shards", "state/docs", "state/detections", "quarantine"):
            (o / sub).mkdir(parents=True, exist_ok=True)
        probe = o / "state" / f"{TMP_PREFIX}probe.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to OUT {o}: {exc.strerror or exc}") from exc
    return str(o)


def _prepare_remote_out(out: str, config: ScanConfig | None) -> str:
    """A remote OUT has no folders to make: write and delete a probe object to check access now."""
    if config is not None:
        config.register_out(out)
    probe = outfs.join(out, "state", f"{TMP_PREFIX}probe.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    try:
        fs, path = outfs.to_fs(probe)
        fs.pipe_file(path, b"")
        fs.rm_file(path)
    except ImportError as exc:
        raise OutputError(f"OUT {out} needs an fsspec driver that is not installed ({exc})") from exc
    except Exception as exc:  # noqa: BLE001 - any store error means OUT is unusable; say which, not the secrets
        raise OutputError(
            f"cannot write to OUT {out}: {type(exc).__name__}: {exc}. Check the bucket exists and the "
            "credentials and endpoint (environment, fsspec config, or [scan] storage_options)"
        ) from exc
    return out


def _run_one(args: tuple[Shard, str, ScanConfig, DetectorConfig, TagConfig, Any]) -> ShardResult:
    shard, out, config, dc, tags, queue = args
    callback = queue.put if queue is not None else None
    return scan_shard(shard, out, config, dc, tags, on_progress=callback)


def scan(
    inputs: Sequence[str] | str,
    out: str,
    config: ScanConfig | None = None,
    detector_config: DetectorConfig | None = None,
    tags: TagConfig | None = None,
    progress: ProgressCallback | None = None,
    on_plan: Callable[[list[Shard]], None] | None = None,
) -> ScanSummary:
    """Plan shards, scan them (``config.workers`` processes), and finalize. Re-running resumes."""
    config = config or ScanConfig()
    detector_config = detector_config or DetectorConfig()
    tags = tags or TagConfig()
    t0 = time.time()
    out = prepare_out(out, config)
    # a scan may take hours: a second one into the same OUT fails at once rather than wait
    with lock.out_lock(out, "scan", wait=0):
        return _scan_locked(inputs, out, config, detector_config, tags, progress, on_plan, t0)


def _scan_locked(
    inputs: Sequence[str] | str,
    out: str,
    config: ScanConfig,
    detector_config: DetectorConfig,
    tags: TagConfig,
    progress: ProgressCallback | None,
    on_plan: Callable[[list[Shard]], None] | None,
    t0: float,
) -> ScanSummary:
    hashkey.activate(out)  # made here, before any worker starts, so all use one key
    remove_stale_tmp(out)  # under the lock: no other run's temporary files can be in use
    shards = plan_shards([inputs] if isinstance(inputs, str) else list(inputs), config, exclude=out)
    if not shards:
        raise NothingToReadError("no input files found")
    if on_plan:
        on_plan(shards)
    write_run_state(out, shards, config, detector_config, tags)
    results: list[ShardResult] = []
    if config.workers <= 1 or len(shards) == 1:
        for s in shards:
            results.append(scan_shard(s, out, config, detector_config, tags, on_progress=progress))
    else:
        results = _scan_pool(shards, out, config, detector_config, tags, progress)
    release_detectors()
    summary = finalize(out, shards, config, detector_config, tags, results=results, started_at=t0)
    if summary.written == 0:
        raise NothingToReadError(
            f"no document could be read from {len(shards)} file(s): "
            f"{summary.quarantined} quarantined, {summary.skipped} skipped (see {out}/quarantine/)"
        )
    return summary


def _scan_pool(
    shards: list[Shard],
    out: str,
    config: ScanConfig,
    dc: DetectorConfig,
    tags: TagConfig,
    progress: ProgressCallback | None,
) -> list[ShardResult]:
    import multiprocessing as mp
    import queue as queue_mod
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from factsep.orchestration import children_skip_main

    ctx = mp.get_context("spawn")  # fork is unsafe with the thread pools of pyarrow and polars
    with children_skip_main():  # a script without a __main__ guard works too (workers start here)
        manager = ctx.Manager() if progress else None
    q = manager.Queue() if manager else None
    try:
        with ProcessPoolExecutor(max_workers=min(config.workers, len(shards)), mp_context=ctx) as pool:
            with children_skip_main():
                futures = {pool.submit(_run_one, (s, out, config, dc, tags, q)): s for s in shards}
            pending = set(futures)
            results: dict[str, ShardResult] = {}
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for f in finished:
                    r = f.result()
                    results[r.shard_id] = r
                if q is not None and progress is not None:
                    with contextlib.suppress(queue_mod.Empty, EOFError, OSError):
                        while True:
                            progress(q.get_nowait())
            if q is not None and progress is not None:
                with contextlib.suppress(queue_mod.Empty, EOFError, OSError):
                    while True:
                        progress(q.get_nowait())
    finally:
        if manager is not None:
            manager.shutdown()
    return [results[s.shard_id] for s in shards]
