"""Verdict queries over the ledgers: which human verdicts count, on which shown spans.

Why a module of its own: route (value strategy), sync and calibration all ask them, and when they
lived in sync.py, route and calibration imported sync, which imported route (a circle).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from factsep.decisions import Decision, latest_decisions
from factsep.review.ledger import RoutingLedger
from factsep.span import HUMAN_ACCEPT, HUMAN_ADDED, HUMAN_REJECT


def boundary_test(decisions: Iterable[Decision]) -> Callable[[Decision], bool]:
    """Whether a rejection is a boundary correction: people marked (accepted or added) a span
    over part of the same text with other offsets, so the fact is there, cut differently."""
    marked: dict[str, list[tuple[int, int]]] = {}
    for d in decisions:
        rec = d.span or {}
        start, end = rec.get("start", d.start), rec.get("end", d.end)
        if d.decision in (HUMAN_ACCEPT, HUMAN_ADDED) and start is not None and end is not None:
            marked.setdefault(d.doc_key, []).append((int(start), int(end)))

    def boundary(d: Decision) -> bool:
        return d.decision == HUMAN_REJECT and d.start is not None and d.end is not None and any(
            a < d.end and d.start < b and (a, b) != (d.start, d.end) for a, b in marked.get(d.doc_key, ())
        )

    return boundary


def shown_verdicts(out: str | Path) -> dict[str, tuple[float, int]]:
    """span_id -> (confidence when shown to people, 1 accepted / 0 rejected), over all targets.

    A rejection beside a span people marked over the same text says the fact is there, cut
    differently: it is left out (a stratum learns whether its readings are facts of its kind).
    """
    scores = RoutingLedger(out).span_scores()
    decided = latest_decisions(out)
    boundary = boundary_test(decided.values())
    return {
        sid: (float(scores[sid]["confidence"]), 1 if d.decision == HUMAN_ACCEPT else 0)
        for sid, d in decided.items()
        if sid in scores and (d.decision == HUMAN_ACCEPT or (d.decision == HUMAN_REJECT and not boundary(d)))
    }
