"""OUT's review state against a real Label Studio: concurrent syncs and routes lose no decision,
a killed sync is completed, sync remembers the routed project, added spans are validated
(issue 13 items 4-5, issue 17 item 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from review_support import ALL_PENDING, Annotator, accept_all, copy_out, project_tasks, region, unique, write_corpus

from factsep.decisions import latest_decisions
from factsep.review import route, sync
from factsep.review.ledger import RoutingLedger
from factsep.scan import scan
from factsep.span import HUMAN_ADDED, make_value_hash

ROOT = Path(__file__).resolve().parents[1]
PHONE = "+1 650-253-0000"
#: The phone is detected in "call"; in "wall" (a run of numbers) it is not, and people add it.
DOCS = [
    {"id": "call", "text": f"Call {PHONE} today about the order."},
    {"id": "wall", "text": f"{PHONE} 1 650-253-0000 16502530000"},
    {"id": "isbn", "text": "Read ISBN 978-0-306-40615-7 first, then mail ops@example.org."},
    {"id": "card", "text": "Card 4111 1111 1111 1111 expires soon; call 020 7946 0958."},
]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outfolder_review")
    out = root / "out"
    scan([str(write_corpus(root, DOCS))], str(out), detector_config=ALL_PENDING)
    return out


@pytest.fixture(scope="module")
def annotated(scanned: Path, label_studio: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Routed to a project of its own name and fully annotated (everything kept, one fact added)."""
    out = copy_out(scanned, tmp_path_factory.mktemp("annotated") / "out")
    project = unique("outfolder")
    r = route(out, budget=50, project=project)
    (out.parent / "project.txt").write_text(project, encoding="utf-8")
    ls = label_studio.client()
    who = Annotator.get(ls, "oracle")
    for t in project_tasks(ls, r.project_id):
        who.annotate(t["id"], accept_all(t))
    # the phone in "wall" was not detected: an annotator adds it on a task of its own document
    added = _add_wall_phone(ls, r.project_id, who)
    assert added
    return out


def _add_wall_phone(ls: Any, project_id: int, who: Annotator) -> bool:
    from factsep.review.client import ReviewClient

    wall = next(d["text"] for d in DOCS if d["id"] == "wall")
    tasks = project_tasks(ls, project_id)
    for t in tasks:
        meta = t["data"]["factsep"]
        if meta["doc_id"] == "wall":
            lo = int(meta["window_start"])
            start = wall.index(PHONE) - lo
            who.annotate(t["id"], [*accept_all(t), region(start, start + len(PHONE), PHONE, "phone_number")])
            return True
    # no task showed "wall" (nothing detected there): import one the way route builds them
    client = ReviewClient.from_env()
    key = f"manual-{project_id}"
    from factsep.span import doc_key

    task = {"data": {"text": wall, "factsep": {
        "doc_id": "wall", "doc_key": doc_key(wall), "window_start": 0, "window_end": len(wall),
        "task_key": key, "spans": []}}}
    [tid] = client.import_tasks(project_id, [task])
    who.annotate(tid, [region(0, len(PHONE), PHONE, "phone_number")])
    return True


def _spans(out: Path) -> pl.DataFrame:
    return pl.read_parquet(str(out / "spans" / "part-*.parquet"))


def _dataset_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "dataset").glob("*.parquet"))}


def _decisions(out: Path) -> dict[str, str]:
    return {sid: d.decision for sid, d in latest_decisions(out).items()}


def _in_process(*code: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", "\n".join(code)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _project(annotated: Path) -> str:
    return (annotated.parent / "project.txt").read_text(encoding="utf-8")


def _sync_process(out: Path, project: str) -> subprocess.Popen[str]:
    return _in_process(
        "import json, sys", "from factsep.review import sync",
        f"r = sync({str(out)!r}, project={project!r})", "print(json.dumps({'appended': r.decisions_appended}))",
    )


def _result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr[-3000:]
    return json.loads(stdout.strip().splitlines()[-1])


def test_sync_after_route_uses_the_routed_project_and_validates_added_spans(
    annotated: Path, tmp_path: Path
) -> None:
    out = copy_out(annotated, tmp_path / "out")
    res = sync(out)  # no project given: the one OUT was routed to, not the [review] default
    assert res.tasks_seen > 0 and res.decisions_appended > 0 and res.added >= 1
    spans = _spans(out)
    added = spans.filter((pl.col("decision") == HUMAN_ADDED) & (pl.col("doc_id") == "wall")).row(0, named=True)
    # validated and normalized like a detected phone: region subtype, E.164 value hash, phone bits
    assert added["subtype"] == "US" and added["validated"] is True
    assert added["value_hash"] == make_value_hash("phone_number", "+16502530000")
    assert 30.0 < added["bits"] < 34.0
    detected = spans.filter((pl.col("doc_id") == "call") & (pl.col("kind") == "phone_number")).row(0, named=True)
    assert detected["value_hash"] == added["value_hash"]
    assert detected["corpus_count"] == added["corpus_count"] == 2  # the added copy merges in counts


def test_a_sync_killed_during_its_rewrite_is_completed_by_the_next(annotated: Path, tmp_path: Path) -> None:
    out = copy_out(annotated, tmp_path / "out")
    before = _dataset_bytes(out)

    def killed(_: str) -> None:
        raise KeyboardInterrupt("killed during the rewrite")

    project = _project(annotated)
    with pytest.raises(KeyboardInterrupt):
        sync(out, project=project, rewrite=killed)
    assert latest_decisions(out) and _dataset_bytes(out) == before  # decisions in, parts not
    again = sync(out, project=project)
    assert again.decisions_appended == 0 and again.rewritten  # nothing new, yet it completes the rewrite
    decided = _decisions(out)
    frame = _spans(out).filter(pl.col("span_id").is_in(list(decided)))
    in_parts = dict(frame.select("span_id", "decision").iter_rows())
    assert in_parts == decided
    assert not (out / "state" / "materialize.pending").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["accepted"] >= len([d for d in decided.values() if d != "human_reject"])
    assert sync(out, project=project).rewritten is False  # and then all is done


def test_concurrent_syncs_and_a_route_beside_a_sync_lose_no_decision(annotated: Path, tmp_path: Path) -> None:
    project = _project(annotated)
    serial = copy_out(annotated, tmp_path / "serial")
    first = sync(serial, project=project)
    assert first.decisions_appended > 0
    expected = _decisions(serial)

    both = copy_out(annotated, tmp_path / "both")
    mark = tmp_path / "appending"
    # sync A is slowed down between reading what is in force and appending (a preempted process, a
    # slow disk: injected, the server cannot produce it); sync B starts inside that window
    a = _in_process(
        "import importlib, json, pathlib, time", "s = importlib.import_module('factsep.review.sync')",
        "real = s.append_decisions",
        "def slow(out, decisions):",
        "    decisions = list(decisions)",
        f"    pathlib.Path({str(mark)!r}).write_text('x')",
        "    time.sleep(4)",
        "    return real(out, decisions)",
        "s.append_decisions = slow",
        f"r = s.sync({str(both)!r}, project={project!r})",
        "print(json.dumps({'appended': r.decisions_appended}))",
    )
    deadline = time.time() + 300
    while not mark.exists():
        assert a.poll() is None and time.time() < deadline, a.communicate()
        time.sleep(0.05)
    b = sync(both, project=project)
    appended = _result(a)["appended"] + b.decisions_appended
    # one sync appended what a sync alone appends, the other found it all in force: nothing lost,
    # nothing doubled, and the same dataset bytes as with one sync
    assert appended == first.decisions_appended
    assert _decisions(both) == expected
    assert _dataset_bytes(both) == _dataset_bytes(serial)

    beside = copy_out(annotated, tmp_path / "beside")
    routed_before = len(list(RoutingLedger(beside)))
    s = _sync_process(beside, project)
    r = _in_process(
        "import json", "from factsep.review import route",
        f"r = route({str(beside)!r}, budget=100, project={project!r})",
        "print(json.dumps({'created': r.tasks_created}))",
    )
    _result(r)
    assert _result(s)["appended"] == first.decisions_appended
    assert _decisions(beside) == expected
    keys = [t.task_key for t in RoutingLedger(beside)]
    assert len(keys) == len(set(keys)) >= routed_before  # no task recorded twice
    assert _dataset_bytes(beside) == _dataset_bytes(serial)
