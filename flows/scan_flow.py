"""scan_flow: plan shards, scan each as a retried, cached Prefect task, then finalize the counts."""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger
from prefect.futures import wait

from factsep import orchestration as orch
from flows.runtime import make_task_runner, runner_label
from flows.tasks import (
    DEFAULT_RETRIES,
    DEFAULT_RETRY_DELAY,
    finalize_task,
    plan_task,
    publish_artifacts,
    retry_delays,
    scan_shard_task,
)


class ShardsFailed(RuntimeError):
    """Raised when shards still fail after their retries; names them so a re-run can be aimed."""


def run_shards(
    shards: list[Any],
    out: str,
    settings: orch.Settings,
    *,
    dask_address: str | None = None,
    workers: int | None = None,
    retries: int = DEFAULT_RETRIES,
    retry_delay: float = DEFAULT_RETRY_DELAY,
    refresh_cache: bool = False,
) -> tuple[list[Any], str]:
    """Submit one task per shard on the chosen runner; raise :class:`ShardsFailed` naming failures.

    The runner is picked per call (local cores or a Dask cluster) rather than fixed on the flow, so
    the same flow and deployment serve both. Finished shards keep their outputs when others fail.
    """
    logger = get_run_logger()
    epoch = orch.out_epoch(out)
    shard_task = scan_shard_task.with_options(
        retries=retries,
        retry_delay_seconds=retry_delays(retries, retry_delay) or 0,
        refresh_cache=refresh_cache or None,
    )
    pending = orch.pending_shards(out, shards) if not refresh_cache else list(shards)
    todo = len(pending)
    size = sum(s.input_bytes for s in pending)  # a range shard: its bytes, not its file's
    runner = make_task_runner(todo, dask_address, workers, input_bytes=size)
    label = runner_label(runner)
    logger.info("scanning %d shard(s), %d not done yet, on %s", len(shards), todo, label)
    results: list[Any] = []
    failed: list[str] = []
    with runner:
        futures = [
            runner.submit(shard_task, {"shard": s, "out": out, "settings": settings, "epoch": epoch}) for s in shards
        ]
        wait(futures)
        for shard, future in zip(shards, futures, strict=True):
            state = future.state
            if state.is_completed():
                results.append(future.result())
            else:
                message = (state.message or state.name or "failed").splitlines()[0][:200]
                failed.append(f"{shard.shard_id} ({shard.url}): {message}")
    if failed:
        raise ShardsFailed(
            f"{len(failed)} of {len(shards)} shard(s) failed after {retries} retries: " + "; ".join(failed)
        )
    return results, label


@flow(name="factsep-scan", log_prints=True)
def scan_flow(
    inputs: list[str],
    out: str,
    config_path: str | None = None,
    dask_address: str | None = None,
    workers: int | None = None,
    retries: int = DEFAULT_RETRIES,
    retry_delay: float = DEFAULT_RETRY_DELAY,
    refresh_cache: bool = False,
    artifacts: bool = True,
) -> dict[str, Any]:
    """Scan INPUTS into OUT. Re-running completes only the shards that are missing."""
    started = time.perf_counter()
    out = orch.normalize_out(out)
    settings = orch.load_settings(config_path)
    shards = plan_task(inputs, out, settings)
    results, label = run_shards(
        shards,
        out,
        settings,
        dask_address=dask_address,
        workers=workers,
        retries=retries,
        retry_delay=retry_delay,
        refresh_cache=refresh_cache,
    )
    summary = orch.to_dict(finalize_task(out, shards, settings, results))
    facts = {
        "shards": len(shards),
        "task runner": label,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if artifacts:
        from flows.tasks import report_task

        publish_artifacts("scan", out, facts, report_task(out))
    return {
        "out": out,
        "shards": len(shards),
        "runner": label,
        "summary": summary,
        "shard_results": [orch.to_dict(r) for r in results],
    }
