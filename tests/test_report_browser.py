"""Open the report in real headless Chromium and check the screenshot is not blank.

The ``chromium`` fixture (tests/browser_fixture.py) installs Debian's chromium when it is missing;
the tests fail, not skip, when it cannot, because a report nobody can open is a broken report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_fixture import find_or_install_chromium  # noqa: E402
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


def test_report_renders_in_headless_chromium(tmp_path: Path, chromium: str) -> None:
    out = tmp_path / "out"
    build_out(out)
    paths = write_report(out)
    png = out / "report.png"
    result = shoot(Path(paths.html), png)
    assert result.returncode == 0, f"{chromium} could not render the report: {result.stdout}{result.stderr}"
    assert png.stat().st_size > 10_000, f"screenshot of {png.stat().st_size} bytes"
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == (1280, 1600)


def test_blank_page_is_detected(tmp_path: Path, chromium: str) -> None:
    """The check must be able to fail: an empty page gives a blank screenshot and exit status 1."""
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body style='background:#fff'></body></html>")
    result = shoot(blank, tmp_path / "blank.png")
    assert (tmp_path / "blank.png").exists(), f"{chromium} wrote no screenshot: {result.stdout}{result.stderr}"
    assert result.returncode == 1, f"a blank page passed the check: {result.stdout}{result.stderr}"


def test_missing_chromium_says_what_to_do(tmp_path: Path) -> None:
    """Without a browser and without apt-get the script fails with a reason, not a bare assert."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "id"):
        (bin_dir / tool).symlink_to(subprocess.check_output(["bash", "-c", f"command -v {tool}"], text=True).strip())
    res = find_or_install_chromium(env={**os.environ, "PATH": str(bin_dir)})
    assert res.returncode == 3
    assert "install Chromium" in res.stderr and res.stdout == ""
