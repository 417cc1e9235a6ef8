"""Flows against a real ``prefect server start``: flow.serve schedules, prefect.yaml deployments, Dask.

The server, the serve process, the worker and the Dask cluster are started and stopped here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import prefect_fixtures
from prefect_fixtures import REPO, read_dataset, stop_process, write_corpus

# the fixtures these tests use (pytest finds them as module attributes)
prefect_server = prefect_fixtures.prefect_server
dask_cluster = prefect_fixtures.dask_cluster

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@contextmanager
def api(server: dict[str, str]) -> Iterator[Any]:
    """A sync Prefect client pointed at the real server (whatever this session's default is)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: server["PREFECT_API_URL"]}):
        with get_client(sync_client=True) as client:
            yield client


def env_for(server: dict[str, str]) -> dict[str, str]:
    # No review server here: the session's Label Studio fixture may have set these for other tests.
    env = {k: v for k, v in os.environ.items() if k not in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY")}
    return {**env, **server, "PYTHONUNBUFFERED": "1"}


def start(args: list[str], server: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    fh = open(log, "wb")  # noqa: SIM115 - the child owns it; closed with the test's tmp dir
    return subprocess.Popen(
        args, cwd=REPO, env=env_for(server), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_for_deployment(server: dict[str, str], name: str, proc: subprocess.Popen[bytes], log: Path) -> Any:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        with api(server) as client:
            try:
                return client.read_deployment_by_name(name)
            except Exception:  # noqa: BLE001 - not there yet
                pass
        time.sleep(1)
    raise AssertionError(f"deployment {name} never appeared:\n{log.read_text()[-3000:]}")


def wait_for_run(server: dict[str, str], run_id: Any, log: Path, timeout: float = 420) -> Any:
    deadline = time.monotonic() + timeout
    with api(server) as client:
        while time.monotonic() < deadline:
            run = client.read_flow_run(run_id)
            if run.state and run.state.type.value in FINAL:
                return run
            time.sleep(2)
    raise AssertionError(f"flow run {run_id} did not finish in {timeout}s:\n{log.read_text()[-3000:]}")


def test_serve_schedules_and_runs_the_pipeline(prefect_server: dict[str, str], tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "in", files=2, docs=6)
    out = tmp_path / "out"
    log = tmp_path / "serve.log"
    cmd = [
        sys.executable,
        "-c",
        "from factsep.cli import main; main()",
        "serve",
        str(corpus),
        "--out",
        str(out),
    ]
    proc = start([*cmd, "--cron", "0 2 * * *", "--name", "ci-serve", "--workers", "1"], prefect_server, log)
    try:
        deployment = wait_for_deployment(prefect_server, "factsep-pipeline/ci-serve", proc, log)
        assert [s.schedule.cron for s in deployment.schedules] == ["0 2 * * *"]
        assert deployment.parameters["out"] == str(out)
        with api(prefect_server) as client:
            run = client.create_flow_run_from_deployment(deployment.id)
        finished = wait_for_run(prefect_server, run.id, log)
        assert finished.state.type.value == "COMPLETED", (finished.state.message, log.read_text()[-3000:])
    finally:
        stop_process(proc)
    assert (out / "manifest.json").exists() and (out / "report.html").exists()
    assert (out / "review" / "tasks.json").exists()  # no review server: the import file
    assert len(read_dataset(out)) == 12


def test_prefect_yaml_deployments_run_on_a_worker(prefect_server: dict[str, str], tmp_path: Path) -> None:
    env = env_for(prefect_server)

    def prefect(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "prefect", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout

    prefect("work-pool", "create", "factsep-local", "--type", "process")
    prefect("--no-prompt", "deploy", "--all")
    with api(prefect_server) as client:
        nightly = client.read_deployment_by_name("factsep-pipeline/factsep-pipeline-nightly")
        scan_dep = client.read_deployment_by_name("factsep-scan/factsep-scan")
        route_dep = client.read_deployment_by_name("factsep-route/factsep-route")
        sync_dep = client.read_deployment_by_name("factsep-sync/factsep-sync-hourly")
    assert [s.schedule.cron for s in nightly.schedules] == ["0 2 * * *"]
    # one run at a time: an hourly sync never overlaps a manual sync or a route of the same OUT
    for dep in (route_dep, sync_dep, scan_dep, nightly):
        assert dep.global_concurrency_limit is not None and dep.global_concurrency_limit.limit == 1
        strategy = dep.concurrency_options.collision_strategy if dep.concurrency_options else None
        assert getattr(strategy, "value", strategy) == "ENQUEUE"

    corpus = write_corpus(tmp_path / "in", files=2, docs=5)
    out = tmp_path / "out"
    with api(prefect_server) as client:
        run = client.create_flow_run_from_deployment(
            scan_dep.id,
            parameters={"inputs": [str(corpus)], "out": str(out), "workers": 1, "artifacts": False},
        )
    log = tmp_path / "worker.log"
    worker = start([sys.executable, "-m", "prefect", "worker", "start", "--pool", "factsep-local"], prefect_server, log)
    try:
        finished = wait_for_run(prefect_server, run.id, log)
        assert finished.state.type.value == "COMPLETED", (finished.state.message, log.read_text()[-3000:])
    finally:
        stop_process(worker)
    assert (out / "manifest.json").exists()
    assert len(read_dataset(out)) == 10


def test_dask_cluster_run_equals_local_run(prefect_server: dict[str, str], dask_cluster: str, tmp_path: Path) -> None:
    from distributed import Client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from factsep.scan import scan
    from flows.scan_flow import scan_flow

    corpus = write_corpus(tmp_path / "in", files=3, docs=8)
    scan([str(corpus)], str(tmp_path / "local"))
    with Client(dask_cluster) as dc:
        before = dc.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
    with temporary_settings(updates={PREFECT_API_URL: prefect_server["PREFECT_API_URL"]}):
        state = scan_flow(
            [str(corpus)],
            str(tmp_path / "dask"),
            dask_address=dask_cluster,
            artifacts=False,
            return_state=True,
        )
    assert state.is_completed(), state.message
    result = state.result()
    assert result["runner"].startswith("DaskTaskRunner")
    with Client(dask_cluster) as dc:
        after = dc.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
    assert after > before  # the shard tasks went through the cluster's scheduler
    assert read_dataset(tmp_path / "dask") == read_dataset(tmp_path / "local")
    assert len(read_dataset(tmp_path / "dask")) == 24
