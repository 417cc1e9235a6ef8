"""Phone verdicts: the native core vs the phonenumbers package, on the same values in one process.

The values are every (text, region) pair the detector asks the phone kind about on Debian
changelogs and on the dense synthetic text (bench/speed.py's corpora). Per value: the package's
parse + is_valid_number + is_possible_number + region_code_for_number + format_number (what
phones.py asks), the core one value a call through ``phones.read`` (the detector's path), and the
core's batch call (``PhoneTables.verdicts``, the GIL released) on 1 and 2 threads. Then detection
MB/s with each engine, a fresh detector over text it has not seen, alternating engines.

    python bench/native_phone.py --mb 1 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import changelog_docs, dense_docs  # noqa: E402

from factsep import Detector  # noqa: E402
from factsep.kinds import phones  # noqa: E402

Pair = tuple[str, "str | None"]


def asked_pairs(docs: list[str]) -> list[Pair]:
    """The distinct (text, region) pairs the detector asks phones.read about, in order."""
    seen: list[Pair] = []
    original = phones.read

    def recording(text: str, region: str | None) -> phones.Reading | None:
        seen.append((text, region))
        return original(text, region)

    phones.read = recording
    try:
        detector = Detector()
        for i in range(0, len(docs), 256):
            list(detector.detect_batch(docs[i:i + 256]))
    finally:
        phones.read = original
    return list(dict.fromkeys(seen))


def best_of(repeats: int, work: Callable[[], object], clock: Callable[[], float] = time.process_time) -> float:
    """Median seconds of `repeats` runs: CPU time (a busy machine moves it least), wall time when
    threads run (process time adds theirs up)."""
    runs = []
    for _ in range(repeats):
        start = clock()
        work()
        runs.append(clock() - start)
    return statistics.median(runs)


def verdict_speed(pairs: list[Pair], repeats: int) -> dict[str, float]:
    tables = phones._TABLES
    texts, regions = [t for t, _ in pairs], [r for _, r in pairs]
    return {
        "phonenumbers": best_of(repeats, lambda: [phones.read_with_phonenumbers(t, r) for t, r in pairs]),
        "native, one a call": best_of(repeats, lambda: [phones.read(t, r) for t, r in pairs]),
        "native batch, 1 thread": best_of(repeats, lambda: tables.verdicts(texts, regions, True, 1)),
        "native batch, 2 threads (wall)": best_of(repeats, lambda: tables.verdicts(texts, regions, True, 2),
                                                  time.perf_counter),
    }


def detection_seconds(docs: list[str]) -> float:
    detector = Detector()
    list(detector.detect_batch(docs[:5]))  # imports and lazy tables, outside the timing
    start = time.process_time()
    for i in range(0, len(docs), 256):
        list(detector.detect_batch(docs[i:i + 256]))
    return time.process_time() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-detection", action="store_true", help="verdict speed only")
    args = ap.parse_args()
    if phones.engine() != "native":
        raise SystemExit("the native phone engine is off: build factsep._native (pip install -e .) "
                         "and unset FACTSEP_PHONE_ENGINE")
    corpora = {"changelogs": changelog_docs(args.mb), "dense": dense_docs(args.mb / 2)}
    for name, docs in corpora.items():
        pairs = asked_pairs(docs)
        speed = verdict_speed(pairs, args.repeats)
        base = speed["phonenumbers"]
        print(f"{name}: {len(pairs)} distinct (text, region) pairs, us a value (median of {args.repeats}):")
        for what, seconds in speed.items():
            print(f"  {what:32s} {seconds / len(pairs) * 1e6:8.2f} us  {base / seconds:6.1f}x")
    for name, docs in corpora.items() if not args.no_detection else ():
        mb = sum(map(len, docs)) / 1e6
        runs: dict[str, list[float]] = {"phonenumbers": [], "native": []}
        for _ in range(args.repeats):
            for engine in runs:
                phones.set_engine(engine)
                runs[engine].append(detection_seconds(docs))
        phones.set_engine("native")
        before, after = statistics.median(runs["phonenumbers"]), statistics.median(runs["native"])
        print(f"detection on {name} ({mb:.1f} MB, not seen, CPU time, median of {args.repeats}): "
              f"phonenumbers {mb / before:.3f} MB/s, native {mb / after:.3f} MB/s, {before / after:.2f}x")


if __name__ == "__main__":
    main()
