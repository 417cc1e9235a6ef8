"""python-stdnum validate calls per MB of detection, and detection CPU time, for the tree on PYTHONPATH.

Why: python-stdnum is the authority for ~190 formats, and its validators were most of the time of
a scan (issue 15: 24 calls per distinct candidate of changelogs). The detector tries a format only
where the number can be an identifier (issue 12, "evidence first"); this counts what is left. The
count is taken here, by wrapping every python-stdnum module's ``validate`` the catalogue uses (calls
from one module into another count too), not inside the library. A fresh process and a fresh
detector per corpus: calls that learn a shape's formats and a format's redundancy are counted, as a
new corpus would pay them.

    PYTHONPATH=/tmp/main_tree python bench/stdnum_calls.py
    PYTHONPATH=. python bench/stdnum_calls.py --corpus changelogs --mb 1
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

CALLS = [0]


def _counting(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def validate(*args: Any, **kwargs: Any) -> Any:
        CALLS[0] += 1
        return fn(*args, **kwargs)

    return validate


def wrap_stdnum() -> int:
    """Wrap ``validate`` of every python-stdnum module the catalogue names; returns how many."""
    from factsep.kinds import stdnum_table

    names = {n for modules in stdnum_table.KIND_MODULES.values() for n in modules}
    wrapped = 0
    for name in sorted(names):
        module = stdnum_table.load(name)
        if module is not None and callable(getattr(module, "validate", None)):
            module.validate = _counting(module.validate)  # type: ignore[attr-defined]
            wrapped += 1
    return wrapped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", choices=("changelogs", "dense", "both"), default="both")
    ap.add_argument("--mb", type=float, default=1.0)
    args = ap.parse_args()
    wrap_stdnum()
    from speed import changelog_docs, dense_docs

    from factsep import Detector

    corpora = ("changelogs", "dense") if args.corpus == "both" else (args.corpus,)
    for name in corpora:
        docs = changelog_docs(args.mb) if name == "changelogs" else dense_docs(args.mb / 2)
        mb = sum(map(len, docs)) / 1e6
        detector = Detector()
        before, start = CALLS[0], time.process_time()
        spans = 0
        for i in range(0, len(docs), 256):
            spans += sum(len(s) for s in detector.detect_batch(docs[i:i + 256]))
        seconds = time.process_time() - start
        calls = CALLS[0] - before
        print(f"{name}: {mb:.2f} MB, python-stdnum validate calls {calls} ({calls / mb:,.0f} per MB), "
              f"{spans} spans, CPU {seconds:.2f} s ({mb / seconds:.3f} MB/s)")


if __name__ == "__main__":
    main()
