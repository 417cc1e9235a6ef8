"""Arrow's memory pool for the scan and materialize: jemalloc, when pyarrow has it.

Why: pyarrow's default pool here (mimalloc) keeps the pages of freed buffers, so each step's
high-water mark stays resident under the next one; jemalloc gives them back. Measured
(BENCHMARKS.md, "Eighth session: memory with range shards"): a whole 20 MB scan peaks 443 MB with
mimalloc and 370 MB with jemalloc; materialize alone 300 -> 245 MB (20 MB) and 340 -> 258 MB (200 MB).
A user's choice (``ARROW_DEFAULT_MEMORY_POOL``) is kept. Buffers allocated before the switch are
freed by the pool that made them, so switching at any time is safe.
"""

from __future__ import annotations

import os

import pyarrow as pa

_chosen: str | None = None


def use_returning_pool() -> str:
    """Make jemalloc Arrow's default pool in this process (once); returns the pool in use."""
    global _chosen
    if _chosen is None:
        if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
            try:
                pa.set_memory_pool(pa.jemalloc_memory_pool())
            except (NotImplementedError, AttributeError, pa.ArrowException):  # built without jemalloc
                pass
        _chosen = pa.default_memory_pool().backend_name
    return _chosen
