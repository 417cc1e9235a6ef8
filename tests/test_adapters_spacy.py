"""spaCy adapter: ``nlp.add_pipe("factsep")`` on a real blank pipeline, found through the entry point."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import spacy
import tomllib
from adapters_support import ROOT, doc_example, real_docs
from spacy.tokens import Doc, DocBin

import factsep


def _nlp(**config: object) -> spacy.Language:
    import factsep.adapters.spacy  # noqa: F401  registers the factory in this process

    nlp = spacy.blank("en")
    nlp.add_pipe("factsep", config=config)
    return nlp


def test_docs_example_prints_each_fact() -> None:
    import factsep.adapters.spacy  # noqa: F401

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(doc_example("spacy"), "docs/adapters.md", "exec"), {"__name__": "__main__"})
    lines = [line.split() for line in out.getvalue().splitlines()]
    assert [line[0] for line in lines] == ["phone_number", "isbn"]
    for _kind, confidence, bits, decision in lines:
        assert 0 < float(confidence) <= 1 and float(bits) > 12 and decision in factsep.span.DECISIONS


@pytest.mark.parametrize("source", ["sentence", "changelogs"])
def test_spans_carry_the_detector_records(source: str) -> None:
    if source == "sentence":
        texts = ["Mail ana.lopez@correo.es or call +34 612 345 678; ref ISBN 978-3-16-148410-0, paid $40 in 2021."]
    else:
        texts = [d["text"] for d in real_docs(6)]
    nlp = _nlp()
    total = 0
    for text in texts:
        doc = nlp(text)
        expected = [s for s in factsep.detect(text) if not s.rejected]
        group = doc.spans["factsep"]
        assert len(group) == len(expected)
        assert group.attrs["detector"] == factsep.Detector().version
        for span, ref in zip(group, expected, strict=True):
            assert span.label_ == ref.kind
            assert span._.factsep_confidence == ref.confidence
            assert span._.factsep_bits == ref.bits
            assert span._.factsep_decision == ref.decision
            assert span._.factsep["value_hash"] == ref.value_hash
            assert (span._.factsep["start"], span._.factsep["end"]) == (ref.start, ref.end)
            assert span.start_char <= ref.start and span.end_char >= ref.end  # widened to whole tokens
        total += len(group)
    assert total >= 3


def test_pipe_batches_equal_single_calls_and_survive_serialization() -> None:
    texts = [
        "Ship to 221B, call +44 20 7946 0958 before noon.",
        "Nothing random here: version 3.2, page 14, year 1999.",
        "Keys: 123e4567-e89b-42d3-a456-426614174000 and card 4111 1111 1111 1111.",
    ]
    nlp = _nlp(include_rejected=True, no_values=True)
    batched = list(nlp.pipe(texts, batch_size=2))
    single = [nlp(t) for t in texts]
    as_tuples = [[(s.start_char, s.end_char, s.label_, s._.factsep["decision"]) for s in d.spans["factsep"]]
                 for d in batched]
    assert as_tuples == [[(s.start_char, s.end_char, s.label_, s._.factsep["decision"]) for s in d.spans["factsep"]]
                         for d in single]
    assert as_tuples[0] and not as_tuples[1] and len(as_tuples[2]) >= 2
    assert all(s._.factsep["text"] is None for d in batched for s in d.spans["factsep"])
    restored = list(DocBin(docs=batched, store_user_data=True).get_docs(nlp.vocab))
    assert [[(s.label_, s._.factsep_bits) for s in d.spans["factsep"]] for d in restored] == [
        [(s.label_, s._.factsep_bits) for s in d.spans["factsep"]] for d in batched
    ]
    assert isinstance(restored[0], Doc)


def test_pyproject_declares_the_entry_point() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = meta["project"]["entry-points"]["spacy_factories"]["factsep"]
    module, func = target.split(":")
    assert module == "factsep.adapters.spacy" and func == "make_factsep"


@pytest.mark.slow
def test_entry_point_found_after_install(tmp_path: Path) -> None:
    """In a fresh venv with this checkout installed, spaCy finds "factsep" without importing factsep,
    and a saved pipeline loads with ``spacy.load``."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)], check=True,
                   env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    script = textwrap.dedent(
        f"""
        import sys, importlib.metadata as md
        import spacy
        assert "factsep" not in sys.modules and "factsep.adapters.spacy" not in sys.modules
        nlp = spacy.blank("en")
        nlp.add_pipe("factsep")
        import factsep
        assert factsep.__file__.startswith({str(ROOT)!r}), factsep.__file__
        nlp.to_disk({str(tmp_path / "pipeline")!r})
        loaded = spacy.load({str(tmp_path / "pipeline")!r})
        doc = loaded("write to bob@corp.io today")
        print(loaded.pipe_names, [(s.label_, s._.factsep_decision) for s in doc.spans["factsep"]])
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the installed copy, not the path
    out = subprocess.run([str(py), "-c", script], check=True, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert out.stdout.strip().splitlines()[-1] == "['factsep'] [('email_address', 'auto_accept')]"
