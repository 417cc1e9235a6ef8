"""The Prefect flows on Prefect's test harness: same output as the library, cache, retries, failure."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from prefect_fixtures import (  # noqa: F401 - prefect_harness is a fixture
    artifacts_of,
    prefect_harness,
    read_dataset,
    task_states,
    write_corpus,
)

from factsep import orchestration as orch

# ------------------------------------------------------------------------------ Prefect-free parts


@dataclasses.dataclass(frozen=True)
class _Shard:
    shard_id: str
    url: str
    fingerprint: dict[str, Any]


def test_cache_key_follows_fingerprint_settings_out_and_epoch(tmp_path: Path) -> None:
    from factsep.config import DetectorConfig

    settings = orch.load_settings(None)
    shard = _Shard("a-1", "/x/a.jsonl", {"size": 10, "sha256": "aa"})
    key = orch.shard_cache_key(shard, "/o", settings, "e1")
    assert key == orch.shard_cache_key(shard, "/o", orch.load_settings(None), "e1")
    changed = [
        orch.shard_cache_key(
            dataclasses.replace(shard, fingerprint={"size": 11, "sha256": "ab"}), "/o", settings, "e1"
        ),
        orch.shard_cache_key(shard, "/o2", settings, "e1"),
        orch.shard_cache_key(shard, "/o", settings, "e2"),
        orch.shard_cache_key(shard, "/o", dataclasses.replace(settings, detect=DetectorConfig(review_low=0.2)), "e1"),
    ]
    assert key not in changed and len(set(changed)) == len(changed)


def test_out_epoch_is_stable_until_out_is_wiped(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    first = orch.out_epoch(out)
    assert orch.out_epoch(out) == first
    (tmp_path / "out" / orch.EPOCH_FILE).unlink()
    assert orch.out_epoch(out) != first


def test_fault_switch_fails_matching_shard_n_times(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shard = _Shard("part1.jsonl-abc", str(tmp_path / "part1.jsonl"), {})
    other = _Shard("part0.jsonl-abd", str(tmp_path / "part0.jsonl"), {})
    orch.maybe_fail(shard, str(tmp_path))  # switch off: nothing happens
    monkeypatch.setenv(orch.FAIL_SHARD_ENV, "part1*")
    monkeypatch.setenv(orch.FAIL_TIMES_ENV, "2")
    orch.maybe_fail(other, str(tmp_path))
    for _ in range(2):
        with pytest.raises(orch.InjectedShardFailure, match="part1.jsonl-abc"):
            orch.maybe_fail(shard, str(tmp_path))
    orch.maybe_fail(shard, str(tmp_path))  # third attempt passes


def test_task_runner_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    from flows.runtime import make_task_runner

    monkeypatch.delenv(orch.DASK_ADDRESS_ENV, raising=False)
    assert isinstance(make_task_runner(1), ThreadPoolTaskRunner)
    assert isinstance(make_task_runner(5, workers=1), ThreadPoolTaskRunner)
    runner = make_task_runner(5, workers=2)
    assert isinstance(runner, ProcessPoolTaskRunner) and runner._max_workers == 2
    assert isinstance(make_task_runner(3, dask_address="tcp://127.0.0.1:1"), DaskTaskRunner)
    monkeypatch.setenv(orch.DASK_ADDRESS_ENV, "tcp://127.0.0.1:2")
    assert isinstance(make_task_runner(3), DaskTaskRunner)


# ------------------------------------------------------------------------------ flows on the harness


def markers(out: Path) -> dict[str, float]:
    return {p.stem: p.stat().st_mtime_ns for p in (out / "state" / "shards").glob("*.json")}


@pytest.mark.usefixtures("prefect_harness")
def test_scan_flow_matches_library_caches_and_publishes(tmp_path: Path) -> None:
    from factsep.scan import scan
    from flows.scan_flow import scan_flow

    corpus = write_corpus(tmp_path / "in")
    scan([str(corpus)], str(tmp_path / "lib"))
    out = tmp_path / "flow"
    state = scan_flow([str(corpus)], str(out), workers=1, return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert result["shards"] == 3 and result["summary"]["written"] == 36
    assert read_dataset(out) == read_dataset(tmp_path / "lib")

    run_id = state.state_details.flow_run_id
    scans = {k: v for k, v in task_states(run_id).items() if k.startswith("scan-")}
    assert len(scans) == 3 and set(scans.values()) == {"Completed"}
    arts = artifacts_of(run_id)
    assert arts["factsep-scan"].type == "markdown" and "phone_number" in arts["factsep-scan"].data
    assert arts["factsep-scan-kinds"].type == "table"
    assert "monofact rate" in arts["factsep-scan-kinds"].data and "isbn" in arts["factsep-scan-kinds"].data
    assert "example.com" not in arts["factsep-scan"].data  # kinds and counts only, never raw values

    before = markers(out)
    again = scan_flow([str(corpus)], str(out), workers=1, return_state=True)
    assert again.is_completed(), again.message
    scans = {k: v for k, v in task_states(again.state_details.flow_run_id).items() if k.startswith("scan-")}
    assert set(scans.values()) == {"Cached"}, scans
    assert markers(out) == before
    assert read_dataset(out) == read_dataset(tmp_path / "lib")

    # a changed input is computed again; the others stay cached
    with open(corpus / "part2.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"id": "2-new", "text": "new ISBN 978-0-306-40615-7"}\n')
    from factsep.scan import plan_shards

    pending = orch.pending_shards(str(out), plan_shards([str(corpus)]))
    assert [s.rel for s in pending] == ["part2.jsonl"]
    third = scan_flow([str(corpus)], str(out), workers=1, return_state=True)
    scans = task_states(third.state_details.flow_run_id)
    changed = [v for k, v in scans.items() if k.startswith("scan-part2")]
    kept = [v for k, v in scans.items() if k.startswith("scan-") and not k.startswith("scan-part2")]
    assert changed == ["Completed"] and set(kept) == {"Cached"}
    assert third.result()["summary"]["written"] == 37


@pytest.mark.usefixtures("prefect_harness")
def test_failed_shard_is_retried_named_and_rerun_completes_only_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.scan_flow import scan_flow

    corpus = write_corpus(tmp_path / "in")
    out = tmp_path / "out"
    monkeypatch.setenv(orch.FAIL_SHARD_ENV, "part1.jsonl")
    state = scan_flow([str(corpus)], str(out), workers=1, retries=2, retry_delay=0.05, return_state=True)
    assert state.is_failed()
    assert "part1.jsonl" in state.message and "1 of 3 shard(s) failed after 2 retries" in state.message
    failed_id = next(p.stem for p in (out / orch.FAULT_DIR).glob("*.count"))
    assert failed_id.startswith("part1.jsonl")
    assert (out / orch.FAULT_DIR / f"{failed_id}.count").read_text() == "3"  # 1 try + 2 retries
    done = markers(out)
    assert len(done) == 2 and failed_id not in done
    for sid in done:  # the other shards' outputs are kept (the dataset is materialized at the end)
        assert (out / "state" / "docs" / f"part-{sid}.parquet").exists()
    assert not (out / "state" / "docs" / f"part-{failed_id}.parquet").exists()
    assert not list((out / "dataset").glob("part-*.parquet"))
    assert not (out / "manifest.json").exists()

    monkeypatch.delenv(orch.FAIL_SHARD_ENV)
    rerun = scan_flow([str(corpus)], str(out), workers=1, return_state=True)
    assert rerun.is_completed(), rerun.message
    scans = {k: v for k, v in task_states(rerun.state_details.flow_run_id).items() if k.startswith("scan-")}
    assert scans[f"scan-{failed_id}"] == "Completed"
    assert sorted(v for k, v in scans.items() if k != f"scan-{failed_id}") == ["Cached", "Cached"]
    assert {k: v for k, v in markers(out).items() if k in done} == done
    assert (out / "dataset" / f"part-{failed_id}.parquet").exists()
    assert rerun.result()["summary"]["written"] == 36 and (out / "manifest.json").exists()


@pytest.mark.usefixtures("prefect_harness")
def test_a_retry_recovers_a_flaky_shard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.scan_flow import scan_flow

    corpus = write_corpus(tmp_path / "in", files=2, docs=4)
    out = tmp_path / "out"
    monkeypatch.setenv(orch.FAIL_SHARD_ENV, "part0*")
    monkeypatch.setenv(orch.FAIL_TIMES_ENV, "1")
    state = scan_flow(
        [str(corpus)], str(out), workers=1, retries=1, retry_delay=0.05, artifacts=False, return_state=True
    )
    assert state.is_completed(), state.message
    counts = list((out / orch.FAULT_DIR).glob("*.count"))
    assert len(counts) == 1 and counts[0].read_text() == "2"
    assert state.result()["summary"]["written"] == 8


@pytest.mark.usefixtures("prefect_harness")
def test_pipeline_flow_on_a_process_pool_routes_reports_and_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.pipeline_flow import pipeline_flow

    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)  # routing writes tasks.json: no server here

    corpus = write_corpus(tmp_path / "in", files=2, docs=6)
    out = tmp_path / "out"
    state = pipeline_flow([str(corpus)], str(out), workers=2, return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert result["runner"] == "ProcessPoolTaskRunner(2)"
    assert result["scan"]["written"] == 12 and result["report"]["documents"] == 12
    assert result["route"]["tasks_file"] == str(out / "review" / "tasks.json")
    assert "no review server configured" in result["route"]["message"]
    assert (out / "report.html").exists() and (out / "review" / "tasks.json").exists()
    arts = artifacts_of(state.state_details.flow_run_id)
    markdown = arts["factsep-pipeline"].data
    assert "ProcessPoolTaskRunner(2)" in markdown and str(out / "report.html") in markdown
    assert "monofact" in markdown.lower() and "quarantine" in markdown.lower()
    table = arts["factsep-pipeline-kinds"].data
    for kind in result["report"]["kinds"]:
        assert kind in table
