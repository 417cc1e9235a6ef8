"""spaCy component: ``nlp.add_pipe("factsep")`` puts random facts in ``doc.spans["factsep"]``.

The factory is registered under the ``spacy_factories`` entry point (pyproject.toml), so spaCy finds
it once factsep is installed, without importing this module first, and a saved pipeline that uses
it loads with ``spacy.load``. Each span's label is its kind; its other fields are span extensions:

- ``span._.factsep``: the whole span record (a dict: ``kind``, ``confidence``, ``bits``, ``decision``,
  ``subtype``, ``value_hash``, ``span_id``, the exact character ``start``/``end``, ...);
- ``span._.factsep_confidence``, ``._.factsep_bits``, ``._.factsep_decision``: read from it.

A fact need not end on a token boundary (``ISBN978...`` is one token), so its span is widened to
whole tokens (``alignment_mode="expand"``); the record keeps the exact offsets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from factsep.config import DetectorConfig, load_section
from factsep.span import REJECTED
from factsep.span import Span as FactSpan

DEFAULT_SPANS_KEY = "factsep"

if not Span.has_extension("factsep"):
    Span.set_extension("factsep", default=None)
for _field in ("confidence", "bits", "decision"):
    if not Span.has_extension(f"factsep_{_field}"):
        Span.set_extension(
            f"factsep_{_field}", getter=lambda span, f=_field: (span._.factsep or {}).get(f)
        )


class FactsepComponent:
    """Detects random facts in each doc (in batches under ``nlp.pipe``) and stores them as a span group."""

    def __init__(
        self,
        nlp: Language,
        name: str = "factsep",
        spans_key: str = DEFAULT_SPANS_KEY,
        include_rejected: bool = False,
        no_values: bool = False,
        detect: dict[str, Any] | None = None,
    ) -> None:
        from factsep import Detector

        self.name = name
        self.spans_key = spans_key
        self.include_rejected = include_rejected
        self.no_values = no_values
        self.detector = Detector(load_section(DetectorConfig, detect))

    def __call__(self, doc: Doc) -> Doc:
        self._set(doc, self.detector.detect(doc.text))
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for docs in minibatch(stream, size=batch_size):
            for doc, found in zip(docs, self.detector.detect_batch([d.text for d in docs]), strict=True):
                self._set(doc, found)
                yield doc

    def _set(self, doc: Doc, found: list[FactSpan]) -> None:
        group = []
        for s in found:
            if s.decision in REJECTED and not self.include_rejected:
                continue
            span = doc.char_span(s.start, s.end, label=s.kind, alignment_mode="expand")
            if span is None:  # offsets outside the text: nothing to point at
                continue
            record = (s.with_(text=None) if self.no_values else s).to_dict()
            span._.factsep = record
            group.append(span)
        doc.spans[self.spans_key] = group
        doc.spans[self.spans_key].attrs["detector"] = self.detector.version


@Language.factory(
    "factsep",
    default_config={"spans_key": DEFAULT_SPANS_KEY, "include_rejected": False, "no_values": False, "detect": {}},
)
def make_factsep(
    nlp: Language, name: str, spans_key: str, include_rejected: bool, no_values: bool, detect: dict[str, Any]
) -> FactsepComponent:
    """``detect`` takes :class:`factsep.DetectorConfig` options, e.g. ``{"review_low": 0.3}``."""
    return FactsepComponent(nlp, name, spans_key, include_rejected, no_values, detect)
