"""factsep.io.fs.iter_batches reads a row group at a time and still gives pyarrow's batches."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from factsep.io import fs as outfs


@pytest.mark.parametrize("batch_size", [1, 7, 64, 1000])
def test_same_rows_and_batch_sizes_as_pyarrow(tmp_path: Path, batch_size: int) -> None:
    path = tmp_path / "parts.parquet"
    schema = pa.schema([("n", pa.int64()), ("s", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        start = 0
        for size in (5, 0, 130, 1, 64, 17):  # uneven row groups, one empty
            rows = list(range(start, start + size))
            writer.write_table(pa.table({"n": rows, "s": [f"v{r}" for r in rows]}, schema=schema))
            start += size
    pf = pq.ParquetFile(path)
    assert pf.num_row_groups >= 5
    ours = list(outfs.iter_batches(pf, batch_size, ["n"]))
    theirs = list(pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=["n"]))
    assert [b.num_rows for b in ours] == [b.num_rows for b in theirs]
    assert pa.Table.from_batches(ours).column("n").to_pylist() == list(range(start))
    assert all(b.schema.names == ["n"] for b in ours)
