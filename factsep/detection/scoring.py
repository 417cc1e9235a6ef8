"""Signals to confidence to decision.

Confidence is a logistic model over separate, named signals, in logits. Every weight is in one
table, ``factsep/detection/data/weights.toml``: its ``[signals]``, ``[bias]``, ``[reference]``,
``[context]`` and the validators' ``[validator.*]`` logits are fitted by
``scripts/fit_weights.py`` (see its docstring and BENCHMARKS.md), ``[meta] fitted_by`` says how.

====================  ==========================================================================
bias                  the kind's fitted bias (``[bias]``), else ``logit(kind.prior)``; a Presidio
                      recognizer plugged into factsep gives its own score as the prior
strength              the validator's own adjustments (separators as the format writes them,
                      ambiguity: ``[validator.*]`` weights of factsep.kinds), each a signal of its
                      own in the fit (:class:`Term`)
checksum              when a check digit confirmed the value
validator             when a validator accepted it without a checksum (numbering plan, grammar)
format_only           when only the shape matched (no validator accepted it)
context               a context word of the kind or subtype in the window
context_extra         per context word beyond the first
label                 +1 or -1 times the weight when a context word (or a negative one) is the
                      value's label: "Phone: ...", "Fax: ..." for a tax id
denied                when the value's sentence says it is not of the kind: "... is not a phone
                      number", "invalid e-mail address", "看起来不像电话号"
negative              a negative word ("page", "$", "version") in the window
url_host              when a URL path goes on after the value: "abc@efg.com/wiki#cite_1" is a
                      URL's user and host, not an e-mail address
foreign_script        a country's identity or tax format where the text around is written in
                      another country's script (Han, Kana, Hangul)
made_up               the digits are a run (12345678), a repeat (1212 1212) or one digit
partial               the value is cut out of a longer token ("+1 650..." read from "1 650...")
glued_letter          that token is a code with a letter right before the digits
                      ("73810264519023" of "U73810264519023")
backoff               per trailing group dropped to make a value validate ("324 915" of "324 915 807 12")
unproven              a python-stdnum, ISBN or ISSN format with neither a context word nor a
                      structure of its own (nor its country's code before it): one check digit
                      is about 3 bits of evidence (it also waits for review, Detector._unproven)
context_kind          the kind's own weight of a context word in the window (``[context]``), on
                      top of ``context``: a word may say more of one kind than of another
====================  ==========================================================================

Reference numbers and commit ids (factsep.detection.numerals) are scored by the kind's bias plus
their cue's weight (``[reference]``). Rival readings of one region are ranked by these logits and
the best one is kept (factsep.detection.detector); ``scripts/fit_weights.py`` fits the weights as
that choice (a softmax over the rivals and "no fact"), not reading by reading. The sum goes
through the logistic function, then through the per-kind calibration learnt from human decisions
(``OUT/state/calibration.json``) when one is configured.
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

#: The fitted signals of [signals], in the order of :func:`features` (scripts/fit_weights.py).
SIGNAL_NAMES = ("checksum", "validator", "format_only", "context", "context_extra", "label", "denied",
                "negative", "url_host", "foreign_script", "made_up", "partial", "glued_letter", "backoff",
                "unproven")


def load_weights(path: str | Path | None = None) -> dict[str, Any]:
    """The weight table: ``data/weights.toml``, or the file ``FACTSEP_WEIGHTS`` names (for
    scripts/fit_weights.py to score a candidate table without touching the package)."""
    path = path or os.environ.get("FACTSEP_WEIGHTS") or Path(__file__).with_name("data") / "weights.toml"
    with open(path, "rb") as fh:
        table = tomllib.load(fh)
    missing = {"signals", "reference", "thresholds"} - set(table)
    if missing:
        raise ValueError(f"weight table {path} lacks the section(s) {sorted(missing)}")
    lacking = [name for name in SIGNAL_NAMES if name not in table["signals"]]
    if lacking:
        raise ValueError(f"weight table {path} lacks the signal weight(s) {lacking} in [signals]")
    return table


WEIGHTS = load_weights()
#: Weights of the named signals, in logits.
SIGNAL_WEIGHTS: dict[str, float] = {name: float(WEIGHTS["signals"][name]) for name in SIGNAL_NAMES}
W_CHECKSUM = SIGNAL_WEIGHTS["checksum"]
W_VALIDATOR = SIGNAL_WEIGHTS["validator"]
W_FORMAT_ONLY = SIGNAL_WEIGHTS["format_only"]
W_CONTEXT = SIGNAL_WEIGHTS["context"]
W_CONTEXT_EXTRA = SIGNAL_WEIGHTS["context_extra"]
W_LABEL = SIGNAL_WEIGHTS["label"]
W_DENIED = SIGNAL_WEIGHTS["denied"]
W_NEGATIVE = SIGNAL_WEIGHTS["negative"]
W_URL_HOST = SIGNAL_WEIGHTS["url_host"]
W_FOREIGN_SCRIPT = SIGNAL_WEIGHTS["foreign_script"]
W_MADE_UP = SIGNAL_WEIGHTS["made_up"]
W_PARTIAL = SIGNAL_WEIGHTS["partial"]
W_GLUED_LETTER = SIGNAL_WEIGHTS["glued_letter"]
W_BACKOFF = SIGNAL_WEIGHTS["backoff"]
W_UNPROVEN = SIGNAL_WEIGHTS["unproven"]
#: The highest confidence of a format reading with neither a context word nor a structure of its own.
UNPROVEN_CEILING = float(WEIGHTS["thresholds"]["unproven_ceiling"])
#: Per-kind biases in logits (fitted); a kind without one uses logit(kind.prior).
KIND_BIAS: dict[str, float] = WEIGHTS.get("bias", {})
#: Logits added to the kind's bias for a reference number or commit id, by the cue that found it
#: (factsep.detection.numerals): a CVE id or "Closes: #NNN" is what its cue says it is.
W_REFERENCE: dict[str, float] = WEIGHTS["reference"]
#: Logits added to the context signal for one kind ([context], fitted; a kind without one adds 0):
#: how much a context word says may differ by kind (a stock word is rarer than "number").
W_CONTEXT_KIND: dict[str, float] = {k: float(v) for k, v in WEIGHTS.get("context", {}).items()}
#: The validators' own adjustments (factsep.kinds), by module and name: ``strength`` is their sum.
VALIDATOR_WEIGHTS: dict[str, dict[str, float]] = WEIGHTS.get("validator", {})
#: Entries of [validator.*] that are thresholds, not logits (bits, nats per letter pair): the
#: validators compare with them, so they are no term of ``strength`` and the fit leaves them.
VALIDATOR_THRESHOLDS = frozenset({"ids.word_pair_logp", "ids.evident_redundancy", "ids.redundancy_checksum"})
#: Set (``FACTSEP_TRACE_VALIDATORS=1`` before factsep.kinds is imported) by scripts/fit_weights.py:
#: every validator weight is then a :class:`Term`, so each reading's strength says which weights it
#: is made of and how many times.
TRACE_VALIDATORS = os.environ.get("FACTSEP_TRACE_VALIDATORS") == "1"


class Term(float):
    """A float that remembers which [validator.*] weights it sums, with their multipliers.

    Why: ``strength`` is a sum of the validators' adjustments (``W * bits``, ``W_A + W_B``); with
    the terms kept, the fit sees each adjustment as a signal of its own and can move its weight.
    Arithmetic with plain numbers keeps the terms (a plain number is a constant); anything else
    (comparisons, ``math``) sees the float."""

    __slots__ = ("terms",)
    terms: dict[str, float]

    def __new__(cls, value: float, terms: dict[str, float]) -> Term:
        obj = super().__new__(cls, value)
        obj.terms = terms
        return obj

    @staticmethod
    def _of(x: float) -> dict[str, float]:
        return x.terms if isinstance(x, Term) else {}

    @staticmethod
    def _sum(a: dict[str, float], b: dict[str, float], sign: float = 1.0) -> dict[str, float]:
        out = dict(a)
        for k, v in b.items():
            out[k] = out.get(k, 0.0) + sign * v
        return out

    def __add__(self, other: float) -> Term:  # type: ignore[override]
        return Term(float(self) + float(other), self._sum(self.terms, self._of(other)))

    __radd__ = __add__

    def __sub__(self, other: float) -> Term:  # type: ignore[override]
        return Term(float(self) - float(other), self._sum(self.terms, self._of(other), -1.0))

    def __rsub__(self, other: float) -> Term:  # type: ignore[override]
        return Term(float(other) - float(self), self._sum(self._of(other), self.terms, -1.0))

    def __neg__(self) -> Term:
        return Term(-float(self), {k: -v for k, v in self.terms.items()})

    def __mul__(self, other: float) -> Term:  # type: ignore[override]
        if isinstance(other, Term):
            raise TypeError("a product of two validator weights is no linear term")
        return Term(float(self) * float(other), {k: v * float(other) for k, v in self.terms.items()})

    __rmul__ = __mul__

    def __truediv__(self, other: float) -> Term:  # type: ignore[override]
        return self * (1.0 / float(other))


def strength_terms(strength: float) -> dict[str, float]:
    """The [validator.*] weights (``module.name``) a traced strength is made of, with multipliers."""
    return {k: v for k, v in Term._of(strength).items() if v}


def validator_weight(module: str, name: str) -> float:
    """One weight of [validator.<module>]; a missing one is an error that says where it belongs."""
    try:
        value = float(VALIDATOR_WEIGHTS[module][name])
    except KeyError:
        raise KeyError(f"the weight table lacks [validator.{module}] {name}: add it to weights.toml") from None
    if TRACE_VALIDATORS and f"{module}.{name}" not in VALIDATOR_THRESHOLDS:
        return Term(value, {f"{module}.{name}": 1.0})
    return value


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


def kind_bias(kind: str, prior: float) -> float:
    """The kind's bias in logits: the table's fitted one, else ``logit(prior)``."""
    bias = KIND_BIAS.get(kind)
    return logit(prior) if bias is None else float(bias)


def reference_logit(bias: float, cue: str) -> float:
    """A reference number's or commit id's logit: the kind's bias and the weight of its cue."""
    return bias + W_REFERENCE[cue]


@dataclass(frozen=True, slots=True)
class Signals:
    """What one reading's score is made of; the detector keeps it as a plain tuple of these fields
    (a cache key), ``Signals(*hit.signals)`` explains it."""

    bias: float
    checksum: bool
    validated: bool
    strength: float
    n_context: int
    n_negative: int
    made_up: bool = False
    partial: bool = False
    #: +1 a context word labels the value, -1 a negative word does, 0 neither
    label: int = 0
    denied: bool = False
    glued_letter: bool = False
    url_host: bool = False
    foreign_script: bool = False
    #: trailing digit groups dropped to make the value validate
    backoff: int = 0
    #: a format with no structure of its own: unproven unless a context word stands near
    no_evidence: bool = False
    #: the reading's kind: the per-kind context weight ([context]) is the only signal that reads it
    kind: str = ""

    def features(self) -> dict[str, float]:
        """The value of each signal of :data:`SIGNAL_NAMES` (0 when absent): the logit is
        ``bias + strength + sum(weight * value)``. scripts/fit_weights.py fits on exactly these."""
        return {
            "checksum": float(self.checksum),
            "validator": float(self.validated and not self.checksum),
            "format_only": float(not self.validated and not self.checksum),
            "context": float(self.n_context > 0),
            "context_extra": float(max(self.n_context - 1, 0)),
            "label": float(self.label),
            "denied": float(self.denied),
            "negative": float(self.n_negative > 0),
            "url_host": float(self.url_host),
            "foreign_script": float(self.foreign_script),
            "made_up": float(self.made_up),
            "partial": float(self.partial),
            "glued_letter": float(self.glued_letter),
            "backoff": float(self.backoff),
            "unproven": float(self.no_evidence and not self.n_context),
        }

    def contributions(self, weights: dict[str, float] | None = None) -> list[tuple[str, float]]:
        """Each signal present and its logits, in the order of :data:`SIGNAL_NAMES` after the
        bias and the validator's strength. Explanations (``Detector.explain``, Presidio's
        analysis_explanation) read this; a zero signal is left out."""
        w = SIGNAL_WEIGHTS if weights is None else weights
        parts = [("bias", self.bias)]
        if self.strength:
            parts.append(("strength", self.strength))
        for name, value in self.features().items():
            if value:
                parts.append((name, w[name] * value))
        if self.n_context and W_CONTEXT_KIND.get(self.kind):
            # never below -context: a context word is no evidence against its kind (the detector
            # skips reading context where a word could only raise a sure reading)
            parts.append(("context_kind", max(W_CONTEXT_KIND[self.kind], -w["context"])))
        return parts

    def raw_logit(self, weights: dict[str, float] | None = None) -> float:
        x = 0.0
        for _, value in self.contributions(weights):
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
