"""Peak memory of ``factsep scan`` against input size: is it bounded by the batch, not the corpus?

Writes synthetic JSONL corpora of 20, 100 and 200 MB (one file each, so one shard and one worker:
the worst case for a per-shard accumulation), plus one file holding a single huge record, runs
``python -m factsep scan FILE --out OUT --workers 1`` on each in its own subprocess and reports that
process's peak RSS (``os.wait4``'s ``ru_maxrss``). Documents are prose with phone numbers, e-mail
addresses, UUIDs, hex digests, card-like numbers and random identifiers, every value distinct, so
any cache or list that grows with the values read shows up as RSS growing with the input.

The figure that matters is the ratio of the largest corpus's peak to the smallest's (flat means
~1.0); absolute figures depend on the machine and the Python build. Each size runs ``--repeat``
times and the median is reported.

    python bench/memory.py                          # 20, 100, 200 MB and a 50 MB record
    python bench/memory.py --sizes 20 200 --repeat 1 --record-mb 0
    python bench/memory.py --json bench-memory.json
    python bench/memory.py --sizes --record-mb 0 --finalize-sizes 20 100 200   # finalize alone
    python bench/memory.py --repeat 1 --fact-every 800 --sample-every 2 --json m.json   # sparser facts
    python bench/memory.py --probe 20 --fact-every 800          # RSS, Arrow and cache bytes as it reads
    python bench/memory.py --sizes 200 --shard-mb 0 ...         # one shard per file (no range shards)

``--finalize-sizes`` measures the end-of-scan step (corpus counts, the dataset and span writes,
kind statistics) without the hours of detection a 200 MB corpus takes on a small machine: it scans
a ``--seed-mb`` corpus once, then builds for each size an OUT of *one* shard holding the seed's
documents and detections repeated to that size, each copy with fresh value hashes (every value
distinct, as in a corpus that size), and runs ``materialize`` on it in a child process.

``--fact-every BYTES`` makes the whole-scan corpora sparser: one fact per BYTES of prose on average,
every value still distinct. Why this is a fair measure: memory grows per distinct value (counts),
per span (the parts written, kind statistics) and with the detector's caches (one entry per distinct
candidate, bounded by ``CACHE_BYTES``), not per byte of prose. At the default density detection runs
~0.015-0.06 MB/s here, so a 200 MB scan takes hours; at one fact per 800 bytes it takes minutes and
still fills the caches to their bound within the first ~20 MB (see ``--probe``). So the two modes
together cover it: ``--finalize-sizes`` puts full density (1 M distinct values at 200 MB) through the
end-of-scan step, and ``--fact-every`` puts reading, detection, caches, spans and writing through
end to end at every size. ``--sample-every`` adds each scan's RSS against MB read (``/proc``), so the
shard phase and the end-of-scan step can be told apart.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

_WORDS = (
    "the report lists a contact for the office and the shipment left on time while the team kept "
    "notes about invoices meetings travel plans orders and the weather in several cities"
).split()


def _phone(rng: random.Random) -> str:
    return f"+1 {rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"


def _fact(rng: random.Random) -> str:
    pick = rng.randrange(6)
    if pick == 0:
        return f"call {_phone(rng)}"
    if pick == 1:
        return f"mail {uuid.UUID(int=rng.getrandbits(128)).hex[:10]}@example{rng.randint(1, 999)}.org"
    if pick == 2:
        return f"request id {uuid.UUID(int=rng.getrandbits(128), version=4)}"
    if pick == 3:
        return f"commit {rng.getrandbits(160):040x}"
    if pick == 4:
        return f"order ref {''.join(rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ23456789') for _ in range(12))}"
    return f"ticket #{rng.randint(10_000, 9_999_999)}"


def _doc(rng: random.Random, target_chars: int, fact_every: int | None = None) -> str:
    """Prose of about ``target_chars``; a fact after half the sentences (about one per 100 to 150
    characters), or, with ``fact_every``, after a sentence with probability its length over
    ``fact_every`` (one fact per that many characters on average)."""
    parts: list[str] = []
    size = 0
    while size < target_chars:
        piece = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 18)))
        if rng.random() < (0.5 if fact_every is None else (len(piece) + 2) / fact_every):
            piece += " " + _fact(rng)
        parts.append(piece + ".")
        size += len(piece) + 2
    return " ".join(parts)


def write_corpus(path: Path, megabytes: float, seed: int, fact_every: int | None = None) -> int:
    """A JSONL file of about ``megabytes`` MB of ~2 KB documents; returns the number of documents."""
    rng = random.Random(seed)
    limit = int(megabytes * 1_000_000)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        written = 0
        while written < limit:
            line = json.dumps({"id": f"d{n}", "text": _doc(rng, rng.randint(800, 3200), fact_every)}) + "\n"
            fh.write(line)
            written += len(line)
            n += 1
    return n


def write_one_record(path: Path, megabytes: float, seed: int, fact_every: int | None = None) -> None:
    """A JSONL file holding one document of about ``megabytes`` MB."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "huge", "text": _doc(rng, int(megabytes * 1_000_000), fact_every)}) + "\n")


def _atomically(path: Path, write: Any) -> None:
    """Write a corpus under a temporary name, so an interrupted run never leaves a short one behind."""
    tmp = path.with_name(path.name + ".part")
    write(tmp)
    tmp.rename(path)


def _sample(pid: int, every: float, into: list[tuple[float, float, float]], t0: float) -> None:
    """Append (seconds, RSS MB, MB read so far) of process ``pid`` every ``every`` seconds until it ends.

    The bytes read are ``/proc/PID/io``'s ``rchar`` (every read, the input's included), so RSS can be
    plotted against how far into the input the scan is: a shard phase that grows with the input shows
    as RSS rising with MB read, caches filling to a bound as a rise that levels off."""
    while True:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            io = Path(f"/proc/{pid}/io").read_text()
        except OSError:
            return
        rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        if rss == 0:  # a zombie: the process has ended
            return
        rchar = next((int(line.split()[1]) for line in io.splitlines() if line.startswith("rchar:")), 0)
        into.append((round(time.perf_counter() - t0, 2), round(rss / 1024, 1), round(rchar / 1e6, 2)))
        time.sleep(every)


def _out_counts(out: Path) -> dict[str, Any]:
    """Read, written and quarantined records, from the manifest or, when the scan wrote none (every
    record quarantined), from the quarantine parts."""
    manifest = out / "manifest.json"
    if manifest.exists():
        counts = json.loads(manifest.read_text())["counts"]
        return {k: counts.get(k) for k in ("read", "written", "quarantined", "quarantine_reasons")}
    from factsep.report import read_quarantine

    reasons = read_quarantine(out).reasons
    return {"read": None, "written": 0, "quarantined": sum(reasons.values()), "quarantine_reasons": reasons}


def _shard_config(work: Path, shard_mb: float | None) -> list[str]:
    """``--config`` arguments setting ``[scan] shard_bytes`` (none: the scan's default)."""
    if shard_mb is None:
        return []
    path = work / f"shard-{shard_mb:g}mb.toml"
    path.write_text(f"[scan]\nshard_bytes = {int(shard_mb * 2**20)}\n")
    return ["--config", str(path)]


def run_scan(corpus: Path, out: Path, batch_size: int, sample_every: float = 0.0,
             extra: list[str] | None = None) -> dict[str, Any]:
    """``factsep scan`` in a child process; its peak RSS (``os.wait4``), wall time and summary, and
    with ``sample_every`` an RSS timeline (see ``_sample``)."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "factsep", "scan", str(corpus), "--out", str(out), "--workers", "1"]
    cmd += ["--batch-size", str(batch_size), "--json", *(extra or [])]
    timeline: list[tuple[float, float, float]] = []
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=stderr)
        if sample_every > 0:
            threading.Thread(target=_sample, args=(proc.pid, sample_every, timeline, t0), daemon=True).start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        errors = stderr.read().decode()
        if proc.returncode == 1 and "no document could be read" in errors:  # a record over the bound
            summary = {"written": 0, "spans": 0}
        elif proc.returncode != 0:
            raise SystemExit(f"scan of {corpus} failed ({proc.returncode}): {errors[-2000:]}")
        else:
            summary = json.loads(stdout.read())
    rss_mb = usage.ru_maxrss / 1024  # KiB on Linux
    return {"peak_rss_mb": rss_mb, "seconds": seconds, "written": summary["written"], "spans": summary["spans"],
            "counts": _out_counts(out), "timeline": timeline}


def _child_peak(cmd: list[str]) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of a child process running ``cmd``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryFile() as stderr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            stderr.seek(0)
            raise SystemExit(f"{cmd[:4]} failed: {stderr.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024, seconds


def build_wide_out(seed_out: Path, dst: Path, copies: int, seed: int) -> tuple[int, int]:
    """An OUT of one shard: the seed OUT's only shard repeated ``copies`` times, fresh value hashes
    in every copy. Returns (documents, spans)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    shutil.rmtree(dst, ignore_errors=True)
    for sub in ("state/docs", "state/detections", "state/shards", "dataset", "spans", "quarantine"):
        (dst / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(seed_out / "state" / "hash_key.json", dst / "state" / "hash_key.json")
    run = json.loads((seed_out / "state" / "run.json").read_text())
    (sid,) = [s["shard_id"] for s in run["shards"]]
    docs = pq.read_table(seed_out / "state" / "docs" / f"part-{sid}.parquet")
    det = pq.read_table(seed_out / "state" / "detections" / f"part-{sid}.parquet")
    width = len(det.column("value_hash")[0].as_py())
    rows = det.column("__row").to_numpy()
    hash_at = det.schema.get_field_index("value_hash")
    row_at = det.schema.get_field_index("__row")
    with pq.ParquetWriter(dst / "state" / "docs" / f"part-{sid}.parquet", docs.schema) as dw, \
            pq.ParquetWriter(dst / "state" / "detections" / f"part-{sid}.parquet", det.schema) as sw:
        for k in range(copies):
            dw.write_table(docs, row_group_size=2048)
            fresh = pa.array([f"{rng.getrandbits(4 * width):0{width}x}" for _ in range(det.num_rows)], pa.string())
            copy = det.set_column(hash_at, det.schema.field("value_hash"), fresh)
            copy = copy.set_column(row_at, det.schema.field("__row"), pa.array(rows + k * docs.num_rows, pa.int64()))
            sw.write_table(copy, row_group_size=65536)
    (dst / "state" / "run.json").write_text(json.dumps(run))
    return docs.num_rows * copies, det.num_rows * copies


def finalize_rows(work: Path, sizes: list[float], seed_mb: float, batch_size: int, repeat: int) -> list[dict[str, Any]]:
    seed_corpus = work / f"seed-{seed_mb:g}mb.jsonl"
    if not seed_corpus.exists():
        _atomically(seed_corpus, lambda tmp: write_corpus(tmp, seed_mb, seed=int(seed_mb * 1000)))
    seed_out = work / "seed-out"
    if not (seed_out / "manifest.json").exists():
        run_scan(seed_corpus, seed_out, batch_size)
    rows = []
    for mb in sizes:
        copies = max(1, round(mb / seed_mb))
        out = work / f"finalize-{mb:g}mb"
        docs, spans = build_wide_out(seed_out, out, copies, seed=int(mb))
        code = "import sys; from factsep import hashkey; from factsep.run.materialize import materialize; " \
               "hashkey.activate(sys.argv[1]); materialize(sys.argv[1])"
        runs = [_child_peak([sys.executable, "-c", code, str(out)]) for _ in range(repeat)]
        shutil.rmtree(out, ignore_errors=True)
        rows.append({
            "input": f"finalize of {copies * seed_mb:g} MB", "mb": round(copies * seed_mb, 1), "docs": docs,
            "spans": spans, "peak_rss_mb": round(statistics.median(r[0] for r in runs), 1),
            "peak_rss_runs": [round(r[0], 1) for r in runs], "wall_s": round(statistics.median(r[1] for r in runs), 1),
        })
    return rows


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024


def _mallinfo() -> dict[str, float] | None:
    """glibc's heap in MB: in use (native code and large Python objects), free but kept, mmapped."""
    import ctypes

    class _Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Info
    except (OSError, AttributeError):
        return None
    info = libc.mallinfo2()
    return {"in_use": round(info.uordblks / 2**20, 1), "free": round(info.fordblks / 2**20, 1),
            "mmap": round(info.hblkhd / 2**20, 1)}


def _peak_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def _reset_peak() -> None:
    """Reset this process's peak RSS (VmHWM) to its current RSS, so a phase's own peak can be read."""
    Path("/proc/self/clear_refs").write_text("5")


def probe_child(corpus: Path, out: Path, batch_size: int, every_mb: float, types: bool,
                trace_from: float | None = None, shard_mb: float | None = None) -> None:
    """Scan ``corpus`` in this process and print, every ``every_mb`` MB read, one JSON line: RSS,
    Arrow's allocated bytes, Python's allocated blocks, and each detector cache's estimated bytes
    and entries (with ``types``, the ten object types that grew most since the first line).

    Why: the shard phase's RSS rises with the input; this says whether the detector caches (bounded
    by ``CACHE_BYTES``) account for the rise, or something else does."""
    import collections
    import gc

    import pyarrow as pa

    from factsep import scan as scan_mod

    done = {"bytes": 0, "docs": 0, "next": 0.0}
    first: dict[str, int] = {}
    first_snap: dict[str, Any] = {}

    def line(phase: str) -> None:
        caches: dict[str, Any] = {}
        for det in scan_mod._DETECTORS.values():
            for name in ("_cache", "_readings", "_confidences", "_cannot_matter", "_bits_cache"):
                c = getattr(det, name, None)
                if c is not None:
                    caches[name] = [round(getattr(c, "nbytes", 0) / 2**20, 1), len(c)]
        row: dict[str, Any] = {"phase": phase, "mb_read": round(done["bytes"] / 1e6, 2), "docs": done["docs"],
                               "rss_mb": round(_rss_mb(), 1), "arrow_mb": round(pa.total_allocated_bytes() / 2**20, 1),
                               "py_blocks": sys.getallocatedblocks(), "caches_mib_entries": caches}
        info = _mallinfo()
        if info:
            row["malloc_mb"] = info
        nlp = next((getattr(getattr(det, "context", None), "nlp", None) for det in scan_mod._DETECTORS.values()), None)
        if nlp is not None:
            row["spacy_strings"] = len(nlp.vocab.strings)
        if trace_from is not None and done["bytes"] / 1e6 >= trace_from:
            import tracemalloc

            if not tracemalloc.is_tracing():  # from here on: what is allocated after MB and stays
                tracemalloc.start(1)
            snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
            if "snap" in first_snap:  # against the previous line: cache entries replacing untraced ones net out
                diff = snap.compare_to(first_snap["snap"], "lineno")[:8]
                row["traced_growth"] = [(str(d.traceback), round(d.size_diff / 2**20, 2), d.count_diff) for d in diff]
            first_snap["snap"] = snap
            row["traced_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 1)
        if types:
            count = collections.Counter(type(o).__name__ for o in gc.get_objects())
            if not first:
                first.update(count)
            row["grew"] = sorted(((n, c - first.get(n, 0)) for n, c in count.items()), key=lambda kv: -kv[1])[:10]
        print(json.dumps(row), flush=True)

    def progress(ev: Any) -> None:
        done["bytes"] += ev.bytes
        done["docs"] += ev.docs
        if done["bytes"] / 1e6 >= done["next"]:
            line("shard")
            done["next"] += every_mb

    from factsep.run import materialize as mat_mod

    def phased(name: str, fn: Any) -> Any:
        """``fn`` that prints RSS before and after, and its own peak (VmHWM reset before it runs)."""
        def wrapper(*a: Any, **k: Any) -> Any:
            before = _rss_mb()
            _reset_peak()
            try:
                return fn(*a, **k)
            finally:
                print(json.dumps({"phase": name, "rss_before_mb": round(before, 1), "rss_after_mb": round(_rss_mb(), 1),
                                  "peak_mb": round(_peak_mb(), 1),
                                  "arrow_mb": round(pa.total_allocated_bytes() / 2**20, 1)}), flush=True)
        return wrapper

    scan_mod._write_dataset = phased("write docs part", scan_mod._write_dataset)
    scan_mod.release_detectors = phased("release detectors", scan_mod.release_detectors)
    mat_mod.materialize = phased("materialize", mat_mod.materialize)
    shutil.rmtree(out, ignore_errors=True)
    line("start")
    config = scan_mod.ScanConfig(workers=1, batch_size=batch_size)
    if shard_mb is not None:
        config.shard_bytes = int(shard_mb * 2**20)
    scan_mod.scan([str(corpus)], str(out), config, progress=progress)
    line("end")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=float, nargs="*", default=[20, 100, 200], help="corpus sizes in MB")
    ap.add_argument("--record-mb", type=float, default=50, help="size of the one-record file (0: none)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size (the median is reported)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--workdir", type=Path, default=None, help="where corpora go (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--finalize-sizes", type=float, nargs="*", default=[],
                    help="sizes (MB) for finalize alone on one shard of distinct values (see above)")
    ap.add_argument("--seed-mb", type=float, default=2, help="corpus scanned once for --finalize-sizes")
    ap.add_argument("--sample-every", type=float, default=0.0, metavar="SECONDS",
                    help="also sample each whole scan's RSS and MB read this often (timelines in --json)")
    ap.add_argument("--fact-every", type=int, default=None, metavar="BYTES",
                    help="whole-scan corpora with one fact per BYTES of prose on average, every value "
                         "distinct (default: after half the sentences, ~one per 100-150 bytes)")
    ap.add_argument("--probe", type=float, default=0, metavar="MB",
                    help="instead: scan an MB corpus in one child and print RSS, Arrow and cache bytes as it goes")
    ap.add_argument("--probe-every", type=float, default=1.0, metavar="MB")
    ap.add_argument("--probe-types", action="store_true", help="with --probe: object types that grew (slow)")
    ap.add_argument("--probe-trace", type=float, default=None, metavar="MB",
                    help="with --probe: tracemalloc from MB read on, and what grew since the line before (slow)")
    ap.add_argument("--shard-mb", type=float, default=None, metavar="MiB",
                    help="[scan] shard_bytes in MiB (0: one shard per file; default: the scan's)")
    ap.add_argument("--probe-child", nargs=2, type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe_child:
        probe_child(args.probe_child[0], args.probe_child[1], args.batch_size, args.probe_every, args.probe_types,
                    args.probe_trace, args.shard_mb)
        return

    work = args.workdir or Path(tempfile.mkdtemp(prefix="factsep-bench-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    dens = "" if args.fact_every is None else f"-every{args.fact_every}"
    if args.probe > 0:
        path = work / f"corpus-{args.probe:g}mb{dens}.jsonl"
        if not path.exists():
            _atomically(path, lambda tmp: write_corpus(tmp, args.probe, int(args.probe), args.fact_every))
        cmd = [sys.executable, __file__, "--probe-child", str(path), str(work / "probe-out"),
               "--batch-size", str(args.batch_size), "--probe-every", str(args.probe_every)]
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        cmd += ["--probe-types"] if args.probe_types else []
        cmd += ["--probe-trace", str(args.probe_trace)] if args.probe_trace is not None else []
        cmd += ["--shard-mb", str(args.shard_mb)] if args.shard_mb is not None else []
        subprocess.run(cmd, env=env, check=True)
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
        return
    cases: list[tuple[str, Path, float]] = []
    for mb in args.sizes:
        path = work / f"corpus-{mb:g}mb{dens}.jsonl"
        if not path.exists():
            _atomically(path, lambda tmp, mb=mb: write_corpus(tmp, mb, seed=int(mb), fact_every=args.fact_every))
        cases.append((f"{mb:g} MB corpus", path, path.stat().st_size / 1e6))
    if args.record_mb > 0:
        path = work / f"record-{args.record_mb:g}mb{dens}.jsonl"
        if not path.exists():
            _atomically(path, lambda tmp: write_one_record(tmp, args.record_mb, seed=7, fact_every=args.fact_every))
        cases.append((f"one {args.record_mb:g} MB record", path, path.stat().st_size / 1e6))

    results: list[dict[str, Any]] = []
    print(f"{'input':>22} {'MB':>7} {'docs':>8} {'peak RSS MB (median)':>21} {'runs':>24} {'wall s':>7}")
    for name, path, mb in cases:
        extra = _shard_config(work, args.shard_mb)
        runs = [run_scan(path, work / "out", args.batch_size, args.sample_every, extra) for _ in range(args.repeat)]
        peaks = [r["peak_rss_mb"] for r in runs]
        row = {
            "input": name,
            "mb": round(mb, 1),
            "docs": runs[0]["written"],
            "spans": runs[0]["spans"],
            "peak_rss_mb": round(statistics.median(peaks), 1),
            "peak_rss_runs": [round(p, 1) for p in peaks],
            "wall_s": round(statistics.median(r["seconds"] for r in runs), 1),
            "counts": runs[0]["counts"],
        }
        if args.sample_every > 0:
            row["timeline"] = runs[0]["timeline"]
        results.append(row)
        print(
            f"{name:>22} {row['mb']:>7} {row['docs']:>8} {row['peak_rss_mb']:>21} "
            f"{str(row['peak_rss_runs']):>24} {row['wall_s']:>7}  {row['counts']}", flush=True
        )
        if args.json:  # after every case, so a long run that stops keeps what it measured
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    for row in finalize_rows(work, args.finalize_sizes, args.seed_mb, args.batch_size, args.repeat):
        results.append(row)
        print(
            f"{row['input']:>22} {row['mb']:>7} {row['docs']:>8} {row['peak_rss_mb']:>21} "
            f"{str(row['peak_rss_runs']):>24} {row['wall_s']:>7}  ({row['spans']} spans)"
        )
    finals = [r for r in results if r["input"].startswith("finalize")]
    if len(finals) >= 2:
        ratio = finals[-1]["peak_rss_mb"] / finals[0]["peak_rss_mb"]
        print(f"peak RSS {finals[-1]['input']} / {finals[0]['input']}: {ratio:.2f}")
    corpora = [r for r in results if r["input"].endswith("corpus")]
    if len(corpora) >= 2:
        ratio = corpora[-1]["peak_rss_mb"] / corpora[0]["peak_rss_mb"]
        print(f"peak RSS {corpora[-1]['input']} / {corpora[0]['input']}: {ratio:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
