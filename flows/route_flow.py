"""route_flow: send the most informative uncertain spans of a scanned OUT to review."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from factsep.orchestration import check_review_out, normalize_out
from flows.tasks import publish_artifacts, route_task


@flow(name="factsep-route", log_prints=True)
def route_flow(
    out: str, config_path: str | None = None, budget: int | None = None, artifacts: bool = True
) -> dict[str, Any]:
    """Route within the budget; without a Label Studio URL this writes OUT/review's import file."""
    out = normalize_out(out)
    check_review_out(out, "route")  # before the task: retrying cannot help
    result = route_task(out, config_path, budget)
    get_run_logger().info("route: %s", {k: v for k, v in result.items() if not isinstance(v, (list, dict))})
    if artifacts:
        publish_artifacts("route", out, {"routed": result}, None)
    return result
