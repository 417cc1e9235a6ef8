"""The routing ledger: which span went to which task, so routing twice creates nothing twice.

``OUT/state/routing.jsonl``, append-only JSON lines, one per imported task:
``{"task_key", "task_id", "target", "project_id", "spans": [{"span_id", "kind", "confidence"}], "at"}``.
``target`` names where the task went (a server URL and project, or ``file``). A line is written,
flushed and fsynced right after its batch is imported; a crash between the import and the write
is repaired on the next run by reconciling with the tasks the server already holds (each task
carries its ``task_key``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from factsep.io.layout import layout


@dataclass
class RoutedTask:
    task_key: str
    target: str
    spans: list[dict[str, Any]]
    task_id: int | None = None
    project_id: int | None = None
    at: float = field(default_factory=time.time)

    @property
    def span_ids(self) -> list[str]:
        return [s["span_id"] for s in self.spans]


def target_name(url: str | None, project: str) -> str:
    return f"{url.rstrip('/')}#{project}" if url else "file"


class RoutingLedger:
    """Append-only log of routed tasks under ``OUT/state/``."""

    def __init__(self, out: str | Path) -> None:
        self.path = Path(layout(out).routing)

    def __iter__(self) -> Iterator[RoutedTask]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break  # a torn last line from a crash: that task will be reconciled
                try:
                    yield RoutedTask(**json.loads(line))
                except (ValueError, TypeError):
                    continue

    def append(self, tasks: Iterable[RoutedTask]) -> int:
        lines = [json.dumps(asdict(t), sort_keys=True) + "\n" for t in tasks]
        if not lines:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell():
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":  # a torn line from a crash: end it so it cannot eat ours
                    fh.write(b"\n")
            fh.write("".join(lines).encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        return len(lines)

    def for_target(self, target: str) -> dict[str, RoutedTask]:
        """task_key -> task, for one target (later lines win)."""
        return {t.task_key: t for t in self if t.target == target}

    def routed_span_ids(self, target: str) -> set[str]:
        return {sid for t in self.for_target(target).values() for sid in t.span_ids}

    def span_scores(self) -> dict[str, dict[str, Any]]:
        """span_id -> {kind, confidence} as routed; the raw scores calibration is fitted on."""
        scores: dict[str, dict[str, Any]] = {}
        for t in self:
            for s in t.spans:
                scores[s["span_id"]] = s
        return scores
