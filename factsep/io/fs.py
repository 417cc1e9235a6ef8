"""Where OUT lives: a local folder or any fsspec URL (``s3://bucket/prefix``, ``gs://``, ``memory://``).

Why one module: scan, finalize, counts and the report all read and write under OUT, on the flow's
machine and on Dask workers alike. They go through these few helpers, which keep plain local paths
(and the local code paths: pathlib, pyarrow, polars) for a local OUT, and use fsspec for a URL.

Storage options (endpoint, credentials) come from fsspec's own configuration (environment variables
such as ``FSSPEC_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, or fsspec config files), which every
process sees, or from :func:`register_storage_options`, which a run calls with its config's
``storage_options`` in each process that touches OUT. They are never logged or written to OUT.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from factsep.errors import UsageError

log = logging.getLogger("factsep.scan")

_LOCAL_PROTOCOLS = {"file", "local"}
#: protocol -> storage options registered in this process (see :func:`register_storage_options`).
_OPTIONS: dict[str, dict[str, Any]] = {}


def protocol_of(path: str | Path) -> str:
    text = str(path)
    return text.split("://", 1)[0].lower() if "://" in text else "file"


def is_remote(path: str | Path) -> bool:
    """True for a URL that is not a local file (``s3://...``); False for paths and ``file://``."""
    return protocol_of(path) not in _LOCAL_PROTOCOLS


def local_path(path: str | Path) -> str:
    """A local path or ``file://`` URL as a plain path."""
    text = str(path)
    return text[len("file://") :] if text.startswith("file://") else text


def register_storage_options(url: str | Path, options: dict[str, Any] | None) -> None:
    """Use ``options`` for every later filesystem of ``url``'s protocol in this process.

    Why process-wide: functions that take only OUT (finalize, the report) must reach the same store
    as the scan that wrote it, without threading credentials through every signature.
    """
    if options and is_remote(url):
        _OPTIONS[protocol_of(url)] = dict(options)


class LocalOutRequired(UsageError, ValueError):
    """A step that keeps append-only state under OUT was given an OUT on an object store."""


def require_local(out: str | Path, what: str) -> None:
    """Refuse a remote OUT for ``what``, saying how to run the step instead.

    Why: append-only ledgers (review routing and decisions) need appends, which object stores do
    not have; rewriting a whole object per append could lose a concurrent writer's records.
    """
    if is_remote(out):
        raise LocalOutRequired(
            f"{what} needs OUT on a local or shared filesystem (local disk, NFS, EFS), not {out}: an object "
            "store cannot append. Scan into the object store with --no-route, copy OUT to a local folder "
            "(e.g. `aws s3 sync <OUT> ./out`), run `factsep route` / `factsep sync` there, and copy it back."
        )


def options_for(url: str | Path) -> dict[str, Any]:
    """The storage options registered for ``url``'s protocol (empty when none)."""
    return dict(_OPTIONS.get(protocol_of(url), {}))


def to_fs(path: str | Path) -> tuple[Any, str]:
    """The fsspec filesystem and its path for ``path``.

    Remote listings are not cached: shards finish on other processes and machines, and a stale
    listing would hide their parts from finalize.
    """
    text = str(path)
    if not is_remote(text):
        return fsspec.filesystem("file"), os.path.abspath(local_path(text))
    options = {"use_listings_cache": False, **options_for(text)}
    return fsspec.core.url_to_fs(text, **options)


def join(base: str | Path, *parts: str) -> str:
    """``base/part/...`` for a path or URL (pathlib would fold ``s3://`` into ``s3:/``)."""
    text = str(base)
    if is_remote(text):
        return "/".join([text.rstrip("/"), *(p.strip("/") for p in parts)])
    return os.path.join(local_path(text), *parts)


def name_of(path: str | Path) -> str:
    return str(path).rstrip("/").rsplit("/", 1)[-1]


def exists(path: str | Path) -> bool:
    if not is_remote(path):
        return os.path.exists(local_path(str(path)))
    fs, p = to_fs(path)
    return bool(fs.exists(p))


def makedirs(path: str | Path) -> None:
    """Create a local folder; object stores have no folders, so nothing to do there."""
    if not is_remote(path):
        os.makedirs(local_path(str(path)), exist_ok=True)


def remove(path: str | Path) -> None:
    """Delete a file if it is there."""
    if not is_remote(path):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(local_path(str(path)))
        return
    fs, p = to_fs(path)
    with contextlib.suppress(FileNotFoundError):
        fs.rm_file(p)


def glob(folder: str | Path, pattern: str) -> list[str]:
    """Files of ``folder`` (not recursive) matching ``pattern``, sorted; URLs stay URLs."""
    if not is_remote(folder):
        return sorted(str(p) for p in Path(local_path(str(folder))).glob(pattern))
    fs, p = to_fs(folder)
    prefix = str(folder).split("://", 1)[0] + "://"
    return sorted(prefix + f for f in fs.glob(p.rstrip("/") + "/" + pattern))


@contextlib.contextmanager
def open_file(path: str | Path, mode: str = "rb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a file under OUT for reading."""
    if not is_remote(path):
        with open(local_path(str(path)), mode, encoding=encoding) as fh:
            yield fh
        return
    fs, p = to_fs(path)
    with fs.open(p, mode, encoding=encoding) as fh:
        yield fh


def read_bytes(path: str | Path) -> bytes:
    with open_file(path, "rb") as fh:
        return bytes(fh.read())


def parquet_file(path: str | Path) -> pq.ParquetFile:
    """A Parquet file for streaming reads (remote files are read by ranges, never downloaded whole)."""
    if not is_remote(path):
        return pq.ParquetFile(local_path(str(path)))
    fs, p = to_fs(path)
    return pq.ParquetFile(p, filesystem=fs)


def iter_batches(
    pf: pq.ParquetFile, batch_size: int, columns: list[str] | None = None, row_groups: Iterable[int] | None = None
) -> Iterator[pa.RecordBatch]:
    """``pf.iter_batches(batch_size, columns=...)``, the same batches, read one row group at a time.

    Why: one ``iter_batches`` call over a whole file keeps memory that grows with the file (a
    detections part of 20 row groups: +106 MB of Arrow memory at its end, against +6 MB this
    way), so a shard's write grew with the shard. Batches still span row groups, as pyarrow's do.
    ``row_groups``: only these (a shard's range), in order.
    """
    pending: list[pa.RecordBatch] = []
    rows = 0
    for i in range(pf.num_row_groups) if row_groups is None else row_groups:
        for rb in pf.iter_batches(batch_size=batch_size, row_groups=[i], columns=columns):
            if not rb.num_rows:
                continue
            pending.append(rb)
            rows += rb.num_rows
            while rows >= batch_size:
                whole = pa.Table.from_batches(pending).combine_chunks()
                yield from whole.slice(0, batch_size).to_batches()
                rest = whole.slice(batch_size)
                pending, rows = (rest.to_batches(), rest.num_rows) if rest.num_rows else ([], 0)
    if rows:
        yield from pa.Table.from_batches(pending).combine_chunks().to_batches()


def scan_parquet(paths: list[str]) -> Any:
    """A polars LazyFrame over Parquet files, local or on one remote store.

    Remote files go through a pyarrow dataset on the fsspec filesystem, so any fsspec store and
    its options work; polars still pushes column selection down, and memory follows the plan.
    """
    import polars as pl

    if not paths or not is_remote(paths[0]):
        return pl.scan_parquet([local_path(p) for p in paths])
    import pyarrow.dataset as ds

    fs, _ = to_fs(paths[0])
    stripped = [to_fs(p)[1] for p in paths]
    return pl.scan_pyarrow_dataset(ds.dataset(stripped, filesystem=fs, format="parquet"))


# --------------------------------------------------------------------------------------------------
# listing inputs


def _fs_is_local(fs: Any) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return bool(_LOCAL_PROTOCOLS & set(protocols))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def find_inputs(fs: Any, path: str, include_hidden: bool = False, exclude: str | None = None) -> list[str]:
    """Every file under the folder ``path``, sorted; unreadable folders come out as entries too.

    Why not ``fs.find`` for a local folder: it skips a folder it cannot list without a word, lists
    a link to a folder as a file (which then fails to open), and would walk a link loop forever.
    Here links are followed once: a folder or file reached twice (a loop, or two links to one
    target) is scanned once, under its first path in sorted order, with a warning for the other.
    A folder that cannot be listed, or a link that leads nowhere, is returned as an entry of its
    own, so the scan quarantines it with the reason (see ``readers.read_source``) and warns here.
    Names starting with "." are not entered unless ``include_hidden``; ``exclude`` (OUT, a local
    absolute path) is never entered, through a link either.
    """
    if not _fs_is_local(fs):
        return sorted(fs.find(path))
    excluded = os.path.realpath(exclude) if exclude else None
    files: list[str] = []
    seen_dirs: dict[tuple[int, int], str] = {}
    seen_files: dict[tuple[int, int], str] = {}
    stack = [path.rstrip("/") or "/"]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
            key = (st.st_dev, st.st_ino)
            if key in seen_dirs:
                log.warning("skipped %s: it leads to folder %s, which is scanned already", folder, seen_dirs[key])
                continue
            seen_dirs[key] = folder
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            log.warning(
                "cannot list folder %s (%s): its files are not scanned and it is quarantined; "
                "grant read and execute permission and re-run",
                folder,
                exc.strerror or exc,
            )
            files.append(folder)
            continue
        subfolders: list[str] = []
        for entry in entries:
            if not include_hidden and entry.name.startswith("."):
                continue
            target = entry.path
            if excluded and _within(os.path.realpath(target), excluded):
                continue
            try:
                tst = os.stat(target)  # follows links
            except OSError as exc:
                log.warning("cannot read %s (%s): it is quarantined", target, exc.strerror or exc)
                files.append(target)
                continue
            if stat.S_ISDIR(tst.st_mode):
                subfolders.append(target)
                continue
            if not stat.S_ISREG(tst.st_mode):
                log.warning("skipped %s: not a regular file (a device, socket or pipe)", target)
                continue
            fkey = (tst.st_dev, tst.st_ino)
            if fkey in seen_files:
                log.warning("skipped %s: the same file as %s, which is scanned already", target, seen_files[fkey])
                continue
            seen_files[fkey] = target
            files.append(target)
        stack.extend(reversed(subfolders))
    return sorted(files)


def content_hash(fs: Any, path: str, on_chunk: Callable[[bytes], None] | None = None) -> str:
    """blake2b-128 of a file's bytes, read in 1 MiB pieces (each also given to ``on_chunk``)."""
    h = hashlib.blake2b(digest_size=16)
    with fs.open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            if on_chunk is not None:
                on_chunk(chunk)
    return h.hexdigest()


def _mtime(info: dict[str, Any]) -> float | str | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        if key in info and info[key] is not None:
            value = info[key]
            return value if isinstance(value, (int, float)) else str(value)
    return None


def fingerprint(
    fs: Any, path: str, hash_content: bool, on_chunk: Callable[[bytes], None] | None = None, read_over: int = -1
) -> dict[str, Any]:
    """Size, mtime and (with ``hash_content``) the content hash of an input, for resume.

    An input that cannot be read still gets one (``unreadable`` holds the reason, no hash), so it
    becomes a shard whose only record is its quarantine entry; once it is readable its fingerprint
    changes and the next run scans it. ``on_chunk`` gets the file's bytes, in order, in the same
    pass as the hash, when the file is over ``read_over`` bytes (the scan cuts a big file into
    shards so); without ``hash_content`` the file is then read for it alone.
    """
    feed = on_chunk if on_chunk is not None and read_over >= 0 else None
    try:
        info = fs.info(path)
    except OSError as exc:
        return {"size": 0, "mtime": None, "unreadable": exc.strerror or str(exc)}
    fp: dict[str, Any] = {"size": int(info.get("size") or 0), "mtime": _mtime(info)}
    if info.get("type") == "directory":
        fp["size"] = 0
        fp["unreadable"] = "cannot list folder"
        return fp
    if feed is not None and fp["size"] <= read_over:
        feed = None
    if hash_content or feed is not None:
        try:
            digest = content_hash(fs, path, feed)
            if hash_content:
                fp["blake2b"] = digest
        except OSError as exc:
            log.warning("cannot read %s (%s): it is quarantined", path, exc.strerror or exc)
            fp["unreadable"] = exc.strerror or str(exc)
    return fp
