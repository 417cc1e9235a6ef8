"""Configuration is checked when it is read: unknown sections and keys fail at load, naming the valid
ones, from the library and from every command; ``factsep --version`` prints the package version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from factsep.config import SECTIONS, Config, ConfigError, section_class

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "factsep.toml"
    path.write_text(text)
    return path


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LABEL_STUDIO_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "factsep", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def test_every_section_is_known_and_loads(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[detect]\nreview_low = 0.3\n[tags]\nopen = '<f>'\n[scan]\nbatch_size = 8\n[review]\nbudget = 5\n",
    )
    cfg = Config.from_toml(path)
    assert cfg.detect.review_low == 0.3 and cfg.tags.open == "<f>"
    assert cfg.sections == {"scan": {"batch_size": 8}, "review": {"budget": 5}}
    for name in SECTIONS:
        assert section_class(name).__name__.endswith("Config")


def test_misspelled_section_fails_at_load_with_valid_names(tmp_path: Path) -> None:
    path = _write(tmp_path, "[reveiw]\nbudget = 5\n")
    with pytest.raises(ConfigError) as err:
        Config.from_toml(path)
    message = str(err.value)
    assert "[reveiw]" in message
    for name in SECTIONS:
        assert f"[{name}]" in message


def test_bad_review_key_fails_at_load(tmp_path: Path) -> None:
    path = _write(tmp_path, "[review]\nbudgett = 5\n")
    with pytest.raises(ConfigError, match=r"unknown \[review\] option\(s\) \['budgett'\].*'budget'"):
        Config.from_toml(path)


def test_bad_review_value_fails_at_load(tmp_path: Path) -> None:
    path = _write(tmp_path, "[review]\nstrategy = 'cheapest'\n")
    with pytest.raises(ConfigError, match="strategy is 'uncertainty' or 'value'"):
        Config.from_toml(path)


def test_bad_scan_key_and_bad_toml_fail_at_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[scan\].*batchsize"):
        Config.from_toml(_write(tmp_path, "[scan]\nbatchsize = 8\n"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.from_toml(_write(tmp_path, "[detect\n"))


@pytest.mark.parametrize(
    "command",
    [
        ["detect", "-"],
        ["route", "OUT"],
        ["scan", "IN", "--out", "OUT"],
        ["run", "IN", "--out", "OUT"],
    ],
)
def test_commands_refuse_bad_config_without_traceback(tmp_path: Path, command: list[str]) -> None:
    """The error names the bad key and the valid ones, exits 2, and nothing was written or started."""
    cfg = _write(tmp_path, "[review]\nbudgett = 5\n")
    (tmp_path / "IN").mkdir()
    (tmp_path / "IN" / "a.txt").write_text("Call me on +44 20 7946 0958 tomorrow.\n")
    args = [a if a not in ("IN", "OUT") else str(tmp_path / a) for a in command]
    res = _cli(*args, "--config", str(cfg), cwd=tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "budgett" in res.stderr and "annotators_per_task" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "OUT").exists()


def test_version_matches_the_package(tmp_path: Path) -> None:
    res = _cli("--version", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert res.stdout.strip() == f"factsep {project['version']}"
