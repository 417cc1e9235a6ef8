"""Readers and quarantine records: every format, every kind of bad input, local and fsspec URLs."""

from __future__ import annotations

import base64
import gzip
import json
import random
import uuid
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from factsep.io.quarantine import QuarantineWriter, read_quarantine, reason_category
from factsep.io.readers import Bad, ReadOptions, detect_format, read_source


def collect(url: str, **opts: object) -> tuple[list[dict], list[Bad], int, int, list[int]]:
    """rows, bad, skipped, read, batch sizes of one source."""
    rows: list[dict] = []
    bad: list[Bad] = []
    skipped = read = 0
    sizes: list[int] = []
    for batch in read_source(url, ReadOptions(**opts)):  # type: ignore[arg-type]
        rows.extend({**r, "_loc": loc} for r, loc in zip(batch.rows, batch.locs, strict=True))
        bad.extend(batch.bad)
        skipped += batch.skipped
        read += batch.read
        sizes.append(len(batch.rows))
    return rows, bad, skipped, read, sizes


def jsonl(n: int, seed: int = 0) -> bytes:
    """n distinct, not very compressible JSON lines (so compressed files have many blocks)."""
    rng = random.Random(seed)
    lines = [json.dumps({"id": i, "text": f"doc {i} {uuid.UUID(int=rng.getrandbits(128))}"}) for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("name", "fmt", "comp"),
    [
        ("a.jsonl", "jsonl", None),
        ("a.json", "jsonl", None),
        ("a.JSONL.GZ", "jsonl", "gzip"),
        ("dir/a.ndjson.zst", "jsonl", "zstd"),
        ("a.parquet", "parquet", None),
        ("a.txt", "txt", None),
        ("a.txt.gz", "txt", "gzip"),
        ("a.csv", "unknown", None),
        ("a.parquet.gz", "unknown", "gzip"),
    ],
)
def test_detect_format(name: str, fmt: str, comp: str | None) -> None:
    assert detect_format(name) == (fmt, comp)


def test_jsonl_good_bad_blank_and_batches(tmp_path: Path) -> None:
    lines = [
        b'{"id": "a", "text": "one", "n": 1}',
        b"",
        b"   ",
        b'{"text": "two"',
        b'{"id": "c", "text": null}',
        b'{"id": "d"}',
        b'{"id": "e", "text": 5}',
        b'["not", "an", "object"]',
        b'{"id": "f", "text": "caf\xe9"}',
        b'{"id": "g", "text": "lone \\ud800 surrogate"}',
        b'{"id": "h", "text": "emoji \\ud83d\\ude00 ok"}\r',
    ] + [b'{"text": "x%d"}' % i for i in range(7)]
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines))  # BOM, no final newline
    rows, bad, skipped, read, sizes = collect(str(path), batch_size=3)
    assert [r["text"] for r in rows[:2]] == ["one", "emoji \U0001f600 ok"]
    assert len(rows) == 9 and rows[0]["_loc"] == 1 and rows[1]["_loc"] == 11
    assert skipped == 2
    assert read == len(lines) == len(rows) + len(bad) + skipped
    assert max(sizes) <= 3
    reasons = {b.loc: reason_category(b.reason) for b in bad}
    assert reasons == {
        4: "invalid JSON",
        5: "null text field 'text'",
        6: "missing text field 'text'",
        7: "non-string text field 'text'",
        8: "not a JSON object",
        9: "invalid UTF-8",
        10: "invalid Unicode",
    }


def test_quarantine_record_base64_and_location(tmp_path: Path) -> None:
    writer = QuarantineWriter(tmp_path / "quarantine" / "part-x.jsonl", "sub/a.jsonl", max_raw_bytes=8)
    writer.add(Bad("line", 3, "invalid UTF-8 at byte 1", b"\xff\xfe abc"))
    writer.add(Bad("row", 0, "null text field 'text'", '{"text": null, "id": 1}'))
    writer.add(Bad("file", None, "empty file", b""))
    writer.close()
    recs = list(read_quarantine(tmp_path))
    assert recs[0]["file"] == "sub/a.jsonl" and recs[0]["line"] == 3 and recs[0]["encoding"] == "base64"
    assert base64.b64decode(recs[0]["raw"]) == b"\xff\xfe abc"
    assert recs[1]["row"] == 0 and recs[1]["raw"] == '{"text":' and recs[1]["raw_truncated"] is True
    assert recs[1]["size"] == len('{"text": null, "id": 1}')
    assert "line" not in recs[2] and "row" not in recs[2] and recs[2]["raw"] == ""
    assert writer.reasons == {"invalid UTF-8": 1, "null text field 'text'": 1, "empty file": 1}


def test_quarantine_without_records_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "q" / "part-y.jsonl"
    target.parent.mkdir()
    target.write_text("stale\n")
    QuarantineWriter(target, "y", 100).close()
    assert not target.exists() and list(target.parent.iterdir()) == []


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_truncated_stream_keeps_complete_records_and_reports_cut(tmp_path: Path, compression: str) -> None:
    data = jsonl(4000)
    if compression == "gzip":
        blob, name = gzip.compress(data), "a.jsonl.gz"
    else:
        blob, name = zstandard.ZstdCompressor(level=1).compress(data), "a.jsonl.zst"
    whole = tmp_path / f"whole-{name}"
    whole.write_bytes(blob)
    rows, bad, *_ = collect(str(whole))
    assert len(rows) == 4000 and bad == []
    cut = tmp_path / name
    cut.write_bytes(blob[: len(blob) * 2 // 3])
    rows, bad, skipped, read, _ = collect(str(cut))
    assert 0 < len(rows) < 4000
    assert [r["id"] for r in rows] == list(range(len(rows)))  # the complete records, in order
    assert len(bad) == 1 and bad[0].reason.startswith(f"truncated {compression}")
    assert bad[0].loc == len(rows) + 1
    assert read == len(rows) + 1 and skipped == 0
    partial = bad[0].raw or b""
    assert partial == b"" or data.find(partial) > 0  # the cut line's start, kept for the quarantine


def test_corrupt_gzip_is_reported_not_raised(tmp_path: Path) -> None:
    blob = bytearray(gzip.compress(jsonl(2000)))
    blob[len(blob) // 2 : len(blob) // 2 + 64] = b"\x00" * 64
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(bytes(blob))
    rows, bad, _, read, _ = collect(str(path))
    assert len(bad) == 1 and ("corrupt gzip" in bad[0].reason or "truncated gzip" in bad[0].reason)
    assert read == len(rows) + 1


def test_concatenated_gzip_members(tmp_path: Path) -> None:
    path = tmp_path / "multi.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl(10, 1)) + gzip.compress(jsonl(5, 2)))
    rows, bad, *_ = collect(str(path))
    assert len(rows) == 15 and bad == []


def test_oversized_record_is_cut_and_quarantined(tmp_path: Path) -> None:
    big = json.dumps({"text": "9" * 5000}).encode()
    path = tmp_path / "big.jsonl"
    path.write_bytes(b'{"text": "small"}\n' + big + b'\n{"text": "after"}\n' + big)
    rows, bad, _, read, _ = collect(str(path), max_record_bytes=1000)
    assert [r["text"] for r in rows] == ["small", "after"]
    assert [(b.loc, b.reason, b.size) for b in bad] == [
        (2, "record too large", len(big)),
        (4, "record too large", len(big)),
    ]
    assert all(len(b.raw or b"") == 1000 for b in bad)
    assert read == 4


def test_parquet_rows_and_schema(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int32()),
            "text": ["a", None, "c", "d"],
            "meta": [{"k": 1}, {"k": 2}, None, {"k": 4}],
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=2)
    batches = list(read_source(str(path), ReadOptions(batch_size=3)))
    assert batches[0].schema is not None and batches[0].schema.field("id").type == pa.int32()
    rows = [r for b in batches for r in b.rows]
    bad = [x for b in batches for x in b.bad]
    assert [r["text"] for r in rows] == ["a", "c", "d"]
    assert [b.locs for b in batches if b.locs] == [[0, 2], [3]]
    assert [(b.loc_name, b.loc, b.reason) for b in bad] == [("row", 1, "null text field 'text'")]
    assert json.loads(bad[0].raw)["id"] == 2  # type: ignore[arg-type]


def test_parquet_non_string_text_and_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"text": [1, 2]}), path)
    rows, bad, _, read, _ = collect(str(path))
    assert rows == [] and read == 2 and all("non-string" in b.reason for b in bad)
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1 this is not parquet")
    rows, bad, _, read, _ = collect(str(junk))
    assert rows == [] and read == 1 and bad[0].reason.startswith("unreadable Parquet")


def test_txt_files(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("héllo\nworld\n", encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes("UTF-16 is not UTF-8".encode("utf-16-le"))
    (tmp_path / "latin.txt").write_bytes("café".encode("latin-1"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"  \n\n")
    rows, bad, *_ = collect(str(tmp_path / "ok.txt"))
    assert rows == [{"text": "héllo\nworld\n", "_loc": 1}] and bad == []
    for name, reason in [
        ("bin", "binary file"),
        ("latin", "invalid UTF-8"),
        ("empty", "empty file"),
        ("blank", "empty file"),
    ]:
        rows, bad, _, read, _ = collect(str(tmp_path / f"{name}.txt"))
        assert rows == [] and read == 1 and reason_category(bad[0].reason) == reason, name
    rec = bad[0].to_record("blank.txt", 100)
    assert rec["raw"] == "  \n\n"


def test_unknown_and_binary_files(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "notes.md").write_text("# notes")
    (tmp_path / "data.jsonl").write_bytes(b"\x00\x01\x02 binary in a jsonl")
    _, bad, _, read, _ = collect(str(tmp_path / "x.bin"), max_raw_bytes=16)
    assert read == 1 and bad[0].reason.startswith("unknown format (binary")
    rec = bad[0].to_record("x.bin", 16)
    assert rec["encoding"] == "base64" and rec["raw_truncated"] and rec["size"] == 2560
    _, bad, *_ = collect(str(tmp_path / "notes.md"))
    assert bad[0].reason.startswith("unknown format (text")
    _, bad, *_ = collect(str(tmp_path / "data.jsonl"))
    assert reason_category(bad[0].reason) == "binary data" and bad[0].loc == 1  # that line, not the file


def test_fsspec_memory_and_file_urls(tmp_path: Path) -> None:
    data = jsonl(50)
    fs = fsspec.filesystem("memory")
    fs.pipe("/readers-test/a.jsonl.gz", gzip.compress(data))
    rows, bad, *_ = collect("memory://readers-test/a.jsonl.gz", batch_size=7)
    assert len(rows) == 50 and bad == []
    (tmp_path / "b.jsonl").write_bytes(data)
    rows2, *_ = collect(f"file://{tmp_path}/b.jsonl")
    assert [r["text"] for r in rows2] == [r["text"] for r in rows]
    fs.rm("/readers-test", recursive=True)


def test_bad_records_are_handed_on_in_bounded_batches(tmp_path: Path) -> None:
    """A file of nothing but bad lines must not pile up in one batch; big raw values are cut early."""
    path = tmp_path / "allbad.jsonl"
    path.write_bytes(b"".join(b"{broken " + b"x" * 300 + b"\n" for _ in range(100)))
    batches = list(read_source(str(path), ReadOptions(batch_size=8, max_raw_bytes=50)))
    assert sum(len(b.bad) for b in batches) == 100
    assert max(len(b.bad) for b in batches) <= 8
    first = batches[0].bad[0]
    assert len(first.raw or b"") == 50 and first.size == 308
    assert first.to_record("allbad.jsonl", 50)["raw_truncated"] is True
