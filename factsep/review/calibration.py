"""Calibration from human decisions: per kind, a monotone map from raw score to probability.

Written to ``OUT/state/calibration.json`` in the format detection reads::

    {"version": 1, "kinds": {"<kind>": {"x": [raw scores ascending], "y": [probabilities]}}}

applied by piecewise-linear interpolation.

People see a biased sample: routing shows the spans whose stratum (kind and likely other reading,
:mod:`factsep.review.strata`) is most in doubt, so the share accepted among the *shown* phone
numbers at 0.9 says little about all phone numbers at 0.9. Selection depends on the stratum and
the score, so verdicts are modelled given both (one log-odds shift per stratum on the raw score),
and the kind's map is that model averaged over *every* span of the kind in the scan (each span
counts once: its verdict if people decided it, else its stratum's probability; strata nobody
looked at keep the raw score). Isotonic regression (pool-adjacent-violators) makes it monotone,
and a floor slope makes it strictly increasing, so raw scores can be recovered from a scan that
applied it (:class:`BaseScores`): the strata are always fitted and applied on raw scores (or on
an outside calibration's, never on this OUT's own), and a re-scan with the map followed by a sync
decides as the run before it did.

Calibration error is reported before (the scan's confidence) and after (the strata model, out of
fold, so it is not flattered by fitting on the same data).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from factsep.decisions import RELABEL
from factsep.io.layout import layout
from factsep.review.data import load_spans, write_json_atomic
from factsep.review.strata import Stratifier, fit_offsets, logit, sigmoid
from factsep.run import state as run_state
from factsep.span import Span

MIN_SAMPLES = 8
Y_CLIP = (0.01, 0.99)
#: The map is mixed with the identity at this weight: strictly increasing, so invertible.
FLOOR_SLOPE = 0.05
#: Knots closer than this in raw score are merged (the file stores 6 decimals).
MIN_KNOT_GAP = 1e-4
#: Pseudo-spans on the identity, one every ``1 / PRIOR_GRID`` of raw score with this weight each:
#: where a kind has no spans (below the scores detection emits, above the highest it gave), the
#: map stays near the raw score instead of carrying its nearest block flat to 0 or 1.
PRIOR_GRID = 20
PRIOR_WEIGHT = 0.5

Map = tuple[list[float], list[float]]


def pav(
    x: Sequence[float], y: Sequence[float], w: Sequence[float] | None = None
) -> tuple[list[float], list[float]]:
    """Isotonic (non-decreasing) fit; returns knots (x ascending) and values for interpolation.

    Each pooled block contributes its lowest and highest x at the block's mean, so the map is
    flat inside a block and linear between blocks.
    """
    order = sorted(range(len(x)), key=lambda i: x[i])
    weights = list(w) if w is not None else [1.0] * len(x)
    blocks: list[list[float]] = []  # [sum_wy, sum_w, x_lo, x_hi]
    for i in order:
        blocks.append([y[i] * weights[i], weights[i], x[i], x[i]])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            b = blocks.pop()
            a = blocks[-1]
            a[0] += b[0]
            a[1] += b[1]
            a[3] = b[3]
    xs: list[float] = []
    ys: list[float] = []
    lo, hi = Y_CLIP
    for swy, sw, xlo, xhi in blocks:
        v = min(hi, max(lo, swy / sw))
        for knot in (xlo, xhi) if xhi > xlo else (xlo,):
            if xs and knot <= xs[-1]:
                continue
            xs.append(float(knot))
            ys.append(round(v, 6))
    return xs, ys


def interpolate(xs: Sequence[float], ys: Sequence[float], value: float) -> float:
    """Piecewise-linear, flat beyond the ends (how detection applies the file)."""
    if not xs:
        return value
    if value <= xs[0]:
        return ys[0]
    if value >= xs[-1]:
        return ys[-1]
    lo, hi = 0, len(xs) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= value:
            lo = mid
        else:
            hi = mid
    t = (value - xs[lo]) / (xs[hi] - xs[lo]) if xs[hi] > xs[lo] else 0.0
    return ys[lo] + t * (ys[hi] - ys[lo])


def ece(probs: Sequence[float], labels: Sequence[int], bins: int = 10) -> float:
    """Expected calibration error with equal-width bins."""
    if not probs:
        return 0.0
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, p in enumerate(probs) if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if idx:
            conf = sum(probs[i] for i in idx) / len(idx)
            acc = sum(labels[i] for i in idx) / len(idx)
            total += len(idx) * abs(conf - acc)
    return total / len(probs)


@dataclass
class KindFit:
    n: int
    positives: int
    ece_before: float
    ece_after: float


@dataclass
class CalibrationResult:
    path: str
    kinds: dict[str, KindFit] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # kind -> samples, below MIN_SAMPLES
    ece_before: float = 0.0
    ece_after: float = 0.0
    n: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)



# ---- base scores ----------------------------------------------------------------------------------

def extended(xs: Sequence[float], ys: Sequence[float]) -> Map:
    """The same map with knots at 0 and 1 (it is flat beyond its ends)."""
    kx, ky = list(xs), list(ys)
    if kx and kx[0] > 0.0:
        kx, ky = [0.0, *kx], [ky[0], *ky]
    if kx and kx[-1] < 1.0:
        kx, ky = [*kx, 1.0], [*ky, ky[-1]]
    return kx, ky


def invert(xs: Sequence[float], ys: Sequence[float], p: float) -> float:
    """The raw score a non-decreasing piecewise-linear map (flat beyond its ends, as detection
    applies it) sends to ``p``; the middle of a flat stretch."""
    if not xs:
        return p
    if xs[0] > 0.0 or xs[-1] < 1.0:
        xs, ys = extended(xs, ys)
    p = min(ys[-1], max(ys[0], p))
    lo = bisect.bisect_left(ys, p)  # first knot with y >= p
    hi = bisect.bisect_right(ys, p)  # first knot with y > p
    if hi - lo >= 2:  # flat at p over knots lo .. hi-1
        return (xs[lo] + xs[hi - 1]) / 2
    if lo == 0:
        return float(xs[0])
    y0, y1 = ys[lo - 1], ys[lo]
    return xs[lo - 1] + (xs[lo] - xs[lo - 1]) * (p - y0) / (y1 - y0)


def _maps(kinds: Any) -> dict[str, Map]:
    if not isinstance(kinds, dict):
        return {}
    return {k: (list(v["x"]), list(v["y"])) for k, v in kinds.items() if isinstance(v, dict) and v.get("x")}


@dataclass
class Applied:
    """The calibration the scan applied, and whether it is this OUT's own (fitted by sync from this
    ledger) or came from elsewhere."""

    maps: dict[str, Map]
    #: per kind, the outside map this OUT's own map was composed over (see :func:`fit_calibration`)
    base: dict[str, Map]
    own: bool


def applied(out: str | Path) -> Applied:
    """What the scan that wrote ``out`` applied (recorded in ``OUT/state/run.json``; a run.json
    from before that record is read with the file its run names)."""
    out = Path(out)
    recorded, data = run_state.applied_calibration(out)
    path = run_state.section(out, "detect").get("calibration_path")
    if not recorded:  # a run.json from before that record: the file its run names
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8")) if path else None
        except (OSError, ValueError):
            return Applied({}, {}, False)
    if not isinstance(data, dict) or not path:
        return Applied({}, {}, False)
    own = Path(path).resolve() == Path(layout(out).calibration).resolve()
    return Applied(_maps(data.get("kinds")), _maps(data.get("base")) if own else {}, own)


class BaseScores:
    """span -> the score strata and calibration work on: the detector's raw score, or the score
    an outside calibration gave it, but never one mapped by this OUT's own calibration (that map
    was learnt from the same verdicts: fitting on it would count them twice)."""

    def __init__(self, scan: Applied) -> None:
        self.scan = scan
        self._own = {k: extended(*m) for k, m in scan.maps.items()} if scan.own else {}

    @classmethod
    def for_run(cls, out: str | Path) -> BaseScores:
        return cls(applied(out))

    def __call__(self, span: Span) -> float:
        p = float(span.confidence)
        own = self._own.get(span.kind)
        if own is None:
            return p
        raw = invert(*own, p)
        base = self.scan.base.get(span.kind)
        return interpolate(*base, raw) if base else raw

    def prior(self, kind: str) -> Map | None:
        """The map from raw to base scores for ``kind`` (None: the identity)."""
        if self.scan.own:
            return self.scan.base.get(kind)
        return self.scan.maps.get(kind)


def compose(fit: Map, prior: Map | None, grid: int = 1000) -> Map:
    """``fit`` after ``prior`` on raw scores, sampled on a grid; ``fit`` itself without a prior."""
    if not prior:
        return fit
    xs = [i / grid for i in range(grid + 1)]
    return xs, [round(interpolate(*fit, interpolate(*prior, x)), 6) for x in xs]


# ---- fitting --------------------------------------------------------------------------------------

def strictly_increasing(fit: Map) -> Map:
    """``fit`` held flat to 0 and 1, mixed with the identity at ``FLOOR_SLOPE``, knots thinned."""
    xs, ys = list(fit[0]), list(fit[1])
    if not xs:
        return [0.0, 1.0], [0.0, 1.0]
    if xs[0] > 0.0:
        xs, ys = [0.0, *xs], [ys[0], *ys]
    if xs[-1] < 1.0:
        xs, ys = [*xs, 1.0], [*ys, ys[-1]]
    kx: list[float] = []
    ky: list[float] = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if kx and x - kx[-1] < MIN_KNOT_GAP and i < len(xs) - 1:
            continue
        if kx and x - kx[-1] < MIN_KNOT_GAP:  # the last knot replaces a close one before it
            kx.pop()
            ky.pop()
        kx.append(round(x, 6))
        ky.append(round((1.0 - FLOOR_SLOPE) * y + FLOOR_SLOPE * x, 6))
    return kx, ky


def strata_model(
    verdicts: dict[str, int], spans: Sequence[Span], stratify: Callable[[Span], str], base: BaseScores,
) -> dict[str, float]:
    """stratum -> log-odds shift on the base score, from the verdicts (span_id -> 1/0)."""
    by_id = {s.span_id: s for s in spans}
    per: dict[str, list[tuple[float, int]]] = {}
    for sid, y in verdicts.items():
        s = by_id.get(sid)
        if s is not None:
            per.setdefault(stratify(s), []).append((base(s), y))
    return {k: f.offset for k, f in fit_offsets(per).items()}


def out_of_fold(
    verdicts: dict[str, int], spans: Sequence[Span], stratify: Callable[[Span], str], base: BaseScores, folds: int = 5,
) -> dict[str, float]:
    """span_id -> the strata model's probability, fitted without the span's fold (by position)."""
    ids = sorted(verdicts)
    by_id = {s.span_id: s for s in spans}
    k = max(2, min(folds, len(ids)))
    preds: dict[str, float] = {}
    for f in range(k):
        train = {sid: verdicts[sid] for i, sid in enumerate(ids) if i % k != f}
        shifts = strata_model(train, spans, stratify, base)
        for sid in ids[f::k]:
            s = by_id[sid]
            preds[sid] = sigmoid(logit(base(s)) + shifts.get(stratify(s), 0.0))
    return preds


def kind_map(
    kind_spans: Sequence[Span], verdicts: dict[str, int], shifts: dict[str, float], stratify: Callable[[Span], str],
    base: BaseScores,
) -> Map:
    """The strata model averaged over every span of one kind, as a monotone map of the base score,
    shrunk towards the identity where the kind has few spans (``PRIOR_WEIGHT``)."""
    xs = [i / PRIOR_GRID for i in range(PRIOR_GRID + 1)]
    qs = list(xs)
    ws = [PRIOR_WEIGHT] * len(xs)
    for s in kind_spans:
        r = base(s)
        xs.append(r)
        qs.append(float(verdicts[s.span_id]) if s.span_id in verdicts
                  else sigmoid(logit(r) + shifts.get(stratify(s), 0.0)))
        ws.append(1.0)
    return strictly_increasing(pav(xs, qs, ws))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": 1, "kinds": {}}
    return data if isinstance(data, dict) else {"version": 1, "kinds": {}}


def fit_kinds(
    spans: Sequence[Span], verdicts: dict[str, int], stratify: Callable[[Span], str], base: BaseScores,
    min_samples: int = MIN_SAMPLES,
) -> tuple[dict[str, Map], CalibrationResult]:
    """kind -> map from raw score to probability, for each kind with ``min_samples`` verdicts
    (span_id -> 1/0) on ``spans`` (the scan's detector spans), and the fit's figures."""
    present = {s.span_id: s for s in spans}
    verdicts = {sid: y for sid, y in verdicts.items() if sid in present}
    shifts = strata_model(verdicts, spans, stratify, base)
    oof = out_of_fold(verdicts, spans, stratify, base) if verdicts else {}
    by_kind: dict[str, list[Span]] = {}
    for s in spans:
        by_kind.setdefault(s.kind, []).append(s)
    maps: dict[str, Map] = {}
    result = CalibrationResult(path="")
    before: list[tuple[float, int]] = []
    after: list[tuple[float, int]] = []
    for kind in sorted(by_kind):
        ids = [s.span_id for s in by_kind[kind] if s.span_id in verdicts]
        if not ids:
            continue
        if len(ids) < min_samples:
            result.skipped[kind] = len(ids)
            continue
        maps[kind] = compose(kind_map(by_kind[kind], verdicts, shifts, stratify, base), base.prior(kind))
        b = [(float(present[sid].confidence), verdicts[sid]) for sid in ids]
        a = [(oof[sid], verdicts[sid]) for sid in ids]
        result.kinds[kind] = KindFit(
            n=len(ids), positives=sum(verdicts[sid] for sid in ids),
            ece_before=round(ece(*_unzip(b)), 4), ece_after=round(ece(*_unzip(a)), 4),
        )
        before += b
        after += a
    if before:
        result.n = len(before)
        result.ece_before = round(ece(*_unzip(before)), 4)
        result.ece_after = round(ece(*_unzip(after)), 4)
    return maps, result


def fit_calibration(
    out: str | Path, min_samples: int = MIN_SAMPLES, verdicts: dict[str, int] | None = None,
) -> CalibrationResult:
    """Fit every kind with at least ``min_samples`` verdicts on shown spans and merge the maps into
    ``OUT/state/calibration.json`` (kinds with fewer keep what the file had).

    ``verdicts``: span_id -> 1 accepted / 0 rejected (by default every verdict on a shown span,
    boundary corrections left out). Spans are the scan's, their base scores recovered
    (:class:`BaseScores`); a map is composed with the outside calibration the base scores came
    from, which the file keeps under ``"base"`` so that a scan with it can be taken back.
    """
    if verdicts is None:
        from factsep.review.verdicts import shown_verdicts

        verdicts = {sid: y for sid, (_, y) in shown_verdicts(out).items()}
    out = Path(out)
    path = Path(layout(out).calibration)
    spans = [s for s in load_spans(out) if s.detector not in ("human", RELABEL)]
    base = BaseScores.for_run(out)
    maps, result = fit_kinds(spans, verdicts, Stratifier.for_run(out, spans), base, min_samples)
    result.path = str(path)
    if maps:
        current = _read(path)
        current["version"] = 1
        for kind, (xs, ys) in maps.items():
            current.setdefault("kinds", {})[kind] = {"x": xs, "y": ys}
            prior = base.prior(kind)
            if prior:
                current.setdefault("base", {})[kind] = {"x": list(prior[0]), "y": list(prior[1])}
            else:
                (current.get("base") or {}).pop(kind, None)
        write_json_atomic(path, current)
    return result


def _unzip(pairs: Sequence[tuple[float, int]]) -> tuple[list[float], list[int]]:
    return [p for p, _ in pairs], [y for _, y in pairs]
