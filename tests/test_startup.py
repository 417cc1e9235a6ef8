"""What the first command pays before it scans: no third-party spaCy factories in a detecting
process, and no worker processes that cost more to start than they save."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from factsep.orchestration import BYTES_PER_WORKER, local_workers

ROOT = Path(__file__).resolve().parents[1]


def test_detection_imports_no_other_spacy_factories() -> None:
    """spaCy's Language() would import every entry-point factory (Presidio's imports transformers)."""
    code = (
        "import sys, factsep\n"
        "spans = factsep.detect('Ring +44 20 7946 0958 or see ISBN 978-0-306-40615-7')\n"
        "assert {s.kind for s in spans} >= {'phone_number', 'isbn'}, spans\n"
        "print(sorted(m for m in ('presidio_analyzer', 'transformers') if m in sys.modules))\n"
        "import spacy\n"
        "assert spacy.util.registry._entry_point_factories.entry_points, 'entry points left switched off'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[]"


def test_small_inputs_use_fewer_worker_processes() -> None:
    cores = os.cpu_count() or 1
    assert local_workers(29, None, 89_000) == 1  # samples/: one thread beats a pool on start-up
    assert local_workers(29, None, 10 * BYTES_PER_WORKER) == min(cores, 11, 29)
    assert local_workers(29, 2, 89_000) == 2  # asked for: given
    assert local_workers(29, None, None) == min(cores, 29)  # size unknown: as before
