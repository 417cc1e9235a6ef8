"""Atomic writes: every output file appears complete or not at all.

One abstraction, two filesystems. A file is first written in full to a *staging* file, then
*published* (:func:`publish`):

- local OUT: the staging file sits beside the target under a temporary name and is renamed into
  place (``os.replace``, then the folder is fsynced);
- remote OUT (an fsspec URL such as ``s3://``): object stores have no rename, but one upload of a
  whole object is atomic (the object appears whole or not at all; a multipart upload appears on
  completion). The staging file is a local temporary file, uploaded with ``fs.put_file`` and
  deleted.

So a run killed at any moment leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from factsep.io import fs as outfs

TMP_PREFIX = ".tmp-"


def tmp_path_for(path: str | Path) -> Path:
    """A unique temporary name beside ``path`` (same folder, so the rename stays atomic)."""
    p = Path(path)
    return p.with_name(f"{TMP_PREFIX}{p.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def commit(tmp: Path, path: str | Path) -> None:
    """Rename a finished temporary file into place and make the rename durable."""
    target = Path(path)
    os.replace(tmp, target)
    _fsync_dir(target.parent)


def staging_path(path: str | Path) -> Path:
    """Where to write ``path`` before :func:`publish`: beside it locally, a local temp file for a URL."""
    if not outfs.is_remote(path):
        target = Path(outfs.local_path(str(path)))
        target.parent.mkdir(parents=True, exist_ok=True)
        return tmp_path_for(target)
    import tempfile

    fd, name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{outfs.name_of(path)}.", dir=_staging_dir())
    os.close(fd)
    return Path(name)


def _staging_dir() -> str:
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), "factsep-staging")
    os.makedirs(folder, exist_ok=True)
    return folder


def publish(tmp: Path, path: str | Path) -> None:
    """Make a finished staging file the content of ``path`` in one atomic step (see module doc)."""
    if not outfs.is_remote(path):
        commit(tmp, outfs.local_path(str(path)))
        return
    fs, p = outfs.to_fs(path)
    try:
        fs.put_file(str(tmp), p)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def discard(tmp: Path) -> None:
    """Forget a staging file (the target keeps its old content, if any)."""
    with contextlib.suppress(OSError):
        tmp.unlink()


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a staging file for writing; on success it is fsynced and published as ``path``."""
    tmp = staging_path(path)
    try:
        with open(tmp, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        publish(tmp, path)
    except BaseException:
        discard(tmp)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_json(path: str | Path, obj: Any) -> None:
    """JSON with sorted keys and a final newline, so equal content gives equal bytes."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    write_bytes(path, text.encode("utf-8"))


def read_json(path: str | Path) -> Any:
    with outfs.open_file(path, "r", encoding="utf-8") as fh:
        return json.load(fh)


#: Parquet settings shared by every part: zstd, statistics, no timestamps (output is reproducible).
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3, "write_statistics": True}


class AtomicParquetWriter:
    """A streaming Parquet writer that only publishes its file on :meth:`close`.

    Batches are appended as they come, so memory stays bounded by the batch, not by the file.
    ``abort`` (or an exception inside ``with``) removes the staging file.
    """

    def __init__(self, path: str | Path, schema: pa.Schema, row_group_size: int = 8192) -> None:
        self.path = str(path)
        self.tmp = staging_path(path)
        self.schema = schema
        self.row_group_size = row_group_size
        self.rows = 0
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(self.tmp, schema, **PARQUET_OPTIONS)

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        assert self._writer is not None, "writer already closed"
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        if table.num_rows == 0:
            return
        self._writer.write_table(table.cast(self.schema), row_group_size=self.row_group_size)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        with open(self.tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        publish(self.tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        discard(self.tmp)

    def __enter__(self) -> AtomicParquetWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_table(path: str | Path, table: pa.Table, row_group_size: int = 8192) -> None:
    """Write a whole table atomically (small tables: counts, indexes)."""
    with AtomicParquetWriter(path, table.schema, row_group_size) as w:
        w.write(table)


def _writer_alive(name: str) -> bool:
    """Whether the process that named a temporary file (``.tmp-NAME.PID.HEX``) still runs here.

    Why: a flow's shard tasks write without OUT's lock; a scan starting beside them must not delete
    their files. (A reused pid only leaves a stale file for a later clean-up.)
    """
    parts = name.rsplit(".", 2)
    if len(parts) < 3 or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_tmp(folder: str | Path) -> int:
    """Delete temporary files left by a killed run (their writer is gone); returns how many.

    Only a local OUT has any: a remote OUT never holds a staging file (those are local temp files).
    Call it holding OUT's lock (:mod:`factsep.run.lock`).
    """
    if outfs.is_remote(folder):
        return 0
    n = 0
    root = Path(outfs.local_path(str(folder)))
    if not root.exists():
        return 0
    for p in root.rglob(f"{TMP_PREFIX}*"):
        if _writer_alive(p.name):
            continue
        with contextlib.suppress(OSError):
            p.unlink()
            n += 1
    return n
