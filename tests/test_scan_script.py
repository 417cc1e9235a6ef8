"""The Python example of docs/scan.md, saved as a plain script (no ``__main__`` guard), runs.

With several workers the scan starts "spawn" processes; they used to re-run the script's top level,
start the pool again and die with BrokenProcessPool.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def docs_example() -> str:
    text = (ROOT / "docs" / "scan.md").read_text(encoding="utf-8")
    section = text[text.index("**From Python**") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_docs_scan_example_runs_as_a_script(tmp_path: Path) -> None:
    code = docs_example()
    assert "workers=2" in code and "__main__" not in code
    script = tmp_path / "example.py"
    script.write_text(code)
    (tmp_path / "samples").mkdir()
    for name in ("bios/bio-00.txt", "bios/bio-01.txt", "chats.jsonl"):  # a few samples, several shards
        (tmp_path / "samples" / Path(name).name).symlink_to(ROOT / "samples" / name)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "BrokenProcessPool" not in res.stderr
    written, facts, _rate = res.stdout.split()
    assert int(written) > 0 and int(facts) > 0
    assert (tmp_path / "out" / "manifest.json").is_file()
    # the script's top level ran once, in this process only: one run, one summary line
    assert len(res.stdout.strip().splitlines()) == 1
