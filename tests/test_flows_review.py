"""route_flow and sync_flow against a real Label Studio server, on Prefect's test harness."""

from __future__ import annotations

from pathlib import Path

import ls_fixture
import prefect_fixtures
import pytest
from prefect_fixtures import artifacts_of
from review_support import DOCS, Annotator, accept_all, project_tasks, unique, write_corpus

from factsep.decisions import latest_decisions

# label_studio comes from conftest.py; the Prefect harness from prefect_fixtures
prefect_harness = prefect_fixtures.prefect_harness


@pytest.mark.usefixtures("prefect_harness")
def test_route_then_sync_flows_with_label_studio(label_studio: ls_fixture.LabelStudioServer, tmp_path: Path) -> None:
    from flows.route_flow import route_flow
    from flows.scan_flow import scan_flow
    from flows.sync_flow import sync_flow

    project = unique("flows review")
    config = tmp_path / "factsep.toml"
    config.write_text(
        f'[detect]\nreview_low = 0.0\nreview_high = 1.0\n\n[review]\nproject = "{project}"\nbudget = 50\n'
    )
    corpus = write_corpus(tmp_path / "in")
    out = tmp_path / "out"
    scanned = scan_flow([str(corpus)], str(out), config_path=str(config), workers=1, artifacts=False)
    assert scanned["summary"]["written"] == len(DOCS)

    routed = route_flow(str(out), config_path=str(config))
    assert routed["project_id"] and routed["tasks_created"] > 0 and routed["tasks_file"] is None
    assert routed["message"].startswith("sent ")

    ls = label_studio.client()
    oracle = Annotator.get(ls, "flows-oracle")
    for t in project_tasks(ls, routed["project_id"]):
        oracle.annotate(t["id"], accept_all(t))

    state = sync_flow(str(out), config_path=str(config), return_state=True)
    assert state.is_completed(), state.message
    synced = state.result()["sync"]
    assert synced["accepted"] >= routed["selected"] and synced["rejected"] == 0
    assert len(latest_decisions(str(out))) == synced["decisions_appended"] > 0
    assert state.result()["report"]["status"].get("human", 0) >= routed["selected"]
    arts = artifacts_of(state.state_details.flow_run_id)
    assert "factsep-sync" in arts and "factsep-sync-kinds" in arts

    again = sync_flow(str(out), config_path=str(config), artifacts=False)
    assert again["sync"]["decisions_appended"] == 0
