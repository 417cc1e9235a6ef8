"""Hostile input: a huge document, cut gzip/zstd streams, binary, empty and unknown files, deep JSON.

The run must finish, keep every good record (including those before a cut), quarantine the rest
with a reason, and the manifest's counts must add up.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pyarrow.parquet as pq
import zstandard

from factsep.io.quarantine import read_quarantine, reason_category
from factsep.scan import ScanConfig, scan


def lines(n: int, tag: str) -> bytes:
    """Cheap documents (nothing to detect), varied enough that zstd emits many blocks."""
    rows = [{"id": f"{tag}{i}", "text": f"{tag} line {i} of plain words", "pad": f"{i * 7919:x}" * 8} for i in range(n)]
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def complete_lines_in(prefix: bytes, compression: str) -> int:
    """How many whole lines an independent decoder gets out of a cut stream."""
    if compression == "gzip":
        data = zlib.decompressobj(wbits=47).decompress(prefix)
    else:
        data = zstandard.ZstdDecompressor().decompressobj().decompress(prefix)
    return data.count(b"\n")


def test_hostile_corpus(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    huge = "1" * 1_500_000 + "a" * 500_000 + " x9f3" * 100_000  # one 2.5 MB document, no useful breaks
    (src / "huge.jsonl").write_text(json.dumps({"id": "huge", "text": huge}) + "\n")
    gz = gzip.compress(lines(12000, "g"))
    gz_cut = gz[: len(gz) // 2]
    (src / "cut.jsonl.gz").write_bytes(gz_cut)
    zs = zstandard.ZstdCompressor(level=1).compress(lines(12000, "z"))
    zs_cut = zs[: len(zs) // 2]
    (src / "cut.jsonl.zst").write_bytes(zs_cut)
    (src / "blob.bin").write_bytes(bytes(range(256)) * 64)
    (src / "binary.jsonl").write_bytes(b"\x7fELF\x00\x00\x01" * 100)
    (src / "empty.jsonl").write_bytes(b"")
    (src / "empty.txt").write_bytes(b"")
    (src / "table.csv").write_text("a,b\n1,2\n")
    (src / "pretty.json").write_text(json.dumps({"text": "pretty printed"}, indent=2))
    (src / "deep.jsonl").write_bytes(b"[" * 200_000 + b"\n" + json.dumps({"text": "after deep"}).encode() + b"\n")
    (src / "latin.txt").write_bytes("Café crème, tel 01 23 45 67 89".encode("latin-1"))

    summary = scan([str(src)], str(tmp_path / "out"), ScanConfig(batch_size=64))

    assert summary.read == summary.written + summary.quarantined + summary.skipped
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert m["counts"]["read"] == m["counts"]["written"] + m["counts"]["quarantined"] + m["counts"]["skipped"]
    reasons = [(r["file"], reason_category(r["reason"])) for r in read_quarantine(tmp_path / "out")]
    for expected in [
        ("cut.jsonl.gz", "truncated gzip stream"),
        ("cut.jsonl.zst", "truncated zstd stream"),
        ("blob.bin", "unknown format"),
        ("binary.jsonl", "binary data"),
        ("empty.jsonl", "empty file"),
        ("empty.txt", "empty file"),
        ("table.csv", "unknown format"),
        ("deep.jsonl", "invalid JSON"),
        ("latin.txt", "invalid UTF-8"),
    ]:
        assert expected in reasons, expected
    assert sum(1 for f, _ in reasons if f == "pretty.json") == 3  # "{", the field line, "}"

    written = {
        p.name.split("-")[1]: pq.read_table(p) if pq.read_metadata(p).num_rows else None
        for p in (tmp_path / "out" / "dataset").glob("part-*.parquet")
    }
    by_file = {name.rsplit(".", 1)[0] if name.endswith((".gz", ".zst")) else name: t for name, t in written.items()}
    assert by_file["huge.jsonl"] is not None and by_file["huge.jsonl"].column("text")[0].as_py() == huge
    gz_rows = written["cut.jsonl.gz"]
    zs_rows = written["cut.jsonl.zst"]
    assert gz_rows is not None and gz_rows.num_rows == complete_lines_in(gz_cut, "gzip") > 0
    assert zs_rows is not None and zs_rows.num_rows == complete_lines_in(zs_cut, "zstd") > 0
    assert gz_rows.column("id").to_pylist() == [f"g{i}" for i in range(gz_rows.num_rows)]
    assert written["deep.jsonl"] is not None and written["deep.jsonl"].column("text").to_pylist() == ["after deep"]
