"""Strata of spans and what human verdicts say about each one, for routing and in-run inference.

Detection's confidence is wrong in clusters, not at random: a phone number read as a tax id is
auto-accepted at 0.95 as often as the detector sees that shape. A *stratum* groups spans that share
the detector's likely mistake: the kind, and the most common other kind in the corpus whose
validator also accepts the value ("tax_id~phone_number", or "tax_id~" when no other kind does).

From the human verdicts on a stratum's reviewed spans, :func:`fit_offsets` learns one shift of the
log-odds per stratum (maximum a posteriori, Gaussian prior around 0, so one verdict moves a stratum
a little and several move it a lot). :func:`infer` re-decides every span no human has decided with
``sigmoid(logit(confidence) + offset)`` against the run's thresholds, so verdicts on a few spans
demote (or promote) their whole stratum in the same run. The result is derived state, rewritten
whole by every sync: ``OUT/state/inferred.json``, applied with the decisions ledger (human
decisions always win).
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from factsep.decisions import RELABEL
from factsep.io.layout import layout
from factsep.review.data import write_json_atomic
from factsep.run import state as run_state
from factsep.span import (
    AUTO_ACCEPT,
    AUTO_REJECT,
    HUMAN,
    PENDING_REVIEW,
    Span,
    doc_key,
    make_span_id,
    make_value_hash,
)

log = logging.getLogger(__name__)

#: Standard deviation of the prior on a stratum's log-odds shift: one confident verdict against
#: the detector moves the stratum by about two logits, three agreeing verdicts by about four.
PRIOR_SD = 2.0
EPS = 1e-4


def logit(p: float) -> float:
    p = min(1.0 - EPS, max(EPS, float(p)))
    return math.log(p / (1.0 - p))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def thresholds(out: str | Path) -> tuple[float, float]:
    """(review_low, review_high) of the run that wrote ``out`` (the detector defaults otherwise)."""
    from factsep.config import DetectorConfig

    low, high = DetectorConfig.review_low, DetectorConfig.review_high
    detect = run_state.section(out, "detect")
    try:
        low, high = float(detect.get("review_low", low)), float(detect.get("review_high", high))
    except (ValueError, TypeError):
        pass
    return low, high


def decide(p: float, low: float, high: float) -> str:
    if p >= high:
        return AUTO_ACCEPT
    if p < low:
        return AUTO_REJECT
    return PENDING_REVIEW


class Stratifier:
    """Maps a span to its stratum; validators run once per (kind, value)."""

    def __init__(
        self, spans: Iterable[Span], opts: dict[str, Any] | None = None, frequency: dict[str, int] | None = None,
    ) -> None:
        from factsep.kinds.base import registry

        self._kinds = registry()
        self._opts = opts if opts is not None else {}
        self._alts: dict[tuple[str, str], tuple[str, ...]] = {}
        # how common each kind is among the detector's readings of this corpus (whatever their
        # decision, so strata stay put while review moves decisions): "the likely other reading"
        self.frequency: Counter[str] = Counter(
            frequency if frequency is not None
            else (s.kind for s in spans if s.detector not in ("human", RELABEL))
        )

    @classmethod
    def for_run(cls, out: str | Path, spans: Sequence[Span]) -> Stratifier:
        """With the validator options (phone regions and such) the scan used, and the kind
        frequencies the strata were first fitted with (``OUT/state/inferred.json``): a re-scan
        with the fitted calibration reads some places as another kind, and strata defined by the
        new counts would not be the ones the verdicts were learnt for."""
        opts: dict[str, Any] = run_state.section(out, "detect")
        frequency = load_inferred(out).get("frequency")
        return cls(spans, opts, frequency if isinstance(frequency, dict) and frequency else None)

    def alternatives(self, span: Span) -> tuple[str, ...]:
        """Other kinds whose validator accepts the span's value."""
        if span.text is None:
            return ()
        key = (span.kind, span.text)
        if key not in self._alts:
            found = []
            for name, kind in self._kinds.items():
                if name == span.kind:
                    continue
                try:
                    ok = kind.validate(span.text, self._opts)
                except Exception:  # a validator's error means "not this kind"
                    ok = None
                if ok:
                    found.append(name)
            self._alts[key] = tuple(found)
        return self._alts[key]

    def __call__(self, span: Span) -> str:
        alts = self.alternatives(span)
        other = max(alts, key=lambda k: (self.frequency.get(k, 0), k)) if alts else ""
        return f"{span.kind}~{other}"


@dataclass
class StratumFit:
    n: int
    accepted: int
    offset: float
    #: standard error of the offset (Laplace approximation of the posterior)
    stderr: float = PRIOR_SD
    #: rejected spans people relabelled as the stratum's other reading (same offsets)
    relabelled: int = 0

    @property
    def relabel_rate(self) -> float:
        """Share of rejections that were relabels, shrunk towards 0 by one pseudo-rejection."""
        return self.relabelled / (self.n - self.accepted + 1)


def fit_offset(points: Sequence[tuple[float, int]], sd: float = PRIOR_SD) -> float:
    """MAP log-odds shift b for y ~ Bernoulli(sigmoid(logit(p) + b)), b ~ N(0, sd^2).

    The log-posterior is concave in b, so its derivative falls monotonically: bisection finds the
    root safely (Newton overshoots when every verdict contradicts a 0.99 score).
    """
    if not points:
        return 0.0
    base = [(logit(p), y) for p, y in points]

    def slope(b: float) -> float:
        return sum(y - sigmoid(z + b) for z, y in base) - b / sd**2

    lo, hi = -40.0, 40.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if slope(mid) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def offset_stderr(points: Sequence[tuple[float, int]], b: float, sd: float = PRIOR_SD) -> float:
    """1 / sqrt(curvature of the log-posterior at b)."""
    info = sum(q * (1 - q) for q in (sigmoid(logit(p) + b) for p, _ in points)) + 1 / sd**2
    return 1 / math.sqrt(info)


def fit_offsets(verdicts: dict[str, list[tuple[float, int]]], sd: float = PRIOR_SD) -> dict[str, StratumFit]:
    fits = {}
    for k, v in sorted(verdicts.items()):
        if v:
            b = fit_offset(v, sd)
            fits[k] = StratumFit(n=len(v), accepted=sum(y for _, y in v), offset=round(b, 4),
                                 stderr=round(offset_stderr(v, b, sd), 4))
    return fits


@dataclass
class Inference:
    strata: dict[str, StratumFit] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)  # span_id -> decision, fitted strata
    changed: dict[str, int] = field(default_factory=dict)  # "auto_accept->pending_review": n
    #: spans of the other reading, for siblings of strata people relabel: {"doc_key", "span"}
    added: list[dict[str, Any]] = field(default_factory=list)
    #: the kind frequencies that define the strata (kept for later syncs, see Stratifier.for_run)
    frequency: dict[str, int] = field(default_factory=dict)
    #: places whose reading review demoted: doc_key -> [[start, end, kind]]. A later scan that
    #: reads such a place as another kind does not auto-accept it (see DecisionIndex.apply).
    held: dict[str, list[list[Any]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "frequency": dict(sorted(self.frequency.items())),
                "strata": {k: asdict(v) for k, v in self.strata.items()},
                "decisions": dict(sorted(self.decisions.items())), "changed": self.changed,
                "added": self.added, "held": {k: sorted(v) for k, v in sorted(self.held.items())}}


RANK = {AUTO_REJECT: 0, PENDING_REVIEW: 1, AUTO_ACCEPT: 2}


def held_places(
    demoted: Sequence[Span], texts: dict[str, str], previous: Any, present: AbstractSet[str],
) -> dict[str, list[list[Any]]]:
    """Places of ``demoted`` spans (their document's text in ``texts``), plus the places held
    before whose reading this scan no longer has (``present``: its span ids), which a re-scan
    read as another kind or not at all."""
    held: dict[str, set[tuple[int, int, str]]] = {}
    for s in demoted:
        text = texts.get(s.doc_id)
        if text is not None and (s.text is None or text[s.start : s.end] == s.text):
            held.setdefault(doc_key(text), set()).add((s.start, s.end, s.kind))
    for dkey, places in (previous if isinstance(previous, dict) else {}).items():
        for start, end, kind in places if isinstance(places, list) else ():
            if make_span_id(dkey, int(start), int(end), str(kind)) not in present:
                held.setdefault(dkey, set()).add((int(start), int(end), str(kind)))
    return {k: [list(p) for p in sorted(v)] for k, v in held.items()}


def other_reading(span: Span, kind_name: str, text: str, dkey: str, confidence: float, decision: str) -> Span:
    """The span read as ``kind_name`` instead (normalized and scored by that kind when it can)."""
    from factsep.kinds.base import charset_bits, get_kind

    value = text[span.start : span.end]
    normalized, subtype, validated, bits = value.strip(), None, False, charset_bits(value.strip())
    try:
        kind = get_kind(kind_name)
        verdict = kind.validate(value, {})
        if isinstance(verdict, list):
            verdict = verdict[0] if verdict else None
        if verdict is not None:
            normalized, subtype, validated = verdict.normalized, verdict.subtype, bool(verdict.validated)
        bits = float(kind.bits(normalized))
    except Exception:  # an unknown kind or a validator error: plain figures
        pass
    return Span(
        span_id=make_span_id(dkey, span.start, span.end, kind_name), doc_id=span.doc_id,
        start=span.start, end=span.end, kind=kind_name, subtype=subtype, text=value,
        value_hash=make_value_hash(kind_name, normalized), confidence=round(confidence, 6),
        bits=round(bits, 3), validated=validated, detector=RELABEL, decision=decision,
    )


def inferred_path(out: str | Path) -> Path:
    return Path(layout(out).inferred)


def load_inferred(out: str | Path) -> dict[str, Any]:
    path = inferred_path(out)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": 1, "strata": {}, "decisions": {}}
    return data if isinstance(data, dict) else {"version": 1, "strata": {}, "decisions": {}}


def offsets(out: str | Path) -> dict[str, float]:
    """stratum -> log-odds shift learnt at the last sync."""
    return {k: float(v.get("offset", 0.0)) for k, v in (load_inferred(out).get("strata") or {}).items()}


def stderrs(out: str | Path) -> dict[str, float]:
    """stratum -> standard error of its shift learnt at the last sync."""
    return {k: float(v.get("stderr", PRIOR_SD)) for k, v in (load_inferred(out).get("strata") or {}).items()}


def infer(
    out: str | Path,
    spans: Sequence[Span],
    verdicts: dict[str, tuple[float, int]],
    human: set[str],
    stratify: Stratifier | None = None,
    sd: float = PRIOR_SD,
    relabelled: AbstractSet[str] = frozenset(),
    documents: Callable[[Sequence[Span]], dict[str, str]] | None = None,
    taken: AbstractSet[tuple[str, int, int]] = frozenset(),
    raw: Callable[[Span], float] | None = None,
) -> Inference:
    """Fit the strata from ``verdicts`` (span_id -> (confidence when shown, 1/0); the span's
    current confidence is what is fitted) and re-decide the
    spans no human decided; writes ``OUT/state/inferred.json`` (only decisions that differ from
    the scan's own are counted in ``changed``).

    ``relabelled``: rejected shown spans that people marked as the stratum's other reading at the
    same place. A demoted sibling is then read as that kind too, with probability
    ``(1 - q) * relabel_rate`` (needs ``documents``: doc_id -> text); ``taken``: (doc_id, start,
    end) places a human already decided, left alone.

    ``raw``: span -> its score before the scan's calibration (the confidence by default). Strata
    are fitted and applied on raw scores, whatever calibration the scan applied: the calibration
    was learnt from these same verdicts, so fitting on calibrated scores would count them twice
    (and a map learnt on the doubtful spans people were shown would move the rest). A span of a
    stratum with no verdict is decided by its raw score, recorded only where that differs from
    the scan's decision.
    """
    stratify = stratify or Stratifier.for_run(out, spans)
    raw = raw or (lambda s: float(s.confidence))
    by_id = {s.span_id: s for s in spans}
    per: dict[str, list[tuple[float, int]]] = {}
    for sid, (_, y) in verdicts.items():
        s = by_id.get(sid)
        if s is not None:
            # the span's raw score in this scan: the one the shift is added to below
            per.setdefault(stratify(s), []).append((raw(s), y))
    fits = fit_offsets(per, sd)
    for sid in relabelled:
        s = by_id.get(sid)
        if s is not None and stratify(s) in fits:
            fits[stratify(s)].relabelled += 1
    low, high = thresholds(out)
    relabel: list[tuple[Span, str, float, str]] = []
    demoted: list[Span] = []
    result = Inference(strata=fits, frequency=dict(getattr(stratify, "frequency", {})))
    changed: Counter[str] = Counter()
    for s in spans:
        if s.span_id in human or s.decision in HUMAN or s.detector == RELABEL:
            continue  # people decided it, or it is a relabel (decided below)
        fit = fits.get(stratify(s))
        before = decide(float(s.confidence), low, high)
        q = sigmoid(logit(raw(s)) + (fit.offset if fit else 0.0))
        after = decide(q, low, high)
        if fit is None:
            if after != before:  # the scan's calibration moved it; no verdict in its stratum did
                result.decisions[s.span_id] = after
                changed[f"{before}->{after}"] += 1
            continue
        other = stratify(s).split("~", 1)[1]
        if fit.relabelled and other and after != AUTO_ACCEPT and (s.doc_id, s.start, s.end) not in taken:
            q_other = (1.0 - q) * fit.relabel_rate
            d_other = decide(q_other, low, high)
            if d_other != AUTO_REJECT:
                relabel.append((s, other, q_other, d_other))
                if d_other == AUTO_ACCEPT:
                    after = AUTO_REJECT  # read as the other kind instead
        # every span of a fitted stratum is recorded, changed or not, so that a later sync that
        # moves a stratum back also restores its spans (the parts hold the last overlay)
        result.decisions[s.span_id] = after
        if after != before:
            changed[f"{before}->{after}"] += 1
        if RANK.get(after, 0) < RANK.get(before, 0):
            demoted.append(s)
    texts = documents([*demoted, *(s for s, *_ in relabel)]) if documents is not None else {}
    result.held = held_places(demoted, texts, load_inferred(out).get("held"), set(by_id))
    if relabel and documents is not None:
        for s, other, q_other, d_other in relabel:
            text = texts.get(s.doc_id)
            if text is None or (s.text is not None and text[s.start : s.end] != s.text):
                continue
            span = other_reading(s, other, text, doc_key(text), q_other, d_other)
            result.added.append({"doc_key": doc_key(text), "span": span.to_dict()})
            changed[f"relabel->{d_other}"] += 1
    result.changed = dict(changed)
    write_json_atomic(inferred_path(out), result.to_dict())
    log.info("inference: %d strata fitted, decisions changed %s", len(fits), dict(changed))
    return result
