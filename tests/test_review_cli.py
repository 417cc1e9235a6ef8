"""``factsep route`` / ``factsep sync`` through the CLI (the review group registered on its own app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from review_support import Annotator, accept_all, project_tasks, scan_corpus, unique, write_corpus
from typer.testing import CliRunner

from factsep.cli import review as review_cli


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    review_cli.register(app)
    return app


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli_corpus")
    return scan_corpus(write_corpus(root), root / "out")


def test_route_without_server_says_where_the_file_is(app, scanned: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    out = shutil.copytree(scanned, tmp_path / "out")
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    res = CliRunner().invoke(app, ["route", str(out), "--budget", "3"])
    assert res.exit_code == 0, res.output
    text = "".join(res.output.split())  # rich wraps lines (even inside a path) to the terminal width
    assert "LABEL_STUDIO_URLisnotset" in text and "review/tasks.json" in text
    assert (out / "review" / "tasks.json").exists()


def test_route_and_sync_commands(label_studio, app, scanned: Path, tmp_path: Path) -> None:
    import shutil

    out = shutil.copytree(scanned, tmp_path / "out")
    project = unique("cli")
    res = CliRunner().invoke(app, ["route", str(out), "--budget", "50", "--project", project, "--json"])
    assert res.exit_code == 0, res.output
    routed = json.loads(res.stdout)
    assert routed["tasks_created"] > 0 and label_studio.api_key not in res.output
    ls = label_studio.client()
    who = Annotator.get(ls, "oracle")
    for t in project_tasks(ls, routed["project_id"]):
        who.annotate(t["id"], accept_all(t))
    res = CliRunner().invoke(app, ["sync", str(out), "--project", project])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "decisions appended" in text and label_studio.api_key not in text
    # values are never printed: no span text appears in the output
    assert "415 555 0132" not in res.output and "@example" not in res.output


def test_unreachable_server_is_a_clean_failure(app, scanned: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    out = shutil.copytree(scanned, tmp_path / "out")
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "secret-key-never-shown")
    from factsep.review import client as client_mod

    monkeypatch.setattr(client_mod.RetryPolicy, "__init__", _fast_policy)
    res = CliRunner().invoke(app, ["route", str(out)])
    assert res.exit_code == 1
    text = " ".join(res.output.split())
    assert "route failed" in text and "secret-key-never-shown" not in text


def _fast_policy(self, attempts: int = 2, base_delay: float = 0.01, max_delay: float = 0.02,
                 timeout: float = 2.0) -> None:
    object.__setattr__(self, "attempts", attempts)
    object.__setattr__(self, "base_delay", base_delay)
    object.__setattr__(self, "max_delay", max_delay)
    object.__setattr__(self, "timeout", timeout)


def test_route_strategy_option(app, scanned: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--strategy value routes by the value of a look and shows a window's neighbours; a wrong
    name is refused."""
    import shutil

    out = shutil.copytree(scanned, tmp_path / "out")
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    bad = CliRunner().invoke(app, ["route", str(out), "--strategy", "loudest"])
    assert bad.exit_code == 2 and not (out / "review" / "tasks.json").exists()
    res = CliRunner().invoke(app, ["route", str(out), "--budget", "50", "--strategy", "value", "--json"])
    assert res.exit_code == 0, res.output
    routed = json.loads(res.stdout)
    tasks = json.loads((out / "review" / "tasks.json").read_text(encoding="utf-8"))
    shown = [s["span_id"] for t in tasks for s in t["data"]["factsep"]["spans"]]
    assert routed["selected"] == len(shown) == len(set(shown)) > 0
    # each task shows every span of the corpus inside its window (one per repeated value at most)
    import polars as pl

    frame = pl.read_parquet(str(out / "spans" / "part-*.parquet"))
    assert set(shown) <= set(frame["span_id"]) and len(shown) >= frame["value_hash"].n_unique()


def test_route_refuses_a_folder_with_no_scan_and_shows_its_name_whole(
    app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mistyped OUT is an error that names it (brackets and all), and nothing is written there."""
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    out = tmp_path / "run[review]"
    for cmd in (["route", str(out), "--budget", "3"], ["sync", str(out)]):
        res = CliRunner().invoke(app, cmd)
        text = "".join(res.output.split())
        assert res.exit_code == 1 and "noscanoutputin" in text and "run[review]" in text, res.output
    assert not out.exists()
