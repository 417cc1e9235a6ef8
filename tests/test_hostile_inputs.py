"""Hostile inputs that used to lose data or stop a run (issue 17: 1, 2, 9).

- a raw NUL byte near the start of a JSON-lines file quarantined the whole file (and its raw copy
  was cut at 1 MiB, so good records were kept nowhere): now only the line holding it;
- an unreadable folder was skipped without a word and an unreadable file crashed planning: now each
  is a quarantine record and a warning, and the rest is scanned;
- a link to a folder (a loop or not) crashed planning: now links are followed once, a loop or a
  second path to the same folder or file is skipped with a warning, a link to nowhere is quarantined.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from factsep.io.quarantine import read_quarantine, reason_category
from factsep.scan import ScanConfig, scan

ROOT = Path(__file__).resolve().parents[1]


def plain_lines(n: int, tag: str) -> list[bytes]:
    """JSON lines with nothing to detect (cheap to scan), each a distinct document."""
    return [
        json.dumps({"id": f"{tag}{i}", "text": f"{tag} note {i} about the weather " * 6}).encode() for i in range(n)
    ]


def dataset_ids(out: Path) -> list[str]:
    ids: list[str] = []
    for part in sorted((out / "dataset").glob("part-*.parquet")):
        if pq.read_metadata(part).num_rows:
            ids.extend(pq.read_table(part, columns=["id"]).column("id").to_pylist())
    return ids


def test_nul_byte_in_jsonl_quarantines_its_line_only(tmp_path: Path) -> None:
    good = plain_lines(6000, "r")  # ~1.2 MB: more than the 1 MiB raw copy a whole-file quarantine kept
    lines = [good[0], b'{"id": "nul", "text": "a\x00b"}', *good[1:]]
    src = tmp_path / "nul.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    assert src.stat().st_size > 1 << 20

    summary = scan([str(src)], str(tmp_path / "out"), ScanConfig(batch_size=512))

    assert (summary.read, summary.written, summary.quarantined) == (6001, 6000, 1)
    (rec,) = list(read_quarantine(tmp_path / "out"))
    assert rec["line"] == 2 and reason_category(rec["reason"]) == "NUL byte"
    assert "\\u0000" in rec["reason"]  # says how to write a NUL in JSON
    assert sorted(dataset_ids(tmp_path / "out")) == sorted(f"r{i}" for i in range(6000))


def test_one_nul_byte_keeps_a_text_file_and_utf16_is_binary(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "stray.txt").write_bytes(b"a stray \x00 byte in notes about the weather\n")
    (src / "wide.txt").write_bytes("notes written as UTF-16 text, not UTF-8".encode("utf-16-le"))

    summary = scan([str(src)], str(tmp_path / "out"), ScanConfig())

    assert (summary.read, summary.written, summary.quarantined) == (2, 1, 1)
    (part,) = [p for p in (tmp_path / "out" / "dataset").glob("part-stray*.parquet")]
    assert pq.read_table(part).column("text").to_pylist() == ["a stray \x00 byte in notes about the weather\n"]
    (rec,) = list(read_quarantine(tmp_path / "out"))
    assert rec["file"] == "wide.txt" and rec["reason"] == "binary file"


def _without_dac() -> list[str]:
    """A command prefix that runs a child without the root powers that ignore file permissions."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def test_unreadable_folder_and_file_are_reported_and_the_rest_scanned(tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "locked").mkdir(parents=True)
    (src / "open").mkdir()
    (src / "open" / "a.jsonl").write_bytes(b"\n".join(plain_lines(3, "a")) + b"\n")
    (src / "locked" / "b.jsonl").write_bytes(b"\n".join(plain_lines(3, "b")) + b"\n")
    (src / "secret.jsonl").write_bytes(b"\n".join(plain_lines(3, "s")) + b"\n")
    out = tmp_path / "out"
    (src / "locked").chmod(0)
    (src / "secret.jsonl").chmod(0)
    try:
        proc = subprocess.run(
            [*_without_dac(), sys.executable, "-m", "factsep", "scan", str(src), "--out", str(out), "--json"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=600,
        )
    finally:
        (src / "locked").chmod(0o755)
        (src / "secret.jsonl").chmod(0o644)

    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert (summary["read"], summary["written"], summary["quarantined"]) == (5, 3, 2)
    reasons = {r["file"]: reason_category(r["reason"]) for r in read_quarantine(out)}
    assert reasons == {"locked": "unreadable folder, its files were not scanned", "secret.jsonl": "unreadable file"}
    assert "cannot list folder" in proc.stderr and str(src / "locked") in proc.stderr
    assert "cannot read" in proc.stderr and str(src / "secret.jsonl") in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(dataset_ids(out)) == ["a0", "a1", "a2"]


def test_links_to_folders_are_followed_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    src = tmp_path / "in"
    (src / "docs").mkdir(parents=True)
    (src / "more").mkdir()
    (src / "docs" / "a.jsonl").write_bytes(b"\n".join(plain_lines(2, "a")) + b"\n")
    (src / "more" / "b.jsonl").write_bytes(b"\n".join(plain_lines(2, "b")) + b"\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "c.jsonl").write_bytes(b"\n".join(plain_lines(2, "c")) + b"\n")
    (src / "docs" / "loop").symlink_to("..")  # a loop back to the input folder
    (src / "docs" / "same").symlink_to("../more")  # a second path to a folder scanned anyway
    (src / "more" / "twin.jsonl").symlink_to("b.jsonl")  # a second path to a file
    (src / "ext").symlink_to(outside)  # a folder outside the input: followed
    (src / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")  # a link to nowhere
    (src / "out").symlink_to(tmp_path / "out")  # OUT reached through a link: never scanned

    with caplog.at_level(logging.WARNING, logger="factsep.scan"):
        summary = scan([str(src)], str(tmp_path / "out"), ScanConfig())
        again = scan([str(src)], str(tmp_path / "out"), ScanConfig())  # a re-run meets OUT's files

    assert sorted(dataset_ids(tmp_path / "out")) == ["a0", "a1", "b0", "b1", "c0", "c1"]
    assert (summary.read, summary.written, summary.quarantined) == (7, 6, 1)
    assert (again.read, again.written, again.quarantined) == (7, 6, 1)
    (rec,) = list(read_quarantine(tmp_path / "out"))
    assert rec["file"] == "gone.jsonl" and reason_category(rec["reason"]) == "missing file"
    warned = "\n".join(caplog.messages)
    assert "docs/loop" in warned and "docs/same" in warned and "twin.jsonl" in warned
