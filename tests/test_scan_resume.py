"""A scan killed with SIGKILL and run again gives exactly what a clean run gives.

The killed run is a real ``factsep scan`` process; the clean one uses a pool of worker processes,
so this also checks that parallel and sequential runs write the same bytes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from factsep.scan import ScanConfig, scan

CLI = "import sys; from factsep.cli import main; sys.argv[0] = 'factsep'; main()"
PHONES = ["+1 650 253 0000", "+44 20 7946 0958", "+49 30 901820"]


def make_corpus(root: Path, files: int = 5, docs: int = 12) -> Path:
    src = root / "corpus"
    src.mkdir()
    for f in range(files):
        rows = [
            {
                "id": f"f{f}-{i}",
                "text": f"Ticket {f}-{i}: call {PHONES[(f + i) % 3]} or mail u{f}x{i}@example.org, "
                f"request 00000000-0000-4000-8000-{f:06d}{i:06d}.",
            }
            for i in range(docs)
        ]
        (src / f"part{f}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    return src


def snapshot(out: Path) -> dict[str, bytes]:
    files = {}
    for sub in ("dataset", "spans", "quarantine"):
        for p in sorted((out / sub).iterdir()):
            files[f"{sub}/{p.name}"] = p.read_bytes()
    return files


def manifest_body(out: Path) -> dict:
    m = json.loads((out / "manifest.json").read_text())
    m.pop("run_id")
    m.pop("timestamps")
    return m


def test_sigkill_then_rerun_equals_clean_run(tmp_path: Path) -> None:
    src = make_corpus(tmp_path)
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-c", CLI, "scan", str(src), "--out", str(killed), "--batch-size", "2", "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    markers = killed / "state" / "shards"
    deadline = time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None:
            if markers.exists() and len(list(markers.glob("*.json"))) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"scan ended before it could be killed: {proc.stderr.read()!r}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    done_before = len(list(markers.glob("*.json")))
    assert 2 <= done_before < 5
    assert not (killed / "manifest.json").exists()

    resumed = scan([str(src)], str(killed), ScanConfig(batch_size=2))
    assert resumed.shards_resumed == done_before
    assert not [p for p in killed.rglob("*") if p.name.startswith(".tmp-")]

    clean = tmp_path / "clean"
    fresh = scan([str(src)], str(clean), ScanConfig(batch_size=2, workers=2))
    assert fresh.shards_resumed == 0
    assert snapshot(killed) == snapshot(clean)
    assert manifest_body(killed) == manifest_body(clean)
    assert resumed.written == fresh.written == 60 and resumed.quarantined == 5
