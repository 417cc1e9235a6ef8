"""The context step alone, Python reference vs the Rust automaton, on the reads detection makes.

Detection runs once over Debian changelogs (and the dense synthetic text) and every context read it
makes is recorded; the reads are then replayed on fresh readers, reference and native in turn,
--repeats times each, and the CPU seconds per replay are reported as medians with their ratio.

    python bench/native_context.py --mb 2 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import changelog_docs, dense_docs  # noqa: E402

from factsep import Detector  # noqa: E402
from factsep.detection.context import ContextReader  # noqa: E402


def record(docs: list[str]) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    read, may = ContextReader.read, ContextReader.may_mention

    def rec_read(self: ContextReader, text: str, start: int, end: int, pos: Any, neg: Any) -> Any:
        calls.append((True, text, start, end, tuple(pos), tuple(neg)))
        return read(self, text, start, end, pos, neg)

    def rec_may(self: ContextReader, text: str, start: int, end: int, words: tuple[str, ...]) -> bool:
        calls.append((False, text, start, end, words))
        return may(self, text, start, end, words)

    ContextReader.read, ContextReader.may_mention = rec_read, rec_may  # type: ignore[method-assign]
    try:
        detector = Detector()
        for i in range(0, len(docs), 256):
            list(detector.detect_batch(docs[i:i + 256]))
    finally:
        ContextReader.read, ContextReader.may_mention = read, may  # type: ignore[method-assign]
    return calls


def replay(native: bool, calls: list[tuple[Any, ...]]) -> float:
    reader = ContextReader(native=native)
    start = time.process_time()
    for c in calls:
        reader.read(*c[1:]) if c[0] else reader.may_mention(*c[1:])
    return time.process_time() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    for name, docs in (("changelogs", changelog_docs(args.mb)), ("dense", dense_docs(args.mb / 4))):
        calls = record(docs)
        ref, nat = [], []
        for _ in range(args.repeats):
            ref.append(replay(False, calls))
            nat.append(replay(True, calls))
        r, n = statistics.median(ref), statistics.median(nat)
        print(f"{name}: {len(calls)} reads, reference {r:.3f} s, native {n:.3f} s, "
              f"{r / n:.2f}x ({1e6 * r / len(calls):.1f} -> {1e6 * n / len(calls):.1f} us a read)")


if __name__ == "__main__":
    main()
