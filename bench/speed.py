"""Detection speed on one core: factsep vs Presidio vs the bare candidate pass, in one run.

Real text: the Debian package changelogs this system ships, cut into ~4 KB documents. Synthetic
text: a seeded corpus dense in facts. Figures are medians of --repeats runs, reported as MB/s and
as ratios (factsep / Presidio, bare pass / factsep), plus peak RSS. factsep is measured twice: on
text it has read before (its caches warm, as for repeated boilerplate) and on text it has not (a
fresh detector warmed on other documents of the corpus). Hostile inputs are timed at
1x and 2x size to show linear growth.

    python bench/speed.py --mb 4 --repeats 3
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import random
import resource
import statistics
import time
from collections.abc import Callable, Sequence

from factsep import Detector
from factsep.detection import context as context_module
from factsep.detection.candidates import CandidateEngine, union_pattern


def changelog_docs(total_mb: float, doc_size: int = 4096) -> list[str]:
    docs: list[str] = []
    size = 0
    for path in sorted(glob.glob("/usr/share/doc/*/changelog*.gz")):
        try:
            text = gzip.open(path, "rt", encoding="utf-8", errors="replace").read()
        except (OSError, EOFError):
            continue
        for i in range(0, len(text), doc_size):
            docs.append(text[i:i + doc_size])
            size += len(docs[-1])
            if size >= total_mb * 1e6:
                return docs
    if not docs:
        raise SystemExit("no changelogs under /usr/share/doc: install some Debian packages first")
    return docs


def dense_docs(total_mb: float, seed: int = 7) -> list[str]:
    """Support-chat-like text with a fact every ~120 characters, and look-alikes between them."""
    rng = random.Random(seed)
    facts = [
        lambda: f"+1 {rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
        lambda: f"user{rng.randint(1, 9999)}@example.com",
        lambda: ".".join(str(rng.randint(1, 254)) for _ in range(4)),
        lambda: "978-0-306-40615-7",
        lambda: "4111 1111 1111 1111",
        lambda: f"{rng.randint(100000, 999999)}",
        lambda: f"${rng.randint(1, 999)}.{rng.randint(10, 99)}",
        lambda: f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        lambda: f"{rng.randint(2000, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        lambda: f"{rng.getrandbits(128):032x}",
    ]
    words = "please call me about the order on page with ticket when you can thanks".split()
    docs, size = [], 0
    while size < total_mb * 1e6:
        parts = []
        for _ in range(30):
            parts.append(" ".join(rng.choice(words) for _ in range(rng.randint(6, 14))))
            parts.append(rng.choice(facts)())
        docs.append(" ".join(parts))
        size += len(docs[-1])
    return docs


#: The clock timings read: the process's CPU time by default (every measured step runs on one thread,
#: so CPU seconds are seconds of one core, and other jobs on a shared machine do not inflate them), or
#: wall time with --clock wall.
clock: Callable[[], float] = time.process_time


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def batches(docs: Sequence[str], size: int = 256) -> list[Sequence[str]]:
    return [docs[i:i + size] for i in range(0, len(docs), size)]


def measure(name: str, docs: list[str], other: list[str], detector: Detector, presidio_docs: int,
            repeats: int) -> dict:
    """``other``: different documents of the same corpus, to warm a fresh detector on."""
    mb = sum(len(d.encode()) for d in docs) / 1e6
    engine: CandidateEngine = detector.engine

    def bare() -> None:
        for b in batches(docs):
            engine.find(b)

    def factsep_run(det: Detector = detector) -> None:
        for b in batches(docs):
            for _ in det.detect_batch(b):
                pass

    def unseen_run() -> float:
        """A fresh detector, warmed on other documents: text it has not seen (its caches of
        validated values and tokenized text do not know these documents), as in a long scan."""
        fresh = Detector(detector.config)
        for b in batches(other):
            for _ in fresh.detect_batch(b):
                pass
        t0 = clock()
        factsep_run(fresh)
        return clock() - t0

    try:
        union: CandidateEngine | None = CandidateEngine(detector.kinds, pattern=union_pattern(detector.kinds))
    except Exception:  # a kind's pattern uses syntax RE2 lacks (look-ahead): no union baseline
        union = None

    def union_bare() -> None:  # what the cover pattern replaced: every kind's pattern in one RE2
        assert union is not None
        for b in batches(docs):
            union.find(b)

    def no_context_run() -> None:  # the share of time spent reading context
        read = detector.context.read
        detector.context.read = lambda *a, **k: context_module.NO_CONTEXT  # type: ignore[method-assign]
        try:
            factsep_run()
        finally:
            detector.context.read = read  # type: ignore[method-assign]

    from factsep.presidio import analyzer

    presidio = analyzer()
    sample = docs[:presidio_docs]
    p_mb = sum(len(d.encode()) for d in sample) / 1e6

    def presidio_run() -> None:
        for d in sample:
            presidio.analyze(d, language="en")

    factsep_run()  # warm caches (shape index, spaCy) once, as a long scan would
    t_bare = median_seconds(bare, repeats)
    t_fs = median_seconds(factsep_run, repeats)
    t_unseen = statistics.median(unseen_run() for _ in range(repeats))
    t_pr = median_seconds(presidio_run, max(1, repeats))
    t_union = median_seconds(union_bare, repeats) if union is not None else float("nan")
    t_noctx = median_seconds(no_context_run, repeats)
    fs_mbs, bare_mbs, pr_mbs = mb / t_fs, mb / t_bare, p_mb / t_pr
    return {
        "corpus": name, "mb": round(mb, 2), "docs": len(docs),
        "factsep_mb_s": round(fs_mbs, 2), "bare_pass_mb_s": round(bare_mbs, 2),
        "factsep_unseen_mb_s": round(mb / t_unseen, 2),
        "unseen_vs_presidio": round(mb / t_unseen / pr_mbs, 1), "bare_vs_unseen": round(bare_mbs * t_unseen / mb, 2),
        "union_bare_pass_mb_s": round(mb / t_union, 2), "factsep_no_context_mb_s": round(mb / t_noctx, 2),
        "presidio_mb_s": round(pr_mbs, 4), "presidio_mb": round(p_mb, 3),
        "factsep_vs_presidio": round(fs_mbs / pr_mbs, 1), "bare_vs_factsep": round(bare_mbs / fs_mbs, 2),
    }


def hostile(detector: Detector, repeats: int) -> list[dict]:
    rows = []
    cases = {
        "digits": lambda n: "7" * n,
        "digit groups": lambda n: " ".join(str(1000 + (i * 7919) % 9000) for i in range(n // 5)),
        "no spaces": lambda n: "a1-" * (n // 3),
    }
    for name, make in cases.items():
        sizes = (500_000, 1_000_000)
        secs = [median_seconds(lambda s=s, make=make: detector.detect(make(s)), repeats) for s in sizes]
        rows.append({"input": name, "t_1x_s": round(secs[0], 3), "t_2x_s": round(secs[1], 3),
                     "ratio_2x_1x": round(secs[1] / secs[0], 2)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=4.0, help="MB of each corpus")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--presidio-docs", type=int, default=60, help="documents Presidio reads (it is slow)")
    ap.add_argument("--no-hostile", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="CPU time of this process (default; robust on a shared machine) or wall time")
    args = ap.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    detector = Detector()
    logs = changelog_docs(args.mb * 1.25)
    n_logs = len(changelog_docs(args.mb))
    results = {
        "corpora": [
            measure("debian changelogs", logs[:n_logs], logs[n_logs:], detector, args.presidio_docs, args.repeats),
            measure("dense synthetic", dense_docs(args.mb), dense_docs(args.mb / 4, seed=8), detector,
                    args.presidio_docs, args.repeats),
        ],
        "hostile": [] if args.no_hostile else hostile(detector, args.repeats),
        "engine": detector.engine.engine,
        "clock": args.clock,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"engine={results['engine']}  peak RSS {results['peak_rss_mb']} MB  (one core, median of {args.repeats}, "
          f"{args.clock} time)")
    print(f"{'corpus':20} {'MB':>6} {'factsep MB/s':>13} {'bare MB/s':>10} {'Presidio MB/s':>14} "
          f"{'x Presidio':>11} {'bare/factsep':>13}")
    for r in results["corpora"]:
        print(f"{r['corpus']:20} {r['mb']:6.2f} {r['factsep_mb_s']:13.2f} {r['bare_pass_mb_s']:10.2f} "
              f"{r['presidio_mb_s']:14.4f} {r['factsep_vs_presidio']:11.1f} {r['bare_vs_factsep']:13.2f}")
    print("text factsep has not seen (a fresh detector warmed on other documents of the corpus):")
    for r in results["corpora"]:
        print(f"{r['corpus']:20} {r['mb']:6.2f} {r['factsep_unseen_mb_s']:13.2f} {r['bare_pass_mb_s']:10.2f} "
              f"{r['presidio_mb_s']:14.4f} {r['unseen_vs_presidio']:11.1f} {r['bare_vs_unseen']:13.2f}")
    for r in results["corpora"]:
        print(f"{r['corpus']:20} union-of-patterns bare pass {r['union_bare_pass_mb_s']:.2f} MB/s, "
              f"factsep without context {r['factsep_no_context_mb_s']:.2f} MB/s")
    for h in results["hostile"]:
        print(f"hostile {h['input']:14} 0.5 MB {h['t_1x_s']:.3f}s  1 MB {h['t_2x_s']:.3f}s  ratio {h['ratio_2x_1x']}")


if __name__ == "__main__":
    main()
