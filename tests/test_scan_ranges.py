"""A big input file is scanned as several range shards, and the output is the unsplit run's.

Why: one shard's end-of-scan step grows with the shard, so the scan cuts a file over
``shard_bytes`` into byte ranges at newlines (JSON lines) or row-group ranges (Parquet). These
tests lower ``shard_bytes`` to a few hundred bytes and check that documents, spans, counts and
quarantine records (with the file's real line numbers) are those of a run with one shard per
file, that every line is read once, and that a partial run resumes shard by shard.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from factsep.config import DetectorConfig, TagConfig
from factsep.io.quarantine import read_quarantine
from factsep.io.readers import LineCutter
from factsep.run import pool
from factsep.scan import ScanConfig, plan_shards, prepare_out, scan, scan_shard, write_run_state

PHONES = ["+1 650 253 0000", "+44 20 7946 0958", "+49 30 901820"]


def _reference_cuts(data: bytes, every: int) -> list[tuple[int, int, int]]:
    """What :class:`LineCutter` must give, computed on the whole bytes at once."""
    out, start = [], 0
    while start < len(data):
        target = start + every
        if target >= len(data):
            out.append((start, len(data), data.count(b"\n", 0, start)))
            break
        i = data.rfind(b"\n", start, target)
        if i >= 0:
            cut = i + 1
        else:
            j = data.find(b"\n", target)
            cut = j + 1 if j >= 0 else len(data)
        out.append((start, cut, data.count(b"\n", 0, start)))
        start = cut
    return out


def test_line_cutter_gives_the_same_ranges_whatever_the_chunks() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        alphabet = rng.choice([b"ab\n", b"aaaaaaaa\n", b"a\n\n", b"xyz\r\n", b"q"])
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        every = rng.randint(1, 30)
        cutter = LineCutter(every)
        pos = 0
        while pos < len(data):
            step = rng.randint(1, 40)
            cutter.feed(data[pos : pos + step])
            pos += step
        ranges = cutter.ranges()
        assert ranges == _reference_cuts(data, every)
        if data:  # the ranges tile the file, each ends after a newline (or at the end)
            assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
            for (_, end, _), (start, _, _) in zip(ranges, ranges[1:], strict=False):
                assert end == start and data[end - 1 : end] == b"\n"


def _lines() -> list[bytes]:
    """JSON lines with everything a boundary could break: CRLF, blank lines, no id, bad bytes."""
    rows: list[bytes] = []
    for i in range(40):
        text = f"Ticket {i}: call {PHONES[i % 3]} or mail someone{i}@example.org about order {1000 + i}."
        rec: dict[str, Any] = {"text": text} if i % 4 == 1 else {"id": f"t{i}", "text": text}
        line = json.dumps(rec).encode()
        rows.append(line + (b"\r\n" if i % 5 == 2 else b"\n"))
        if i == 7:
            rows.append(b"\n")  # blank: skipped and counted
        if i == 11:
            rows.append(b'{"id": "nul", "text": "a\x00b"}\n')
        if i == 12:
            rows.append(b'{"id": "utf", "text": "caf\xe9 ' + b"x" * 40 + b'"}\n')
        if i == 18:
            rows.append(b"{broken json\n")
        if i == 25:  # one line longer than several shards
            long = {"id": "long", "text": "Reach me at +1 650 253 0000. " + "pad " * 400}
            rows.append(json.dumps(long).encode() + b"\n")
    rows.append(json.dumps({"id": "last", "text": "no newline after me, mail last@example.org"}).encode())
    return rows


def _corpus(root: Path, name: str = "big.jsonl") -> Path:
    src = root / "corpus"
    src.mkdir()
    (src / name).write_bytes(b"".join(_lines()))
    (src / "small.jsonl").write_text(json.dumps({"id": "s", "text": "call +44 20 7946 0958"}) + "\n")
    return src


def _rows(out: Path, kind: str) -> list[dict[str, Any]]:
    parts = sorted((out / kind).glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts]).to_pylist()


def _quarantine(out: Path) -> list[dict[str, Any]]:
    return list(read_quarantine(out))


def _manifest(out: Path) -> dict[str, Any]:
    m = json.loads((out / "manifest.json").read_text())
    for key in ("run_id", "timestamps", "config"):
        m.pop(key)
    for item in m["inputs"]:
        item.pop("shard_id")
        item.pop("shards", None)
    m["counts"].pop("shards")
    return m


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("ranges")
    src = _corpus(root)
    out = root / "whole"
    scan([str(src)], str(out), ScanConfig(batch_size=4, shard_bytes=0))
    return src, out


@pytest.mark.parametrize("shard_bytes", [97, 256, 1200])
def test_a_split_file_gives_the_unsplit_output(whole: tuple[Path, Path], tmp_path: Path, shard_bytes: int) -> None:
    src, whole_out = whole
    config = ScanConfig(batch_size=4, shard_bytes=shard_bytes)
    shards = [s for s in plan_shards([str(src)], config) if s.rel == "big.jsonl"]
    size = (src / "big.jsonl").stat().st_size
    assert len(shards) >= 3
    cuts = _reference_cuts((src / "big.jsonl").read_bytes(), shard_bytes)
    assert [(s.start, s.end, s.first_loc) for s in shards] == cuts
    assert shards[0].start == 0 and shards[-1].end == size and sum(s.input_bytes for s in shards) == size
    assert len({s.shard_id for s in shards}) == len(shards)
    out = tmp_path / "split"
    summary = scan([str(src)], str(out), config)
    assert summary.shards == len(shards) + 1
    assert _rows(out, "dataset") == _rows(whole_out, "dataset")
    assert _rows(out, "spans") == _rows(whole_out, "spans")
    assert _quarantine(out) == _quarantine(whole_out)
    assert _manifest(out) == _manifest(whole_out)
    m = json.loads((out / "manifest.json").read_text())
    big = next(i for i in m["inputs"] if i["path"] == "big.jsonl")
    assert [p["start"] for p in big["shards"]] == [s.start for s in shards]
    assert sum(p["counts"]["read"] for p in big["shards"]) == big["counts"]["read"]
    c = m["counts"]
    assert c["read"] == c["written"] + c["quarantined"] + c["skipped"] and c["files"] == 2


def test_line_numbers_and_ids_are_the_files(whole: tuple[Path, Path], tmp_path: Path) -> None:
    src, _ = whole
    out = tmp_path / "split"
    scan([str(src)], str(out), ScanConfig(batch_size=4, shard_bytes=97))
    lines = b"".join(_lines()).split(b"\n")
    number = {}
    for n, line in enumerate(lines, start=1):
        if line.startswith(b"{") and b'"id": "' in line:
            number[line.split(b'"id": "', 1)[1].split(b'"', 1)[0].decode()] = n
    rows = [r for r in _rows(out, "dataset") if r["source_file"] == "big.jsonl"]
    assert [r["source_line"] for r in rows] == sorted({r["source_line"] for r in rows})  # each read once, in order
    for r in rows:
        if r.get("id") is not None:
            assert r["source_line"] == number[r["id"]]
        else:
            assert r["doc_id"] == f"big.jsonl:{r['source_line']}"
            assert json.loads(lines[r["source_line"] - 1])["text"] == r["text"]
    bad = {q["reason"].split(" (")[0].split(" at ")[0]: q["line"] for q in _quarantine(out) if q["file"] == "big.jsonl"}
    assert bad["NUL byte"] == number["nul"]
    assert bad["invalid UTF-8"] == number["utf"]
    assert lines[bad["invalid JSON"] - 1] == b"{broken json"
    assert any(r["id"] == "last" for r in rows) and any(r["id"] == "long" for r in rows)


def test_a_partial_run_resumes_per_range(whole: tuple[Path, Path], tmp_path: Path) -> None:
    src, whole_out = whole
    config = ScanConfig(batch_size=4, shard_bytes=256)
    out = tmp_path / "partial"
    shards = plan_shards([str(src)], config)
    prepare_out(str(out))
    write_run_state(str(out), shards, config, DetectorConfig(), TagConfig())
    for s in shards[:3]:  # a run killed after three of its shards
        scan_shard(s, str(out), config)
    resumed = scan([str(src)], str(out), config)
    assert resumed.shards_resumed == 3 and resumed.shards == len(shards)
    assert _rows(out, "dataset") == _rows(whole_out, "dataset")
    # a part truncated from outside: that range alone is scanned again
    victim = out / "state" / "docs" / f"part-{shards[4].shard_id}.parquet"
    victim.write_bytes(victim.read_bytes()[:-10])
    again = scan([str(src)], str(out), config)
    assert again.shards_resumed == len(shards) - 1
    assert _rows(out, "dataset") == _rows(whole_out, "dataset")
    assert _quarantine(out) == _quarantine(whole_out)


def test_a_new_shard_size_replaces_the_old_parts(whole: tuple[Path, Path], tmp_path: Path) -> None:
    src, whole_out = whole
    out = tmp_path / "resized"
    scan([str(src)], str(out), ScanConfig(batch_size=4, shard_bytes=256))
    n_before = len(list((out / "dataset").glob("*.parquet")))
    summary = scan([str(src)], str(out), ScanConfig(batch_size=4, shard_bytes=0))
    assert summary.shards == 2 and len(list((out / "dataset").glob("*.parquet"))) == 2 < n_before
    assert len(list((out / "state" / "shards").glob("*.json"))) == 2
    assert _rows(out, "dataset") == _rows(whole_out, "dataset")
    assert _quarantine(out) == _quarantine(whole_out)


def test_without_content_hashes_the_file_is_still_cut(whole: tuple[Path, Path]) -> None:
    src, _ = whole
    shards = plan_shards([str(src)], ScanConfig(shard_bytes=256, hash_content=False))
    assert sum(1 for s in shards if s.rel == "big.jsonl") >= 3


def test_compressed_and_text_files_stay_one_shard(tmp_path: Path) -> None:
    src = tmp_path / "c"
    src.mkdir()
    data = b"".join(_lines())
    (src / "big.jsonl.gz").write_bytes(gzip.compress(data))
    (src / "doc.txt").write_text("A letter. Call +1 650 253 0000.\n" * 40)
    shards = plan_shards([str(src)], ScanConfig(shard_bytes=97))
    assert [(s.rel, s.start) for s in shards] == [("big.jsonl.gz", None), ("doc.txt", None)]


def test_parquet_is_cut_between_row_groups(tmp_path: Path) -> None:
    src = tmp_path / "pq"
    src.mkdir()
    rows = [{"id": f"p{i}", "text": f"Row {i}: call {PHONES[i % 3]} please.", "n": i} for i in range(60)]
    rows[13]["text"] = None  # quarantined with its real row number
    pq.write_table(pa.Table.from_pylist(rows), src / "t.parquet", row_group_size=7)
    whole_out, split_out = tmp_path / "whole", tmp_path / "split"
    scan([str(src)], str(whole_out), ScanConfig(batch_size=4, shard_bytes=0))
    config = ScanConfig(batch_size=4, shard_bytes=600)
    shards = plan_shards([str(src)], config)
    assert len(shards) >= 3 and shards[0].start == 0 and shards[-1].end == 9
    assert all(a.end == b.start for a, b in zip(shards, shards[1:], strict=False))
    scan([str(src)], str(split_out), config)
    assert _rows(split_out, "dataset") == _rows(whole_out, "dataset")
    assert _rows(split_out, "spans") == _rows(whole_out, "spans")
    assert [q["row"] for q in _quarantine(split_out)] == [13] == [q["row"] for q in _quarantine(whole_out)]
    assert _manifest(split_out) == _manifest(whole_out)


def test_the_scan_uses_a_pool_that_returns_memory(whole: tuple[Path, Path]) -> None:
    """Arrow's pool is jemalloc after a scan (when pyarrow has it): mimalloc kept ~70 MB more."""
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("pyarrow built without jemalloc")
    if pool.user_pool() is not None:  # not os.environ: importing factsep sets it
        pytest.skip("the user's pool is kept")
    assert pa.default_memory_pool().backend_name == "jemalloc"
