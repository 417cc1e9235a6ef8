"""Span lists on the speed benchmark's corpora, written to a file, for an A/B check of a speed change.

A speed change must not change output: dump spans before and after, then compare.

    PYTHONPATH=OLD python bench/same_spans.py dump old.json --mb 2
    PYTHONPATH=NEW python bench/same_spans.py dump new.json --mb 2
    python bench/same_spans.py diff old.json new.json

``--engine re2`` runs the candidate pass on the RE2 reference instead of the native core.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def dump(path: str, mb: float, engine: str = "auto") -> None:
    from speed import changelog_docs, dense_docs

    from factsep import Detector
    from factsep.config import DetectorConfig

    detector = Detector(DetectorConfig(engine=engine))
    out: dict[str, list[list[object]]] = {}
    for name, docs in (("changelogs", changelog_docs(mb)), ("dense", dense_docs(mb))):
        rows: list[list[object]] = []
        for start in range(0, len(docs), 256):
            for i, spans in enumerate(detector.detect_batch(docs[start:start + 256]), start):
                rows.extend([i, s.start, s.end, s.kind, s.subtype, s.confidence, s.decision] for s in spans)
        out[name] = rows
    Path(path).write_text(json.dumps(out))


def diff(old_path: str, new_path: str, show: int) -> int:
    old, new = json.loads(Path(old_path).read_text()), json.loads(Path(new_path).read_text())
    bad = 0
    for name in old:
        a = {tuple(r) for r in old[name]}
        b = {tuple(r) for r in new.get(name, [])}
        print(f"{name}: {len(a)} spans before, {len(b)} after, {len(a - b)} lost, {len(b - a)} new")
        for r in sorted(a - b)[:show]:
            print("  -", r)
        for r in sorted(b - a)[:show]:
            print("  +", r)
        bad += len(a ^ b)
    return 1 if bad else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--mb", type=float, default=2.0)
    d.add_argument("--engine", default="auto", help="candidate engine: auto, native, re2 or re")
    c = sub.add_parser("diff")
    c.add_argument("old")
    c.add_argument("new")
    c.add_argument("--show", type=int, default=10)
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.out, args.mb, args.engine)
    else:
        raise SystemExit(diff(args.old, args.new, args.show))


if __name__ == "__main__":
    main()
