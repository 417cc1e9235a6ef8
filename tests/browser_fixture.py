"""Session fixture: headless Chromium for the report's browser tests, installed when missing.

``scripts/chromium.sh`` finds the browser or installs it with apt-get (the tests run as root on the
project's Debian machines, as the Label Studio fixture installs Label Studio), so the README's test
command needs nothing installed by hand. When it cannot, the tests fail with the script's reason.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "chromium.sh"


def find_or_install_chromium(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=1800, env=env)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser's path."""
    res = find_or_install_chromium()
    if res.returncode != 0:
        pytest.fail(
            f"the report browser tests need headless Chromium, and scripts/chromium.sh could not provide it: "
            f"{res.stderr.strip()[-1500:]}",
            pytrace=False,
        )
    return res.stdout.strip().splitlines()[-1]
