"""One ``error:`` line and a documented exit code per failure (issue 17: 12).

The full disk is real (a small tmpfs as OUT, which needs root, as CI runs); the bug is injected
(a command that raises), since no factsep command raises one on purpose.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from factsep.cli import ErrorLines
from factsep.config import ConfigError
from factsep.errors import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_IO,
    EXIT_NO_SPACE,
    EXIT_USAGE,
    FactsepError,
    describe,
)
from factsep.io.fs import LocalOutRequired
from factsep.review.client import ReviewError
from factsep.scan import NothingToReadError, OutputError

ROOT = Path(__file__).resolve().parents[1]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.fixture
def small_disk(tmp_path: Path):  # noqa: ANN201 - a generator fixture
    """A 256 KiB tmpfs: a real device that fills up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {res.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("workers", [1, 2])
def test_disk_full_is_one_error_line_with_exit_3(tmp_path: Path, small_disk: Path, workers: int) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a", "b"):
        with open(src / f"{name}.jsonl", "w") as fh:
            for i in range(3000):
                text = f"note {name}{i}: call +1 650 253 {i:04d} about the order " + "and more words " * 12
                fh.write(json.dumps({"id": f"{name}{i}", "text": text}) + "\n")
    cmd = [sys.executable, "-m", "factsep", "scan", str(src), "--out", str(small_disk / "out")]
    res = subprocess.run(
        [*cmd, "--workers", str(workers)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=900,
    )
    assert res.returncode == EXIT_NO_SPACE, res.stderr[-3000:]
    assert "Traceback" not in res.stderr and "╭" not in res.stderr
    (line,) = error_lines(res.stderr)
    assert "no space left" in line and "re-run" in line


@pytest.mark.parametrize(
    ("exc", "code", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/out/spans/x"), EXIT_NO_SPACE, "no space left"),
        (OSError("[Errno 28] Error writing bytes to file. Detail: [errno 28] No space left on device"), 3, "space"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), EXIT_NO_SPACE, "no space left"),
        (PermissionError(errno.EACCES, "Permission denied", "/out/x"), EXIT_IO, "Permission denied (/out/x)"),
        (OSError(errno.EROFS, "Read-only file system"), EXIT_IO, "Read-only"),
        (BrokenProcessPool("A process in the process pool was terminated abruptly"), EXIT_FAILED, "worker"),
        (NothingToReadError("input not found: x"), EXIT_FAILED, "input not found"),
        (OutputError("OUT is a file"), EXIT_USAGE, "OUT is a file"),
        (ConfigError("unknown key 'budgett'"), EXIT_USAGE, "budgett"),
        (LocalOutRequired("review needs a local OUT"), EXIT_USAGE, "local OUT"),
        (ReviewError("Label Studio refused the key"), EXIT_FAILED, "refused"),
        (KeyboardInterrupt(), EXIT_INTERRUPTED, "interrupted"),
        (KeyError("random_facts"), EXIT_INTERNAL, "internal error (KeyError"),
    ],
)
def test_every_failure_has_a_line_and_an_exit_code(exc: BaseException, code: int, words: str) -> None:
    message, exit_code = describe(exc)
    assert exit_code == code and words in message
    assert "\n" not in message
    if code in (EXIT_NO_SPACE, EXIT_IO, EXIT_INTERRUPTED, EXIT_INTERNAL):
        assert "re-run" in message  # says what to do


def _app(exc: BaseException) -> typer.Typer:
    """A one-command app on the CLI's group class whose command raises ``exc`` (an injected fault)."""
    app = typer.Typer(cls=ErrorLines)

    @app.callback()
    def _root() -> None:
        """Root."""

    @app.command()
    def boom() -> None:
        raise exc

    return app


def test_a_bug_is_one_line_with_exit_70_and_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.delenv("FACTSEP_DEBUG", raising=False)
    res = runner.invoke(_app(KeyError("random_facts")), ["boom"])
    assert res.exit_code == EXIT_INTERNAL
    (line,) = error_lines(res.output)
    assert "internal error (KeyError" in line and "FACTSEP_DEBUG=1" in line
    assert "Traceback" not in res.output
    monkeypatch.setenv("FACTSEP_DEBUG", "1")
    res = runner.invoke(_app(KeyError("random_facts")), ["boom"])
    assert res.exit_code == EXIT_INTERNAL and "Traceback" in res.output


def test_typer_exits_and_factsep_errors_keep_their_codes() -> None:
    runner = CliRunner()
    assert runner.invoke(_app(typer.Exit(0)), ["boom"]).exit_code == 0
    assert runner.invoke(_app(FactsepError("nothing to do here")), ["boom"]).exit_code == EXIT_FAILED
    assert runner.invoke(_app(RuntimeError("x")), ["nope"]).exit_code == EXIT_USAGE  # a usage error stays one
