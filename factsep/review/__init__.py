"""Human review: route uncertain spans to Label Studio, sync decisions back, calibrate.

``route(out, budget=...)`` sends the most informative pending spans as tasks (or writes
``OUT/review/tasks.json`` when no server is configured); ``sync(out)`` reads annotations back into
the decisions ledger and refits ``OUT/state/calibration.json``.

Modules: ``config`` (the ``[review]`` settings), ``tasks`` (the Label Studio task format: a task
and its prediction built from a document window, and their fields read back), ``verdicts`` (which
human verdicts count), ``route`` (selection, budget, windows, import), ``sync`` (annotations to
decisions), ``calibration``, ``ml_backend`` and ``export_file``. Route, sync and calibration share
the first three and import none of each other, except route and sync reading calibration's base
scores.
"""

from __future__ import annotations

from factsep.review.calibration import CalibrationResult, fit_calibration
from factsep.review.client import RetryPolicy, ReviewClient, ReviewError, ReviewServerError
from factsep.review.labelconfig import label_config
from factsep.review.route import ReviewConfig, RouteResult, route
from factsep.review.sync import SyncResult, sync

__all__ = [
    "CalibrationResult",
    "RetryPolicy",
    "ReviewClient",
    "ReviewConfig",
    "ReviewError",
    "ReviewServerError",
    "RouteResult",
    "SyncResult",
    "fit_calibration",
    "label_config",
    "route",
    "sync",
]
