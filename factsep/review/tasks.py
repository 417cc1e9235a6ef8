"""The Label Studio task format: what a task and its pre-annotation look like, and reading them back.

A task is one document window: its text (``data[TEXT_FIELD]``), the document id, and factsep's own
fields under ``data[META]`` (task key, doc key, window offsets, the spans it shows with their
decisions and whether it asks about them). Its prediction has a region per span and the routing
priority as score. Route builds tasks here, sync checks and reads them here (``TaskWindow``), the
ML backend builds predictions here, and an export file holds the same records.

Why a module of its own: route, sync and the ML backend all need the format, and when it lived in
route.py the ML backend imported route and sync for it, with route and sync each owning half of
the format (one writing the fields, the other reading them by name).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from factsep.review.config import META
from factsep.review.labelconfig import FROM_NAME, TEXT_FIELD, TO_NAME
from factsep.span import Span

__all__ = [
    "META", "TEXT_FIELD", "BadTask", "TaskWindow", "asked", "factsep_fields", "make_task", "prediction",
    "priority", "read_task", "task_key", "task_score", "task_text", "uncertainty",
]


# ---- scores ---------------------------------------------------------------------------------------

def uncertainty(confidence: float) -> float:
    """1 at confidence 0.5, 0 at 0 or 1."""
    return max(0.0, 1.0 - abs(2.0 * float(confidence) - 1.0))


def priority(span: Span) -> float:
    """Routing priority: uncertainty weighted by bits (a wrong call on a high-information value
    costs more). Route ranks spans by it; a prediction's score is the task's highest."""
    bits = min(max(float(span.bits), 0.0), 128.0)
    return uncertainty(span.confidence) * (1.0 + bits / 32.0)


def task_score(spans: Sequence[Span]) -> float:
    """A task's prediction score: the routing priority of its most informative span, so sorting
    Label Studio's tasks by prediction score (descending) lists them as routing ranks spans."""
    return round(max((priority(s) for s in spans), default=0.0), 4)


# ---- building -------------------------------------------------------------------------------------

def prediction(spans: Sequence[Span], window: str, lo: int, model_version: str) -> dict[str, Any]:
    """One Label Studio prediction: a region per span (offsets into ``window``, which starts at
    document offset ``lo``; score = confidence), scored by :func:`task_score`."""
    return {
        "model_version": model_version,
        "score": task_score(spans),
        "result": [
            {
                "id": s.span_id[:12],
                "from_name": FROM_NAME,
                "to_name": TO_NAME,
                "type": "labels",
                "value": {
                    "start": s.start - lo,
                    "end": s.end - lo,
                    "text": window[s.start - lo : s.end - lo],
                    "labels": [s.kind],
                },
                "score": round(float(s.confidence), 4),
            }
            for s in spans
        ],
    }


def task_key(dkey: str, lo: int, hi: int, span_ids: Sequence[str]) -> str:
    """The task's identity: its document, window and spans (route finds tasks already imported by it)."""
    h = hashlib.blake2b(digest_size=12)
    for part in (dkey, str(lo), str(hi), *sorted(span_ids)):
        h.update(part.encode())
        h.update(b"\x1f")
    return h.hexdigest()


def make_task(
    text: str, doc_id: str, dkey: str, lo: int, hi: int, members: Sequence[Span],
    routed_ids: Collection[str], model_version: str,
) -> dict[str, Any]:
    """The task for the window ``text[lo:hi]`` of a document, showing ``members`` (in that order)
    as pre-annotations; those in ``routed_ids`` are asked about, the others shown as decided."""
    window = text[lo:hi]
    meta = {
        "task_key": task_key(dkey, lo, hi, [s.span_id for s in members]),
        "doc_id": doc_id,
        "doc_key": dkey,
        "window_start": lo,
        "window_end": hi,
        "spans": [
            {
                "span_id": s.span_id,
                "kind": s.kind,
                "start": s.start,
                "end": s.end,
                "confidence": round(float(s.confidence), 6),
                "bits": round(float(s.bits), 3),
                "decision": s.decision,
                # routed: asked about (in the routing ledger); else shown as decided
                "routed": s.span_id in routed_ids,
            }
            for s in members
        ],
    }
    return {
        "data": {TEXT_FIELD: window, "doc_id": doc_id, META: meta},
        "predictions": [prediction(members, window, lo, model_version)],
    }


# ---- reading back ---------------------------------------------------------------------------------

def task_text(task: dict[str, Any]) -> Any:
    """The text a task shows (whatever the record holds there; a string in factsep's tasks)."""
    return (task.get("data") or {}).get(TEXT_FIELD)


def factsep_fields(task: dict[str, Any]) -> dict[str, Any] | None:
    """factsep's own fields of a task, or None for a task factsep did not make."""
    meta = (task.get("data") or {}).get(META)
    return meta if isinstance(meta, dict) else None


def asked(task: dict[str, Any]) -> list[dict[str, Any]]:
    """The spans a task asks about (recorded as routed; a span shown as decided is not)."""
    return [s for s in task["data"][META]["spans"] if s.get("routed", True)]


class BadTask(ValueError):
    """A task's factsep fields lack the doc id, doc key or window offsets (or hold the wrong types)."""


@dataclass(frozen=True)
class TaskWindow:
    """A task read back: the document window it shows and the spans it lists (as written by
    :func:`make_task`, or as the server's copy now holds them)."""

    doc_key: str
    doc_id: str
    start: int
    end: int
    text: Any
    task_key: str | None
    spans: list[dict[str, Any]]

    @property
    def routed(self) -> list[str]:
        """Ids of the spans the task asks about."""
        return [sp["span_id"] for sp in self.spans if sp.get("routed", True)]

    @property
    def shown_decided(self) -> set[str]:
        """Ids of the spans the task shows as decided by people before (not asked about)."""
        return {sp["span_id"] for sp in self.spans if not sp.get("routed", True)}


def read_task(task: dict[str, Any]) -> TaskWindow:
    """The window a task shows; :class:`BadTask` when its doc id, doc key or offsets are missing.
    ``end`` defaults to the start plus the text's length (tasks made before it was recorded)."""
    data = task.get("data") or {}
    meta = data.get(META) or {}
    try:
        dkey, doc_id, lo = str(meta["doc_key"]), str(meta["doc_id"]), int(meta["window_start"])
        window = data[TEXT_FIELD]
        hi = int(meta.get("window_end", lo + len(window)))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadTask("task lacks its doc id, doc key or window offsets") from exc
    return TaskWindow(
        doc_key=dkey, doc_id=doc_id, start=lo, end=hi, text=window,
        task_key=meta.get("task_key"), spans=list(meta.get("spans", [])),
    )
