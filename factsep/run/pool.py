"""Arrow's memory pool for the scan and materialize: jemalloc, when pyarrow has it.

Why: pyarrow's default pool on Linux (mimalloc) keeps the pages of freed buffers, so each step's
high-water mark stays resident under the next one; jemalloc gives them back. Measured
(BENCHMARKS.md, "Eighth session: memory with range shards", main's native core): a whole 20 MB
scan peaks at 578 MB with mimalloc and 494 MB with jemalloc.

The choice must be made before pyarrow loads: ``pa.set_memory_pool`` later changes only the pool
of pyarrow's Python calls, not the one the Parquet reader and writer use inside (measured: a
20 MB scan 400 MB with the late switch, 360 MB with the early one). So importing factsep calls
:func:`prefer_jemalloc` first, which sets ``ARROW_DEFAULT_MEMORY_POOL=jemalloc`` on Linux (whose
pyarrow wheels have jemalloc) when pyarrow is not loaded yet and the user chose no pool;
:func:`use_returning_pool` switches the Python-side pool when that was too late.
"""

from __future__ import annotations

import os
import sys

_ENV = "ARROW_DEFAULT_MEMORY_POOL"
_chosen: str | None = None
#: The pool the user asked for in the environment before factsep set one (None: no choice).
_user_pool: str | None = os.environ.get(_ENV)


def user_pool() -> str | None:
    """The pool the user chose through ``ARROW_DEFAULT_MEMORY_POOL`` (not the one factsep set)."""
    return _user_pool


def prefer_jemalloc() -> None:
    """Ask Arrow for jemalloc through its environment variable, if it is still time to."""
    if "pyarrow" in sys.modules or _ENV in os.environ or not sys.platform.startswith("linux"):
        return
    os.environ[_ENV] = "jemalloc"


def use_returning_pool() -> str:
    """Make jemalloc Arrow's default pool for pyarrow's calls in this process (once), unless the
    user chose one; returns the pool in use."""
    global _chosen
    if _chosen is None:
        import pyarrow as pa

        if pa.default_memory_pool().backend_name != "jemalloc" and _user_pool in (None, "jemalloc"):
            try:
                pa.set_memory_pool(pa.jemalloc_memory_pool())
            except (NotImplementedError, AttributeError, pa.ArrowException):  # built without jemalloc
                pass
        _chosen = pa.default_memory_pool().backend_name
    return _chosen
