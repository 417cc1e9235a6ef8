"""pipeline_flow: scan → count → route → report, the whole loop in one run (`factsep run`)."""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger

from factsep.io import fs as outfs
from factsep.orchestration import normalize_out
from flows.route_flow import route_flow
from flows.scan_flow import scan_flow
from flows.tasks import DEFAULT_RETRIES, DEFAULT_RETRY_DELAY, publish_artifacts, report_task


def remote_route_message(out: str) -> str:
    """Why routing did not run on an object-store OUT, and how to review anyway."""
    return (
        f"routing skipped: OUT {out} is on an object store, and review keeps append-only ledgers under "
        "OUT/state/. Copy OUT to a local folder, run `factsep route` there (pass --no-route to skip it quietly)"
    )


@flow(name="factsep-pipeline", log_prints=True)
def pipeline_flow(
    inputs: list[str],
    out: str,
    config_path: str | None = None,
    dask_address: str | None = None,
    workers: int | None = None,
    retries: int = DEFAULT_RETRIES,
    retry_delay: float = DEFAULT_RETRY_DELAY,
    refresh_cache: bool = False,
    route: bool = True,
    budget: int | None = None,
) -> dict[str, Any]:
    """Scan INPUTS into OUT (shards in parallel, counts finalized), route doubts, write the report."""
    started = time.perf_counter()
    logger = get_run_logger()
    out = normalize_out(out)
    scanned = scan_flow(
        inputs,
        out,
        config_path=config_path,
        dask_address=dask_address,
        workers=workers,
        retries=retries,
        retry_delay=retry_delay,
        refresh_cache=refresh_cache,
        artifacts=False,
    )
    routed: dict[str, Any] = {}
    if route and outfs.is_remote(out):
        # review keeps append-only ledgers under OUT; an object store cannot append: say so, go on
        routed = {"skipped": True, "message": remote_route_message(out)}
        logger.warning("%s", routed["message"])
    elif route:
        routed = route_flow(out, config_path=config_path, budget=budget, artifacts=False)
    report = report_task(out)
    facts = {
        "shards": scanned["shards"],
        "task runner": scanned["runner"],
        "routed": routed or "skipped",
        "seconds": round(time.perf_counter() - started, 2),
    }
    publish_artifacts("pipeline", out, facts, report)
    logger.info("report: %s", report.get("html"))
    return {
        "out": out,
        "shards": scanned["shards"],
        "runner": scanned["runner"],
        "scan": scanned["summary"],
        "route": routed,
        "report": report.get("summary"),
        "report_html": report.get("html"),
    }
