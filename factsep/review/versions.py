"""The model version Label Studio shows with factsep's predictions: detector and calibration.

Label Studio keeps one active ``model_version`` per project and shows only the predictions made
under it, so route's pre-annotations and the ML backend's predictions must name the same model
when they score alike: the detector's version plus a digest of the calibration its scores went
through (``none`` when the scan applied none). A re-scan with a fitted calibration is a new model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from factsep.run import state as run_state


def calibration_version(calibration: Any) -> str:
    """A short digest of a calibration's content (the ``calibration.json`` format), or ``none``."""
    if not calibration or not (isinstance(calibration, dict) and calibration.get("kinds")):
        return "none"
    blob = json.dumps(calibration, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.blake2b(blob, digest_size=5).hexdigest()


def model_version(calibration: Any) -> str:
    """``factsep-<version>+cal.<digest>``: the detector, then the calibration it applied."""
    from factsep.detection.detector import detector_version

    return f"{detector_version()}+cal.{calibration_version(calibration)}"


def applied_calibration(out: str | Path) -> Any:
    """The calibration the scan that wrote ``out`` applied (``OUT/state/run.json``; a run.json from
    before that record is read with the file its run names), or None."""
    recorded, calibration = run_state.applied_calibration(out)
    if recorded:
        return calibration
    path = run_state.section(out, "detect").get("calibration_path")
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")) if path else None
    except (OSError, ValueError):
        return None


def scan_model_version(out: str | Path) -> str:
    """The model version of the scores in ``out``'s span parts."""
    return model_version(applied_calibration(out))
