"""Quarantine: every record that could not become a document, kept with where it was and why.

One JSON-lines file per shard, ``OUT/quarantine/part-<shard_id>.jsonl``, each line
``{"file", "line"|"row"|"file-level", "reason", "raw", "encoding"}`` where ``raw`` is base64 when the
bytes were not UTF-8 (``encoding`` says which). The file is written atomically when the shard ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from factsep.io import fs as outfs
from factsep.io.atomic import discard, publish, staging_path
from factsep.io.readers import Bad

_DETAIL = re.compile(r"\s*\(.*\)$|\s+at byte \d+$")


def reason_category(reason: str) -> str:
    """The reason without its details ("invalid JSON (Expecting ...)" -> "invalid JSON"), for totals."""
    return _DETAIL.sub("", reason).strip()


class QuarantineWriter:
    """Streams one shard's bad records to a staging file, published on :meth:`close`."""

    def __init__(self, path: str | Path, file_label: str, max_raw_bytes: int) -> None:
        self.path = str(path)
        self.tmp = staging_path(path)
        self.file_label = file_label
        self.max_raw_bytes = max_raw_bytes
        self.count = 0
        self.reasons: Counter[str] = Counter()
        self._fh: Any = open(self.tmp, "w", encoding="utf-8")

    def add(self, bad: Bad) -> None:
        rec = bad.to_record(self.file_label, self.max_raw_bytes)
        self._fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
        self.count += 1
        self.reasons[reason_category(bad.reason)] += 1

    def close(self) -> None:
        """Publish the file, or remove any older one when this shard had nothing to quarantine."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        if self.count:
            publish(self.tmp, self.path)
        else:
            discard(self.tmp)
            outfs.remove(self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._fh.close()
        discard(self.tmp)


def read_quarantine(out: str | Path) -> Iterator[dict[str, Any]]:
    """Every quarantined record of a run, file by file in name order."""
    for path in outfs.glob(outfs.join(out, "quarantine"), "part-*.jsonl"):
        with outfs.open_file(path, "r", encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)
