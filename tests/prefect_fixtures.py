"""Session fixtures for the Prefect tests: the test harness, a real Prefect server, a Dask cluster.

Import the fixtures you use into a test module (``from prefect_fixtures import ...``). Every server
and cluster started here is stopped here; the machine is small and shared.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[1]
SERVER_STARTUP_TIMEOUT = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_corpus(folder: Path, files: int = 3, docs: int = 12) -> Path:
    """A small JSONL corpus with phones, ISBNs, e-mails and UUIDs; some repeat, some are singletons."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        with open(folder / f"part{i}.jsonl", "w", encoding="utf-8") as fh:
            for j in range(docs):
                text = (
                    f"Doc {i}-{j}: call +1 415 555 {2600 + (i * docs + j) % 9:04d} or write to "
                    f"user{j % 4}@example.com; ISBN 978-3-16-148410-0; "
                    f"order 3f2b8c1e-9d4a-4e7b-8c2d-{i:04d}{j:08d}."
                )
                fh.write(json.dumps({"id": f"{i}-{j}", "text": text}) + "\n")
    return folder


def read_dataset(out: Path) -> list[dict[str, Any]]:
    """All dataset rows, sorted by id, for comparing runs."""
    rows: list[dict[str, Any]] = []
    for part in sorted((out / "dataset").glob("part-*.parquet")):
        rows.extend(pq.read_table(part).to_pylist())
    return sorted(rows, key=lambda r: str(r["id"]))


def task_states(flow_run_id: Any) -> dict[str, str]:
    """Task run name -> final state name, read back from the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {r.name: r.state.name for r in runs if r.state}


def artifacts_of(flow_run_id: Any) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a for a in found}


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prefect's test harness (temporary SQLite API) for the whole session; yields its API URL."""
    from prefect.settings import PREFECT_API_URL, PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    storage = tmp_path_factory.mktemp("prefect-results")
    with prefect_test_harness(server_startup_timeout=120):
        with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: str(storage)}):
            yield str(PREFECT_API_URL.value())


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prefect server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"prefect server at {url} not healthy after {timeout}s")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Stop a process we started, and its children (it leads its own process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real ``prefect server start`` on 127.0.0.1 with its own PREFECT_HOME; yields its env.

    The yielded mapping (PREFECT_API_URL, PREFECT_HOME) is what subprocesses and Dask workers need
    to talk to it.
    """
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_API_URL": url,
    }
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_healthy(url, proc, SERVER_STARTUP_TIMEOUT)
        yield {"PREFECT_API_URL": url, "PREFECT_HOME": str(home)}
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture()
def dask_cluster(prefect_server: dict[str, str]) -> Iterator[str]:
    """A real ``distributed.LocalCluster``: 2 process workers, 1 thread each, talking to the real
    Prefect server (without PREFECT_API_URL each worker would boot its own temporary API)."""
    from distributed import LocalCluster

    saved = {k: os.environ.get(k) for k in prefect_server}
    os.environ.update(prefect_server)
    try:
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="2GiB"
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close(timeout=30)
