"""The README's first command on a fresh machine, timed: ``factsep run samples --out OUT``.

Each run gets an empty HOME and PREFECT_HOME (so Prefect migrates a new database, as on a fresh
machine) and a new OUT. Two source trees are run alternately (baseline first), so a busy machine
slows both alike; the figures are medians, and the ratio is candidate over baseline in the same
session. CPU seconds (the command and every process it waited for) move less with load than wall
seconds. Phases come from the run's log timestamps: start-up (imports and the temporary API, up to
"Beginning flow run"), scan (to the finalize task), and the rest (finalize, route, report).

    python bench/first_command.py BASELINE_TREE CANDIDATE_TREE --runs 3
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) \|")


def _stamp(line: str) -> float | None:
    m = STAMP.match(line)
    if not m:
        return None
    t = datetime.strptime(m.group(1), "%H:%M:%S.%f")
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def phases(log: str, started: float) -> dict[str, float]:
    """Seconds from the command's start to the flow's start, of the scan, and of the rest."""
    first = scan_end = last = None
    for line in log.splitlines():
        t = _stamp(line)
        if t is None:
            continue
        if first is None and "Beginning flow run" in line:
            first = t
        if scan_end is None and "Task run 'finalize" in line:
            scan_end = t
        last = t
    if first is None or scan_end is None or last is None:
        return {}
    day = datetime.fromtimestamp(started)
    start = day.hour * 3600 + day.minute * 60 + day.second + day.microsecond / 1e6
    return {"startup": first - start, "scan": scan_end - first, "rest": last - scan_end}


def run_once(tree: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="factsep-first-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LABEL_STUDIO_"))}
        env.update({"HOME": str(home), "PREFECT_HOME": str(home / ".prefect"), "PYTHONPATH": str(tree)})
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.time()
        t0 = time.perf_counter()
        res = subprocess.run(
            [sys.executable, "-m", "factsep", "run", "samples", "--out", str(Path(tmp) / "out")],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if res.returncode != 0:
            raise SystemExit(f"run failed in {tree}:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return {"wall": wall, "cpu": cpu, **phases(res.stdout + "\n" + res.stderr, started)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("baseline", type=Path)
    ap.add_argument("candidate", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    results: dict[str, list[dict[str, float]]] = {"baseline": [], "candidate": []}
    for i in range(args.runs):
        for name in ("baseline", "candidate"):
            r = run_once(getattr(args, name).resolve())
            results[name].append(r)
            load = os.getloadavg()[0]
            print(f"run {i + 1} {name}: " + " ".join(f"{k} {v:.1f}" for k, v in r.items()) + f" (load {load:.1f})")
    keys = ("wall", "cpu", "startup", "scan", "rest")
    med = {n: {k: statistics.median(r[k] for r in rs if k in r) for k in keys} for n, rs in results.items()}
    print("\n| median s | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for name in ("baseline", "candidate"):
        print(f"| {name} | " + " | ".join(f"{med[name][k]:.1f}" for k in keys) + " |")
    ratios = " | ".join(f"{med['candidate'][k] / med['baseline'][k]:.2f}" for k in keys)
    print(f"| candidate / baseline | {ratios} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
