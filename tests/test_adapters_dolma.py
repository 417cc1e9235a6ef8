"""Dolma adapter: the docs' ``dolma tag`` and ``dolma mix`` commands run in Dolma's own virtualenv
(scripts/dolma-venv.sh, installed on first use) with this checkout on PYTHONPATH; the attribute
files hold the detector's spans, and the mixer masks and drops by their scores."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from adapters_support import ROOT, doc_example, read_jsonl_folder, write_jsonl_corpus

import factsep
from factsep.span import REJECTED

SCRIPT = ROOT / "scripts" / "dolma-venv.sh"


@pytest.fixture(scope="module")
def dolma_env() -> dict[str, str]:
    """Environment whose PATH starts with the Dolma venv (installed here if missing)."""
    subprocess.run(["bash", str(SCRIPT), "install"], check=True, timeout=1200)
    venv = subprocess.run(["bash", str(SCRIPT), "path"], check=True, capture_output=True, text=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "FACTSEP_CONFIG")}
    env["PATH"] = f"{venv}/bin:{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    return env


def _run(script: str, cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]


def _attributes(folder: Path) -> dict[str, dict[str, Any]]:
    rows = {}
    for p in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(p, "rt", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                rows[r["id"]] = r["attributes"]
    return rows


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory, dolma_env: dict[str, str]) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("dolma")
    write_jsonl_corpus(root / "data" / "documents", files=2, n=24, gz=True, source="factsep-test")
    (root / "mix.yaml").write_text(doc_example("dolma-mix"), encoding="utf-8")
    _run(doc_example("dolma-run"), root, dolma_env)
    docs = {d["id"]: d for d in read_jsonl_folder(root / "data" / "documents")}
    return {"root": root, "docs": docs, "attributes": _attributes(root / "data" / "attributes" / "factsep")}


def _triples(spans: list[Any], score: str) -> list[list[float]]:
    return [[s.start, s.end, round(float(getattr(s, score)), 5)] for s in spans]


def test_attributes_hold_the_detector_spans(tagged: dict[str, Any]) -> None:
    docs, attrs = tagged["docs"], tagged["attributes"]
    assert set(attrs) == set(docs)
    detector = factsep.Detector()
    kinds_seen: set[str] = set()
    for doc_id, doc in docs.items():
        found = detector.detect(doc["text"], doc_id)
        a = {k.removeprefix("factsep__factsep__"): v for k, v in attrs[doc_id].items()}
        assert a.pop("random_fact", []) == _triples(found, "confidence")
        assert a.pop("random_fact_bits", []) == _triples(found, "bits")
        facts = [s for s in found if s.decision not in REJECTED]
        n = len(doc["text"])
        assert a.pop("doc_rf_count") == [[0, n, float(len(facts))]]
        assert a.pop("doc_rf_bits") == [[0, n, round(sum(float(s.bits) for s in facts), 5)]]
        assert a.pop("doc_max_confidence") == [[0, n, round(max((s.confidence for s in found), default=0.0), 5)]]
        by_kind: dict[str, list[Any]] = {}
        for s in found:
            by_kind.setdefault(s.kind, []).append(s)
        assert a == {k: _triples(v, "confidence") for k, v in by_kind.items()}
        kinds_seen |= set(by_kind)
    assert {"phone_number", "isbn", "credit_card"} <= kinds_seen


def test_mixer_masks_and_drops_by_threshold(tagged: dict[str, Any]) -> None:
    """The docs' mix.yaml: facts of confidence >= 0.75 become <fact>, documents with 3+ facts are dropped."""
    docs, attrs = tagged["docs"], tagged["attributes"]
    mixed = {d["id"]: d for d in read_jsonl_folder(tagged["root"] / "data" / "mixed")}
    count = {i: attrs[i]["factsep__factsep__doc_rf_count"][0][2] for i in docs}
    assert set(mixed) == {i for i in docs if count[i] < 3}
    assert len(mixed) < len(docs)
    masked = 0
    for doc_id, d in mixed.items():
        text = docs[doc_id]["text"]
        spans = sorted(s for s in attrs[doc_id].get("factsep__factsep__random_fact", []) if s[2] >= 0.75)
        expected, pos = [], 0
        for start, end, _ in spans:
            expected += [text[pos:start], "<fact>"]
            pos = end
        expected.append(text[pos:])
        assert d["text"] == "".join(expected)
        masked += len(spans)
    assert masked >= 5


def test_config_file_reaches_the_tagger(tmp_path: Path, dolma_env: dict[str, str]) -> None:
    """FACTSEP_CONFIG's [detect] section applies inside Dolma's worker (here: ISBNs only)."""
    write_jsonl_corpus(tmp_path / "data" / "documents", files=1, n=9, gz=True, source="factsep-test")
    (tmp_path / "factsep.toml").write_text('[detect]\nkinds = ["isbn"]\n', encoding="utf-8")
    env = {**dolma_env, "FACTSEP_CONFIG": str(tmp_path / "factsep.toml")}
    _run("dolma tag --documents 'data/documents/*.jsonl.gz' --experiment only_isbn --taggers factsep "
         "--tagger_modules factsep.adapters.dolma --processes 1", tmp_path, env)
    attrs = _attributes(tmp_path / "data" / "attributes" / "only_isbn")
    names = {k for a in attrs.values() for k in a}
    assert "only_isbn__factsep__isbn" in names
    per_kind = {n.split("__")[-1] for n in names} - {"random_fact", "random_fact_bits", "doc_rf_count",
                                                       "doc_rf_bits", "doc_max_confidence"}
    assert per_kind == {"isbn"}
