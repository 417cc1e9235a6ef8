"""Faults: the real server stopped mid-run, a crash between import and ledger write, a bad key;
injected 503s and timeouts (beside the real tests) where a real server will not produce them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from review_support import copy_out, project_tasks, scan_corpus, unique, write_corpus

from factsep.decisions import ledger_path
from factsep.review import (
    RetryPolicy,
    ReviewClient,
    ReviewConfig,
    ReviewError,
    ReviewServerError,
    route,
    sync,
)
from factsep.review.ledger import RoutingLedger

FAST = RetryPolicy(attempts=3, base_delay=0.2, max_delay=0.5, timeout=10)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fault_corpus")
    return scan_corpus(write_corpus(root), root / "out")


@pytest.fixture
def out(scanned: Path, tmp_path: Path) -> Path:
    return copy_out(scanned, tmp_path / "out")


def expected_span_ids(out: Path, tmp_path: Path, budget: int) -> set[str]:
    """What an uninterrupted routing selects (the same algorithm, written to a file)."""
    ref = copy_out(out, tmp_path / "reference")
    res = route(ref, budget=budget, url="")
    return RoutingLedger(ref).routed_span_ids(res.target)


class StopAfterFirstImport(ReviewClient):
    """Stops the real server right after the first batch is imported (timing only, no fake)."""

    server = None

    def import_tasks(self, project_id, tasks):  # type: ignore[no-untyped-def]
        ids = super().import_tasks(project_id, tasks)
        if self.server is not None:
            server, self.server = self.server, None
            server.stop()
        return ids


def test_server_stopped_mid_route_then_resumes(label_studio, out: Path, tmp_path: Path) -> None:
    assert label_studio.owned(), "this test stops the server: start it with scripts/label-studio.sh"
    want = expected_span_ids(out, tmp_path, budget=50)
    project = unique("stopped mid route")
    client = StopAfterFirstImport(label_studio.url, label_studio.api_key, policy=FAST)
    client.server = label_studio
    cfg = ReviewConfig(batch_size=1)
    try:
        with pytest.raises(ReviewServerError, match="failed .* 3 times"):
            route(out, budget=50, project=project, config=cfg, client=client)
    finally:
        label_studio.start()
    ledger = RoutingLedger(out)
    written = list(ledger)
    assert len(written) == 1  # exactly the batch that reached the server, nothing half-written
    tasks = project_tasks(label_studio.client(), written[0].project_id)
    assert [t["id"] for t in tasks] == [written[0].task_id]
    assert tasks[0]["data"]["factsep"]["task_key"] == written[0].task_key
    # resume: the rest is imported, nothing twice
    res = route(out, budget=50, project=project, config=cfg)
    tasks = project_tasks(label_studio.client(), res.project_id)
    keys = [t["data"]["factsep"]["task_key"] for t in tasks]
    assert len(keys) == len(set(keys)) == res.tasks_total
    assert RoutingLedger(out).routed_span_ids(res.target) == want


def test_crash_between_import_and_ledger_write_is_reconciled(label_studio, out: Path) -> None:
    project = unique("reconcile")
    first = route(out, budget=50, project=project)
    path = RoutingLedger(out).path
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][:10], encoding="utf-8")  # last line lost mid-write
    again = route(out, budget=50, project=project)
    assert again.tasks_created == 0
    assert len(project_tasks(label_studio.client(), first.project_id)) == first.tasks_created
    recorded = {t.task_key for t in RoutingLedger(out)}
    assert len(recorded) == first.tasks_created


def test_sync_with_server_down_fails_clearly_and_writes_nothing(label_studio, out: Path) -> None:
    assert label_studio.owned(), "this test stops the server: start it with scripts/label-studio.sh"
    project = unique("sync down")
    route(out, budget=50, project=project)
    label_studio.stop()
    try:
        client = ReviewClient(label_studio.url, label_studio.api_key, policy=FAST)
        with pytest.raises(ReviewServerError) as err:
            sync(out, project=project, client=client)
    finally:
        label_studio.start()
    assert label_studio.url in str(err.value) and label_studio.api_key not in str(err.value)
    assert not ledger_path(out).exists()


def test_wrong_key_is_refused_without_retries(label_studio, out: Path) -> None:
    slept: list[float] = []
    client = ReviewClient(label_studio.url, "0" * 40, policy=FAST, sleep=slept.append)
    with pytest.raises(ReviewError, match="HTTP 401"):
        route(out, budget=5, project=unique("bad key"), client=client)
    assert slept == []
    assert "0" * 40 not in repr(client)


# ---- injected faults, beside the real ones above ------------------------------------------------

class Flaky(httpx.BaseTransport):
    """Passes requests to the real server, after failing the first ``n`` with ``fault``."""

    def __init__(self, n: int, fault: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.n = n
        self.fault = fault
        self.failed = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.failed < self.n:
            self.failed += 1
            if self.fault == "timeout":
                raise httpx.ReadTimeout("injected timeout", request=request)
            return httpx.Response(503, json={"detail": "injected"}, request=request)
        return self.inner.handle_request(request)


@pytest.mark.parametrize("fault", ["503", "timeout"])
def test_transient_faults_are_retried(label_studio, out: Path, fault: str) -> None:
    transport = Flaky(2, fault)
    slept: list[float] = []
    client = ReviewClient(
        label_studio.url, label_studio.api_key, policy=FAST, sleep=slept.append,
        httpx_client=httpx.Client(transport=transport, timeout=10),
    )
    res = route(out, budget=50, project=unique(f"flaky {fault}"), client=client)
    assert transport.failed == 2 and len(slept) == 2 and slept[1] > slept[0] * 0.9
    assert res.tasks_created > 0


def test_persistent_503_ends_in_a_clear_error(label_studio, out: Path) -> None:
    client = ReviewClient(
        label_studio.url, label_studio.api_key, policy=FAST, sleep=lambda _: None,
        httpx_client=httpx.Client(transport=Flaky(10**6, "503"), timeout=10),
    )
    with pytest.raises(ReviewServerError, match=r"HTTP 503.*re-run") as err:
        route(out, budget=50, project=unique("down"), client=client)
    assert label_studio.api_key not in str(err.value)
    assert not RoutingLedger(out).path.exists()
    assert json.dumps(str(err.value))  # printable
