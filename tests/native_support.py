"""Text the native-core parity tests share: every document of samples/, whatever its format."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]


def sample_docs() -> list[str]:
    """samples/ as texts: Parquet text columns, gzip lines, plain files whole."""
    docs: list[str] = []
    for path in sorted((ROOT / "samples").rglob("*")):
        if path.suffix == ".parquet":
            docs.extend(str(t) for t in pq.read_table(path).column("text").to_pylist())
        elif path.name.endswith(".gz"):
            docs.extend(gzip.open(path, "rt", encoding="utf-8", errors="replace").read().splitlines())
        elif path.is_file():
            docs.append(path.read_text(encoding="utf-8", errors="replace"))
    return docs
