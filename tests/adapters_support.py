"""Shared by the adapter tests: a small seeded corpus, and the examples read out of docs/adapters.md."""

from __future__ import annotations

import gzip
import json
import random
import re
import uuid
from pathlib import Path
from typing import Any

from stdnum import ean, luhn

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "adapters.md"


def doc_example(name: str) -> str:
    """The code block marked ``<!-- example: name -->`` in docs/adapters.md (the line before its fence)."""
    text = DOC.read_text(encoding="utf-8")
    m = re.search(rf"^<!-- example: {re.escape(name)} -->\n```[a-z]*\n(.*?)^```", text, re.M | re.S)
    assert m, f"docs/adapters.md has no code block marked <!-- example: {name} -->"
    return m.group(1)


def _isbn(rng: random.Random) -> str:
    body = "978" + "".join(rng.choice("0123456789") for _ in range(9))
    full = body + ean.calc_check_digit(body)
    return f"{full[:3]}-{full[3]}-{full[4:7]}-{full[7:12]}-{full[12]}"


def _card(rng: random.Random) -> str:
    body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    full = body + luhn.calc_check_digit(body)
    return " ".join(full[i : i + 4] for i in range(0, 16, 4))


def _phone(rng: random.Random) -> str:
    return f"+1 {rng.choice(['212', '415', '617', '312'])} {rng.randint(200, 989)} {rng.randint(1000, 9999)}"


def make_docs(n: int = 60, seed: int = 7) -> list[dict[str, Any]]:
    """Documents with random facts (some values repeated across documents) and look-alikes.

    Repeats matter: a value that two files share must get a corpus count of 2 however the files
    are spread over workers.
    """
    rng = random.Random(seed)
    shared = [_phone(rng), _isbn(rng), f"ops{rng.randint(10, 99)}@example.org"]
    docs = []
    for i in range(n):
        parts = [
            f"Ticket {i}: the customer called from {_phone(rng)} about order {rng.randint(1000, 9999)}.",
            f"The invoice total was ${rng.randint(10, 900)}.{rng.randint(10, 99)} in {rng.randint(1990, 2024)}.",
        ]
        if i % 3 == 0:
            parts.append(f"Please ship the book with ISBN {_isbn(rng)} to the depot.")
        if i % 4 == 1:
            parts.append(f"Card on file: {_card(rng)}, build id {uuid.UUID(int=rng.getrandbits(128), version=4)}.")
        if i % 5 == 2:
            parts.append(f"Escalate to {rng.choice(shared)} if it happens again.")
        if i % 7 == 3:
            parts.append("Version 2.4.1 shipped on page 12 of the manual, section 3.2.")
        docs.append({"id": f"doc-{i:03d}", "text": " ".join(parts)})
    return docs


def real_docs(n: int = 24, chars: int = 4000) -> list[dict[str, Any]]:
    """The start of ``n`` Debian changelogs of this machine (maintainer e-mails, bug numbers, versions,
    dates): real text for the adapters, picked by a seeded draw so reruns agree."""
    paths = sorted(Path("/usr/share/doc").glob("*/changelog.Debian.gz"))
    assert len(paths) >= n, "this machine ships Debian changelogs under /usr/share/doc"
    docs = []
    for p in random.Random(11).sample(paths, n):
        with gzip.open(p, "rt", encoding="utf-8", errors="replace") as fh:
            docs.append({"id": f"changelog-{p.parent.name}", "text": fh.read(chars)})
    return docs


def write_jsonl_corpus(
    folder: Path, files: int = 3, n: int = 60, gz: bool = False, real: int = 0, **extra: Any
) -> list[Path]:
    """``make_docs`` (and ``real`` changelogs) spread round-robin over ``files`` JSON-lines files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = make_docs(n) + (real_docs(real) if real else [])
    paths = []
    for f in range(files):
        path = folder / f"part-{f}.jsonl{'.gz' if gz else ''}"
        lines = "".join(json.dumps({**d, **extra}) + "\n" for d in docs[f::files])
        if gz:
            with gzip.open(path, "wt", encoding="utf-8") as fh:
                fh.write(lines)
        else:
            path.write_text(lines, encoding="utf-8")
        paths.append(path)
    return paths


def read_jsonl_folder(folder: Path) -> list[dict[str, Any]]:
    """Every record of every JSON-lines file (``*.jsonl``, ``*.json.gz``, ...) under ``folder``."""
    rows = []
    for p in sorted(folder.rglob("*.json*")):
        opener = gzip.open if p.suffix == ".gz" else open
        with opener(p, "rt", encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return rows
