"""``OUT/state/run.json`` and ``OUT/state/review.json``: the only module that reads or writes them.

``run.json`` records the scan's plan and configs, so that materialize (from sync), review and the
report can run alone on any machine that sees OUT: ``{"shards": [...], "scan": {...}, "detect":
{...}, "tags": {...}, "calibration": <the calibration file as the scan applied it, or null>}``.
Storage options are never written (they may hold credentials). :data:`RUN_SCHEMA` is checked on
every read and write, so a torn or foreign file fails with one line instead of a KeyError later.

``review.json`` remembers where OUT was routed (``{"url", "project", "project_id"}``), so
``factsep sync OUT`` after ``factsep route OUT --project X`` asks Label Studio for X again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from factsep.errors import FactsepError
from factsep.io import fs as outfs
from factsep.io.atomic import read_json, write_json
from factsep.io.layout import Layout

RUN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["shards", "scan", "detect", "tags"],
    "properties": {
        "shards": {"type": "array", "items": {"type": "object", "required": ["shard_id", "url", "rel"]}},
        "scan": {"type": "object"},
        "detect": {"type": "object"},
        "tags": {"type": "object"},
        "calibration": {"type": ["object", "null"]},
    },
}
REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["project"],
    "properties": {
        "url": {"type": ["string", "null"]},
        "project": {"type": "string"},
        "project_id": {"type": ["integer", "null"]},
    },
}


class RunStateError(FactsepError):
    """``run.json`` is missing or unreadable; the message says what to do."""


def exists(out: str | Path | Layout) -> bool:
    return outfs.exists(Layout.of(out).run_file)


def read(out: str | Path | Layout) -> dict[str, Any]:
    """The run state, checked against :data:`RUN_SCHEMA`."""
    layout = Layout.of(out)
    path = layout.run_file
    if not outfs.exists(path):
        raise RunStateError(f"{path} not found: scan into {layout.out} first")
    try:
        data = read_json(path)
        jsonschema.validate(data, RUN_SCHEMA)
    except (ValueError, OSError, jsonschema.ValidationError) as exc:
        reason = exc.message if isinstance(exc, jsonschema.ValidationError) else str(exc)
        raise RunStateError(f"{path} is unreadable ({reason}): scan into {layout.out} again") from None
    return data


def read_or_none(out: str | Path | Layout) -> dict[str, Any] | None:
    """The run state, or None when there is none or it is unreadable (readers with defaults)."""
    try:
        return read(out)
    except RunStateError:
        return None


def write(out: str | Path | Layout, state: dict[str, Any]) -> None:
    jsonschema.validate(state, RUN_SCHEMA)
    write_json(Layout.of(out).run_file, state)


def section(out: str | Path | Layout, name: str) -> dict[str, Any]:
    """One config section of the run ("scan", "detect", "tags"); empty without a run state."""
    state = read_or_none(out)
    value = (state or {}).get(name)
    return dict(value) if isinstance(value, dict) else {}


def scan_setting(out: str | Path | Layout, key: str, default: Any = None) -> Any:
    return section(out, "scan").get(key, default)


def applied_calibration(out: str | Path | Layout) -> tuple[bool, Any]:
    """(recorded, calibration): the calibration the scan applied, if run.json records one."""
    state = read_or_none(out)
    if state is None or "calibration" not in state:
        return False, None
    return True, state["calibration"]


def calibration_content(path: str | None) -> Any:
    """The calibration file as it is now (what a scan applies), or None without one."""
    if not path or not Path(path).exists():
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


# ---- where OUT was routed --------------------------------------------------------------------

def remember_review(out: str | Path | Layout, url: str | None, project: str, project_id: int | None) -> None:
    """Record the Label Studio project route sent OUT's tasks to (url None: the import file)."""
    record = {"url": url.rstrip("/") if url else None, "project": project, "project_id": project_id}
    jsonschema.validate(record, REVIEW_SCHEMA)
    layout = Layout.of(out)
    if outfs.exists(layout.review_target):
        try:
            if read_json(layout.review_target) == record:
                return
        except (ValueError, OSError):
            pass
    write_json(layout.review_target, record)


def review_target(out: str | Path | Layout) -> dict[str, Any] | None:
    """``{"url", "project", "project_id"}`` of the last route, or None (never routed, or unreadable)."""
    path = Layout.of(out).review_target
    if not outfs.exists(path):
        return None
    try:
        data = read_json(path)
        jsonschema.validate(data, REVIEW_SCHEMA)
    except (ValueError, OSError, jsonschema.ValidationError):
        return None
    return dict(data)
