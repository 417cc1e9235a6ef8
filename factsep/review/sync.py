"""Sync: read annotations back, place them on the documents, and record human decisions.

Per task, the latest non-cancelled annotation of each annotator is a vote. A region is turned
into a span id (span ids hash document text, offsets and kind) only after its text matched the
document (:mod:`factsep.review.offsets`); an annotation with a region that cannot be placed goes
to ``OUT/quarantine/review.jsonl`` whole, because counting the rest of it would turn the
misplaced region into a silent "reject". Votes: a routed span is accepted by annotators who kept
it and rejected by those who did not; a region on no routed span is an accepted span the
detector had (human_accept) or missed (human_added). Majority wins; a tie stays pending.
Only decisions that change what the ledger says are appended, so syncing twice adds nothing.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from factsep.decisions import Decision, append_decisions, latest_decisions
from factsep.io.layout import layout
from factsep.review.calibration import BaseScores, CalibrationResult, fit_calibration
from factsep.review.client import ReviewClient, ReviewError
from factsep.review.config import ReviewConfig, review_config
from factsep.review.data import (
    documents_by_key,
    iter_documents,
    load_documents,
    load_spans,
    quarantine,
    require_scan,
    span_texts,
    write_json_atomic,
)
from factsep.review.labelconfig import FROM_NAME
from factsep.review.offsets import Unplaceable, place
from factsep.review.strata import (
    Inference,
    Stratifier,
    decide,
    infer,
    inferred_path,
    load_inferred,
    thresholds,
)
from factsep.review.tasks import BadTask, TaskWindow, factsep_fields, read_task, task_text
from factsep.review.verdicts import boundary_test, shown_verdicts  # noqa: F401 (re-exported)
from factsep.run import lock, materialize
from factsep.run import state as run_state
from factsep.span import (
    AUTO_ACCEPT,
    HUMAN,
    HUMAN_ACCEPT,
    HUMAN_ADDED,
    HUMAN_REJECT,
    PENDING_REVIEW,
    Span,
    doc_key,
    make_span_id,
    make_value_hash,
)

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    tasks_seen: int = 0
    tasks_annotated: int = 0
    annotations_used: int = 0
    annotations_ignored: int = 0  # skipped or cancelled
    annotations_quarantined: int = 0
    decisions_appended: int = 0
    propagated: int = 0  # of which: same value as a reviewed span
    accepted: int = 0
    rejected: int = 0
    added: int = 0
    ties: int = 0
    placements: dict[str, int] = field(default_factory=dict)
    rewritten: bool = False
    calibration: dict[str, Any] | None = None
    inferred: dict[str, int] = field(default_factory=dict)  # "auto_accept->pending_review": n
    strata: dict[str, Any] = field(default_factory=dict)
    #: spans this sync re-decided without a person looking at them (see :func:`redecided`)
    redecided: list[dict[str, Any]] = field(default_factory=list)
    #: where the full list is, and how to take it back
    summary_path: str | None = None
    undo: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Region:
    start: int  # document offsets
    end: int
    kind: str
    text: str


def _regions(
    result: list[dict[str, Any]], window: str, lo: int, kinds: frozenset[str]
) -> tuple[list[_Region], dict[str, int]]:
    regions: list[_Region] = []
    methods: dict[str, int] = {}
    for r in result or []:
        if r.get("from_name") != FROM_NAME or r.get("type") != "labels":
            continue
        value = r.get("value") or {}
        labels = value.get("labels") or []
        if len(labels) != 1:
            raise Unplaceable(f"region has {len(labels)} labels, expected one kind")
        if str(labels[0]) not in kinds:
            raise Unplaceable(f"region label {str(labels[0])[:40]!r} is not a kind (the label config was edited?)")
        p = place(window, value.get("start"), value.get("end"), value.get("text"))
        methods[p.method] = methods.get(p.method, 0) + 1
        regions.append(_Region(lo + p.start, lo + p.end, str(labels[0]), window[p.start : p.end]))
    return regions, methods


def _kinds() -> frozenset[str]:
    from factsep.review.labelconfig import kind_names

    return frozenset(kind_names())


def check_task(task: dict[str, Any], documents: dict[str, str]) -> str | None:
    """Why a task cannot be trusted, or None. The server's copy of a task may have been edited:
    its text must be the document window its doc key and offsets name, and each span it lists
    must hash to its place in that document (span ids hash the document key, offsets and kind)."""
    try:
        w = read_task(task)
    except BadTask as exc:
        return str(exc)
    text = documents.get(w.doc_key)
    if text is None:
        return "the task's document (doc key) is not in the dataset"
    if text[w.start : w.end] != w.text:
        return "task text differs from the document window (edited on the server?)"
    for sp in w.spans:
        try:
            ok = make_span_id(w.doc_key, int(sp["start"]), int(sp["end"]), str(sp["kind"])) == sp["span_id"]
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            return "a span listed in the task is not at its place in the document"
    return None


def _latest_per_annotator(annotations: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    latest: dict[Any, dict[str, Any]] = {}
    ignored = 0
    for a in annotations:
        if a.get("was_cancelled"):
            ignored += 1
            continue
        who = a.get("completed_by")
        who = who.get("id") if isinstance(who, dict) else who
        prev = latest.get(who)
        if prev is None or (a.get("updated_at") or "", a.get("id") or 0) > (
            prev.get("updated_at") or "", prev.get("id") or 0
        ):
            latest[who] = a
    # annotations marked "skipped" by the last action also do not count
    kept = [a for a in latest.values() if a.get("last_action") != "skipped"]
    return kept, ignored + (len(latest) - len(kept))


def _added_span(region: _Region, doc_id: str, dkey: str, opts: dict[str, Any] | None = None) -> Span:
    """A span the detector missed, validated and normalized like a detected one.

    The kind's validator gets the scan's detector settings (``opts``: phone regions and such), so a
    phone number an annotator added gets its subtype, its bits and the value hash of its E.164 form
    (and merges with the detected copies in corpus counts). A value the validator refuses keeps
    the human's word with plain figures; so does a label that is no kind.
    """
    from factsep.kinds.base import charset_bits, get_kind

    normalized, subtype, validated = region.text.strip(), None, False
    bits = charset_bits(normalized)
    try:
        kind = get_kind(region.kind)
        verdict = kind.validate(normalized, dict(opts or {}))
    except (ValueError, TypeError, ArithmeticError, LookupError) as exc:  # no such kind, or refused
        log.debug("added span of %s not validated: %s", region.kind, type(exc).__name__)
        kind, verdict = None, None
    if isinstance(verdict, list):
        verdict = verdict[0] if verdict else None
    if verdict is not None and kind is not None:
        normalized, subtype, validated = verdict.normalized, verdict.subtype, bool(verdict.validated)
        bits = float(kind.bits(normalized))
    return Span(
        span_id=make_span_id(dkey, region.start, region.end, region.kind),
        doc_id=doc_id,
        start=region.start,
        end=region.end,
        kind=region.kind,
        subtype=subtype,
        text=region.text,
        value_hash=make_value_hash(region.kind, normalized),
        confidence=1.0,
        bits=round(bits, 3),
        validated=validated,
        detector="human",
        decision=HUMAN_ADDED,
    )


def resolve(votes: dict[str, list[bool]]) -> str | None:
    """Majority of accept/reject votes; None on a tie."""
    yes = sum(votes.get("yes", []))
    no = len(votes.get("yes", [])) - yes
    if yes > no:
        return "accept"
    if no > yes:
        return "reject"
    return None


def decide_task(
    task: dict[str, Any],
    known: dict[str, Span],
    result: SyncResult,
    quarantined: list[dict[str, Any]],
    documents: dict[str, str] | None = None,
    kinds: frozenset[str] | None = None,
    opts: dict[str, Any] | None = None,
) -> list[Decision]:
    """Decisions for one task from its annotations (no I/O); ``opts``: the scan's detector
    settings, with which added spans are validated.

    ``documents`` (doc key -> text): the real documents; a task whose text or span list does not
    match them is refused whole (its annotations quarantined, nothing applied). Without it the
    task's own text is trusted (for tests of the voting alone).

    The regions a task shows: a span it asks about (``routed``) kept with its kind is accepted,
    deleted or relabelled is rejected (the new label is a region of its own: the detected span
    of that kind at that place is accepted, else it is a ``human_added`` span); a span it shows
    as decided by people before is rejected when deleted and left alone when kept.
    """
    meta = factsep_fields(task)
    window = task_text(task)
    if meta is None or not isinstance(window, str) or "doc_key" not in meta:
        return []
    annotations, ignored = _latest_per_annotator(task.get("annotations") or [])
    result.annotations_ignored += ignored
    if not annotations:
        return []
    result.tasks_annotated += 1
    kinds = kinds if kinds is not None else _kinds()
    w: TaskWindow | None  # None: a task factsep made but with its fields broken (refused whole)
    try:
        w = read_task(task)
    except BadTask as exc:
        w, refused = None, str(exc)
    else:
        refused = check_task(task, documents) if documents is not None else None
    dkey = str(meta["doc_key"])
    lo, doc_id = (w.start, w.doc_id) if w else (meta.get("window_start"), meta.get("doc_id"))

    def refuse(a: dict[str, Any], reason: str) -> None:
        result.annotations_quarantined += 1
        quarantined.append({
            "source": "label_studio", "reason": reason, "task_id": task.get("id"),
            "annotation_id": a.get("id"), "doc_id": doc_id, "doc_key": dkey,
            "window_start": lo, "task_key": meta.get("task_key"),
        })

    if refused is not None or w is None:
        for a in annotations:
            refuse(a, str(refused))
        return []
    listed = w.spans
    routed = w.routed
    shown_decided = w.shown_decided
    place = {sp["span_id"]: (sp.get("start"), sp.get("end"), sp.get("kind")) for sp in listed}
    ballots: list[tuple[str, set[str], dict[str, _Region]]] = []
    for a in annotations:
        try:
            regions, methods = _regions(a.get("result") or [], window, lo, kinds)
        except Unplaceable as exc:
            refuse(a, exc.reason)
            continue
        for m, n in methods.items():
            result.placements[m] = result.placements.get(m, 0) + n
        who = a.get("completed_by")
        who = str(who.get("id") if isinstance(who, dict) else who)
        marked = {make_span_id(dkey, r.start, r.end, r.kind): r for r in regions}
        ballots.append((who, set(marked), marked))
        result.annotations_used += 1
    if not ballots:
        return []
    regions_by_id: dict[str, _Region] = {}
    for _, _, marked in ballots:
        regions_by_id.update(marked)
    decisions: list[Decision] = []
    for sid in list(dict.fromkeys(routed + sorted(shown_decided) + sorted(regions_by_id))):
        yes_by = [who for who, ids, _ in ballots if sid in ids]
        verdict = resolve({"yes": [sid in ids for _, ids, _ in ballots]})
        if verdict is None:
            result.ties += 1
            continue
        annotators = sorted(who for who, _, _ in ballots)
        if sid in routed or sid in shown_decided:
            if verdict == "accept" and (sid in shown_decided or (sid in known and known[sid].decision == HUMAN_ADDED)):
                continue  # people had accepted (or added) it and still do: nothing new
            decision = HUMAN_ACCEPT if verdict == "accept" else HUMAN_REJECT
            start, end, kind = place[sid]
            if decision == HUMAN_REJECT and any((r.start, r.end) == (start, end) for r in regions_by_id.values()):
                # someone marked another kind at this very place (a tie or a relabel): the place is
                # not judged empty, only this reading is out
                start = end = None
            decisions.append(Decision(sid, decision, dkey, annotators=annotators, start=start, end=end, kind=kind))
        elif sid in known:
            # a detected span nobody asked about: a mark accepts it, no mark says nothing (and a
            # span people added earlier, now in the parts, stays added)
            if verdict == "accept" and known[sid].decision != HUMAN_ADDED:
                k = known[sid]
                decisions.append(Decision(sid, HUMAN_ACCEPT, dkey, annotators=sorted(yes_by),
                                          start=k.start, end=k.end, kind=k.kind))
        elif verdict == "accept":
            span = _added_span(regions_by_id[sid], doc_id, dkey, opts)
            decisions.append(Decision(sid, HUMAN_ADDED, dkey, span=span.to_dict(), annotators=sorted(yes_by)))
    return decisions


def _same_value(
    out: str | Path, decided: list[Decision], in_force: dict[str, Decision], cfg: ReviewConfig
) -> list[Decision]:
    """The verdict on a reviewed span, for the other pending spans of the same value (and, with
    ``propagate_auto``, automatic decisions it reverses: a value people rejected once is not
    auto-accepted elsewhere).

    Values whose reviewed spans disagree are left alone. Source ``label_studio:same_value``.
    """
    # a rejection next to a span people marked over the same text is a boundary correction, not a
    # verdict on the value (the marked span is carried by _same_text instead)
    boundary = boundary_test(decided)
    verdicts = {
        d.span_id: d for d in decided if d.decision in (HUMAN_ACCEPT, HUMAN_REJECT) and not boundary(d)
    }
    if not verdicts:
        return []
    spans = load_spans(out)
    by_id = {s.span_id: s for s in spans}
    per_value: dict[tuple[str, str], set[str]] = {}
    for sid, d in verdicts.items():
        s = by_id.get(sid)
        if s is not None:
            per_value.setdefault((s.kind, s.value_hash), set()).add(d.decision)
    settled = {k: next(iter(v)) for k, v in per_value.items() if len(v) == 1}
    def differs(s: Span, verdict: str) -> bool:
        # pending spans take the verdict; with propagate_auto, so do automatic decisions it reverses
        if s.decision == PENDING_REVIEW:
            return True
        if not cfg.propagate_auto or s.decision in HUMAN:
            return False
        return (verdict == HUMAN_ACCEPT) != (s.decision == AUTO_ACCEPT)

    targets = [
        s for s in spans
        if (s.kind, s.value_hash) in settled and differs(s, settled[(s.kind, s.value_hash)])
        and s.span_id not in verdicts and s.span_id not in in_force
    ]
    if not targets:
        return []
    texts = span_texts(out, targets, cfg.text_field)  # each span's own document, by its key
    result = []
    for s in targets:
        text = texts.get(s.span_id)
        if text is None or (s.text is not None and text[s.start : s.end] != s.text):
            continue
        result.append(Decision(
            s.span_id, settled[(s.kind, s.value_hash)], doc_key(text), source="label_studio:same_value",
            start=s.start, end=s.end, kind=s.kind,
        ))
    return result


#: A fact people added is looked for elsewhere only if it has this many letters and digits: short
#: strings recur by chance.
SAME_TEXT_MIN_ALNUM = 6


def _same_text(
    out: str | Path, decided: list[Decision], in_force: dict[str, Decision], cfg: ReviewConfig
) -> list[Decision]:
    """A fact people added (detection missed or mis-cut it), at the other places its exact text
    stands as a whole token, as ``human_added`` with source ``label_studio:same_text``.

    A reading people rejected over the added text (a phone number cut before its extension) is
    rejected where the text recurs, at the same offset from it. Otherwise a place is skipped when
    a human decided it, or when an accepted span overlaps it that this sync does not reject (the
    two readings disagree; a person should look). Documents without an id column are not searched
    (their spans could not be named).
    """
    sources: dict[str, dict[str, Any]] = {}
    for d in decided:
        text = (d.span or {}).get("text") or ""
        if d.decision == HUMAN_ADDED and d.source == "label_studio" and d.span is not None and (
            sum(c.isalnum() for c in text) >= SAME_TEXT_MIN_ALNUM
        ):
            sources.setdefault(text, d.span)
    if not sources:
        return []
    pattern = re.compile("|".join(re.escape(t) for t in sorted(sources, key=len, reverse=True)))
    rejected_now = {d.span_id for d in decided if d.decision == HUMAN_REJECT}
    taken = {d.span_id for d in [*in_force.values(), *decided]}
    spans_by_doc: dict[str, list[Span]] = {}
    by_id: dict[str, Span] = {}
    for s in load_spans(out):
        spans_by_doc.setdefault(s.doc_id, []).append(s)
        by_id[s.span_id] = s
    # the readings people rejected over each added text (cut too short or too long): where the
    # text recurs, the same reading at the same offset from it is corrected the same way
    corrected: dict[str, set[tuple[str, int, int]]] = {}
    for d in decided:
        if d.decision == HUMAN_REJECT and d.span_id in by_id:
            r = by_id[d.span_id]
            for text, src in sources.items():
                if src.get("doc_id") == r.doc_id and r.start < src["end"] and src["start"] < r.end:
                    corrected.setdefault(text, set()).add((r.value_hash, r.start - src["start"], r.end - src["start"]))
    result: list[Decision] = []
    for doc_id, text in iter_documents(out, cfg.text_field):
        matches = list(pattern.finditer(text))
        if not matches:
            continue
        dkey = doc_key(text)
        for m in matches:
            a, b = m.span()
            if (a > 0 and text[a - 1].isalnum()) or (b < len(text) and text[b].isalnum()):
                continue  # part of a longer token
            src = sources[m.group()]
            sid = make_span_id(dkey, a, b, str(src["kind"]))
            if sid in taken:
                continue
            here = [s for s in spans_by_doc.get(doc_id, ()) if s.start < b and a < s.end]
            if any(s.span_id == sid for s in here):
                continue  # detected as such: the same-value verdict settles it
            same_cut = [s for s in here if (s.value_hash, s.start - a, s.end - a) in corrected.get(m.group(), ())]
            if any(s.accepted and s.span_id not in rejected_now and s not in same_cut for s in here):
                continue
            for s in same_cut:
                if s.span_id not in taken and s.decision not in HUMAN:
                    taken.add(s.span_id)
                    result.append(Decision(s.span_id, HUMAN_REJECT, dkey, source="label_studio:same_text",
                                           start=s.start, end=s.end, kind=s.kind))
            span = {**src, "span_id": sid, "doc_id": doc_id, "start": a, "end": b, "decision": HUMAN_ADDED}
            taken.add(sid)
            result.append(Decision(sid, HUMAN_ADDED, dkey, span=span, source="label_studio:same_text"))
    return result


def infer_strata(out: str | Path, cfg: ReviewConfig | None = None, spans: Sequence[Span] | None = None) -> Inference:
    """Refit the strata from every verdict on a shown span and re-decide the undecided spans."""
    cfg = cfg or ReviewConfig()
    spans = list(spans) if spans is not None else load_spans(out)
    decided = latest_decisions(out)
    human = {sid for sid, d in decided.items() if d.decision in HUMAN}
    stratify = Stratifier.for_run(out, spans)
    verdicts = shown_verdicts(out)
    # places people marked, by document: a rejected span relabelled when its stratum's other
    # reading was marked at the same offsets
    marked: set[tuple[str, int, int, str]] = set()
    taken: set[tuple[str, int, int]] = set()
    for d in decided.values():
        if d.span is not None and d.decision == HUMAN_ADDED:
            marked.add((d.doc_key, int(d.span["start"]), int(d.span["end"]), str(d.span["kind"])))
            taken.add((str(d.span["doc_id"]), int(d.span["start"]), int(d.span["end"])))
    by_id = {s.span_id: s for s in spans}
    relabelled = set()
    for sid, (_, y) in verdicts.items():
        s = by_id.get(sid)
        if y == 0 and s is not None:
            other = stratify(s).split("~", 1)[1]
            if other and (decided[sid].doc_key, s.start, s.end, other) in marked:
                relabelled.add(sid)

    def documents(wanted: Sequence[Span]) -> dict[str, str]:
        return load_documents(out, {s.doc_id for s in wanted}, cfg.text_field, spans=wanted)

    return infer(out, spans, verdicts, human, stratify, relabelled=relabelled, documents=documents,
                 taken=taken, raw=BaseScores.for_run(out))



def undo_hint(out: str | Path) -> str:
    return (f"to undo the inferred decisions run `factsep sync {out} --no-infer` (drops "
            f"{inferred_path(out)} and rewrites the dataset; people's own decisions stay); to undo "
            "a person's verdict, change the annotation in Label Studio and sync again")


def redecided(
    out: str | Path, parts: Sequence[Span], inference: Inference, human: AbstractSet[str]
) -> list[dict[str, Any]]:
    """The spans whose decision this sync's inference changed (from what the parts held), each
    with its kind, value hash, document, stratum and why: the stratum's verdicts and the shift of
    the log-odds they gave. Relabelled readings added by inference are listed as well. No values."""
    stratify = Stratifier.for_run(out, parts)
    result: list[dict[str, Any]] = []
    for s in parts:
        after = inference.decisions.get(s.span_id)
        if after is None or after == s.decision or s.span_id in human or s.decision in HUMAN:
            continue
        k = stratify(s)
        fit = inference.strata.get(k)
        why = (f"stratum {k}: people accepted {fit.accepted} of {fit.n} shown, shift {fit.offset:+.2f} "
               f"(+-{fit.stderr:.2f}) on confidence {float(s.confidence):.3f}" if fit is not None else
               f"stratum {k} has no verdict; its score before this run's calibration decides it")
        result.append({"span_id": s.span_id, "doc_id": s.doc_id, "kind": s.kind, "value_hash": s.value_hash,
                       "stratum": k, "before": s.decision, "after": after, "why": why})
    have = {s.span_id for s in parts}
    for item in inference.added:
        rec = item.get("span") or {}
        if rec.get("span_id") in have:
            continue
        result.append({"span_id": rec.get("span_id"), "doc_id": rec.get("doc_id"), "kind": rec.get("kind"),
                       "value_hash": rec.get("value_hash"), "stratum": None, "before": None,
                       "after": rec.get("decision"),
                       "why": "people relabelled spans of its stratum as this kind at the same place"})
    return result


def _neutral_inference(out: str | Path, parts: Sequence[Span]) -> bool:
    """Turn what earlier syncs inferred back into the scan's own decisions (the parts hold the
    last overlay, so removing ``inferred.json`` alone would keep it): write a file that gives
    every span it had re-decided its decision by score, for the rewrite, then remove it."""
    previous = load_inferred(out)
    if not inferred_path(out).exists():
        return False
    low, high = thresholds(out)
    had = previous.get("decisions") or {}
    restored = {s.span_id: decide(float(s.confidence), low, high) for s in parts if s.span_id in had}
    write_json_atomic(inferred_path(out), {"version": 1, "frequency": previous.get("frequency") or {},
                                           "strata": {}, "decisions": restored, "changed": {},
                                           "added": [], "held": {}})
    return True


def sync(
    out: str | Path,
    project: str | None = None,
    url: str | None = None,
    config: Any = None,
    client: ReviewClient | None = None,
    calibrate: bool = True,
    rewrite: Callable[[str], Any] | None = None,
    export: str | Path | None = None,
    **_: Any,
) -> SyncResult:
    """Pull annotations from the project and append the human decisions they settle.

    Then re-apply decisions to the dataset and span parts (:func:`factsep.run.materialize.materialize`)
    and refit the calibration. Safe to repeat, to interrupt and to run beside another sync or a
    route: the whole sync holds OUT's lock (:mod:`factsep.run.lock`), the ledger is append-only, a
    decision already in force is not written again, and a materialize a killed sync left due
    (``OUT/state/materialize.pending``) is done by the next one. The project is the one given, else
    the one OUT was routed to (``OUT/state/review.json``), else the ``[review]`` project.
    ``export``: read the tasks from a Label Studio JSON export file instead of the server
    (:mod:`factsep.review.export_file`).
    """
    require_scan(out)
    with lock.out_lock(out, "sync"):
        return _sync(out, project, url, config, client, calibrate, rewrite, export)


def _sync(
    out: str | Path,
    project: str | None,
    url: str | None,
    config: Any,
    client: ReviewClient | None,
    calibrate: bool,
    rewrite: Callable[[str], Any] | None,
    export: str | Path | None,
) -> SyncResult:
    cfg: ReviewConfig = review_config(config)
    if export is not None:
        from factsep.review.export_file import read_export

        return apply_tasks(out, read_export(export), cfg, calibrate=calibrate, rewrite=rewrite)
    routed = run_state.review_target(out) or {}
    url = url or (client.url if client else os.environ.get("LABEL_STUDIO_URL")) or routed.get("url")
    if not project and routed.get("project") and (not routed.get("url") or not url
                                                  or routed["url"] == url.rstrip("/")):
        project = str(routed["project"])
    project = project or cfg.project
    if not url:
        raise ReviewError("sync needs a Label Studio server: set LABEL_STUDIO_URL (and LABEL_STUDIO_API_KEY)")
    client = client or ReviewClient.from_env(url)
    client.check()
    project_id = client.find_project(project)
    if project_id is None:
        raise ReviewError(
            f"no Label Studio project named {project!r} at {client.url}; run `factsep route` first"
        )
    tasks = list(client.iter_tasks(project_id))  # fetch everything first: a failure writes nothing
    return apply_tasks(out, tasks, cfg, calibrate=calibrate, rewrite=rewrite)


def apply_tasks(
    out: str | Path,
    tasks: Sequence[dict[str, Any]],
    cfg: ReviewConfig,
    calibrate: bool = True,
    rewrite: Callable[[str], Any] | None = None,
) -> SyncResult:
    """Interpret these Label Studio tasks (with their annotations) and record what they settle.

    The one interpreter of annotations: sync feeds it the project's tasks, an export file's, or
    (the ML backend) the tasks an annotation event touched. Decisions already in force are not
    appended again; then inference, the parts' rewrite and calibration as in :func:`sync`, all
    holding OUT's lock.
    """
    with lock.out_lock(out, "sync"):
        return _apply_tasks(out, tasks, cfg, calibrate, rewrite)


def _apply_tasks(
    out: str | Path,
    tasks: Sequence[dict[str, Any]],
    cfg: ReviewConfig,
    calibrate: bool,
    rewrite: Callable[[str], Any] | None,
) -> SyncResult:
    from factsep import hashkey

    hashkey.activate(out)  # spans people add get value hashes keyed as the scan's
    result = SyncResult(tasks_seen=len(tasks))
    doc_ids = {
        str(fields.get("doc_id")) for t in tasks if t.get("annotations") and (fields := factsep_fields(t)) is not None
    }
    known = {s.span_id: s for s in load_spans(out, doc_ids)} if doc_ids else {}
    documents = documents_by_key(out, doc_ids, cfg.text_field) if doc_ids else {}
    kinds = _kinds()
    opts = run_state.section(out, "detect")
    quarantined: list[dict[str, Any]] = []
    new: list[Decision] = []
    for t in tasks:
        new.extend(decide_task(t, known, result, quarantined, documents, kinds, opts))
    in_force = latest_decisions(out)
    if cfg.propagate:
        new.extend(_same_value(out, new, in_force, cfg))
        new.extend(_same_text(out, new, in_force, cfg))
    changed = []
    for d in new:
        prev = in_force.get(d.span_id)
        if prev is None or prev.decision != d.decision:
            changed.append(d)
    result.propagated = sum(d.source in ("label_studio:same_value", "label_studio:same_text") for d in changed)
    for d in changed:
        if d.decision == HUMAN_ACCEPT:
            result.accepted += 1
        elif d.decision == HUMAN_REJECT:
            result.rejected += 1
        else:
            result.added += 1
    quarantine(out, quarantined)
    due = materialize.pending(str(out))  # a sync killed during its rewrite: complete it now
    # before the ledger or inferred.json change, so a sync killed from here on leaves it due
    materialize.mark_pending(str(out))
    result.decisions_appended = append_decisions(out, changed)
    inferred_changed = False
    if cfg.infer:
        before = load_inferred(out).get("decisions") or {}
        parts = load_spans(out)  # what the dataset says now, before this sync's rewrite
        inference = infer_strata(out, cfg, parts)
        result.inferred = inference.changed
        result.strata = {k: asdict(v) for k, v in inference.strata.items()}
        inferred_changed = inference.decisions != before or bool(inference.added)
        human = {sid for sid, d in latest_decisions(out).items() if d.decision in HUMAN}
        result.redecided = redecided(out, parts, inference, human)
        result.undo = undo_hint(out)
    else:  # infer = false: what earlier syncs inferred goes (the rewrite below restores the parts)
        inferred_changed = _neutral_inference(out, load_spans(out))
    path = Path(layout(out).last_sync)
    result.summary_path = str(path)
    write_json_atomic(path, {"redecided": result.redecided, "inferred": result.inferred,
                             "undo": result.undo, "strata": result.strata})
    if changed or inferred_changed or due:
        (rewrite or materialize.materialize)(str(out))
        result.rewritten = True
    else:
        materialize.clear_pending(str(out))  # nothing changed: the parts are what the state says
    if not cfg.infer:
        inferred_path(out).unlink(missing_ok=True)
    if calibrate:
        cal: CalibrationResult = fit_calibration(out)
        result.calibration = cal.to_dict()
    log.info(
        "sync: %d tasks, %d annotations used, %d decisions appended (%d accept, %d reject, %d added), "
        "%d ties pending, %d annotations quarantined",
        result.tasks_seen, result.annotations_used, result.decisions_appended, result.accepted,
        result.rejected, result.added, result.ties, result.annotations_quarantined,
    )
    return result
