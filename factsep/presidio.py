"""Presidio both ways: factsep kinds as Presidio recognizers, Presidio recognizers inside factsep.

Two traps are handled here so that nothing touches the network and context works offline:
- Presidio's e-mail validation calls ``tldextract``, whose default extractor downloads the public
  suffix list; :func:`offline` points it at the snapshot bundled with tldextract.
- A blank spaCy pipeline has no lemmas, so Presidio's context enhancer silently does nothing;
  :func:`nlp_engine` gives Presidio factsep's pipeline, which fills lemmas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

from factsep.config import DetectorConfig
from factsep.detection.context import load_pipeline
from factsep.kinds.base import Kind, Validation, get_kind, registry

if TYPE_CHECKING:
    from factsep.detection.detector import Detector, Hit

#: Presidio entity -> factsep kind, for recognizers plugged into factsep.
PRESIDIO_TO_KIND = {
    "PHONE_NUMBER": "phone_number",
    "EMAIL_ADDRESS": "email_address",
    "IP_ADDRESS": "ip_address",
    "CREDIT_CARD": "credit_card",
    "IBAN_CODE": "iban",
    "US_BANK_NUMBER": "bank_account",
    "US_SSN": "us_ssn",
    "US_ITIN": "us_ssn",
    "US_DRIVER_LICENSE": "national_id",
    "US_PASSPORT": "national_id",
    "UK_NHS": "national_id",
    "MEDICAL_LICENSE": "national_id",
    "CRYPTO": "crypto_address",
}

_offline_done = False


def offline() -> None:
    """Make tldextract use its bundled suffix list snapshot instead of downloading one."""
    global _offline_done
    if _offline_done:
        return
    import tldextract
    import tldextract.tldextract as tld_module

    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    tld_module.TLD_EXTRACTOR = extractor
    tldextract.extract = extractor  # type: ignore[assignment]
    _offline_done = True


class _FactsepSpacyEngine(SpacyNlpEngine):
    """Presidio's spaCy engine over factsep's pipeline (blank by default, lemmas filled)."""

    def __init__(self, model: str = "blank:en") -> None:
        super().__init__(models=[{"lang_code": "en", "model_name": model}])
        self._model = model

    def load(self) -> None:
        self.nlp = {"en": load_pipeline(self._model)}


def nlp_engine(model: str = "blank:en") -> SpacyNlpEngine:
    engine = _FactsepSpacyEngine(model)
    engine.load()
    return engine


def analyzer(recognizers: Sequence[EntityRecognizer] | None = None, model: str = "blank:en",
             predefined: bool = True) -> AnalyzerEngine:
    """A Presidio AnalyzerEngine that works offline: predefined recognizers and/or given ones."""
    offline()
    engine = nlp_engine(model)
    registry_ = RecognizerRegistry(supported_languages=["en"])
    if predefined:
        registry_.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    for r in recognizers or ():
        registry_.add_recognizer(r)
    return AnalyzerEngine(registry=registry_, nlp_engine=engine, supported_languages=["en"])


class _SharedDetection:
    """One Detector for all exported recognizers, remembering the last text it read.

    Presidio calls every recognizer on the same text in turn; detecting once and handing each
    recognizer its kind keeps factsep's overlap resolution (a card is not also a tax id).
    """

    def __init__(self, config: DetectorConfig | None) -> None:
        self.config = config
        self._detector: Detector | None = None
        self._last: tuple[str, list[Any]] | None = None

    def spans(self, text: str) -> list[Any]:
        if self._last is not None and self._last[0] == text:
            return self._last[1]
        if self._detector is None:
            from factsep.detection.detector import Detector

            self._detector = Detector(self.config)
        spans = [s for s in self._detector.detect(text) if not s.rejected]
        self._last = (text, spans)
        return spans


class FactsepRecognizer(EntityRecognizer):
    """One factsep kind as a Presidio recognizer; the entity is the kind name in upper case."""

    def __init__(self, kind: Kind, shared: _SharedDetection | None = None) -> None:
        self.kind = kind
        self._shared = shared or _SharedDetection(None)
        super().__init__(supported_entities=[kind.name.upper()], name=f"factsep_{kind.name}",
                         supported_language="en", version="factsep")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        if entities and self.kind.name.upper() not in entities:
            return []
        return [
            RecognizerResult(self.kind.name.upper(), s.start, s.end, float(s.confidence),
                             analysis_explanation=None,
                             recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                   "subtype": s.subtype, "bits": s.bits})
            for s in self._shared.spans(text)
            if s.kind == self.kind.name
        ]


def recognizers(kinds: Sequence[str] | None = None, config: DetectorConfig | None = None
                ) -> list[FactsepRecognizer]:
    """factsep's kinds as Presidio recognizers, ready for ``RecognizerRegistry.add_recognizer``."""
    names = kinds or sorted(registry())
    shared = _SharedDetection(config)
    return [FactsepRecognizer(get_kind(n), shared) for n in names]


class PresidioSource:
    """A Presidio recognizer plugged into factsep's Detector (``extra_recognizers``).

    Its results compete with the catalogue's in overlap resolution, scored by factsep's context
    model on top of the recognizer's own score (taken as the prior).
    """

    def __init__(self, recognizer: EntityRecognizer, kind_map: dict[str, str] | None = None,
                 nlp_model: str = "blank:en") -> None:
        offline()
        self.recognizer = recognizer
        self.kind_map = {**PRESIDIO_TO_KIND, **(kind_map or {})}
        self._engine = nlp_engine(nlp_model)

    def hits(self, text: str, detector: Detector) -> list[Hit]:
        entities = self.recognizer.get_supported_entities()
        artifacts = self._engine.process_text(text, "en")
        out: list[Hit] = []
        for r in self.recognizer.analyze(text, entities, artifacts) or []:
            kind = get_kind(self.kind_map.get(r.entity_type, "generic_id"))
            value = text[r.start:r.end]
            prior_kind = Kind(**{**kind.__dict__, "prior": max(min(r.score, 0.99), 0.01)})
            v = Validation(normalized=value, subtype=f"presidio.{r.entity_type}", validated=False,
                           strength=1.6)
            hit = detector.score(text, r.start, r.end, prior_kind, [v],
                                 detector=f"presidio/{self.recognizer.name}")
            if hit is not None:
                out.append(hit)
        return out


def as_factsep(recognizer: EntityRecognizer, kind_map: dict[str, str] | None = None) -> Any:
    """Wrap a Presidio recognizer for ``Detector(extra_recognizers=[...])``."""
    return PresidioSource(recognizer, kind_map)
