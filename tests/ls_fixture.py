"""Session fixture: a real Label Studio server for the tests.

If ``LABEL_STUDIO_URL`` (default http://127.0.0.1:8080) answers ``/health``, it is used as is.
Otherwise the fixture starts the project's own server with ``scripts/label-studio.sh start``
(installing Label Studio into its virtualenv on a fresh machine) and stops it at the end, so the
README's test command works with nothing running. Import it in ``tests/conftest.py``::

    from ls_fixture import label_studio  # noqa: F401
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "label-studio.sh"
DEFAULT_URL = "http://127.0.0.1:8080"
#: Same default as scripts/label-studio.sh: the admin's legacy token on a test server.
DEFAULT_TEST_TOKEN = "fac75e9000000000000000000000000000000001"


def healthy(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as resp:
            return b"UP" in resp.read()
    except OSError:
        return False


@dataclass
class LabelStudioServer:
    """The running server; ``stop``/``start`` let fault tests take the real server down and back."""

    url: str
    api_key: str
    started_here: bool

    def _script(self, action: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LABEL_STUDIO_URL": self.url, "LABEL_STUDIO_API_KEY": self.api_key}
        return subprocess.run(
            ["bash", str(SCRIPT), action], env=env, capture_output=True, text=True, timeout=900
        )

    def owned(self) -> bool:
        """True when scripts/label-studio.sh holds this server's pid (so tests may stop it)."""
        res = self._script("status")
        return res.returncode == 0 and "pid=external" not in res.stdout

    def stop(self) -> None:
        res = self._script("stop")
        assert res.returncode == 0, res.stderr
        assert not healthy(self.url), "server still answers after stop"

    def start(self) -> None:
        res = self._script("start")
        assert res.returncode == 0, f"label-studio.sh start failed:\n{res.stderr}"

    def client(self):  # noqa: ANN201 - label_studio_sdk.LabelStudio
        from label_studio_sdk import LabelStudio

        return LabelStudio(base_url=self.url, api_key=self.api_key)


@pytest.fixture(scope="session")
def label_studio() -> Iterator[LabelStudioServer]:
    url = os.environ.get("LABEL_STUDIO_URL", DEFAULT_URL).rstrip("/")
    key = os.environ.get("LABEL_STUDIO_API_KEY", DEFAULT_TEST_TOKEN)
    saved = {k: os.environ.get(k) for k in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY")}
    os.environ["LABEL_STUDIO_URL"] = url
    os.environ["LABEL_STUDIO_API_KEY"] = key
    server = LabelStudioServer(url=url, api_key=key, started_here=not healthy(url))
    if server.started_here:
        server.start()
    try:
        yield server
    finally:
        if server.started_here:
            server._script("stop")
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
