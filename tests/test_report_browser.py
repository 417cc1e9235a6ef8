"""Open the report in real headless Chromium and check the screenshot is not blank.

Needs Debian's chromium (CI: ``apt-get update && apt-get install -y chromium``); the test fails,
not skips, without it, because a report nobody can open is a broken report.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report_fixture import build_out  # noqa: E402

from factsep.report import write_report  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "screenshot_report.py"


def shoot(html: Path, png: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(html), str(png), "--height", "1600"],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    assert shutil.which("chromium") or shutil.which("chromium-browser"), "install chromium (apt-get)"
    out = tmp_path / "out"
    build_out(out)
    paths = write_report(out)
    png = out / "report.png"
    result = shoot(Path(paths.html), png)
    assert result.returncode == 0, result.stdout + result.stderr
    assert png.stat().st_size > 10_000
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == (1280, 1600)


def test_blank_page_is_detected(tmp_path: Path) -> None:
    """The check must be able to fail: an empty page gives a blank screenshot and exit status 1."""
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body style='background:#fff'></body></html>")
    result = shoot(blank, tmp_path / "blank.png")
    assert (tmp_path / "blank.png").exists()
    assert result.returncode == 1, result.stdout + result.stderr
