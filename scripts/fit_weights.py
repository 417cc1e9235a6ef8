"""Fit the scoring model's weight table by logistic regression on training halves; report held-out.

Why: the weights of factsep.detection.scoring were set by hand. This script fits the logistic
part that every format reading goes through (a bias per kind, checksum, format only, context,
extra context, negative context, made-up digits, partial token; the validator's own strength is an
offset) on the *train* halves of every labelled set:

- ../shared/eval (bench/quality.py's documents, split by a seeded hash of the id),
- the Faker sentences of bench/realtext_multilingual.py (same split),
- the judged real-text spans of bench/realtext_judged.jsonl whose file is in the train half.

Each reading the detector scores (``Detector.trace``) is one example: 1 when it is a gold span
(same start, end and kind) or a judged span of that kind, 0 when it is not, skipped when it only
overlaps a labelled span that is no random fact. Then both tables, the current and the fitted one,
are scored with bench/quality.py on the held-out half, and ``--write`` replaces [signals] and
[bias] of factsep/detection/data/weights.toml with the fitted ones.

    python scripts/fit_weights.py            # fit, compare on held-out, print
    python scripts/fit_weights.py --write    # ... and write the fitted table
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import tomllib

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

TABLE = REPO / "factsep" / "detection" / "data" / "weights.toml"
#: The fitted signals, in the order of the feature vector after the per-kind biases.
FITTED = ("checksum", "format_only", "context", "context_extra", "negative", "made_up", "partial")


def examples(split: str = "train") -> tuple[list[str], list[list[float]], list[float], list[float]]:
    """(kinds, features, offsets, labels) of every reading scored on the ``split`` half."""
    import quality
    import realtext
    from realtext_multilingual import docs as multilingual_docs

    from factsep import Detector
    from factsep.detection.scoring import W_VALIDATOR

    det = Detector()
    det.trace = []
    kinds: list[str] = []
    feats: list[list[float]] = []
    offsets: list[float] = []
    labels: list[float] = []

    def add(name: str, sig: tuple, label: float) -> None:
        _, checksum, validated, strength, n_ctx, n_neg, made, partial = sig
        kinds.append(name)
        feats.append([float(checksum), float(not validated), float(n_ctx > 0), float(max(n_ctx - 1, 0)),
                      float(n_neg > 0), float(made), float(partial)])
        offsets.append(strength + (W_VALIDATOR if validated and not checksum else 0.0))
        labels.append(label)

    docs = [d for d in quality.load_docs(quality.DEFAULT_EVAL) + multilingual_docs()
            if quality.split_of(d.id) == split]
    for d in docs:
        det.trace.clear()
        det.detect(d.text)
        gold = {(g.start, g.end, g.kind) for g in d.gold if g.kind}
        nulls = [g for g in d.gold if not g.kind]
        for start, end, name, sig in det.trace:
            if (start, end, name) in gold:
                add(name, sig, 1.0)
            elif not any(g.start < end and start < g.end for g in d.gold if g.kind) and any(
                    g.start < end and start < g.end for g in nulls):
                continue
            else:
                add(name, sig, 0.0)
    judged = realtext.load_judged()
    for d in realtext.build():
        if d.split != split:
            continue
        det.trace.clear()
        det.detect(d.text, d.file)
        for start, end, name, sig in det.trace:
            j = judged.get(realtext.key(d.genre, d.file, start, d.text[start:end]))
            if j is not None:
                add(name, sig, 1.0 if j["truth"] == name else 0.0)
    return kinds, feats, offsets, labels


def fit(kinds: list[str], feats: list[list[float]], offsets: list[float], labels: list[float],
        l2: float = 1.0, iterations: int = 50) -> tuple[dict[str, float], dict[str, float]]:
    """Newton's method on the L2-penalized log-likelihood: (signal weights, per-kind biases)."""
    names = sorted(set(kinds))
    index = {k: i for i, k in enumerate(names)}
    x = np.zeros((len(kinds), len(names) + len(FITTED)))
    for row, (k, f) in enumerate(zip(kinds, feats)):
        x[row, index[k]] = 1.0
        x[row, len(names):] = f
    y = np.asarray(labels)
    off = np.asarray(offsets)
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ w + off)))
        grad = x.T @ (p - y) + penalty * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-6:
            break
    signals = {name: round(float(v), 3) for name, v in zip(FITTED, w[len(names):])}
    biases = {k: round(float(w[index[k]]), 3) for k in names}
    return signals, biases


def write_table(path: Path, signals: dict[str, float], biases: dict[str, float], note: str) -> None:
    with open(TABLE, "rb") as fh:
        table = tomllib.load(fh)
    table["signals"].update(signals)
    table["bias"] = biases
    table["meta"] = {"fitted_by": note}
    lines = [line for line in TABLE.read_text().splitlines() if line.startswith("#")]
    out = ["\n".join(lines), ""]
    for section in ("meta", "signals", "bias", "reference"):
        out.append(f"[{section}]")
        for k, v in table.get(section, {}).items():
            out.append(f"{k} = {json.dumps(v)}")
        out.append("")
    path.write_text("\n".join(out))


def held_out(table: Path) -> dict[str, float]:
    """bench/quality.py on the held-out half with this table: strict F1 per source and overall."""
    env = {**os.environ, "FACTSEP_WEIGHTS": str(table), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, str(REPO / "bench" / "quality.py"), "--no-presidio", "--json",
                          "--split", "held-out"], capture_output=True, text=True, env=env, check=True).stdout
    res = json.loads(out)["tools"]["factsep"]
    return {s: round(v["strict_f1"], 4) for s, v in res.items()}


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help="write the fitted table to weights.toml")
    ap.add_argument("--l2", type=float, default=1.0)
    args = ap.parse_args(list(argv) if argv is not None else None)
    kinds, feats, offsets, labels = examples("train")
    print(f"{len(labels)} training readings, {int(sum(labels))} positive", file=sys.stderr)
    signals, biases = fit(kinds, feats, offsets, labels, args.l2)
    print("fitted signals:", json.dumps(signals))
    print("fitted biases:", json.dumps(biases))
    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / "weights.toml"
        write_table(candidate, signals, biases, "scripts/fit_weights.py (train halves)")
        current, fitted = held_out(TABLE), held_out(candidate)
        print("held-out strict F1, current table:", json.dumps(current))
        print("held-out strict F1, fitted table: ", json.dumps(fitted))
        if args.write:
            write_table(TABLE, signals, biases, f"scripts/fit_weights.py --l2 {args.l2} (train halves)")
            print(f"wrote {TABLE}")
    _ = math
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
