"""Read a Label Studio JSON export, so sync can work from a file instead of the server.

An export (Label Studio's "JSON" format: a list of tasks, each with ``data``, ``annotations`` and
``predictions``) holds the same task records the API returns, so the tasks go through sync's one
interpreter (:func:`factsep.review.sync.apply_tasks`) unchanged. "JSON-MIN" and CSV exports drop
the annotation records (who, when, cancelled) that voting needs, so they are refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from factsep.review.client import ReviewError


def read_export(path: str | Path) -> list[dict[str, Any]]:
    """The tasks of a Label Studio JSON export file; a clear error for anything else."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise ReviewError(f"cannot read the Label Studio export {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ReviewError(
            f"{path} is not JSON ({exc}); export the project in Label Studio's JSON format"
        ) from exc
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = [data]  # a single task
    if not isinstance(data, list):
        raise ReviewError(f"{path} is not a Label Studio JSON export (expected a list of tasks)")
    tasks: list[dict[str, Any]] = []
    for i, task in enumerate(data):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise ReviewError(
                f"{path}: item {i} is not a task with a 'data' object; export the project in Label "
                "Studio's JSON format (not JSON-MIN or CSV)"
            )
        annotations = task.get("annotations", [])
        if not isinstance(annotations, list):
            raise ReviewError(f"{path}: task {task.get('id', i)} has 'annotations' that is not a list")
        tasks.append(task)
    if tasks and not any("annotations" in t for t in tasks):
        raise ReviewError(
            f"{path} has tasks but no annotation records: export in Label Studio's JSON format "
            "(JSON-MIN keeps only the labels, not who made them)"
        )
    return tasks
