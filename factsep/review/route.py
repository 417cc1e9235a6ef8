"""Route: send the spans factsep is least sure of to people, within a budget, with context.

Selection: pending_review spans not yet decided or routed, ranked by uncertainty (confidence near
0.5) weighted by bits (a wrong call on a high-information value costs more), one per normalized
value and per shape first (so the budget covers many kinds of doubt, not one value many times),
then one per value until the budget is spent. Selected spans are grouped into document windows
(merged when they overlap) so an annotator sees the context, and each window is one task with
the spans as pre-annotations.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import math
import os
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from factsep.decisions import latest_decisions
from factsep.io.layout import Layout
from factsep.review import versions
from factsep.review.calibration import BaseScores
from factsep.review.client import ReviewClient
from factsep.review.config import DEFAULT_PROJECT, META, ReviewConfig, review_config  # noqa: F401 (re-exported)
from factsep.review.data import load_spans, require_scan, span_texts, write_json_atomic
from factsep.review.labelconfig import label_config
from factsep.review.ledger import RoutedTask, RoutingLedger, target_name
from factsep.review.strata import PRIOR_SD, Stratifier, decide, logit, offsets, sigmoid, stderrs, thresholds
from factsep.review.tasks import asked, factsep_fields, make_task, priority, task_score  # noqa: F401 (task_score re-exported)
from factsep.run import lock
from factsep.run import state as run_state
from factsep.span import ACCEPTED, AUTO_ACCEPT, AUTO_REJECT, HUMAN, PENDING_REVIEW, Span, doc_key, make_span_id

log = logging.getLogger(__name__)

@dataclass
class RouteResult:
    candidates: int
    selected: int
    tasks_total: int
    tasks_created: int
    tasks_existing: int
    target: str
    project_id: int | None = None
    tasks_file: str | None = None
    by_kind: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- selection ------------------------------------------------------------------------------------

def shape(span: Span) -> str:
    """The value's shape: digits -> 9, letters -> a/A, other characters kept (runs collapsed)."""
    if span.text is None:
        return f"{span.kind}|{span.subtype}|len{span.end - span.start}"
    out: list[str] = []
    for ch in span.text:
        c = "9" if ch.isdigit() else ("A" if ch.isupper() else "a") if ch.isalpha() else ch
        if not out or out[-1] != c or c not in "9aA":
            out.append(c)
        elif len(out) >= 2 and out[-1] == c and out[-2] == c:
            continue
        else:
            out.append(c)
    return f"{span.kind}|{''.join(out)}"


def select_spans(spans: Sequence[Span], budget: int, routed: Sequence[Span] = ()) -> list[Span]:
    """Up to ``budget`` spans: diverse (one per value and shape) first, then one per value.

    ``routed`` spans (already under review) count as seen, so a resumed run picks what the
    interrupted one would have picked.
    """
    ranked = sorted(spans, key=lambda s: (-priority(s), s.span_id))
    chosen: list[Span] = []
    seen_values: set[str] = {s.value_hash for s in routed}
    seen_shapes: set[str] = {shape(s) for s in routed}
    leftovers: list[Span] = []
    for s in ranked:
        if len(chosen) >= budget:
            break
        if s.value_hash in seen_values:
            continue
        sh = shape(s)
        if sh in seen_shapes:
            leftovers.append(s)
            continue
        seen_values.add(s.value_hash)
        seen_shapes.add(sh)
        chosen.append(s)
    for s in leftovers:
        if len(chosen) >= budget:
            break
        if s.value_hash not in seen_values:
            seen_values.add(s.value_hash)
            chosen.append(s)
    return chosen


def _stable_rank(span_id: str) -> str:
    return hashlib.blake2b(span_id.encode(), digest_size=8).hexdigest()


def select_audit(spans: Sequence[Span], budget: int, routed: Sequence[Span] = ()) -> list[Span]:
    """A sample of automatically decided spans: round-robin over kinds, one per value, in a fixed
    pseudo-random order (hash of the span id), so each kind's whole score range gets checked."""
    if budget <= 0:
        return []
    seen = {s.value_hash for s in routed}
    by_kind: dict[str, list[Span]] = {}
    for s in sorted(spans, key=lambda s: _stable_rank(s.span_id)):
        if s.value_hash not in seen:
            by_kind.setdefault(s.kind, []).append(s)
    chosen: list[Span] = []
    queues = [by_kind[k] for k in sorted(by_kind)]
    while len(chosen) < budget and any(queues):
        for q in queues:
            while q and q[0].value_hash in seen:
                q.pop(0)
            if q and len(chosen) < budget:
                s = q.pop(0)
                seen.add(s.value_hash)
                chosen.append(s)
    return chosen


def expected_loss(q: float, low: float, high: float) -> float:
    """What leaving a span as decided costs, in expected wrong dataset entries: an accepted span
    is a false fact with probability 1 - q, any other a missed fact with probability q."""
    return 1.0 - q if decide(q, low, high) == AUTO_ACCEPT else q


def expected_loss_over_shift(z: float, sd: float, low: float, high: float) -> float:
    """:func:`expected_loss` of a span decided at log-odds ``z`` when the true log-odds is
    ``N(z, sd^2)``: the mean of the probability by the probit approximation,
    ``sigmoid(z / sqrt(1 + pi sd^2 / 8))``; the decision stays the one ``z`` gives."""
    mean_q = sigmoid(z / math.sqrt(1.0 + math.pi * sd * sd / 8.0))
    return 1.0 - mean_q if decide(sigmoid(z), low, high) == AUTO_ACCEPT else mean_q


def select_by_value(
    spans: Sequence[Span],
    budget: int,
    stratify: Stratifier,
    shifts: dict[str, float],
    looks: dict[str, int],
    copies: dict[str, int],
    cost: dict[str, int],
    thresholds_: tuple[float, float],
    routed: Sequence[Span] = (),
    base: Callable[[Span], float] | None = None,
    stderr: dict[str, float] | None = None,
) -> list[Span]:
    """Greedy by expected value of a human look per span shown, one span per value.

    A look settles the span and, through propagation, the ``copies`` of its value:
    ``loss * copies``. It also teaches the span's stratum (kind and likely other reading), whose
    inferred shift moves every undecided member: the stratum's total loss, discounted by
    ``(1 + looks)^2`` as verdicts accumulate. Divided by ``cost``, the spans its window shows.
    ``base``: the score the shifts apply to (:class:`~factsep.review.calibration.BaseScores`; the
    confidence by default), as in sync's inference.

    A stratum's loss is taken over what is still unknown about its shift (``stderr``: the
    standard error of each fitted shift, :data:`PRIOR_SD` for a stratum without verdicts):
    ``E[q]`` under ``shift ~ N(fitted, stderr^2)``, so a large, confident stratum nobody has
    looked at carries the false facts it may hold, not only ``1 - confidence``.
    """
    low, high = thresholds_
    stderr = stderr if stderr is not None else {}
    base = base or (lambda s: float(s.confidence))
    seen_values = {s.value_hash for s in routed}
    n = dict(looks)
    queues: dict[str, list[tuple[float, Span]]] = {}
    mass: dict[str, float] = {}
    for s in spans:
        k = stratify(s)
        z = logit(base(s)) + shifts.get(k, 0.0)
        q = sigmoid(z)
        loss = expected_loss(q, low, high)
        mass[k] = mass.get(k, 0.0) + expected_loss_over_shift(z, stderr.get(k, PRIOR_SD), low, high)
        queues.setdefault(k, []).append((loss * copies.get(s.value_hash, 1), s))
    for k in queues:
        queues[k].sort(key=lambda e: (-e[0] / cost.get(e[1].span_id, 1), e[1].span_id))
    chosen: list[Span] = []
    spent = 0
    while spent < budget:
        best: tuple[float, str] | None = None
        for k, q in queues.items():
            while q and q[0][1].value_hash in seen_values:
                q.pop(0)
            if not q:
                continue
            direct, s = q[0]
            v = (direct + mass[k] / (1 + n.get(k, 0)) ** 2) / cost.get(s.span_id, 1)
            if best is None or (v, k) > best:
                best = (v, k)
        if best is None:
            break
        _, s = queues[best[1]].pop(0)
        c = cost.get(s.span_id, 1)
        if chosen and spent + c > budget:
            continue
        n[best[1]] = n.get(best[1], 0) + 1
        seen_values.add(s.value_hash)
        chosen.append(s)
        spent += c
    return chosen


def window_cost(spans: Sequence[Span], context: int) -> dict[str, int]:
    """span_id -> spans a window around it would show (itself and its undecided neighbours)."""
    by_doc: dict[str, list[Span]] = {}
    for s in spans:
        by_doc.setdefault(s.doc_id, []).append(s)
    cost: dict[str, int] = {}
    for members in by_doc.values():
        starts = sorted(t.start for t in members)
        for s in members:
            # spans starting inside the window: an estimate (route trims to the budget exactly)
            lo = bisect.bisect_left(starts, s.start - context)
            hi = bisect.bisect_left(starts, s.end + context)
            cost[s.span_id] = max(1, hi - lo)
    return cost


# ---- windows and tasks ----------------------------------------------------------------------------

def _safe_cut(text: str, i: int) -> bool:
    """A cut at i splits no CRLF pair and no base character from its combining marks."""
    if i <= 0 or i >= len(text):
        return True
    if text[i - 1] == "\r" and text[i] == "\n":
        return False
    return not (unicodedata.combining(text[i]) or text[i] in "\u200d\ufe0f")


def window_bounds(text: str, start: int, end: int, context: int) -> tuple[int, int]:
    """About ``context`` characters each side, widened to a whitespace boundary when one is near."""
    lo = max(0, start - context)
    hi = min(len(text), end + context)
    slack = max(8, context // 4)
    for j in range(lo, max(-1, lo - slack), -1):
        if j == 0 or text[j - 1].isspace():
            lo = j
            break
    for j in range(hi, min(len(text), hi + slack) + 1):
        if j == len(text) or text[j].isspace():
            hi = j
            break
    while not _safe_cut(text, lo):
        lo -= 1
    while not _safe_cut(text, hi):
        hi += 1
    return lo, hi


#: Context every region a window shows keeps on each side (when the document has it): the words
#: that make a value a fact of its kind ("Their SSN", "ISBN") stand before or after it.
EVIDENCE_CHARS = 48


def _windows(
    text: str, chosen: Sequence[Span], others: Sequence[Span], context: int
) -> list[tuple[int, int, list[Span], list[Span]]]:
    """Merged windows of one document: (lo, hi, chosen spans, other spans shown).

    A window is ``context`` around each chosen span; every other span inside or across it is
    shown too, and the window widens until each shown span keeps :data:`EVIDENCE_CHARS` of its
    own context, so a neighbour never sits at the window's edge without the words before it.
    """
    evidence = min(context, EVIDENCE_CHARS)
    windows: list[tuple[int, int, list[Span]]] = []
    for s in sorted(chosen, key=lambda s: (s.start, s.end)):
        lo, hi = window_bounds(text, s.start, s.end, context)
        if windows and lo <= windows[-1][1]:
            plo, phi, members = windows[-1]
            windows[-1] = (min(plo, lo), max(phi, hi), [*members, s])
        else:
            windows.append((lo, hi, [s]))
    result: list[tuple[int, int, list[Span], list[Span]]] = []
    taken: set[str] = {s.span_id for s in chosen}
    for lo, hi, members in windows:
        shown: list[Span] = []
        while True:
            extra = [t for t in others if t.start < hi and lo < t.end and t.span_id not in taken]
            for t in [*members, *shown, *extra]:
                tlo, thi = window_bounds(text, t.start, t.end, evidence)
                lo, hi = min(lo, tlo), max(hi, thi)
            shown.extend(extra)
            taken.update(t.span_id for t in extra)
            if not extra:
                break
        if result and lo <= result[-1][1]:  # widening reached the previous window: one task
            plo, phi, pm, ps = result[-1]
            result[-1] = (min(plo, lo), max(phi, hi), [*pm, *members], [*ps, *shown])
        else:
            result.append((lo, hi, members, shown))
    return result


def build_tasks(
    spans: Sequence[Span], texts: dict[str, str], context: int, neighbours: Sequence[Span] = (),
    decided: Sequence[Span] = (), model_version: str | None = None,
) -> list[dict[str, Any]]:
    """Label Studio tasks, one per merged document window, spans as pre-annotations.

    ``texts``: span id -> the text of its own document (:func:`~factsep.review.data.span_texts`;
    documents are told apart by their key, so two that share an id never mix). ``neighbours``
    inside a window are shown and asked about as well (they are recorded as routed); ``decided``
    spans (accepted by people before) inside a window are shown so nobody marks them again, and
    are not routed again. Every region carries its decision in the task's ``factsep.spans``
    (the format: :func:`~factsep.review.tasks.make_task`).
    ``model_version``: the predictions' (:func:`~factsep.review.versions.scan_model_version`).
    """
    groups: dict[str, tuple[str, str, list[Span]]] = {}
    for s in spans:
        text = texts.get(s.span_id)
        if text is None:
            log.warning("the document of span %s is not in the dataset; it is not routed", s.span_id)
            continue
        key = doc_key(text)
        groups.setdefault(key, (s.doc_id, text, []))[2].append(s)

    def of_doc(pool: Sequence[Span], dkey: str, doc_id: str) -> list[Span]:
        return [t for t in pool if t.doc_id == doc_id and make_span_id(dkey, t.start, t.end, t.kind) == t.span_id]

    tasks: list[dict[str, Any]] = []
    version = model_version or versions.model_version(None)
    by_doc = sorted(groups.items(), key=lambda g: (g[1][0], g[0]))
    near_all: dict[str, list[Span]] = {}
    for t in [*neighbours, *decided]:
        near_all.setdefault(t.doc_id, []).append(t)
    asked_ids = {t.span_id for t in neighbours}
    for dkey, (doc_id, text, chosen) in by_doc:
        others = of_doc(near_all.get(doc_id, ()), dkey, doc_id)
        routed_ids = {s.span_id for s in chosen} | asked_ids
        for lo, hi, members, shown in _windows(text, chosen, others, context):
            members = sorted([*members, *shown], key=lambda s: (s.start, s.end, s.kind))
            tasks.append(make_task(text, doc_id, dkey, lo, hi, members, routed_ids, version))
    return tasks


def _routed(task: dict[str, Any], target: str, task_id: int | None, project_id: int | None) -> RoutedTask:
    meta = task["data"][META]
    return RoutedTask(
        task_key=meta["task_key"],
        target=target,
        spans=[{k: s[k] for k in ("span_id", "kind", "confidence")} for s in asked(task)],
        task_id=task_id,
        project_id=project_id,
    )


def _select_value(
    out: str | Path, all_spans: Sequence[Span], undecided: Sequence[Span], candidates: Sequence[Span],
    room: int, open_spans: Sequence[Span], config: ReviewConfig,
) -> list[Span]:
    """``select_by_value`` with the run's strata, the shifts of the last sync and verdicts so far."""
    from factsep.review.verdicts import shown_verdicts

    stratify = Stratifier.for_run(out, all_spans)
    by_id = {s.span_id: s for s in all_spans}
    looks: dict[str, int] = {}
    for sid in [*shown_verdicts(out), *(s.span_id for s in open_spans)]:
        if sid in by_id:
            k = stratify(by_id[sid])
            looks[k] = looks.get(k, 0) + 1
    copies: dict[str, int] = {}
    if config.propagate:
        for s in undecided:
            copies[s.value_hash] = copies.get(s.value_hash, 0) + 1
    return select_by_value(
        candidates, room, stratify, offsets(out), looks, copies,
        window_cost(undecided, config.context_chars), thresholds(out), routed=open_spans,
        base=BaseScores.for_run(out), stderr=stderrs(out),
    )


# ---- route ----------------------------------------------------------------------------------------

def route(
    out: str | Path,
    budget: int | None = None,
    project: str | None = None,
    url: str | None = None,
    config: Any = None,
    client: ReviewClient | None = None,
    **_: Any,
) -> RouteResult:
    """Pick uncertain spans and send them to Label Studio (or to ``OUT/review/tasks.json``).

    Safe to repeat: spans already routed to the same target are skipped, and tasks already on the
    server (found by their ``task_key``) are recorded instead of imported again. Holds OUT's lock
    (:mod:`factsep.run.lock`), so a sync beside it waits. The project is remembered in
    ``OUT/state/review.json`` for sync (and for the next route, when none is given).
    """
    require_scan(out)
    with lock.out_lock(out, "route"):
        return _route(out, budget, project, url, config, client)


def _route(
    out: str | Path,
    budget: int | None,
    project: str | None,
    url: str | None,
    config: Any,
    client: ReviewClient | None,
) -> RouteResult:
    config = review_config(config)
    budget = config.budget if budget is None else budget
    url = url if url is not None else (client.url if client else os.environ.get("LABEL_STUDIO_URL"))
    routed = run_state.review_target(out) or {}
    if not project and routed.get("project") and (routed.get("url") or None) == (url.rstrip("/") if url else None):
        project = str(routed["project"])
    project = project or config.project
    target = target_name(url, project)
    ledger = RoutingLedger(out)

    decided = latest_decisions(out)
    already = ledger.routed_span_ids(target)
    all_spans = load_spans(out)
    pending = [
        s for s in all_spans
        if s.decision == PENDING_REVIEW and s.span_id not in decided and s.span_id not in already
    ]
    # The budget caps spans open for review at once: routed and not yet decided count against it.
    open_spans = [s for s in all_spans if s.span_id in already and s.span_id not in decided]
    room = max(0, budget - len(open_spans))
    n_audit = round(room * config.audit_share) if config.audit_share > 0 else 0
    neighbours: list[Span] = []
    if config.strategy == "value":
        human = {sid for sid, d in decided.items() if d.decision in HUMAN}
        undecided = [s for s in all_spans if s.span_id not in human and s.decision not in HUMAN]
        neighbours = [s for s in undecided if s.span_id not in already]
        pending = neighbours
        chosen = _select_value(out, all_spans, undecided, neighbours, room, open_spans, config)
    elif config.strategy == "uncertainty":
        chosen = select_spans(pending, room - n_audit, routed=open_spans)
    else:
        raise ValueError(f"[review] strategy is 'uncertainty' or 'value', not {config.strategy!r}")
    if config.audit_share > 0 and config.strategy == "uncertainty":
        auto = [
            s for s in all_spans
            if s.decision in (AUTO_ACCEPT, AUTO_REJECT) and s.span_id not in decided and s.span_id not in already
        ]
        # budget the pending spans did not use goes to the audit too
        chosen += select_audit(auto, room - len(chosen), routed=[*open_spans, *chosen])
    if config.strategy == "uncertainty":
        # what factsep accepted on its own in a window is shown and asked about too: an annotator
        # who does not see it marks it again, and one who sees a wrong one can reject it
        neighbours = [
            s for s in all_spans
            if s.decision == AUTO_ACCEPT and s.span_id not in decided and s.span_id not in already
        ]
    # accepted by people already: shown so nobody marks them again, not asked about again
    human_accepted = [s for s in all_spans if s.decision in ACCEPTED and s.decision in HUMAN]
    texts = span_texts(out, chosen, config.text_field)
    version = versions.scan_model_version(out)
    tasks = build_tasks(chosen, texts, config.context_chars, neighbours, human_accepted, version)
    shown = sum(len(asked(t)) for t in tasks)
    while neighbours and len(chosen) > 1 and shown > room:
        # the windows showed more neighbours than estimated: trim to the budget, the last picks
        # first, several at a time when far over (each chosen span brings shown / chosen)
        drop = max(1, min(len(chosen) - 1, (shown - room) * len(chosen) // (2 * shown)))
        chosen = chosen[:-drop]
        tasks = build_tasks(chosen, texts, config.context_chars, neighbours, human_accepted, version)
        shown = sum(len(asked(t)) for t in tasks)
    by_kind: dict[str, int] = {}
    for t in tasks:
        for s in asked(t):
            by_kind[s["kind"]] = by_kind.get(s["kind"], 0) + 1
    selected = sum(by_kind.values())

    if not url:
        path = Path(Layout.of(out).tasks_file)
        recorded = ledger.for_target(target)
        existing: list[dict[str, Any]] = []
        if path.exists():
            existing = json.loads(path.read_text(encoding="utf-8"))
        have = {t["data"][META]["task_key"] for t in existing}
        new = [t for t in tasks if t["data"][META]["task_key"] not in have]
        write_json_atomic(path, existing + new)
        run_state.remember_review(out, None, project, None)
        ledger.append(
            _routed(t, target, None, None) for t in new if t["data"][META]["task_key"] not in recorded
        )
        return RouteResult(
            candidates=len(pending), selected=selected, tasks_total=len(existing) + len(new),
            tasks_created=len(new), tasks_existing=len(tasks) - len(new), target=target,
            tasks_file=str(path), by_kind=by_kind,
        )

    client = client or ReviewClient.from_env(url)
    client.check()
    project_id = client.ensure_project(
        project, label_config(), overlap=config.annotators_per_task, model_version=version
    )
    run_state.remember_review(out, client.url, project, project_id)
    recorded = ledger.for_target(target)
    # Reconcile: tasks the server holds but the ledger lacks (a crash right after an import).
    on_server: dict[str, int] = {}
    # Label Studio shows only the project's model version: tasks routed under an earlier one (a
    # re-scan with a fitted calibration) would lose the regions they ask about
    carried: dict[int, dict[str, Any]] = {}
    for t in client.iter_tasks(project_id):
        meta = factsep_fields(t) or {}
        if meta.get("task_key"):
            on_server[meta["task_key"]] = int(t["id"])
            preds = t.get("predictions") or []
            if preds and not any(p.get("model_version") == version for p in preds):
                newest = max(preds, key=lambda p: (str(p.get("created_at") or ""), p.get("id") or 0))
                carried[int(t["id"])] = {**newest, "model_version": version}
    if carried:
        client.create_predictions(carried)
        log.warning("carried the pre-annotations of %d task(s) routed under another model version to %s",
                    len(carried), version)
    repaired = [key for key in on_server if key not in recorded]
    if repaired:
        log.warning("ledger was missing %d task(s) found on the server; recorded them now", len(repaired))
        # The task bodies are on the server; rebuild their ledger lines from it.
        for t in client.iter_tasks(project_id):
            meta = factsep_fields(t) or {}
            if meta.get("task_key") in repaired:
                ledger.append([_routed({"data": {META: meta}}, target, int(t["id"]), project_id)])
    fresh = [t for t in tasks if t["data"][META]["task_key"] not in on_server]
    created = 0
    imported: dict[int, dict[str, Any]] = {}
    for i in range(0, len(fresh), max(1, config.batch_size)):
        batch = fresh[i : i + config.batch_size]
        ids = client.import_tasks(project_id, batch)
        ledger.append(_routed(t, target, tid, project_id) for t, tid in zip(batch, ids, strict=True))
        created += len(batch)
        imported.update((tid, t["predictions"][0]) for t, tid in zip(batch, ids, strict=True))
    if imported:
        lost = client.restore_predictions(project_id, imported)
        if lost:
            log.warning("the server dropped the pre-annotations of %d imported task(s); restored them", lost)
    if on_server or imported:  # predictions of this version exist now
        client.set_model_version(project_id, version)
    return RouteResult(
        candidates=len(pending), selected=selected, tasks_total=len(on_server) + created,
        tasks_created=created, tasks_existing=len(tasks) - len(fresh), target=target,
        project_id=project_id, by_kind=by_kind,
    )
