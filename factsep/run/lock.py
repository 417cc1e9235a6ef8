"""The OUT lock: one OS file lock around every read-modify-write of OUT's state.

Why: route and sync append to ledgers and rewrite whole files; scan and finalize replace parts,
counts and the manifest. Two of them at once would compute from the same state and overwrite each
other's work, and a second scan's clean-up would delete the first's temporary files. So each holds
``OUT/state/lock`` (``filelock``: ``fcntl.flock`` on POSIX, released by the kernel when the process
dies, so a killed run never leaves OUT locked).

A scan fails at once when another run holds OUT (it may take hours); route and sync wait up to
``FACTSEP_LOCK_TIMEOUT`` seconds (default 600) because they are short. The lock is re-entrant
within a process (scan -> finalize -> materialize take it once).

Object stores have no locks: a remote OUT is guarded by running one writer at a time (the Prefect
deployments have ``concurrency_limit: 1``; review refuses a remote OUT). See docs/scan.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from factsep.errors import FactsepError
from factsep.io import fs as outfs
from factsep.io.layout import Layout

LOCK_TIMEOUT_ENV = "FACTSEP_LOCK_TIMEOUT"
DEFAULT_WAIT = 600.0

_held: dict[str, int] = {}
_guard = threading.Lock()


class OutBusyError(FactsepError):
    """Another factsep run holds OUT's lock (exit code 1: the run could not do its job)."""


def wait_seconds() -> float:
    try:
        return float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_WAIT))
    except ValueError:
        return DEFAULT_WAIT


def _owner(layout: Layout) -> str:
    try:
        data = json.loads(Path(outfs.local_path(layout.lock_owner)).read_text(encoding="utf-8"))
        return f"{data.get('what')} (pid {data.get('pid')} on {data.get('host')}, since {data.get('since')})"
    except (OSError, ValueError, AttributeError):
        return "another factsep run"


@contextlib.contextmanager
def out_lock(out: str | Path | Layout, what: str, wait: float | None = None) -> Iterator[None]:
    """Hold OUT's lock for ``what`` ("scan", "sync", ...); ``wait`` seconds at most (0: fail at once).

    A remote OUT is not locked (see the module doc). Raises :class:`OutBusyError` with one line
    saying who holds OUT.
    """
    layout = Layout.of(out)
    if layout.remote:
        yield
        return
    path = os.path.abspath(outfs.local_path(layout.lock))
    key = f"{path}#{threading.get_ident()}"  # re-entrant per thread: two threads still exclude each other
    with _guard:
        if _held.get(key):
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[key] -= 1
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lock = FileLock(path, is_singleton=False, thread_local=False)
    timeout = wait_seconds() if wait is None else wait
    try:
        lock.acquire(timeout=timeout, blocking=timeout != 0, poll_interval=0.2)
    except Timeout:
        raise OutBusyError(
            f"{layout.out} is in use by {_owner(layout)}; wait for it to finish "
            f"(or raise {LOCK_TIMEOUT_ENV}) or write to another OUT"
        ) from None
    with _guard:
        _held[key] = 1
    owner = Path(outfs.local_path(layout.lock_owner))
    with contextlib.suppress(OSError):
        owner.write_text(json.dumps({
            "what": what, "pid": os.getpid(), "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }), encoding="utf-8")
    try:
        yield
    finally:
        with _guard:
            _held.pop(key, None)
        with contextlib.suppress(OSError):
            owner.unlink()
        lock.release()


def holds(out: str | Path | Layout) -> bool:
    """Whether this process holds OUT's lock (a remote OUT: always, it has none)."""
    layout = Layout.of(out)
    if layout.remote:
        return True
    path = os.path.abspath(outfs.local_path(layout.lock))
    return bool(_held.get(f"{path}#{threading.get_ident()}"))
