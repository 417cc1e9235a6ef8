"""Quick CPU-time A/B of detection speed: run once per tree, compare the printed MB/s.

bench/speed.py is the full benchmark (Presidio, the bare pass, hostile inputs); this is the short
check for a change: a fresh detector over new text (not seen), then the same text again (seen).

    PYTHONPATH=/tmp/old_tree python bench/speed_ab.py
    PYTHONPATH=. python bench/speed_ab.py
"""

from __future__ import annotations

import statistics
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


def main() -> None:
    for name, docs in (("changelogs", changelog_docs(1.0)), ("dense", dense_docs(0.5))):
        results = [cpu_seconds(docs) for _ in range(2)]
        mb = sum(map(len, docs)) / 1e6
        unseen = statistics.median(r[0] for r in results)
        seen = statistics.median(r[1] for r in results)
        print(f"{name}: not seen {mb / unseen:.3f} MB/s, seen {mb / seen:.3f} MB/s")


if __name__ == "__main__":
    main()
