"""Calibration from human decisions: per kind, a monotone map from raw score to probability.

Fitted by isotonic regression (pool-adjacent-violators) on (score when routed, human verdict)
pairs, and written to ``OUT/state/calibration.json`` in the format detection reads::

    {"version": 1, "kinds": {"<kind>": {"x": [scores ascending], "y": [probabilities]}}}

applied by piecewise-linear interpolation. Calibration error is reported before and after, the
"after" figure from out-of-fold predictions so it is not flattered by fitting on the same data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from factsep.decisions import latest_decisions
from factsep.review.data import write_json_atomic
from factsep.review.ledger import RoutingLedger
from factsep.span import HUMAN_ACCEPT, HUMAN_REJECT

CALIBRATION_NAME = "calibration.json"
MIN_SAMPLES = 8
Y_CLIP = (0.01, 0.99)


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


def out_of_fold(x: Sequence[float], y: Sequence[int], folds: int = 5) -> list[float]:
    """Each point predicted by a fit on the other folds (deterministic folds by position)."""
    k = max(2, min(folds, len(x)))
    preds = [0.0] * len(x)
    for f in range(k):
        train = [i for i in range(len(x)) if i % k != f]
        xs, ys = pav([x[i] for i in train], [y[i] for i in train])
        for i in range(f, len(x), k):
            preds[i] = interpolate(xs, ys, x[i])
    return preds


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


def training_pairs(out: str | Path) -> dict[str, tuple[list[float], list[int]]]:
    """kind -> (scores when routed, 1 accepted / 0 rejected) from the two ledgers."""
    scores = RoutingLedger(out).span_scores()
    pairs: dict[str, tuple[list[float], list[int]]] = {}
    for span_id, d in latest_decisions(out).items():
        if d.decision not in (HUMAN_ACCEPT, HUMAN_REJECT) or span_id not in scores:
            continue  # human_added spans have no detector score to calibrate
        s = scores[span_id]
        xs, ys = pairs.setdefault(s["kind"], ([], []))
        xs.append(float(s["confidence"]))
        ys.append(1 if d.decision == HUMAN_ACCEPT else 0)
    return pairs


def anchored(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    """Add end knots so scores outside the reviewed range keep their meaning.

    Review sees mostly mid-range scores; detection applies the map flat beyond its end knots, so
    without anchors every 0.99 of a kind would become the top reviewed block's value.
    """
    xs, ys = list(xs), list(ys)
    if xs and xs[0] > 0.0:
        xs.insert(0, 0.0)
        ys.insert(0, min(ys[0], Y_CLIP[0]))
    if xs and xs[-1] < 1.0:
        xs.append(1.0)
        ys.append(max(ys[-1], Y_CLIP[1]))
    return xs, ys


def _scan_calibration(out: Path, current: dict[str, Any]) -> dict[str, tuple[list[float], list[float]]]:
    """The map the scan applied (so routed scores are already mapped), if its run used this file."""
    try:
        run = json.loads((out / "state" / "run.json").read_text(encoding="utf-8"))
        used = (run.get("detect") or {}).get("calibration_path")
    except (OSError, ValueError, AttributeError):
        used = None
    if not used or Path(used).resolve() != (out / "state" / CALIBRATION_NAME).resolve():
        return {}
    return {k: (v["x"], v["y"]) for k, v in current.get("kinds", {}).items() if v.get("x")}


def compose(fit: tuple[list[float], list[float]], prior: tuple[list[float], list[float]] | None,
            grid: int = 200) -> tuple[list[float], list[float]]:
    """``fit`` after ``prior`` on raw scores (both monotone), sampled on a grid; ``fit`` if no prior."""
    if not prior:
        return fit
    xs = [i / grid for i in range(grid + 1)]
    ys = [round(interpolate(*fit, interpolate(*prior, x)), 6) for x in xs]
    return xs, ys


def fit_calibration(out: str | Path, min_samples: int = MIN_SAMPLES) -> CalibrationResult:
    """Fit every kind with enough decisions and merge into ``OUT/state/calibration.json``.

    Scores in the routing ledger are what the scan reported; if that scan already applied this
    calibration file, the new map is composed with the old one so it still takes raw scores.
    """
    out = Path(out)
    path = out / "state" / CALIBRATION_NAME
    current: dict[str, Any] = {"version": 1, "kinds": {}}
    if path.exists():
        try:
            current = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            pass
    prior = _scan_calibration(out, current)
    result = CalibrationResult(path=str(path))
    all_before: list[tuple[float, int]] = []
    all_after: list[tuple[float, int]] = []
    for kind, (x, y) in sorted(training_pairs(out).items()):
        if len(x) < min_samples:
            result.skipped[kind] = len(x)
            continue
        xs, ys = compose(anchored(*pav(x, y)), prior.get(kind))
        current.setdefault("kinds", {})[kind] = {"x": xs, "y": ys}
        oof = out_of_fold(x, y)
        result.kinds[kind] = KindFit(
            n=len(x), positives=sum(y), ece_before=round(ece(x, y), 4), ece_after=round(ece(oof, y), 4)
        )
        all_before += list(zip(x, y, strict=True))
        all_after += list(zip(oof, y, strict=True))
    if result.kinds:
        current["version"] = 1
        write_json_atomic(path, current)
        result.n = len(all_before)
        result.ece_before = round(ece([p for p, _ in all_before], [t for _, t in all_before]), 4)
        result.ece_after = round(ece([p for p, _ in all_after], [t for _, t in all_after]), 4)
    return result
