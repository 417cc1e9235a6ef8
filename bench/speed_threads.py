"""Detection on 1 and 2 threads in one process, beside the bare candidate pass (issue 15 item 3).

Issue 15 asks for two cores in one process at >= 1.8x one core, and detection within 3x of the bare
candidate pass. Only the native candidate pass (and the core's batch checks) run without the GIL
today; this measures what that gives the whole detector: the same documents, a fresh detector per
run (text not seen), the candidate pass's threads set to 1 and to 2 in turn, wall and CPU time,
medians of ``--repeats`` alternated runs; and the bare pass (``CandidateEngine.find_offsets``)
alone on the same batches.

    python bench/speed_threads.py --mb 1 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import changelog_docs, dense_docs  # noqa: E402

from factsep import Detector  # noqa: E402

BATCH = 256


def detection(docs: list[str], threads: int) -> tuple[float, float]:
    """(wall, CPU) seconds of a fresh detector over ``docs``, the candidate pass on ``threads``."""
    detector = Detector()
    detector.engine.threads = threads
    list(detector.detect_batch(docs[:5]))  # lazy tables, outside the timing
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(docs), BATCH):
        list(detector.detect_batch(docs[i:i + BATCH]))
    return time.perf_counter() - wall, time.process_time() - cpu


def bare_pass(docs: list[str], threads: int) -> float:
    """Wall seconds of the candidate pass alone, int32 buffers out."""
    engine = Detector().engine
    engine.threads = threads
    start = time.perf_counter()
    for i in range(0, len(docs), BATCH):
        engine.find_offsets(docs[i:i + BATCH])
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    for name, docs in (("changelogs", changelog_docs(args.mb)), ("dense", dense_docs(args.mb / 2))):
        mb = sum(map(len, docs)) / 1e6
        runs: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
        bare: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeats):
            for threads in (1, 2):
                runs[threads].append(detection(docs, threads))
                bare[threads].append(bare_pass(docs, threads))
        wall = {t: statistics.median(r[0] for r in runs[t]) for t in runs}
        cpu = {t: statistics.median(r[1] for r in runs[t]) for t in runs}
        bare_wall = {t: statistics.median(bare[t]) for t in bare}
        print(f"{name} ({mb:.2f} MB): detection wall 1 thread {mb / wall[1]:.3f} MB/s, 2 threads "
              f"{mb / wall[2]:.3f} MB/s ({wall[1] / wall[2]:.2f}x); CPU {mb / cpu[1]:.3f} / {mb / cpu[2]:.3f} MB/s; "
              f"bare pass wall {mb / bare_wall[1]:.1f} / {mb / bare_wall[2]:.1f} MB/s; "
              f"bare pass / detection (1 thread) {wall[1] / bare_wall[1]:.0f}x", flush=True)


if __name__ == "__main__":
    main()
