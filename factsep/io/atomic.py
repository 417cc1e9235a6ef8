"""Atomic writes: every output file appears complete or not at all.

Files are written under a temporary name in the target folder and renamed into place, so a run
killed at any moment leaves either the old file or the new one, never a torn one.
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


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on success it is fsynced and renamed to ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(target)
    try:
        with open(tmp, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        commit(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_json(path: str | Path, obj: Any) -> None:
    """JSON with sorted keys and a final newline, so equal content gives equal bytes."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    write_bytes(path, text.encode("utf-8"))


def read_json(path: str | Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


#: Parquet settings shared by every part: zstd, statistics, no timestamps (output is reproducible).
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3, "write_statistics": True}


class AtomicParquetWriter:
    """A streaming Parquet writer that only renames its file into place on :meth:`close`.

    Batches are appended as they come, so memory stays bounded by the batch, not by the file.
    ``abort`` (or an exception inside ``with``) removes the temporary file.
    """

    def __init__(self, path: str | Path, schema: pa.Schema, row_group_size: int = 8192) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp_path_for(self.path)
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
        commit(self.tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        with contextlib.suppress(OSError):
            self.tmp.unlink()

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


def remove_stale_tmp(folder: str | Path) -> int:
    """Delete temporary files left by a killed run; returns how many."""
    n = 0
    root = Path(folder)
    if not root.exists():
        return 0
    for p in root.rglob(f"{TMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            p.unlink()
            n += 1
    return n
