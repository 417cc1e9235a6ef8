"""Simulated review: how much do a few human answers buy?

Scans the labelled eval texts (../shared/eval: Recognizers-Text and presidio-research sentences),
then for each budget (a share of all detected spans) routes spans to a real Label Studio in
``--rounds`` rounds (route, answer, sync), has two simulated annotators answer every task through
the API (an oracle that marks exactly the gold random facts in the window, and a noisy one that
gets each span wrong 5% of the time), and scores the final dataset against the gold labels.

Spans seen: every span shown in a task plus every region an annotator marked that was not shown
(a fact people add was looked at too), over the spans detected by the scan.

Scoring (as in the eval README): strict match on (document, start, end, kind) for spans the
dataset tags as random facts (auto_accept, human_accept, human_added); a prediction that is no
exact match and overlaps a gold span with no kind (a name, a plain date) counts neither way. The
budget-0 row is the baseline of the same script: detection alone.

    python bench/review_sim.py [--budgets 0,1,5,20] [--strategy value|uncertainty] [--rounds 3]
                               [--noise 0.05] [--work DIR] [--json FILE]

Uses LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY, or starts the project's server with
scripts/label-studio.sh (and stops it at the end).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVAL = Path(os.environ.get("FACTSEP_EVAL", ROOT.parent / "shared" / "eval"))
SETS = ("recognizers_text.jsonl", "presidio_synth.jsonl")
DEFAULT_TOKEN = "fac75e9000000000000000000000000000000001"  # scripts/label-studio.sh's test default


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=3) as r:
            return b"UP" in r.read()
    except OSError:
        return False


def load_gold() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    docs, gold = [], {}
    for name in SETS:
        with open(EVAL / name, encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                docs.append({"id": d["id"], "text": d["text"]})
                gold[d["id"]] = d["spans"]
    return docs, gold


def score(out: Path, gold: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    import polars as pl

    from factsep.span import ACCEPTED

    frame = pl.read_parquet(str(out / "spans" / "part-*.parquet"))
    pred = {
        (r["doc_id"], r["start"], r["end"], r["kind"])
        for r in frame.filter(pl.col("decision").is_in(sorted(ACCEPTED))).iter_rows(named=True)
    }
    truth = {(d, s["start"], s["end"], s["kind"]) for d, spans in gold.items() for s in spans if s["kind"]}
    neutral = {d: [(s["start"], s["end"]) for s in spans if not s["kind"]] for d, spans in gold.items()}
    tp = len(pred & truth)
    fp = 0
    for p in pred - truth:
        if not any(a < p[2] and p[1] < b for a, b in neutral.get(p[0], [])):
            fp += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / len(truth) if truth else 1.0
    pending = frame.filter(pl.col("decision") == "pending_review").height
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "tp": tp,
        "fp": fp,
        "gold": len(truth),
        "spans": frame.height,
        "pending": pending,
    }


def oracle_regions(task: dict[str, Any], gold: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    meta = task["data"]["factsep"]
    lo, hi, window = meta["window_start"], meta["window_end"], task["data"]["text"]
    regions = []
    for s in gold.get(meta["doc_id"], []):
        if s["kind"] and lo <= s["start"] and s["end"] <= hi:
            a, b = s["start"] - lo, s["end"] - lo
            regions.append(_region(a, b, window[a:b], s["kind"]))
    return regions


def _region(start: int, end: int, text: str, kind: str) -> dict[str, Any]:
    return {"from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text, "labels": [kind]}}


def noisy_regions(task: dict[str, Any], truth: list[dict[str, Any]], rng: random.Random,
                  noise: float) -> list[dict[str, Any]]:
    """The oracle's answer with each decision flipped with probability ``noise``."""
    key = lambda r: (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])  # noqa: E731
    kept = {key(r): r for r in truth}
    preds = task.get("predictions") or [{}]
    predicted = {key(r): r for r in preds[0].get("result") or []}
    answer = dict(kept)
    for k in set(kept) | set(predicted):
        if rng.random() < noise:
            if k in answer:
                del answer[k]
            else:
                r = predicted[k]
                answer[k] = _region(r["value"]["start"], r["value"]["end"], r["value"]["text"],
                                    r["value"]["labels"][0])
    return list(answer.values())


def all_tasks(ls: Any, project_id: int) -> list[dict[str, Any]]:
    tasks, page = [], 1
    while True:
        try:
            pager = ls.tasks.list(project=project_id, fields="all", page=page, page_size=100)
        except Exception as exc:
            if getattr(exc, "status_code", None) == 404:
                break
            raise
        items = [t if isinstance(t, dict) else t.model_dump() for t in pager.items or []]
        tasks += items
        if len(items) < 100:
            break
        page += 1
    return tasks


def open_spans(out: Path, url: str, project: str) -> int:
    """Spans routed to the project and not decided yet (route's budget counts them as open)."""
    from factsep.decisions import latest_decisions
    from factsep.review.ledger import RoutingLedger, target_name

    decided = latest_decisions(out)
    routed = RoutingLedger(out).routed_span_ids(target_name(url, project))
    return sum(1 for sid in routed if sid not in decided)


def user(ls: Any, name: str) -> int:
    email = f"{name}@factsep.bench"
    for u in ls.users.list():
        if getattr(u, "email", None) == email:
            return int(u.id)
    return int(ls.users.create(username=name, email=email, password=f"pw-{uuid.uuid4().hex}").id)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", default="0,1,5,20", help="percent of all detected spans")
    ap.add_argument("--noise", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/factsep-review-sim"))
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--audit", type=float, default=0.0, help="share of the budget auditing auto decisions")
    ap.add_argument("--strategy", default="value", choices=("value", "uncertainty"),
                    help="[review] strategy: expected value of a look, or pending spans by uncertainty")
    ap.add_argument("--rounds", type=int, default=3, help="route/annotate/sync rounds sharing the budget")
    ap.add_argument("--no-rescan", action="store_true", help="skip the re-scan with the fitted calibration")
    args = ap.parse_args(argv)

    from label_studio_sdk import LabelStudio

    from factsep.config import DetectorConfig
    from factsep.review import ReviewConfig, route, sync
    from factsep.scan import scan

    url = os.environ.setdefault("LABEL_STUDIO_URL", "http://127.0.0.1:8080").rstrip("/")
    key = os.environ.setdefault("LABEL_STUDIO_API_KEY", DEFAULT_TOKEN)
    started = False
    if not healthy(url):
        subprocess.run(["bash", str(ROOT / "scripts" / "label-studio.sh"), "start"], check=True)
        started = True
    try:
        docs, gold = load_gold()
        shutil.rmtree(args.work, ignore_errors=True)
        args.work.mkdir(parents=True)
        corpus = args.work / "corpus.jsonl"
        with open(corpus, "w", encoding="utf-8") as fh:
            for d in docs:
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
        t0 = time.time()
        base = args.work / "base"
        scan([str(corpus)], str(base))
        scan_s = time.time() - t0
        base_spans = score(base, gold)["spans"]
        ls = LabelStudio(base_url=url, api_key=key)
        annotators = {"oracle": user(ls, "oracle"), "noisy": user(ls, "noisy")}
        rows = []
        for pct in [float(b) for b in args.budgets.split(",")]:
            out = args.work / f"budget-{pct:g}"
            shutil.copytree(base, out)
            total = base_spans  # detected spans: the denominator of "spans seen" in every row
            row: dict[str, Any] = {"budget_pct": pct}
            t1 = time.time()
            if pct > 0:
                project = f"review-sim {pct:g}% {uuid.uuid4().hex[:6]}"
                budget = math.floor(total * pct / 100)
                cfg = ReviewConfig(audit_share=args.audit, strategy=args.strategy)
                rng = random.Random(args.seed)
                seen: set[tuple[str, int, int, str]] = set()
                answered: set[int] = set()
                shown = marked_unshown = 0
                totals: dict[str, int] = {}
                round_adds: list[tuple[int, int]] = []  # (regions marked but not shown, shown) per round
                for rnd in range(1, args.rounds + 1):
                    # this round's share of the budget; regions people add are seen spans too, so
                    # leave room for as many as earlier rounds added per span shown
                    goal = math.floor(budget * rnd / args.rounds)
                    # at least a quarter (what first rounds here show), more if a round added more
                    add_rate = max([0.25] + [a / b for a, b in round_adds if b])
                    room = math.floor((goal - len(seen)) / (1 + add_rate))
                    if room <= 0:
                        continue
                    r = route(out, budget=open_spans(out, url, project) + room, project=project, config=cfg)
                    tasks = [t for t in all_tasks(ls, r.project_id) if t["id"] not in answered]
                    before = (marked_unshown, shown)
                    for t in tasks:
                        truth = oracle_regions(t, gold)
                        noisy = noisy_regions(t, truth, rng, args.noise)
                        ls.annotations.create(t["id"], result=truth, completed_by=annotators["oracle"])
                        ls.annotations.create(t["id"], result=noisy, completed_by=annotators["noisy"])
                        answered.add(t["id"])
                        meta = t["data"]["factsep"]
                        shown_here = {(meta["doc_id"], x["start"], x["end"], x["kind"]) for x in meta["spans"]}
                        marked = {(meta["doc_id"], meta["window_start"] + x["value"]["start"],
                                   meta["window_start"] + x["value"]["end"], x["value"]["labels"][0])
                                  for x in truth + noisy}
                        shown += len(shown_here)
                        marked_unshown += len(marked - shown_here)
                        seen |= shown_here | marked
                    round_adds.append((marked_unshown - before[0], shown - before[1]))
                    s = sync(out, project=project, config=cfg)
                    for name in ("accepted", "rejected", "added", "propagated"):  # new in this sync
                        totals[name] = totals.get(name, 0) + getattr(s, name)
                    print(json.dumps({"round": rnd, "room": room, "routed": r.selected, "tasks": len(tasks),
                                      "seen": len(seen), "inferred": s.inferred}), file=sys.stderr)
                cal = s.calibration or {}
                row.update(seen=len(seen), shown=shown, tasks=len(answered), **totals, ties=s.ties,
                           quarantined=s.annotations_quarantined, inferred=s.inferred,
                           ece_before=cal.get("ece_before"), ece_after=cal.get("ece_after"),
                           calibrated_n=cal.get("n"))
            else:
                row.update(seen=0, tasks=0)
            row.update(score(out, gold))
            if pct > 0 and not args.no_rescan:
                # the next run: same corpus, decisions kept, confidence through the fitted calibration
                again = args.work / f"budget-{pct:g}-rescan"
                (again / "state").mkdir(parents=True)
                for name in ("decisions.jsonl", "calibration.json", "inferred.json"):
                    if (out / "state" / name).exists():
                        shutil.copy(out / "state" / name, again / "state" / name)
                cal_path = again / "state" / "calibration.json"
                scan([str(corpus)], str(again), detector_config=DetectorConfig(
                    calibration_path=str(cal_path) if cal_path.exists() else None))
                after = score(again, gold)
                row.update(rescan_precision=after["precision"], rescan_recall=after["recall"],
                           rescan_pending=after["pending"])
                # the state folder carries over in a real re-scan into the same OUT; the next sync
                # (no new answers needed) refits the strata on the new spans
                shutil.copy(out / "state" / "routing.jsonl", again / "state" / "routing.jsonl")
                sync(again, project=project, config=cfg, calibrate=False)
                after = score(again, gold)
                row.update(resync_precision=after["precision"], resync_recall=after["recall"],
                           resync_pending=after["pending"])
            row["seen_share"] = round(row["seen"] / total, 4) if total else 0.0
            row["seconds"] = round(time.time() - t1, 1)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
        result = {"scan_seconds": round(scan_s, 1), "docs": len(docs), "noise": args.noise,
                  "audit_share": args.audit, "strategy": args.strategy, "rounds": args.rounds,
                  "rows": rows}
        print_table(result)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    finally:
        if started:
            subprocess.run(["bash", str(ROOT / "scripts" / "label-studio.sh"), "stop"], check=False)
    return 0


def print_table(result: dict[str, Any]) -> None:
    base = result["rows"][0]
    print(f"docs={result['docs']} noise={result['noise']} audit_share={result['audit_share']} "
          f"strategy={result['strategy']} rounds={result['rounds']} scan={result['scan_seconds']}s")
    print("| budget | spans seen (share) | shown | tasks | precision | recall | F1 | P vs base | R vs base "
          "| pending | ties | added | re-decided by strata | ECE before -> after "
          "| after re-scan P / R (pending); and a sync |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result["rows"]:
        ece = (f"{r['ece_before']:.3f} -> {r['ece_after']:.3f}" if r.get("ece_before") is not None
               and r.get("calibrated_n") else "-")
        rescan = (f"{r['rescan_precision']:.3f} / {r['rescan_recall']:.3f} ({r['rescan_pending']}); "
                  f"{r['resync_precision']:.3f} / {r['resync_recall']:.3f} ({r['resync_pending']})"
                  if "resync_precision" in r else "-")
        redecided = sum(n for k, n in (r.get("inferred") or {}).items() if not k.startswith("relabel"))
        print(f"| {r['budget_pct']:g}% | {r['seen']} ({r['seen_share']:.1%}) | {r.get('shown', 0)} | "
              f"{r['tasks']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
              f"{r['precision'] / base['precision']:.3f}x | {r['recall'] / base['recall']:.3f}x | "
              f"{r['pending']} | {r.get('ties', 0)} | {r.get('added', 0)} | {redecided} | {ece} | {rescan} |")


if __name__ == "__main__":
    raise SystemExit(main())
