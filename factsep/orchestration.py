"""Helpers that orchestrators (the Prefect flows in ``flows/``) need, kept free of Prefect.

Why here and not in ``flows/``: the cache key, the fault switch and the run summary text are
library logic that must be testable and usable without Prefect; the flows only wire them to tasks.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from factsep.config import Config, DetectorConfig, TagConfig
from factsep.io import fs as outfs
from factsep.io.layout import Layout

#: Environment switch that makes matching shards raise (glob over shard_id or url), for fault drills.
FAIL_SHARD_ENV = "FACTSEP_FAIL_SHARD"
#: How many attempts of a matching shard fail before it succeeds; unset or <= 0 means always.
FAIL_TIMES_ENV = "FACTSEP_FAIL_TIMES"
#: A Dask scheduler address to run shard tasks on, when the command line gives none.
DASK_ADDRESS_ENV = "FACTSEP_DASK_ADDRESS"

EPOCH_FILE = "state/flow_epoch"
FAULT_DIR = "state/faults"


class InjectedShardFailure(RuntimeError):
    """Raised by :func:`maybe_fail` so drills can prove retries and partial re-runs work."""


@dataclass(frozen=True)
class Settings:
    """Everything a run needs from a config file, split into the owners' dataclasses."""

    scan: Any
    detect: DetectorConfig = field(default_factory=DetectorConfig)
    tags: TagConfig = field(default_factory=TagConfig)
    config: Config = field(default_factory=Config)

    def fingerprint(self) -> str:
        """A stable hash of the settings that change a shard's output."""
        payload = {
            "scan": _plain(self.scan),
            "detect": _plain(self.detect),
            "tags": _plain(self.tags),
        }
        return _sha(payload)


def load_settings(config_path: str | None = None, **scan_overrides: Any) -> Settings:
    """Read a factsep TOML (or defaults) into the dataclasses scan and detection take."""
    from factsep.scan import ScanConfig

    config = Config.from_toml(config_path)
    scan_section = dict(config.sections.get("scan", {}) or {})
    scan_section.update({k: v for k, v in scan_overrides.items() if v is not None})
    scan_config = ScanConfig.from_dict(scan_section)
    return Settings(scan=scan_config, detect=config.detect, tags=config.tags, config=config)


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _sha(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_out(out: str) -> str:
    """Local paths absolute (cache keys and workers must agree on them); URLs unchanged."""
    return out if "://" in out else os.path.abspath(out)


def out_epoch(out: str) -> str:
    """A random token stored in OUT on first use.

    Why: a cache entry must not outlive the output it describes. Wiping OUT (or pointing at a new
    one) gives a new epoch, so every shard's cache key changes and the shard is computed again.
    """
    from factsep.io.atomic import write_bytes

    path = Layout.of(out).epoch
    if outfs.exists(path):
        token = outfs.read_bytes(path).decode("utf-8").strip()
        if token:
            return token
    token = secrets.token_hex(8)
    write_bytes(path, (token + "\n").encode("utf-8"))
    return outfs.read_bytes(path).decode("utf-8").strip() or token  # a concurrent first writer may have won


def calibration_digest(settings: Settings) -> str | None:
    """Hash of the calibration file's content (None without one).

    Why: sync refits the calibration file in place, so its path alone would let a Prefect re-run
    reuse shards scored with the old calibration.
    """
    path = getattr(settings.detect, "calibration_path", None)
    if not path or not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def shard_cache_key(shard: Any, out: str, settings: Settings, epoch: str) -> str:
    """Cache key for one shard: its input fingerprint, the settings (with the calibration file's
    content), the output and its epoch."""
    from factsep import __version__

    payload = {
        "shard_id": shard.shard_id,
        "url": shard.url,
        "fingerprint": _plain(shard.fingerprint),
        "settings": settings.fingerprint(),
        "calibration": calibration_digest(settings),
        "out": out.rstrip("/"),
        "epoch": epoch,
        "factsep": __version__,
    }
    return "factsep-shard-" + _sha(payload)[:40]


def maybe_fail(shard: Any, out: str) -> None:
    """Raise :class:`InjectedShardFailure` when ``FACTSEP_FAIL_SHARD`` matches this shard.

    ``FACTSEP_FAIL_TIMES=N`` fails only the first N attempts (counted in OUT/state/faults), so
    a drill can show a retry succeeding as well as retries running out.
    """
    pattern = os.environ.get(FAIL_SHARD_ENV, "").strip()
    if not pattern:
        return
    names = [str(shard.shard_id), str(shard.url), str(shard.url).rsplit("/", 1)[-1]]
    if not any(fnmatch.fnmatch(name, pattern) or pattern == name for name in names):
        return
    times = int(os.environ.get(FAIL_TIMES_ENV, "0") or 0)
    from factsep.io.atomic import write_bytes

    path = Layout.of(out).fault_count(shard.shard_id)  # attempts seen, for the drill's report
    count = int(outfs.read_bytes(path).decode().strip() or 0) if outfs.exists(path) else 0
    write_bytes(path, str(count + 1).encode())
    if 0 < times <= count:
        return
    raise InjectedShardFailure(f"injected failure for shard {shard.shard_id} ({FAIL_SHARD_ENV}={pattern})")


def pending_shards(out: str, shards: list[Any]) -> list[Any]:
    """Shards without a completion marker for their current fingerprint.

    Only sizes the worker pool (no processes to start when everything is done); whether a shard
    is really skipped is still decided by the shard task (cache) and ``scan_shard`` (marker).
    """
    todo = []
    for shard in shards:
        marker = Layout.of(out).marker(shard.shard_id)
        try:
            done = json.loads(outfs.read_bytes(marker))
            if done.get("fingerprint") == _plain(shard.fingerprint):
                continue
        except (OSError, ValueError):
            pass
        todo.append(shard)
    return todo


def run_shard(shard: Any, out: str, settings: Settings) -> Any:
    """Scan one shard (what a flow task runs): the fault switch, then ``factsep.scan.scan_shard``."""
    from factsep.scan import scan_shard

    settings.scan.register_out(out)  # on a Dask worker this is the first touch of OUT
    maybe_fail(shard, out)
    return scan_shard(shard, out, settings.scan, settings.detect, settings.tags)


def to_dict(obj: Any) -> dict[str, Any]:
    """A result as a plain dict: its ``to_dict()`` when it has one."""
    if obj is None:
        return {}
    if hasattr(obj, "to_dict"):
        return dict(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, dict):
        return dict(obj)
    return {"value": str(obj)}


def dask_address(explicit: str | None = None) -> str | None:
    """The Dask scheduler to use: the explicit one, else ``FACTSEP_DASK_ADDRESS``, else none."""
    return explicit or os.environ.get(DASK_ADDRESS_ENV) or None


#: Input bytes that make one more local worker process pay for its start-up. A worker imports
#: Prefect and factsep and builds a detector (3-4 CPU seconds) before it scans; detection costs
#: about 7 CPU seconds per MB of real text (Debian changelogs), so a second process only wins past
#: about a megabyte. ``samples/`` (89 KB) runs faster in one thread than in a pool of two.
BYTES_PER_WORKER = 2 << 20


def local_workers(n_shards: int, requested: int | None = None, input_bytes: int | None = None) -> int:
    """How many local processes to use: ``requested``, else the core count, never more than shards,
    and (when not requested and ``input_bytes`` is known) one per :data:`BYTES_PER_WORKER` of input."""
    cores = os.cpu_count() or 1
    want = requested if requested and requested > 0 else cores
    if not (requested and requested > 0) and input_bytes is not None:
        want = min(want, 1 + input_bytes // BYTES_PER_WORKER)
    return max(1, min(want, max(n_shards, 1)))


@contextmanager
def children_skip_main() -> Iterator[None]:
    """Processes started inside this block (with the "spawn" context) do not re-import ``__main__``.

    Why: a spawned child re-runs the parent's main script before it takes work, so a plain script
    that calls :func:`factsep.scan.scan` with several workers, as the docs show, has each child
    start the pool again and the run dies with BrokenProcessPool unless the script has an
    ``if __name__ == "__main__":`` guard. The pools of factsep run only factsep's own functions on
    factsep's own objects, so their children never need the main module: while they start, the
    main module shows no file and no spec, which is how multiprocessing treats an interactive
    session. The attributes are put back on exit.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def prepare_run(inputs: list[str], out: str, settings: Settings) -> list[Any]:
    """What ``factsep.scan.scan`` does before scanning: make OUT, plan shards, record the run state.

    Why not call ``scan``: a flow runs each shard as its own retried, cached task, possibly on
    another machine, so it needs the steps apart.
    """
    from factsep import scan as scan_mod
    from factsep.io.atomic import remove_stale_tmp
    from factsep.run.lock import out_lock

    o = scan_mod.prepare_out(out, settings.scan)
    with out_lock(o, "scan", wait=0):  # another run's temporary files must not be cleaned away
        remove_stale_tmp(o)
        shards = scan_mod.plan_shards(list(inputs), settings.scan, exclude=o)
        if not shards:
            raise scan_mod.NothingToReadError("no input files found")
        scan_mod.write_run_state(o, shards, settings.scan, settings.detect, settings.tags)
    return shards


def finish_run(out: str, shards: list[Any], settings: Settings, results: list[Any]) -> Any:
    """Finalize (corpus counts over all span parts, rewrite parts, manifest) like ``scan`` does."""
    from factsep import scan as scan_mod

    summary = scan_mod.finalize(out, shards, settings.scan, settings.detect, settings.tags, results=results)
    if summary.written == 0:
        raise scan_mod.NothingToReadError(
            f"no document could be read from {len(shards)} file(s): "
            f"{summary.quarantined} quarantined, {summary.skipped} skipped (see {out}/quarantine/)"
        )
    return summary


def check_review_out(out: str, step: str) -> None:
    """Refuse an object-store OUT for review ``step`` ("route" or "sync"), saying what to do.

    Checked before any task runs, so a Prefect retry never repeats a refusal.
    """
    ledger = "routing" if step == "route" else "decisions"
    outfs.require_local(out, f"review {step} (its {ledger} ledger is an append-only file under OUT/state/)")


def run_route(out: str, config_path: str | None = None, budget: int | None = None) -> dict[str, Any]:
    """Route uncertain spans to review (``factsep.review.route``); say where the tasks went."""
    from factsep import review

    check_review_out(out, "route")
    config = Config.from_toml(config_path)
    result = to_dict(review.route(out, budget=budget, config=config))
    if result.get("tasks_file"):
        result["message"] = (
            "no review server configured (LABEL_STUDIO_URL unset): "
            f"{result.get('tasks_created', 0)} new task(s) for {result.get('selected', 0)} span(s); "
            f"{result['tasks_file']} holds {result.get('tasks_total', 0)} task(s) for Label Studio import"
        )
    else:
        result["message"] = (
            f"sent {result.get('tasks_created', 0)} new task(s) "
            f"({result.get('tasks_existing', 0)} already there) for {result.get('selected', 0)} span(s) "
            f"to {result.get('target', 'Label Studio')}"
        )
    return result


def run_sync(out: str, config_path: str | None = None) -> dict[str, Any]:
    """Pull annotations into the decisions ledger (``factsep.review.sync``) and return its summary."""
    from factsep import review

    check_review_out(out, "sync")
    return to_dict(review.sync(out, config=Config.from_toml(config_path)))


def run_report(out: str) -> dict[str, Any]:
    """Write the report and return ``{"summary", "html", "markdown", "columns", "rows"}``."""
    from factsep import report

    paths = report.write_report(out)
    data = paths.data
    return {
        "summary": report.summary_from(data),
        "html": paths.html,
        "markdown_path": paths.markdown,
        "markdown": report.render_markdown(data),
        "columns": report.kind_columns(data),
        "rows": report.kind_rows(data),
    }


def kind_table(report: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The per-kind table as a list of row dicts (the shape Prefect table artifacts take)."""
    if not report or not report.get("rows"):
        return []
    columns = list(report["columns"])
    return [dict(zip(columns, row, strict=False)) for row in report["rows"]]


def run_markdown(flow: str, out: str, facts: dict[str, Any], report: dict[str, Any] | None) -> str:
    """A run's markdown: what ran where, then the report's numbers (kinds, counts, hashes only)."""
    lines = [f"# factsep {flow}", "", f"- output: `{out}`"]
    for key, value in facts.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k}: {v}" for k, v in value.items() if not isinstance(v, (dict, list)))
            lines.append(f"- {key}: {inner or '—'}")
        elif isinstance(value, (list, tuple)):
            lines.append(f"- {key}: {', '.join(str(v) for v in value) or '—'}")
        else:
            lines.append(f"- {key}: {value}")
    if report:
        if report.get("html"):
            lines.append(f"- report: `{report['html']}`")
        body = str(report.get("markdown", ""))
        if body.startswith("# "):
            body = body.split("\n", 1)[1] if "\n" in body else ""
        lines += ["", body.strip()]
    return "\n".join(lines) + "\n"


class TemporaryPrefectServer:
    """Prefect's temporary API server, launched as soon as a command knows it will need one.

    Why not Prefect's own ``SubprocessASGIServer.start()``: it imports Prefect's whole server into
    this process (about 3 CPU seconds) only to launch a subprocess, and then blocks while that
    boots (10-50 s on a fresh machine: imports and database migrations). Launched first, from here
    (no Prefect import), the server boots on another core while this process imports the flows.
    The command and environment are Prefect 3's (``prefect.server.api.server``); when the launch
    fails, :func:`flows.runtime.prefect_api` falls back to Prefect's own way.
    """

    def __init__(self) -> None:
        import socket
        import subprocess

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        env = {
            **os.environ,
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            # the temporary server's telemetry only adds lock and DNS errors to the run's output
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        env.pop("PREFECT_API_URL", None)
        self.process: Any = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
                "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on",
            ],
            env=env,
        )  # fmt: skip
        import atexit

        atexit.register(self.stop)  # as Prefect does: no server outlives an interpreter that exits

    @classmethod
    def launch_if_needed(cls) -> TemporaryPrefectServer | None:
        """Launch one unless ``PREFECT_API_URL`` names a server (a profile may still name one:
        :func:`flows.runtime.prefect_api` then stops this one unused)."""
        if os.environ.get("PREFECT_API_URL"):
            return None
        try:
            return cls()
        except OSError:
            return None

    def wait(self, timeout: float) -> bool:
        """True once the server answers ``/health``; False if it exited or did not answer in time."""
        import time
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
