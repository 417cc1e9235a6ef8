"""The README's main command, `factsep run samples/ --out OUT`, on Prefect's temporary API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from prefect_fixtures import REPO


def factsep_run(out: Path, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update({"PREFECT_HOME": str(home), "COLUMNS": "160", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    env.pop("LABEL_STUDIO_URL", None)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from factsep.cli import main; main()",
            "run",
            "samples/",
            "--out",
            str(out),
            *extra,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def dataset_rows(out: Path) -> int:
    return sum(pq.read_metadata(p).num_rows for p in (out / "dataset").glob("part-*.parquet"))


def test_factsep_run_on_samples_cold_then_warm(tmp_path: Path) -> None:
    out, home = tmp_path / "out", tmp_path / "prefect-home"
    cold = factsep_run(out, home)
    assert cold.returncode == 0, cold.stdout[-3000:] + cold.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    shards = len(manifest.get("inputs") or manifest.get("shards") or [])
    assert shards >= 2
    assert f"report: {out / 'report.html'}" in cold.stdout
    assert "no review server configured" in cold.stdout and (out / "review" / "tasks.json").exists()
    assert "Starting temporary server" in cold.stderr + cold.stdout  # no server started by hand
    rows = dataset_rows(out)
    assert rows > 0

    warm = factsep_run(out, home)
    assert warm.returncode == 0, warm.stdout[-3000:] + warm.stderr[-3000:]
    log = warm.stdout + warm.stderr
    assert log.count("Cached(type=COMPLETED)") == shards  # every shard came from the cache
    assert dataset_rows(out) == rows
