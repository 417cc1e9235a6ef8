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
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import fsspec
import pyarrow.parquet as pq

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


class LocalOutRequired(ValueError):
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
