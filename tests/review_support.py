"""Helpers for the review tests: a scanned corpus with tricky text, and API-driven annotators."""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factsep.config import DetectorConfig

#: Documents with a fact after emoji, CJK, CRLF, combining characters, a ZWJ sequence; a value
#: repeated in two documents; and a document whose fact the detector is not expected to know.
DOCS: list[dict[str, str]] = [
    {"id": "emoji", "text": "Ping 😀👍🏽 then call +1 415 555 0132 now, thanks!"},
    {"id": "cjk", "text": "中文文本 电话 13812345678 以及 编号 结束"},
    {"id": "crlf", "text": "line one\r\nline two\r\nISBN 978-0-306-40615-7\r\nend of record"},
    {"id": "combining", "text": "Cafe\u0301 e\u0301te\u0301 card 4111 1111 1111 1111 ok"},
    {"id": "zwj", "text": "family 👨\u200d👩\u200d👧 email ana.bell@example.com done"},
    {"id": "plain", "text": "Reach 020 7946 0958 in London, or mail ops@example.org today."},
    {"id": "repeat", "text": "Again: call +1 415 555 0132 after lunch."},
    {"id": "nothing", "text": "No random facts in this sentence."},
]

#: Everything the detector emits is pending review, so tests control what gets routed.
ALL_PENDING = DetectorConfig(review_low=0.0, review_high=1.0)


def write_corpus(folder: Path, docs: list[dict[str, str]] = DOCS, name: str = "docs.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return path


def scan_corpus(inputs: Path, out: Path, detector_config: DetectorConfig = ALL_PENDING) -> Path:
    from factsep.scan import scan

    scan([str(inputs)], str(out), detector_config=detector_config)
    return out


def copy_out(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


@dataclass
class Annotator:
    """A Label Studio user who answers through the real API (the admin posts on their behalf)."""

    ls: Any
    user_id: int

    @classmethod
    def get(cls, ls: Any, name: str) -> Annotator:
        email = f"{name}@factsep.test"
        for u in ls.users.list():
            if getattr(u, "email", None) == email:
                return cls(ls, int(u.id))
        user = ls.users.create(username=name, email=email, password=f"pw-{uuid.uuid4().hex}")
        return cls(ls, int(user.id))

    def annotate(self, task_id: int, result: list[dict[str, Any]], cancelled: bool = False) -> int:
        a = self.ls.annotations.create(
            task_id, result=result, completed_by=self.user_id, was_cancelled=cancelled
        )
        return int(a.id)


def region(start: int, end: int, text: str, kind: str) -> dict[str, Any]:
    return {
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text, "labels": [kind]},
    }


def project_tasks(ls: Any, project_id: int) -> list[dict[str, Any]]:
    out = []
    page = 1
    while True:
        try:
            pager = ls.tasks.list(project=project_id, fields="all", page=page, page_size=100)
        except Exception as exc:  # 404 past the last page
            if getattr(exc, "status_code", None) == 404:
                break
            raise
        items = [t if isinstance(t, dict) else t.model_dump() for t in pager.items or []]
        out.extend(items)
        if len(items) < 100:
            break
        page += 1
    return out


def accept_all(task: dict[str, Any]) -> list[dict[str, Any]]:
    """The annotation an annotator makes by keeping every pre-annotated region as it is."""
    preds = task.get("predictions") or []
    result = preds[0]["result"] if preds else []
    return [region(r["value"]["start"], r["value"]["end"], r["value"]["text"], r["value"]["labels"][0])
            for r in result]
