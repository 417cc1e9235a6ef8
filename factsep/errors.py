"""One error base for factsep, and the exit codes the command line returns.

Why one base: the CLI's top-level handler turns any :class:`FactsepError` into one ``error:`` line
and its ``exit_code``, and the failures no factsep code raises on purpose (a full disk, a file
system that refuses a write, a worker killed by the kernel) into the same kind of line through
:func:`describe`, so a user sees what happened and what to do, never an 80-line traceback.
Set ``FACTSEP_DEBUG=1`` to get the traceback as well.

Exit codes (documented in docs/scan.md, checked in tests/test_errors.py):

==== =================================================================================
0    success (quarantined records included)
1    the run could not do its job: nothing could be read, a review step failed
2    usage: a bad option or config file, an OUT that cannot be used
3    no space left on the device (or quota exceeded): free space, re-run, it resumes
4    another read or write error of the file system (permission, read-only, I/O error)
70   an internal error (a bug): the line names the exception; FACTSEP_DEBUG=1 shows where
130  interrupted (Ctrl-C): re-run the same command, it resumes
==== =================================================================================
"""

from __future__ import annotations

import errno
import re
from concurrent.futures.process import BrokenProcessPool

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_SPACE = 3
EXIT_IO = 4
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

RESUME_HINT = "re-run the same command: finished files are kept and the run resumes"
_NO_SPACE = re.compile(r"no space left on device|disk quota exceeded|errno 28\b|errno 122\b", re.IGNORECASE)


class FactsepError(Exception):
    """A failure factsep expects and can explain; the message says what to do."""

    exit_code = EXIT_FAILED


class UsageError(FactsepError):
    """A bad option, config file or output location."""

    exit_code = EXIT_USAGE


class DiskFullError(FactsepError):
    """The device holding OUT (or a temporary folder) is full."""

    exit_code = EXIT_NO_SPACE


class StorageError(FactsepError):
    """The file system refused a read or write for another reason than space."""

    exit_code = EXIT_IO


def is_no_space(exc: BaseException) -> bool:
    """True for ENOSPC / EDQUOT, also from pyarrow, whose OSErrors carry the errno in the text."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, OSError) and bool(_NO_SPACE.search(str(exc)))


def _where(exc: OSError) -> str:
    return f" writing {exc.filename}" if exc.filename else ""


def as_factsep_error(exc: BaseException) -> FactsepError | None:
    """The :class:`FactsepError` a known failure amounts to, or None for a bug."""
    if isinstance(exc, FactsepError):
        return exc
    if is_no_space(exc):
        assert isinstance(exc, OSError)
        return DiskFullError(
            f"no space left on the device{_where(exc)}: free space (or pass another --out) and {RESUME_HINT}"
        )
    if isinstance(exc, BrokenProcessPool):
        return FactsepError(
            "a worker process died (killed, or out of memory): lower --workers or --batch-size and " + RESUME_HINT
        )
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc) or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename else ""
        return StorageError(f"file system error: {what}{where}; fix it and {RESUME_HINT}")
    return None


def describe(exc: BaseException) -> tuple[str, int]:
    """(one line for the user, exit code) for any exception that reaches the top of a command."""
    if isinstance(exc, KeyboardInterrupt):
        return f"interrupted; {RESUME_HINT}", EXIT_INTERRUPTED
    known = as_factsep_error(exc)
    if known is not None:
        text = " ".join(str(known).split()) or type(known).__name__
        return text, known.exit_code
    detail = " ".join(str(exc).split())[:300]
    return (
        f"internal error ({type(exc).__name__}: {detail}); this is a bug: please report it with the command "
        "(set FACTSEP_DEBUG=1 to print the traceback); " + RESUME_HINT,
        EXIT_INTERNAL,
    )
