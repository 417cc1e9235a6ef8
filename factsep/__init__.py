"""factsep: find random facts in training corpora and tag how unpredictable they are.

The public face: :func:`detect`, :class:`Detector`, :class:`Span`, and the corpus functions
``scan``, ``route`` and ``sync`` (imported lazily so detection alone stays light).
"""

from __future__ import annotations

from typing import Any

from factsep.run import pool as _pool

_pool.prefer_jemalloc()  # before anything loads pyarrow (factsep/run/pool.py says why)

from factsep.config import Config, DetectorConfig, TagConfig  # noqa: E402
from factsep.span import Span  # noqa: E402

__version__ = "0.1.0"

__all__ = ["Config", "Detector", "DetectorConfig", "Span", "TagConfig", "__version__", "detect"]


def __getattr__(name: str) -> Any:
    if name in ("Detector", "detect"):
        from factsep.detection import detector

        return getattr(detector, name)
    if name == "scan":
        from factsep.scan import scan

        return scan
    if name in ("route", "sync"):
        from factsep import review

        return getattr(review, name)
    raise AttributeError(f"module 'factsep' has no attribute {name!r}")
