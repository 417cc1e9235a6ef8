"""Shape classification (factsep.detection.numerals) in the native core vs the Python rules, one process.

``speed``: the step alone and whole detection, each engine, medians of ``--repeats`` runs.

- *step*: ``references`` of every document and ``not_a_fact`` of every call the detector makes on
  them (recorded once from a detection run, then replayed through each engine; the core's side
  includes building its per-document view of the text);
- *detection*: MB/s of a fresh detector over text it has not seen ("unseen") and of the same
  detector run again over the same text ("seen": caches warm, the per-occurrence cost), engines
  alternating run by run.

``same-spans``: the detector's spans (offsets, kind, subtype, confidence, decision, detector) with
the core and with the Python rules, on every evaluation set, samples/, the multilingual sentences,
2 MB of Debian changelogs and the three real-text samples; exits 1 on any difference.

    python bench/native_numerals.py speed --mb 1 --repeats 5
    python bench/native_numerals.py same-spans
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from speed import changelog_docs, dense_docs  # noqa: E402

from factsep import Detector  # noqa: E402
from factsep.detection import detector as detector_module  # noqa: E402
from factsep.detection import numerals  # noqa: E402

Call = tuple[str, int, int, str]


def _mb(docs: Sequence[str]) -> float:
    return sum(len(d.encode("utf-8", "surrogatepass")) for d in docs) / 1e6


def recorded_calls(docs: Sequence[str]) -> list[Call]:
    """Every not_a_fact call one detection run over ``docs`` makes, in order."""
    calls: list[Call] = []
    real = detector_module.not_a_fact

    def record(text: str, start: int, end: int, kind: str) -> str | None:
        calls.append((text, start, end, kind))
        return real(text, start, end, kind)

    detector_module.not_a_fact = record
    try:
        for start in range(0, len(docs), 256):
            for _ in Detector().detect_batch(list(docs[start:start + 256])):
                pass
    finally:
        detector_module.not_a_fact = real
    return calls


def _timed(work: Callable[[], object]) -> float:
    t = time.perf_counter()
    work()
    return time.perf_counter() - t


def step(name: str, docs: Sequence[str], repeats: int) -> None:
    calls = recorded_calls(docs)
    refs = {"python": numerals.references_python, "native": numerals.references}
    naf = {"python": numerals.not_a_fact_python, "native": numerals.not_a_fact}
    times: dict[str, list[float]] = {f"{w} {e}": [] for w in ("references", "not_a_fact") for e in refs}
    for _ in range(repeats):
        for engine in ("python", "native"):
            numerals.set_engine(engine)
            f = refs[engine]
            times[f"references {engine}"].append(_timed(lambda f=f: [f(d) for d in docs]))
            g = naf[engine]
            times[f"not_a_fact {engine}"].append(_timed(lambda g=g: [g(*c) for c in calls]))
    numerals.set_engine("native")
    mb = _mb(docs)
    print(f"{name}: {mb:.2f} MB, {len(docs)} documents, {len(calls)} not_a_fact calls")
    for what in ("references", "not_a_fact"):
        py, rs = statistics.median(times[f"{what} python"]), statistics.median(times[f"{what} native"])
        print(f"  {what:<11} python {py * 1e3:8.1f} ms  native {rs * 1e3:7.1f} ms  ratio {py / rs:5.1f}x"
              f"  ({mb / py:.1f} -> {mb / rs:.1f} MB/s)")


def detection(name: str, docs: Sequence[str], repeats: int) -> None:
    rates: dict[str, list[float]] = {f"{e} {p}": [] for e in ("python", "native") for p in ("unseen", "seen")}
    mb = _mb(docs)

    def run(d: Detector) -> None:
        for start in range(0, len(docs), 256):
            for _ in d.detect_batch(list(docs[start:start + 256])):
                pass

    for i in range(repeats):
        for engine in (("python", "native") if i % 2 == 0 else ("native", "python")):
            numerals.set_engine(engine)
            d = Detector()
            rates[f"{engine} unseen"].append(mb / _timed(lambda d=d: run(d)))
            rates[f"{engine} seen"].append(mb / _timed(lambda d=d: run(d)))
    numerals.set_engine("native")
    for p in ("unseen", "seen"):
        py, rs = statistics.median(rates[f"python {p}"]), statistics.median(rates[f"native {p}"])
        print(f"  detection {p:<6} python {py:5.2f} MB/s  native {rs:5.2f} MB/s  ratio {rs / py:4.2f}x")


# ---- same spans -----------------------------------------------------------------------------------------

def corpora() -> dict[str, list[str]]:
    import pyarrow.parquet as pq
    from quality import load_docs
    from realtext import build
    from realtext_multilingual import docs as multilingual

    samples: list[str] = []
    for path in sorted((ROOT / "samples").rglob("*")):
        if path.suffix == ".parquet":
            samples.extend(str(t) for t in pq.read_table(path).column("text").to_pylist())
        elif path.name.endswith(".gz"):
            samples.extend(gzip.open(path, "rt", encoding="utf-8", errors="replace").read().splitlines())
        elif path.is_file():
            samples.append(path.read_text(encoding="utf-8", errors="replace"))
    out: dict[str, list[str]] = {}
    for d in load_docs(Path("/work/shared/eval")):
        out.setdefault(f"eval/{d.source}" if hasattr(d, "source") else "eval", []).append(d.text)
    out["samples"] = samples
    out["multilingual"] = [d.text for d in multilingual()]
    out["changelogs 2 MB"] = changelog_docs(2.0)
    out["realtext"] = [d.text for d in build()]
    out["realtext fresh"] = [d.text for d in build(sample="fresh")]
    out["realtext fresh2"] = [d.text for d in build(sample="fresh2")]
    return out


def spans(docs: Sequence[str], engine: str) -> list[tuple[object, ...]]:
    numerals.set_engine(engine)
    d = Detector()
    rows: list[tuple[object, ...]] = []
    for start in range(0, len(docs), 256):
        for i, found in enumerate(d.detect_batch(list(docs[start:start + 256])), start):
            rows.extend((i, s.start, s.end, s.kind, s.subtype, s.confidence, s.decision, s.detector) for s in found)
    numerals.set_engine("native")
    return rows


def same_spans(show: int) -> int:
    bad = 0
    for name, docs in corpora().items():
        want, got = spans(docs, "python"), spans(docs, "native")
        diff = set(want) ^ set(got)
        print(f"{name}: {len(docs)} documents, {_mb(docs):.2f} MB, {len(want)} spans, "
              f"{'same' if want == got else f'{len(diff)} differ'}")
        for r in sorted(diff, key=str)[:show]:
            print("   ", "python" if r in set(want) else "native", r[:5])
        bad += want != got
    return 1 if bad else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--mb", type=float, default=1.0)
    s.add_argument("--repeats", type=int, default=5)
    s.add_argument("--no-detection", action="store_true", help="the step alone")
    c = sub.add_parser("same-spans")
    c.add_argument("--show", type=int, default=5)
    args = ap.parse_args()
    if numerals.engine() != "native":
        raise SystemExit("factsep._native is not built with the numerals core: see native/")
    if args.cmd == "same-spans":
        raise SystemExit(same_spans(args.show))
    for name, docs in (("changelogs", changelog_docs(args.mb)), ("dense", dense_docs(args.mb))):
        step(name, docs, args.repeats)
        if not args.no_detection:
            detection(name, docs, args.repeats)


if __name__ == "__main__":
    main()
