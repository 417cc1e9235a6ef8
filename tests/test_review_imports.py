"""The review modules import each other without a circle, and the task format reads back what it wrote."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from factsep.review.tasks import BadTask, make_task, read_task, task_text
from factsep.span import PENDING_REVIEW, Span, doc_key, make_span_id, make_value_hash

REVIEW = Path(__file__).resolve().parents[1] / "factsep" / "review"


def _imports() -> dict[str, set[str]]:
    """review module -> the review modules it imports (anywhere in the file, lazy imports too)."""
    graph: dict[str, set[str]] = {}
    for path in REVIEW.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("factsep.review."):
                deps.add(str(node.module).rsplit(".", 1)[1])
        graph[path.stem] = deps
    return graph


def test_no_review_module_imports_itself_through_others() -> None:
    graph = _imports()

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for dep in graph.get(todo.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    assert [m for m in sorted(graph) if m in reach(m)] == []
    assert "route" not in reach("sync") and "sync" not in reach("route")
    assert not {"route", "sync"} & reach("calibration")
    assert not {"route", "sync", "ml_backend"} & reach("tasks")


def test_review_modules_import_whichever_comes_first() -> None:
    """Each of them imported first in a fresh interpreter (the first import decides the order in
    which the package's modules load; the rest follow in reverse)."""
    mods = ["sync", "calibration", "route", "ml_backend"]
    for first in mods:
        order = [first, *reversed([m for m in mods if m != first])]
        code = "; ".join(f"import factsep.review.{m}" for m in order)
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        assert run.returncode == 0, (order, run.stderr[-500:])


def _span(text: str, dkey: str, start: int, end: int, kind: str) -> Span:
    return Span(
        span_id=make_span_id(dkey, start, end, kind), doc_id="d1", start=start, end=end, kind=kind,
        subtype=None, text=text[start:end], value_hash=make_value_hash(kind, text[start:end]),
        confidence=0.5, bits=30.0, validated=True, detector="test", decision=PENDING_REVIEW,
    )


def test_a_task_reads_back_as_made() -> None:
    text = "Call the front desk at 415 555 0134 before noon, or mail desk@example.org today."
    dkey = doc_key(text)
    phone = _span(text, dkey, text.index("415"), text.index(" before"), "phone_number")
    mail = _span(text, dkey, text.index("desk@"), text.index(" today"), "email_address")
    task = make_task(text, "d1", dkey, 5, len(text) - 1, [phone, mail], {phone.span_id}, "v1")
    w = read_task(task)
    assert (w.doc_key, w.doc_id, w.start, w.end) == (dkey, "d1", 5, len(text) - 1)
    assert task_text(task) == w.text == text[5:-1]
    assert w.routed == [phone.span_id] and w.shown_decided == {mail.span_id}
    (pred,) = task["predictions"]
    assert [r["value"]["text"] for r in pred["result"]] == [phone.text, mail.text]
    del task["data"]["factsep"]["window_start"]
    with pytest.raises(BadTask):
        read_task(task)


def test_sync_quarantines_a_task_whose_factsep_fields_lost_the_window_start() -> None:
    """A task factsep made whose server copy lost a field it needs is refused whole (it used to
    raise KeyError in the middle of a sync)."""
    from factsep.review.sync import SyncResult, decide_task

    text = "Reach the lab on 415 555 0178 after lunch."
    dkey = doc_key(text)
    phone = _span(text, dkey, text.index("415"), text.index(" after"), "phone_number")
    task = make_task(text, "d9", dkey, 0, len(text), [phone], {phone.span_id}, "v1")
    task.update(id=3, annotations=[{"id": 4, "completed_by": 2, "result": []}])
    del task["data"]["factsep"]["window_start"]
    for documents in ({dkey: text}, None):
        quarantined: list[dict] = []
        result = SyncResult()
        assert decide_task(task, {}, result, quarantined, documents) == []
        assert result.annotations_quarantined == 1
        assert quarantined[0]["reason"] == "task lacks its doc id, doc key or window offsets"
        assert (quarantined[0]["doc_id"], quarantined[0]["task_id"]) == ("d9", 3)
