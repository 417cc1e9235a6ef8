"""Signals to confidence to decision.

Confidence is a logistic model over separate, documented signals, in logits:

====================  ==========================================================================
prior                 ``logit(kind.prior)``: how often a validated match of this kind is real
checksum              +2.0 when a check digit confirmed the value
validator             +0.8 when a validator accepted it without a checksum (numbering plan, grammar)
format                -1.6 when only the shape matched (no validator accepted it)
strength              the validator's own adjustment (separators as the format writes them, ambiguity)
context               +1.8 for a context word of the kind or subtype in the window, +0.4 per extra
label                 +/-1.0 when that word (or a negative one) is the value's label: "Phone: ..."
denial                -6.0 when the value's sentence says it is not of the kind: "... is not a phone
                      number", "invalid e-mail address", "看起来不像电话号"
URL host              -3.0 when a URL path goes on after the value: "abc@efg.com/wiki#cite_1" is a
                      URL's user and host, not an e-mail address
foreign script        -2.0 for a country's identity or tax format where the text around is written
                      in another country's script (Han, Kana, Hangul): a Costa Rican id in a
                      Chinese sentence is a Chinese mobile number
negative context      -3.0 for a negative word ("page", "$", "version") in the window
backoff               -1.0 per trailing group dropped to make a value validate ("324 915" of "324 915 807 12")
partial token         -1.5 when the value is cut out of a longer token ("+1 650..." read from "1 650...")
glued letter          -1.5 more when that token is a code with a letter right before the digits
                      ("73810264519023" of "U73810264519023")
made-up pattern       -1.5 when the digits are a run (12345678), a repeat (1212 1212) or one digit
====================  ==========================================================================

The weights live in one table, ``factsep/detection/data/weights.toml`` (fitted by
``scripts/fit_weights.py``); ``bias`` there replaces ``logit(kind.prior)`` for the kinds it lists.
Reference numbers and commit ids (factsep.detection.numerals) are scored by their cue's weight.
The sum goes through the logistic function, then through the per-kind calibration learnt from
human decisions (``OUT/state/calibration.json``) when one is configured.
"""

from __future__ import annotations

import bisect
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from factsep.config import DetectorConfig
from factsep.span import AUTO_ACCEPT, AUTO_REJECT, PENDING_REVIEW


def load_weights(path: str | Path | None = None) -> dict[str, Any]:
    """The weight table: ``data/weights.toml``, or the file ``FACTSEP_WEIGHTS`` names (for
    scripts/fit_weights.py to score a candidate table without touching the package)."""
    path = path or os.environ.get("FACTSEP_WEIGHTS") or Path(__file__).with_name("data") / "weights.toml"
    with open(path, "rb") as fh:
        table = tomllib.load(fh)
    missing = {"signals", "reference"} - set(table)
    if missing:
        raise ValueError(f"weight table {path} lacks the section(s) {sorted(missing)}")
    return table


WEIGHTS = load_weights()
_S: dict[str, float] = WEIGHTS["signals"]
W_CHECKSUM = _S["checksum"]
W_VALIDATOR = _S["validator"]
W_FORMAT_ONLY = _S["format_only"]
W_CONTEXT = _S["context"]
W_CONTEXT_EXTRA = _S["context_extra"]
W_LABEL = _S["label"]
W_DENIED = _S["denied"]
W_NEGATIVE = _S["negative"]
W_URL_HOST = _S["url_host"]
W_FOREIGN_SCRIPT = _S["foreign_script"]
W_MADE_UP = _S["made_up"]
W_PARTIAL = _S["partial"]
W_GLUED_LETTER = _S["glued_letter"]
W_BACKOFF = _S["backoff"]
UNPROVEN_CEILING = _S["unproven_ceiling"]
#: Per-kind biases in logits (fitted); a kind without one uses logit(kind.prior).
KIND_BIAS: dict[str, float] = WEIGHTS.get("bias", {})
#: Logits added to the kind's bias for a reference number or commit id, by the cue that found it
#: (factsep.detection.numerals): a CVE id or "Closes: #NNN" is what its cue says it is.
W_REFERENCE: dict[str, float] = WEIGHTS["reference"]


def made_up(value: str) -> bool:
    """Digits that people type as placeholders: ascending or descending runs, repeated blocks."""
    d = "".join(c for c in value if c.isdigit())
    if len(d) < 6:
        return False
    if len(set(d)) <= 2:
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in zip(d, d[1:])}
    if steps <= {1} or steps <= {9}:
        return True
    for size in (2, 3, 4):
        if len(d) % size == 0 and d[:size] * (len(d) // size) == d:
            return True
    return False


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True, slots=True)
class Signals:
    prior: float
    checksum: bool
    validated: bool
    strength: float
    n_context: int
    n_negative: int
    made_up: bool = False
    partial: bool = False

    kind: str = ""

    def contributions(self) -> list[tuple[str, float]]:
        """Each signal that counts and its logits, in the order :meth:`raw_logit` adds them.

        ``strength`` folds the validator's own adjustment with label, denial, glued letter, URL
        host and foreign script (see the table above). Explanations (Presidio's) read this. The
        bias is the weight table's for the kind, else ``logit(prior)``.
        """
        bias = KIND_BIAS.get(self.kind)
        parts = [("prior", logit(self.prior) if bias is None else bias), ("strength", self.strength)]
        if self.checksum:
            parts.append(("checksum", W_CHECKSUM))
        elif self.validated:
            parts.append(("validator", W_VALIDATOR))
        else:
            parts.append(("format", W_FORMAT_ONLY))
        if self.n_context:
            parts.append(("context", W_CONTEXT + W_CONTEXT_EXTRA * (self.n_context - 1)))
        if self.n_negative:
            parts.append(("negative context", W_NEGATIVE))
        if self.made_up:
            parts.append(("made-up pattern", W_MADE_UP))
        if self.partial:
            parts.append(("partial token", W_PARTIAL))
        return parts

    def raw_logit(self) -> float:
        x = 0.0
        for _, value in self.contributions():
            x += value
        return x

    def raw_score(self) -> float:
        return sigmoid(self.raw_logit())


class Calibration:
    """Per-kind monotone map from raw score to probability (piecewise linear between knots)."""

    def __init__(self, kinds: dict[str, tuple[list[float], list[float]]]) -> None:
        self.kinds = kinds

    @classmethod
    def load(cls, path: str | Path | None) -> Calibration:
        if path is None or not Path(path).exists():
            return cls({})
        data = json.loads(Path(path).read_text())
        return cls({k: (v["x"], v["y"]) for k, v in data.get("kinds", {}).items() if v.get("x")})

    def __call__(self, kind: str, score: float) -> float:
        knots = self.kinds.get(kind)
        if not knots:
            return score
        xs, ys = knots
        if score <= xs[0]:
            return ys[0]
        if score >= xs[-1]:
            return ys[-1]
        i = bisect.bisect_right(xs, score)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (score - x0) / (x1 - x0)


def decide(confidence: float, config: DetectorConfig) -> str:
    if confidence >= config.review_high:
        return AUTO_ACCEPT
    if confidence < config.review_low:
        return AUTO_REJECT
    return PENDING_REVIEW
