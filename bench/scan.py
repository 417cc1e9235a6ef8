"""End-to-end scan benchmark: MB/s and peak RSS at 1x and 8x the corpus, against baselines.

The corpus is samples/ as scripts/make_samples.py writes it; 8x is eight such corpora with
different seeds (so 8x the documents, none repeated).

Each measurement runs in its own process so its peak RSS is its own (``os.wait4``); speed is per
CPU-second of that process (``time.process_time``), which a busy shared machine disturbs far less
than wall time (both are printed). Baselines in
the same script, on the same files: *read* (readers only: decompress, split, parse) and *detect*
(readers + ``Detector.detect_batch``, no writing). The scan's cost over *detect* is what the scan
machinery (Parquet parts, quarantine, counts, rewrite, manifest) adds; RSS 8x / 1x shows memory is
bounded by the batch, not the corpus.

    python bench/scan.py                       # samples-like corpus at 1x and 8x
    python bench/scan.py --scales 1 --json bench-scan.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
mode, corpus, out, batch, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
from factsep.scan import ScanConfig, plan_shards, scan, _detector
from factsep.io.readers import read_source
from factsep.config import DetectorConfig
cfg = ScanConfig(batch_size=batch, workers=workers)
t_init = time.perf_counter()
det = _detector(DetectorConfig()) if mode in ("detect", "scan") else None
init = time.perf_counter() - t_init
t0 = time.perf_counter()
c0 = time.process_time()
docs = facts = 0
shards = plan_shards([corpus], cfg)
if mode == "scan":
    s = scan([corpus], out, cfg)
    docs, facts = s.written, s.facts
else:
    for sh in shards:
        for b in read_source(sh.url, cfg.read_options()):
            docs += len(b.rows)
            if det is not None and b.rows:
                texts = [r["text"] for r in b.rows]
                facts += sum(len(x) for x in det.detect_batch(texts))
secs = time.perf_counter() - t0
cpu = time.process_time() - c0
size = sum(int(s.fingerprint["size"]) for s in shards)
print(json.dumps({"seconds": secs, "cpu": cpu, "init": init, "docs": docs, "facts": facts, "bytes": size}))
"""


def replicate(src: Path | None, dst: Path, times: int) -> None:
    """``times`` corpora in sub-folders: samples/ generated with seeds 7, 8, ... (distinct documents,
    so no cache inside the detector flatters the larger run), or copies of ``src`` when given."""
    for i in range(times):
        if src is None:
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "scripts" / "make_samples.py"),
                    "--out",
                    str(dst / f"seed{7 + i:02d}"),
                    "--seed",
                    str(7 + i),
                ],
                check=True,
                capture_output=True,
            )
        else:
            shutil.copytree(src, dst / f"copy{i:02d}")


def measure(mode: str, corpus: Path, out: Path, batch: int, workers: int) -> dict[str, Any]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(corpus), str(out), str(batch), str(workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    stdout = proc.stdout.read()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} failed: {stderr.decode()[-2000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="copy this corpus SCALE times (default: samples/ regenerated with new seeds)")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="factsep-bench-") as tmp:
        for scale in args.scales:
            corpus = Path(tmp) / f"x{scale}"
            replicate(Path(args.corpus) if args.corpus else None, corpus, scale)
            for mode in ("read", "detect", "scan"):
                out = Path(tmp) / f"out-{mode}-{scale}"
                r = measure(mode, corpus, out, args.batch_size, args.workers)
                r.update(mode=mode, scale=scale, mb=r["bytes"] / 1e6)
                r["mb_s"] = r["mb"] / r["cpu"]
                r["docs_s"] = r["docs"] / r["cpu"]
                rows.append(r)
                print(
                    f"{mode:>6} x{scale}: {r['mb']:.2f} MB {r['docs']} docs in {r['cpu']:.1f} CPU-s "
                    f"({r['seconds']:.1f}s wall) = {r['mb_s']:.4f} MB/CPU-s, {r['docs_s']:.1f} docs/CPU-s, "
                    f"peak RSS {r['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
                shutil.rmtree(out, ignore_errors=True)
    by = {(r["mode"], r["scale"]): r for r in rows}
    print("\n| mode | scale | MB | docs | CPU s | wall s | MB per CPU-s | docs per CPU-s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mode']} | {r['scale']}x | {r['mb']:.2f} | {r['docs']} | {r['cpu']:.1f} | {r['seconds']:.1f} "
            f"| {r['mb_s']:.4f} | {r['docs_s']:.1f} | {r['peak_rss_mb']:.0f} |"
        )
    ratios = {}
    for scale in args.scales:
        ratios[f"scan_over_detect_cpu_{scale}x"] = by["scan", scale]["cpu"] / by["detect", scale]["cpu"]
        ratios[f"read_share_of_scan_cpu_{scale}x"] = by["read", scale]["cpu"] / by["scan", scale]["cpu"]
    if len(args.scales) > 1:
        lo, hi = min(args.scales), max(args.scales)
        ratios[f"scan_rss_{hi}x_over_{lo}x"] = by["scan", hi]["peak_rss_mb"] / by["scan", lo]["peak_rss_mb"]
        ratios[f"scan_mb_per_cpu_s_{hi}x_over_{lo}x"] = by["scan", hi]["mb_s"] / by["scan", lo]["mb_s"]
    print()
    for k, v in ratios.items():
        print(f"{k}: {v:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "ratios": ratios}, indent=2) + "\n")


if __name__ == "__main__":
    main()
