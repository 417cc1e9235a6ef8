"""The README's main command, `factsep run samples/ --out OUT`, on Prefect's temporary API."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pyarrow.parquet as pq
from prefect_fixtures import REPO, _wait_healthy, free_port, stop_process


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
    # the main job's output is a Hugging Face dataset folder: every row, every column
    import datasets

    loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf"))["train"]
    assert loaded.num_rows == rows == manifest["counts"]["written"]
    assert loaded.column_names == pq.read_schema(next((out / "dataset").glob("part-*.parquet"))).names

    # detection never imports other packages' spaCy factories (Presidio's pulls in transformers)
    assert "PyTorch was not found" not in cold.stderr + cold.stdout

    warm = factsep_run(out, home)
    assert warm.returncode == 0, warm.stdout[-3000:] + warm.stderr[-3000:]
    log = warm.stdout + warm.stderr
    assert log.count("Cached(type=COMPLETED)") == shards  # every shard came from the cache
    assert dataset_rows(out) == rows

    # The run's "View at" links die with the temporary server; the command says so, and
    # `prefect server start` on the same PREFECT_HOME shows the recorded runs and their artifacts.
    printed = " ".join(warm.stdout.split())
    assert "no longer open" in printed and f"kept in {home}" in printed and "prefect server start" in printed
    run_id = re.findall(r"/runs/flow-run/([0-9a-f-]{36})", printed)[-1]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        api = f"http://127.0.0.1:{port}/api"
        _wait_healthy(api, server, 180)
        flow_run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
        assert flow_run["state_type"] == "COMPLETED"
        runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=10).json()
        assert {r["state_type"] for r in runs} == {"COMPLETED"} and len(runs) >= 2 * 3  # both runs, subflows
        artifacts = httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()
        assert {"factsep-pipeline", "factsep-pipeline-kinds"} <= {a["key"] for a in artifacts}
        page = httpx.get(f"http://127.0.0.1:{port}/runs/flow-run/{run_id}", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "<html" in page.text  # the link the command printed opens
    finally:
        stop_process(server)
