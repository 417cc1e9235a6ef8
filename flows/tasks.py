"""Prefect tasks: one thin wrapper per factsep function, plus the run artifacts.

Shard tasks retry with exponential backoff and are cached on the shard's input fingerprint, the
settings and the output (see :func:`factsep.orchestration.shard_cache_key`), so an unchanged shard
is not computed again.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import TaskRunContext

from factsep import orchestration as orch

DEFAULT_RETRIES = 2
DEFAULT_RETRY_DELAY = 2.0


def retry_delays(retries: int, base: float) -> list[float]:
    """Exponential backoff: base, 2*base, 4*base, ..."""
    return [base * 2**i for i in range(max(retries, 0))]


def _shard_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    return orch.shard_cache_key(parameters["shard"], parameters["out"], parameters["settings"], parameters["epoch"])


@task(name="plan-shards", retries=1, retry_delay_seconds=2)
def plan_task(inputs: list[str], out: str, settings: orch.Settings) -> list[Any]:
    """Make OUT and split the inputs into shards with fingerprints (size, mtime, content hash)."""
    shards = orch.prepare_run(list(inputs), out, settings)
    get_run_logger().info("planned %d shard(s) from %d input(s)", len(shards), len(inputs))
    return shards


@task(
    name="scan-shard",
    task_run_name="scan-{shard.shard_id}",
    cache_key_fn=_shard_key,
    retries=DEFAULT_RETRIES,
    retry_delay_seconds=retry_delays(DEFAULT_RETRIES, DEFAULT_RETRY_DELAY),
    retry_jitter_factor=0.2,
)
def scan_shard_task(shard: Any, out: str, settings: orch.Settings, epoch: str) -> Any:
    """Scan one shard into OUT (idempotent: a finished shard returns its recorded result)."""
    return orch.run_shard(shard, out, settings)


@task(name="finalize", retries=1, retry_delay_seconds=2)
def finalize_task(out: str, shards: list[Any], settings: orch.Settings, results: list[Any]) -> Any:
    """Corpus counts over all span files, rewrite parts with counts and decisions, write the manifest."""
    return orch.finish_run(out, shards, settings, results)


@task(name="route", retries=2, retry_delay_seconds=retry_delays(2, 2.0))
def route_task(out: str, config_path: str | None, budget: int | None) -> dict[str, Any]:
    """Send uncertain spans to Label Studio, or write the import file when no server is configured."""
    return orch.run_route(out, config_path, budget)


@task(name="sync", retries=2, retry_delay_seconds=retry_delays(2, 2.0))
def sync_task(out: str, config_path: str | None) -> dict[str, Any]:
    """Read annotations back into the decisions ledger and rewrite the parts."""
    return orch.run_sync(out, config_path)


@task(name="report", retries=1, retry_delay_seconds=2)
def report_task(out: str) -> dict[str, Any]:
    """Write OUT/report.html and report.md; return the key numbers and the table rows."""
    return orch.run_report(out)


def publish_artifacts(flow: str, out: str, facts: dict[str, Any], report: dict[str, Any] | None) -> None:
    """One markdown and one table artifact per run: counts per kind, monofact rates, bits, routing."""
    markdown = orch.run_markdown(flow, out, facts, report)
    create_markdown_artifact(key=f"factsep-{flow}", markdown=markdown, description=f"factsep {flow}: {out}")
    rows = orch.kind_table(report)
    if rows:
        create_table_artifact(key=f"factsep-{flow}-kinds", table=rows, description="per-kind random facts")
