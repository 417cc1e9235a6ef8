"""Where flows run: the Prefect API they talk to and the task runner that runs the shard tasks.

Why this exists: in Prefect's ephemeral mode every worker *process* that lacks ``PREFECT_API_URL``
boots its own temporary API server (seconds each). Starting the one temporary server up front and
exporting its URL lets process pools and Dask workers on this machine share it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_ANALYTICS_ENABLED,
    get_current_settings,
    temporary_settings,
)
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from factsep.orchestration import TemporaryPrefectServer, local_workers
from factsep.orchestration import dask_address as resolve_dask_address

#: Seconds to wait for the temporary API server on a busy machine (Prefect's default is 20).
EPHEMERAL_STARTUP_TIMEOUT = int(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "0") or 0) or 120


def api_url() -> str | None:
    """The Prefect API this process talks to, or None in ephemeral mode."""
    url = get_current_settings().api.url
    return str(url) if url else None


@contextmanager
def prefect_api(launched: TemporaryPrefectServer | None = None) -> Iterator[str]:
    """Use the configured Prefect API, else start Prefect's temporary one and share its URL.

    ``launched``: a temporary server the command started early (it boots while the flows are
    imported); without one, or if it failed, Prefect's own ``SubprocessASGIServer`` is started.
    The temporary server is stopped on exit. Child processes (process pool, local Dask workers)
    inherit ``PREFECT_API_URL`` through the environment.
    """
    existing = api_url()
    if existing:
        if launched is not None:
            launched.stop()
        yield existing
        return
    stop: Any
    if launched is not None and launched.wait(EPHEMERAL_STARTUP_TIMEOUT):
        url, stop = launched.api_url, launched.stop
    else:
        if launched is not None:
            launched.stop()
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        # the temporary server's telemetry only adds lock and DNS errors to the run's output
        with temporary_settings(updates={PREFECT_SERVER_ANALYTICS_ENABLED: False}):
            server.start(timeout=EPHEMERAL_STARTUP_TIMEOUT)
        url, stop = server.api_url, server.stop
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        _drain_workers()
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous
        stop()


def _drain_workers() -> None:
    """Flush queued logs and events before the temporary server goes away."""
    try:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=5)
        EventsWorker.drain_all(timeout=5)
    except Exception:  # noqa: BLE001 - best effort at shutdown; never fail the run for it
        pass


def make_task_runner(
    n_shards: int, dask_address: str | None = None, workers: int | None = None, input_bytes: int | None = None
) -> TaskRunner[Any]:
    """Dask when an address is given (or ``FACTSEP_DASK_ADDRESS``), else local cores.

    Locally, one shard or one worker runs in a thread (no process start-up cost); more use a
    process pool so detection, which is CPU-bound Python, uses every core. Unless ``workers`` is
    given, small inputs get fewer processes (see :func:`factsep.orchestration.local_workers`).
    """
    address = resolve_dask_address(dask_address)
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    n = local_workers(n_shards, workers, input_bytes)
    if n <= 1:
        return ThreadPoolTaskRunner(max_workers=1)
    return ProcessPoolTaskRunner(max_workers=n)


def runner_label(runner: TaskRunner[Any]) -> str:
    """Short human description of a task runner, for logs and artifacts."""
    name = type(runner).__name__
    address = getattr(runner, "address", None)
    if address:
        return f"{name}({address})"
    workers = getattr(runner, "_max_workers", None)
    return f"{name}({workers})" if workers else name
