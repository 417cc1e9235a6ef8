"""The decisions ledger: append-only JSON lines of human decisions, keyed by span_id.

Scan, sync and export all read it, so human decisions win over automatic ones and survive
re-scans (span ids hash the document text, not its location). Records are never rewritten; the
latest record for a span_id is the one in force.

Record: ``{"span_id", "decision", "doc_key", "annotators", "source", "at", "span"}`` where ``span``
is the full span record (needed for ``human_added`` spans, which detection never produced).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factsep.io import fs as outfs
from factsep.io.layout import Layout
from factsep.span import AUTO_ACCEPT, HUMAN, HUMAN_ADDED, HUMAN_REJECT, PENDING_REVIEW, Span

#: Detector (and source) of spans review inferred as another kind's reading.
RELABEL = "review:relabel"


@dataclass
class Decision:
    span_id: str
    decision: str
    doc_key: str
    span: dict[str, Any] | None = None
    annotators: list[str] = field(default_factory=list)
    source: str = "label_studio"
    at: float = field(default_factory=time.time)
    #: Where and as what the decided span stood (None in records written before these fields):
    #: a re-scan may read the same place as another kind, and people's word on a place covers it.
    start: int | None = None
    end: int | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.decision not in HUMAN:
            raise ValueError(f"a ledger decision is one of {sorted(HUMAN)}, not {self.decision!r}")


def ledger_path(out: str | Path) -> Path:
    return Path(Layout.of(out).decisions)


def append_decisions(out: str | Path, decisions: Iterable[Decision]) -> int:
    """Append decisions and fsync, so a crash never leaves a half-written ledger line behind.

    Object stores cannot append (an object is only ever replaced whole), so a remote OUT is refused.
    """
    outfs.require_local(out, "the decisions ledger (an append-only file under OUT/state/)")
    path = ledger_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(d.__dict__, ensure_ascii=False, sort_keys=True) + "\n" for d in decisions]
    if not lines:
        return 0
    torn = path.exists() and path.stat().st_size > 0 and not _ends_with_newline(path)
    with open(path, "a", encoding="utf-8") as fh:
        # A crash mid-write leaves a torn last line: end it, so the new record stands on its own.
        fh.write(("\n" if torn else "") + "".join(lines))
        fh.flush()
        os.fsync(fh.fileno())
    return len(lines)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def read_decisions(out: str | Path) -> Iterator[Decision]:
    """All ledger records in order; a torn last line (a crash mid-write) is ignored.

    A remote OUT is read too (a ledger copied there with OUT), so scans on workers honour it.
    """
    path = Layout.of(out).decisions
    if not outfs.exists(path):
        return
    with outfs.open_file(path, "r", encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break
            if not line.strip():
                continue
            try:
                yield Decision(**json.loads(line))
            except (ValueError, TypeError):
                continue


def latest_decisions(out: str | Path) -> dict[str, Decision]:
    """span_id -> the decision in force (the last one appended)."""
    latest: dict[str, Decision] = {}
    for d in read_decisions(out):
        latest[d.span_id] = d
    return latest


def _inferred(out: str | Path) -> dict[str, Any]:
    path = Layout.of(out).inferred
    try:
        if not outfs.exists(path):
            return {}
        with outfs.open_file(path, "r", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _inferred_decisions(state: dict[str, Any]) -> dict[str, str]:
    """span_id -> automatic decision inferred from review (``OUT/state/inferred.json``, written
    whole by each sync; see :mod:`factsep.review.strata`). Empty when there is none."""
    found = state.get("decisions")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _held(state: dict[str, Any]) -> dict[str, dict[tuple[int, int], str]]:
    """doc_key -> (start, end) -> kind: places whose reading review demoted."""
    found = state.get("held")
    held: dict[str, dict[tuple[int, int], str]] = {}
    for dkey, places in (found.items() if isinstance(found, dict) else ()):
        for place in places if isinstance(places, list) else ():
            if isinstance(place, list) and len(place) == 3:
                held.setdefault(str(dkey), {})[(int(place[0]), int(place[1]))] = str(place[2])
    return held


def _inferred_spans(state: dict[str, Any]) -> list[dict[str, Any]]:
    found = state.get("added")
    return [a for a in found if isinstance(a, dict) and "span" in a] if isinstance(found, list) else []


def inferred_spans(out: str | Path) -> list[dict[str, Any]]:
    """Spans review inferred from people's relabels: ``{"doc_key", "span"}`` records."""
    return _inferred_spans(_inferred(out))


class DecisionIndex:
    """Decisions in force, indexed by span and by document for overlaying on scan output.

    Human decisions (the ledger) win; spans no human decided take the decision review inferred
    for their stratum, if any.
    """

    def __init__(
        self, decisions: dict[str, Decision], inferred: dict[str, str] | None = None,
        inferred_added: list[dict[str, Any]] | None = None,
        held: dict[str, dict[tuple[int, int], str]] | None = None,
    ) -> None:
        self.by_span = decisions
        # places whose reading review demoted: another reading there is not auto-accepted
        self.held = held or {}
        self.relabels: set[str] = set()
        self.inferred = {k: v for k, v in (inferred or {}).items() if k not in decisions}
        self.added_by_doc: dict[str, list[Decision]] = {}
        for d in decisions.values():
            if d.span is not None:
                self.added_by_doc.setdefault(d.doc_key, []).append(d)
        # places people judged: (doc_key) -> (start, end) -> kinds they accepted there
        self.places: dict[str, dict[tuple[int, int], set[str]]] = {}
        for d in decisions.values():
            rec = d.span or {}
            start, end, kind = rec.get("start", d.start), rec.get("end", d.end), rec.get("kind", d.kind)
            if start is None or end is None:
                continue
            kinds = self.places.setdefault(d.doc_key, {}).setdefault((int(start), int(end)), set())
            if d.decision != HUMAN_REJECT and kind is not None:
                kinds.add(str(kind))
        taken = {(d.doc_key, d.span["start"], d.span["end"]) for d in decisions.values() if d.span is not None}
        for a in inferred_added or ():
            span = a["span"]
            sid = span["span_id"]
            if sid in decisions or (a["doc_key"], span["start"], span["end"]) in taken:
                continue  # a human decided this place
            self.inferred[sid] = span["decision"]
            self.relabels.add(sid)
            self.added_by_doc.setdefault(a["doc_key"], []).append(
                Decision(sid, HUMAN_ADDED, a["doc_key"], span=span, source=RELABEL)
            )

    @classmethod
    def load(cls, out: str | Path) -> DecisionIndex:
        state = _inferred(out)  # read once: it holds a decision for every span of a fitted stratum
        return cls(latest_decisions(out), _inferred_decisions(state), _inferred_spans(state), _held(state))

    def __len__(self) -> int:
        return len(self.by_span) + len(self.inferred) + len(self.held)

    def apply(self, spans: list[Span], doc_key_: str) -> list[Span]:
        """Overlay human decisions on one document's spans, adding its human_added spans."""
        if not self.by_span and not self.inferred and not self.held:
            return spans
        places = self.places.get(doc_key_, {})
        held = self.held.get(doc_key_, {})

        def overlay(s: Span) -> Span:
            if s.span_id in self.by_span:
                return s.with_(decision=self.by_span[s.span_id].decision)
            claimed = places.get((s.start, s.end))
            if claimed is not None and s.kind not in claimed:
                # people judged this place (kept another kind, or nothing): this reading is out
                return s.with_(decision=HUMAN_REJECT)
            decision = self.inferred.get(s.span_id, s.decision)
            kind = held.get((s.start, s.end))
            if decision == AUTO_ACCEPT and kind is not None and kind != s.kind and s.span_id not in self.relabels:
                # review demoted this place's reading; a new reading of it is for people to judge
                decision = PENDING_REVIEW
            return s if decision == s.decision else s.with_(decision=decision)

        result = [
            overlay(s)
            for s in spans
            # a relabel inferred at an earlier sync and no longer inferred is dropped
            if s.detector != RELABEL or s.span_id in self.by_span or s.span_id in self.inferred
        ]
        present = {s.span_id for s in result}
        for d in self.added_by_doc.get(doc_key_, ()):
            if d.span_id not in present and d.span is not None:
                decision = self.by_span[d.span_id].decision if d.span_id in self.by_span else (
                    self.inferred.get(d.span_id, d.decision))
                result.append(Span.from_dict(d.span).with_(decision=decision))
                present.add(d.span_id)
        result.sort(key=lambda s: (s.start, s.end))
        return result
