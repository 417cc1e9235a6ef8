"""Dolma tagger ``factsep``: random facts as attribute spans that Dolma's mixer masks or drops by.

Run with ``dolma tag --tagger_modules factsep.adapters.dolma --taggers factsep ...`` (the module
registers the tagger when imported). Dolma names each attribute ``<experiment>__factsep__<type>``
and stores ``[start, end, score]`` triples with code point offsets, the unit of factsep's spans and
of the mixer's span replacement. The types written:

- ``<kind>`` (``phone_number``, ``isbn``, ...): one span per detected fact, score = confidence;
- ``random_fact``: the same spans of every kind together, score = confidence (one mixer rule
  masks them all);
- ``random_fact_bits``: the same spans, score = bits (mask only the unpredictable ones);
- ``doc_rf_count``, ``doc_rf_bits``, ``doc_max_confidence``: one span over the whole document with
  the count and summed bits of the facts not rejected, and the highest confidence (0 without any),
  for document filters.

Dolma builds taggers without arguments, so the detector's options come from the TOML file named
by ``FACTSEP_CONFIG`` (its ``[detect]`` section), else the defaults. Dolma's pins clash with
factsep's, so it runs in its own virtualenv: see ``scripts/dolma-venv.sh``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from dolma import add_tagger
from dolma.core.data_types import DocResult, Document, Span
from dolma.core.taggers import BaseTagger

from factsep.config import Config
from factsep.span import REJECTED

TAGGER_NAME = "factsep"
CONFIG_ENV = "FACTSEP_CONFIG"
DOC_TYPES = ("doc_rf_count", "doc_rf_bits", "doc_max_confidence")


@lru_cache(maxsize=4)
def _detector(config_path: str | None) -> Any:
    """One detector per process and config file: Dolma builds a tagger for every file it tags."""
    from factsep import Detector

    return Detector(Config.from_toml(config_path).detect)


@add_tagger(TAGGER_NAME)
class FactsepTagger(BaseTagger):
    """Per-kind spans with confidence, a bits view, and document totals (see the module docstring)."""

    def __init__(self) -> None:
        self.detector = _detector(os.environ.get(CONFIG_ENV) or None)

    @property
    def defaults(self) -> list[str]:
        return list(DOC_TYPES)

    def predict(self, doc: Document) -> DocResult:
        found = self.detector.detect(doc.text, str(doc.id))
        spans: list[Span] = []
        for s in found:
            spans.append(Span(start=s.start, end=s.end, type=s.kind, score=s.confidence))
            spans.append(Span(start=s.start, end=s.end, type="random_fact", score=s.confidence))
            spans.append(Span(start=s.start, end=s.end, type="random_fact_bits", score=s.bits))
        facts = [s for s in found if s.decision not in REJECTED]
        n = len(doc.text)
        spans.append(Span(start=0, end=n, type="doc_rf_count", score=len(facts)))
        spans.append(Span(start=0, end=n, type="doc_rf_bits", score=sum(float(s.bits) for s in facts)))
        top = max((s.confidence for s in found), default=0.0)
        spans.append(Span(start=0, end=n, type="doc_max_confidence", score=top))
        return DocResult(doc=doc, spans=spans)
