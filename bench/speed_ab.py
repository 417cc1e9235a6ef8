"""Quick CPU-time A/B of detection speed: run once per tree, compare the printed MB/s.

bench/speed.py is the full benchmark (Presidio, the bare pass, hostile inputs); this is the short
check for a change: a fresh detector over new text (not seen), then the same text again (seen).

    PYTHONPATH=/tmp/old_tree python bench/speed_ab.py
    PYTHONPATH=. python bench/speed_ab.py
    python bench/speed_ab.py --trees /tmp/old_tree . --rounds 3   # alternated, in one run
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import changelog_docs, dense_docs  # noqa: E402

from factsep import Detector  # noqa: E402


def cpu_seconds(docs: list[str]) -> tuple[float, float]:
    """(not seen, seen): a fresh detector over the documents, then the same documents again."""
    detector = Detector()
    list(detector.detect_batch(docs[:5]))  # imports and lazy tables, outside the timing
    runs = []
    for _ in range(2):
        start = time.process_time()
        for i in range(0, len(docs), 256):
            list(detector.detect_batch(docs[i:i + 256]))
        runs.append(time.process_time() - start)
    return runs[0], runs[1]


def alternate(trees: list[str], rounds: int) -> None:
    """Run this script once per tree (its PYTHONPATH) in turn, ``rounds`` times: the trees share
    the machine's load, so their ratio holds on a busy machine where one run after another does not."""
    for i in range(rounds):
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)}
            out = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True, check=True)
            for line in out.stdout.splitlines():
                print(f"round {i + 1} {tree}: {line}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trees", nargs="+", help="source trees to alternate (each one's PYTHONPATH)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.trees:
        alternate(args.trees, args.rounds)
        return
    for name, docs in (("changelogs", changelog_docs(1.0)), ("dense", dense_docs(0.5))):
        results = [cpu_seconds(docs) for _ in range(2)]
        mb = sum(map(len, docs)) / 1e6
        unseen = statistics.median(r[0] for r in results)
        seen = statistics.median(r[1] for r in results)
        print(f"{name}: not seen {mb / unseen:.3f} MB/s, seen {mb / seen:.3f} MB/s")


if __name__ == "__main__":
    main()
