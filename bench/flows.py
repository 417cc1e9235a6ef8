"""Wall times of the Prefect flows on samples/, cold and warm, against the library as baseline.

    python bench/flows.py [INPUT ...] [--json bench/flows.json]

Cold: a new output folder (so an empty shard cache) and, for the first line, the start of
Prefect's temporary API. Warm: the same flow again on the same folder (cached shards, nothing new
to route). The baseline is ``factsep.scan.scan`` with the same worker count, in this script, so the
ratios say what orchestration costs. sync_flow needs a Label Studio server (LABEL_STUDIO_URL);
without one it is reported as skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# run as a script, this file's folder comes first on sys.path and would shadow the flows package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - t0, value


def _ok(state: Any) -> Any:
    if not state.is_completed():
        raise SystemExit(f"flow failed: {state.message}")
    return state.result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*", default=[str(REPO / "samples")])
    parser.add_argument("--workers", type=int, default=None, help="local workers (default: cores)")
    parser.add_argument("--json", default=None, help="also write the numbers here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="factsep-bench-flows-"))
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect-home"))  # a cold Prefect, not yours
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    rows: list[tuple[str, str, float]] = []
    try:
        from factsep.orchestration import load_settings, local_workers
        from factsep.scan import ScanConfig, plan_shards, scan

        n_shards = len(plan_shards(args.inputs, ScanConfig()))
        workers = local_workers(n_shards, args.workers)
        base, _ = timed(scan, args.inputs, str(work / "lib"), config=load_settings(None, workers=workers).scan)
        rows.append(("library scan() (baseline)", "cold", base))
        base_warm, _ = timed(scan, args.inputs, str(work / "lib"), config=load_settings(None, workers=workers).scan)
        rows.append(("library scan() (baseline)", "warm", base_warm))

        from flows.pipeline_flow import pipeline_flow
        from flows.route_flow import route_flow
        from flows.runtime import prefect_api
        from flows.scan_flow import scan_flow
        from flows.sync_flow import sync_flow

        t0 = time.perf_counter()
        with prefect_api():
            rows.append(("Prefect temporary API start", "cold", time.perf_counter() - t0))
            kw = {"workers": workers, "return_state": True}
            for temp in ("cold", "warm"):
                secs, state = timed(scan_flow, args.inputs, str(work / "scan"), **kw)
                _ok(state)
                rows.append(("scan_flow", temp, secs))
            for temp in ("cold", "warm"):
                secs, state = timed(route_flow, str(work / "scan"), return_state=True)
                _ok(state)
                rows.append(("route_flow", temp, secs))
            if os.environ.get("LABEL_STUDIO_URL"):
                for temp in ("cold", "warm"):
                    secs, state = timed(sync_flow, str(work / "scan"), return_state=True)
                    _ok(state)
                    rows.append(("sync_flow", temp, secs))
            for temp in ("cold", "warm"):
                secs, state = timed(pipeline_flow, args.inputs, str(work / "pipeline"), **kw)
                _ok(state)
                rows.append(("pipeline_flow", temp, secs))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"inputs: {' '.join(args.inputs)} · shards {n_shards} · workers {workers} · cores {os.cpu_count()}")
    print(f"{'step':32} {'run':5} {'seconds':>8} {'x baseline':>10}")
    for name, temp, secs in rows:
        ref = base if temp == "cold" else base_warm
        print(f"{name:32} {temp:5} {secs:8.1f} {secs / ref:10.2f}")
    if not os.environ.get("LABEL_STUDIO_URL"):
        print("sync_flow: skipped (needs a Label Studio server: set LABEL_STUDIO_URL)")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"shards": n_shards, "workers": workers, "rows": [list(r) for r in rows]}, indent=2) + "\n"
        )


if __name__ == "__main__":
    sys.exit(main())
