"""sync_flow: pull review annotations into the decisions ledger, then refresh the report."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from factsep.orchestration import check_review_out, normalize_out
from flows.tasks import publish_artifacts, report_task, sync_task


@flow(name="factsep-sync", log_prints=True)
def sync_flow(out: str, config_path: str | None = None, artifacts: bool = True) -> dict[str, Any]:
    """Sync decisions (human decisions win and survive re-scans) and re-write the report."""
    out = normalize_out(out)
    check_review_out(out, "sync")  # before the task: retrying cannot help
    result = sync_task(out, config_path)
    get_run_logger().info("sync: %s", {k: v for k, v in result.items() if not isinstance(v, (list, dict))})
    report = report_task(out)
    if artifacts:
        publish_artifacts("sync", out, {"synced": result}, report)
    return {"sync": result, "report": report.get("summary")}
