"""The Label Studio ML backend (``factsep ml-backend``) and ``factsep sync --from-export``, against
a real Label Studio server that calls the backend from its own process on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from review_support import Annotator, accept_all, copy_out, project_tasks, scan_corpus, unique, write_corpus
from typer.testing import CliRunner

from factsep.cli import review as review_cli
from factsep.decisions import latest_decisions
from factsep.detection.detector import Detector
from factsep.review import route, sync
from factsep.review.ml_backend import MLBackend
from factsep.review.route import priority, task_score
from factsep.review.versions import scan_model_version
from factsep.span import AUTO_REJECT, HUMAN_ACCEPT, HUMAN_REJECT, Span

ROOT = Path(__file__).resolve().parents[1]

#: Sentences written for these tests: values nobody routed, in tasks people import by hand.
HAND_TEXTS = [
    "Please ring Dana on +44 20 7946 0321 before noon, or write to dana.ross@example.net.",
    "The parcel for order 55 went to the front desk; its ISBN is 978-3-16-148410-0.",
]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ml_corpus")
    return scan_corpus(write_corpus(root), root / "out")


@pytest.fixture
def out(scanned: Path, tmp_path: Path) -> Path:
    return copy_out(scanned, tmp_path / "out")


@pytest.fixture
def backend(out: Path) -> Iterator[MLBackend]:
    b = MLBackend(out, port=0).start()
    try:
        yield b
    finally:
        b.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Any, timeout: float = 120.0, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


def _spans(task: dict[str, Any]) -> list[tuple[int, int, str, str]]:
    return sorted((r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["value"]["text"])
                  for r in task["result"])


def test_protocol_predicts_as_the_scan_detects(out: Path, backend: MLBackend) -> None:
    health = httpx.get(f"{backend.url}/health").json()
    version = scan_model_version(out)
    assert health["status"] == "UP" and health["model_version"] == version
    assert httpx.post(f"{backend.url}/setup", json={"project": "1.0", "schema": "<View/>"}).json() == {
        "model_version": version}
    tasks = [{"id": 1, "data": {"text": t}} for t in HAND_TEXTS] + [{"id": 3, "data": {"image": "x.png"}}]
    results = httpx.post(f"{backend.url}/predict", json={"tasks": tasks}).json()["results"]
    assert len(results) == len(tasks)
    detector = Detector(scan_config(out))
    for task, pred in zip(tasks[:2], results[:2], strict=True):
        text = task["data"]["text"]
        spans = [s for s in detector.detect(text) if s.decision != AUTO_REJECT]
        assert spans, "the sentences were written to hold random facts"
        assert pred["model_version"] == version
        assert pred["score"] == task_score(spans) == round(max(priority(s) for s in spans), 4)
        assert _spans(pred) == sorted((s.start, s.end, s.kind, text[s.start : s.end]) for s in spans)
        assert sorted(r["score"] for r in pred["result"]) == sorted(round(s.confidence, 4) for s in spans)
    assert results[2]["result"] == []  # no text: an empty prediction keeps the answer aligned
    assert httpx.post(f"{backend.url}/webhook", json={"action": "PROJECT_UPDATED"}).json() == {
        "status": "Unknown event"}
    assert httpx.post(f"{backend.url}/predict", content=b"not json").status_code == 400


def scan_config(out: Path):  # noqa: ANN201 - DetectorConfig
    from factsep.config import DetectorConfig, load_section

    detect = json.loads((out / "state" / "run.json").read_text(encoding="utf-8"))["detect"]
    return load_section(DetectorConfig, detect)


def test_connected_backend_preannotates_hand_imported_tasks_and_records_annotations(
    label_studio, out: Path
) -> None:
    """The commands of docs/review.md: route, then ``factsep ml-backend OUT --connect``."""
    project = unique("ml backend")
    routed = route(out, budget=50, project=project)
    version = scan_model_version(out)
    ls = label_studio.client()
    meta = ls.projects.get(routed.project_id)
    assert meta.model_version == version and meta.show_collab_predictions is True
    # prediction score = routing priority, so LS's "prediction score" sort gives routing order
    spans = {s.span_id: s for s in _load_spans(out)}
    routed_tasks = project_tasks(ls, routed.project_id)
    for t in routed_tasks:
        (pred,) = t["predictions"]
        assert pred["score"] == task_score([spans[s["span_id"]] for s in t["data"]["factsep"]["spans"]])
    by_score = sorted(routed_tasks, key=lambda t: -t["predictions"][0]["score"])
    ranks = [max(priority(spans[s["span_id"]]) for s in t["data"]["factsep"]["spans"]) for t in by_score]
    assert ranks == sorted(ranks, reverse=True)

    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "factsep", "ml-backend", str(out), "--port", str(port), "--connect",
         "--project", project],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        def connected() -> bool:
            try:
                return bool(ls.ml.list(project=routed.project_id)) and httpx.get(f"{url}/health").is_success
            except (httpx.HTTPError, Exception):
                return proc.poll() is not None  # stop waiting if it died
        assert wait_for(connected, timeout=180), "backend did not come up"
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        hooks = [h for h in ls.webhooks.list(project=str(routed.project_id)) if h.url == f"{url}/webhook"]
        assert len(hooks) == 1 and hooks[0].send_payload

        # 1. tasks imported by hand get factsep's pre-annotations from the backend
        ids = ls.projects.import_tasks(
            routed.project_id, request=[{"data": {"text": t}} for t in HAND_TEXTS], return_task_ids=True
        ).task_ids
        listed = {t["id"]: t for t in project_tasks(ls, routed.project_id)}
        assert not listed[ids[0]]["predictions"] and not listed[ids[1]]["predictions"]
        # a) opening a task (the label stream's task fetch): Label Studio asks the backend
        opened = ls.tasks.get(str(ids[0])).model_dump()
        # b) the Data Manager's "Retrieve predictions" action
        ls.actions.create(id="retrieve_tasks_predictions", project=routed.project_id,
                          selected_items={"all": False, "included": [ids[1]]})
        listed = {t["id"]: t for t in project_tasks(ls, routed.project_id)}
        detector = Detector(scan_config(out))
        for text, task in ((HAND_TEXTS[0], opened), (HAND_TEXTS[1], listed[ids[1]])):
            (pred,) = task["predictions"]
            assert pred["model_version"] == version
            want = [s for s in detector.detect(text) if s.decision != AUTO_REJECT]
            assert want and _spans(pred) == sorted((s.start, s.end, s.kind, text[s.start : s.end]) for s in want)
            assert pred["score"] == pytest.approx(task_score(want))
        # routed tasks keep route's pre-annotations (same model version: nothing re-predicted)
        for t in routed_tasks:
            assert [p["id"] for p in listed[t["id"]]["predictions"]] == [p["id"] for p in t["predictions"]]

        # 2. an annotation reaches the ledger with no sync run (webhook -> fit)
        assert latest_decisions(out) == {}
        who = Annotator.get(ls, "oracle")
        kept, dropped = routed_tasks[0], routed_tasks[1]
        kept_annotation = who.annotate(kept["id"], accept_all(kept))
        who.annotate(dropped["id"], [])  # every region deleted: the routed spans are rejected
        want_decisions = {s["span_id"]: HUMAN_ACCEPT for s in kept["data"]["factsep"]["spans"]}
        want_decisions |= {s["span_id"]: HUMAN_REJECT for s in dropped["data"]["factsep"]["spans"]}

        def arrived() -> dict[str, str] | None:
            got = {sid: d.decision for sid, d in latest_decisions(out).items() if sid in want_decisions}
            return got if got == want_decisions else None
        assert wait_for(arrived), f"ledger: {latest_decisions(out)}"
        assert wait_for(lambda: httpx.get(f"{url}/health").json()["fit"]["pending"] == 0)
        health = httpx.get(f"{url}/health").json()
        assert health["fit"]["last_error"] is None and health["fit"]["decisions_appended"] >= len(want_decisions)
        # strata refreshed in the same fit, and the dataset shows the decisions
        assert (out / "state" / "inferred.json").exists()
        decided = {s.span_id: s.decision for s in _load_spans(out)}
        assert all(decided[sid] == d for sid, d in want_decisions.items() if sid in decided)
        # a sync now finds nothing new: the backend already recorded it
        assert sync(out, project=project).decisions_appended == 0

        # 3. the annotator changes their mind (ANNOTATION_UPDATED): the latest vote counts
        ls.annotations.update(kept_annotation, result=[])
        flipped = {sid: HUMAN_REJECT for sid in want_decisions}
        assert wait_for(lambda: {sid: latest_decisions(out)[sid].decision for sid in want_decisions} == flipped)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert label_studio.api_key not in (proc.stdout.read() if proc.stdout else "")


def _load_spans(out: Path) -> list[Span]:
    from factsep.review.data import load_spans

    return load_spans(out)


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    review_cli.register(app)
    return app


def test_sync_from_export_reads_the_same_decisions(label_studio, app, out: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    project = unique("export")
    routed = route(out, budget=50, project=project)
    ls = label_studio.client()
    tasks = project_tasks(ls, routed.project_id)
    who, other = Annotator.get(ls, "oracle"), Annotator.get(ls, "second")
    for i, t in enumerate(tasks):
        who.annotate(t["id"], accept_all(t) if i % 2 == 0 else [])
    other.annotate(tasks[0]["id"], [])  # one against one on the first task: a tie stays pending
    export = tmp_path / "export.json"
    export.write_bytes(b"".join(ls.projects.exports.download_sync(
        routed.project_id, export_type="JSON", download_all_tasks=True)))
    assert isinstance(json.loads(export.read_text(encoding="utf-8")), list)

    from_server = copy_out(out, tmp_path / "from_server")
    expected = sync(from_server, project=project)
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)  # the file alone, no server
    res = CliRunner().invoke(app, ["sync", str(out), "--from-export", str(export), "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert got["decisions_appended"] == expected.decisions_appended > 0
    assert got["ties"] == expected.ties >= 1
    decisions = {sid: d.decision for sid, d in latest_decisions(out).items()}
    assert decisions == {sid: d.decision for sid, d in latest_decisions(from_server).items()}
    assert set(decisions.values()) == {HUMAN_ACCEPT, HUMAN_REJECT}

    # an export without annotation records (JSON-MIN) is refused, saying which format to use
    minimal = tmp_path / "min.json"
    minimal.write_text(json.dumps([{"text": "x", "label": []}]), encoding="utf-8")
    res = CliRunner().invoke(app, ["sync", str(out), "--from-export", str(minimal)])
    assert res.exit_code == 1 and "JSON format" in " ".join(res.output.split())


def test_rescan_with_calibration_is_a_new_model_version_and_open_tasks_keep_their_regions(
    label_studio, tmp_path: Path
) -> None:
    from dataclasses import replace

    from review_support import ALL_PENDING

    inputs = write_corpus(tmp_path / "corpus")
    out = scan_corpus(inputs, tmp_path / "out")
    project = unique("model version")
    first = route(out, budget=50, project=project)
    before = scan_model_version(out)
    ls = label_studio.client()
    routed_before = {t["id"] for t in project_tasks(ls, first.project_id)}
    cal = tmp_path / "calibration.json"
    cal.write_text(json.dumps({"version": 1, "kinds": {"phone_number": {"x": [0.0, 1.0], "y": [0.0, 0.9]}}}),
                   encoding="utf-8")
    scan_corpus(inputs, out, replace(ALL_PENDING, calibration_path=str(cal)))
    after = scan_model_version(out)
    assert after != before and after.startswith(before.split("+")[0] + "+cal.")
    route(out, budget=50, project=project)
    assert ls.projects.get(first.project_id).model_version == after
    tasks = project_tasks(ls, first.project_id)
    assert routed_before <= {t["id"] for t in tasks}
    for t in tasks:
        by_version = {p["model_version"]: p for p in t["predictions"]}
        if t["id"] in routed_before:  # carried once, not again on the next route
            assert set(by_version) == {before, after}
            assert by_version[after]["result"] == by_version[before]["result"]
        else:  # routed after the re-scan
            assert set(by_version) == {after}
    route(out, budget=50, project=project)
    counts = {t["id"]: len(t["predictions"]) for t in project_tasks(ls, first.project_id)}
    assert counts == {t["id"]: len(t["predictions"]) for t in tasks}


def _routed_and_connected(label_studio, out: Path, backend: MLBackend, webhook: bool) -> tuple[int, list[dict]]:
    from factsep.review import ReviewClient
    from factsep.review.ml_backend import connect

    client = ReviewClient(label_studio.url, label_studio.api_key)
    routed = route(out, budget=50, project=unique("ml fit"), client=client)
    ids = connect(client, routed.project_id, backend.url)
    if not webhook:
        label_studio.client().webhooks.delete(ids["webhook_id"])
    return int(ids["ml_backend_id"]), project_tasks(label_studio.client(), routed.project_id)


def test_start_training_fits_every_annotated_task(label_studio, out: Path, backend: MLBackend) -> None:
    """Label Studio's "Start training" (``START_TRAINING`` to /webhook): the whole project is read."""
    ml_id, tasks = _routed_and_connected(label_studio, out, backend, webhook=False)
    ls = label_studio.client()
    Annotator.get(ls, "oracle").annotate(tasks[0]["id"], accept_all(tasks[0]))
    assert backend.fitter.wait(5) and latest_decisions(out) == {}  # no webhook: nothing yet
    ls.ml.train(ml_id)
    want = {s["span_id"] for s in tasks[0]["data"]["factsep"]["spans"]}
    assert wait_for(lambda: want <= set(latest_decisions(out))), backend.fitter.status
    assert {latest_decisions(out)[sid].decision for sid in want} == {HUMAN_ACCEPT}


def test_without_api_key_fits_the_annotation_the_event_carries(
    label_studio, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    b = MLBackend(out, port=0).start()
    try:
        _, tasks = _routed_and_connected(label_studio, out, b, webhook=True)
        Annotator.get(label_studio.client(), "oracle").annotate(tasks[0]["id"], [])
        want = {s["span_id"] for s in tasks[0]["data"]["factsep"]["spans"]}
        assert wait_for(lambda: want <= set(latest_decisions(out))), b.fitter.status
        assert {latest_decisions(out)[sid].decision for sid in want} == {HUMAN_REJECT}
        assert b.fitter.status.last_error is None
    finally:
        b.close()


def test_connect_to_a_backend_that_is_down_says_what_to_check(label_studio) -> None:
    from factsep.review import ReviewClient, ReviewError, label_config
    from factsep.review.ml_backend import connect

    client = ReviewClient(label_studio.url, label_studio.api_key)
    pid = client.ensure_project(unique("ml down"), label_config())
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(ReviewError, match="is the backend up at .*ML_BLOCK_LOCAL_IP=false"):
        connect(client, pid, url)


def test_a_fit_that_fails_is_retried_so_no_vote_is_lost(label_studio, out: Path) -> None:
    """Label Studio unreachable while the backend fetches the annotated task (injected: the
    real server cannot be taken down between sending a webhook and answering the fetch)."""
    from factsep.review import ReviewClient, ReviewServerError

    class Outage(ReviewClient):
        down = True

        def get_task(self, task_id: int) -> dict[str, Any]:
            if self.down:
                raise ReviewServerError("Label Studio failed get task 5 times (ConnectError)")
            return super().get_task(task_id)

    flaky = Outage(label_studio.url, label_studio.api_key)
    b = MLBackend(out, port=0, client=flaky).start()
    b.fitter.retry_after = 1.0
    try:
        _, tasks = _routed_and_connected(label_studio, out, b, webhook=True)
        Annotator.get(label_studio.client(), "oracle").annotate(tasks[0]["id"], accept_all(tasks[0]))
        assert wait_for(lambda: b.fitter.status.last_error, timeout=60), b.fitter.status
        assert "ReviewServerError" in b.fitter.status.last_error and latest_decisions(out) == {}
        assert not b.fitter.wait(0.1)  # the failed fit is still owed
        flaky.down = False  # the server is back: the next retry fits the event
        want = {s["span_id"] for s in tasks[0]["data"]["factsep"]["spans"]}
        assert wait_for(lambda: want <= set(latest_decisions(out)), timeout=60), b.fitter.status
        assert b.fitter.wait(30) and b.fitter.status.last_error is None
        assert {latest_decisions(out)[sid].decision for sid in want} == {HUMAN_ACCEPT}
    finally:
        b.close()
