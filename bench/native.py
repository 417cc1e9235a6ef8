"""The candidate pass, native (factsep._native) against RE2, in one process on the same documents.

    python bench/native.py --mb 4 --repeats 5

Rates are MB of UTF-8 per second, the median of ``--repeats`` runs, each engine on the same batches
(``--batch`` documents, as the detector hands them over). "native offsets" is the bare pass
(int32 buffers), "native find" adds the Candidate objects the detector consumes today. Threads: 1
and 2 in one process. Also the hostile inputs at 1 and 2 MB, so linear time shows as a ratio ~2.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import changelog_docs, dense_docs  # noqa: E402

from factsep.detection.candidates import CandidateEngine  # noqa: E402


def batches(docs: Sequence[str], size: int) -> list[Sequence[str]]:
    return [docs[i:i + size] for i in range(0, len(docs), size)]


def rate(run: Callable[[], object], mb: float, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return mb / statistics.median(times)


def corpus_rates(name: str, docs: list[str], batch: int, repeats: int) -> None:
    mb = sum(len(d.encode("utf-8", "surrogatepass")) for d in docs) / 1e6
    parts = batches(docs, batch)
    re2 = CandidateEngine([], engine="re2")
    one = CandidateEngine([], engine="native", threads=1)
    two = CandidateEngine([], engine="native", threads=2)
    assert [c for b in parts for c in re2.find(b)] == [c for b in parts for c in one.find(b)], "spans differ"
    rows = {
        "re2 find": rate(lambda: [re2.find(b) for b in parts], mb, repeats),
        "native find, 1 thread": rate(lambda: [one.find(b) for b in parts], mb, repeats),
        "native offsets, 1 thread": rate(lambda: [one.find_offsets(b) for b in parts], mb, repeats),
        "native offsets, 2 threads": rate(lambda: [two.find_offsets(b) for b in parts], mb, repeats),
        "native offsets, 2 threads, whole corpus one batch": rate(lambda: two.find_offsets(docs), mb, repeats),
    }
    base = rows["re2 find"]
    print(f"{name}: {mb:.1f} MB, {len(docs)} documents, batches of {batch}")
    for label, value in rows.items():
        print(f"  {label:<52} {value:8.1f} MB/s  {value / base:6.1f}x re2")
    scaling = rows["native offsets, 2 threads"] / rows["native offsets, 1 thread"]
    print(f"  2 threads / 1 thread (offsets): {scaling:.2f}x")


def hostile(repeats: int) -> None:
    re2 = CandidateEngine([], engine="re2")
    one = CandidateEngine([], engine="native", threads=1)
    cases = {"digits": "4", "no spaces": "ab1-cd2_ef3.", "@.": "@.", "chain": "12 "}
    print("hostile input, seconds for 1 MB and 2 MB (linear: ratio ~2)")
    for name, unit in cases.items():
        out = []
        for engine in (re2, one):
            secs = []
            for size in (1_000_000, 2_000_000):
                text = [unit * (size // len(unit))]
                secs.append(1.0 / rate(lambda: engine.find(text), 1.0, repeats))  # noqa: B023
            out.append(f"{engine.engine} {secs[0]:.3f}/{secs[1]:.3f} s ({secs[1] / secs[0]:.1f}x)")
        print(f"  {name:<10} " + "   ".join(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=4.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (2 threads only help on idle cores)")
    corpus_rates("Debian changelogs", changelog_docs(args.mb), args.batch, args.repeats)
    corpus_rates("dense synthetic", dense_docs(args.mb / 2), args.batch, args.repeats)
    hostile(args.repeats)


if __name__ == "__main__":
    main()
