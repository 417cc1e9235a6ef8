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

from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

from factsep.config import DetectorConfig
from factsep.detection.context import load_pipeline
from factsep.detection.scoring import Signals, validator_weight
from factsep.kinds.base import Kind, Validation, get_kind, registry

if TYPE_CHECKING:
    from factsep.detection.detector import Detector, Hit
    from factsep.span import Span

#: factsep kind -> the entity Presidio's own recognizers emit for it, so that a Presidio user's
#: operators, allow lists and evaluations apply unchanged. Kinds Presidio has no entity for keep
#: their own name in upper case (``ISBN``, ``NATIONAL_ID``, ``HEX_DIGEST``, ...).
KIND_ENTITIES: dict[str, str] = {
    "phone_number": "PHONE_NUMBER",
    "email_address": "EMAIL_ADDRESS",
    "ip_address": "IP_ADDRESS",
    "mac_address": "MAC_ADDRESS",
    "credit_card": "CREDIT_CARD",
    "iban": "IBAN_CODE",
    "us_ssn": "US_SSN",
    "crypto_address": "CRYPTO",
    "uuid": "UUID",
    "date_of_birth": "DATE_TIME",
}
#: (kind, subtype) -> Presidio entity, for the formats Presidio has a recognizer of its own.
SUBTYPE_ENTITIES: dict[tuple[str, str], str] = {
    ("us_ssn", "itin"): "US_ITIN",
    ("national_id", "us.driving_licence"): "US_DRIVER_LICENSE",
    ("bank_account", "stdnum.us.rtn"): "ABA_ROUTING_NUMBER",
    ("national_id", "stdnum.es.nie"): "ES_NIE",
    ("national_id", "stdnum.es.dni"): "ES_NIF",
    ("tax_id", "stdnum.es.nif"): "ES_NIF",
    ("national_id", "stdnum.it.codicefiscale"): "IT_FISCAL_CODE",
    ("tax_id", "stdnum.it.iva"): "IT_VAT_CODE",
    ("national_id", "stdnum.pl.pesel"): "PL_PESEL",
    ("national_id", "stdnum.gb.nhs"): "UK_NHS",
    ("tax_id", "stdnum.au.abn"): "AU_ABN",
    ("tax_id", "stdnum.au.acn"): "AU_ACN",
    ("tax_id", "stdnum.au.tfn"): "AU_TFN",
    ("national_id", "stdnum.in_.pan"): "IN_PAN",
    ("national_id", "stdnum.in_.aadhaar"): "IN_AADHAAR",
    ("tax_id", "stdnum.in_.gstin"): "IN_GSTIN",
    ("national_id", "stdnum.fi.hetu"): "FI_PERSONAL_IDENTITY_CODE",
    ("national_id", "stdnum.kr.rrn"): "KR_RRN",
    ("tax_id", "stdnum.kr.brn"): "KR_BRN",
    ("national_id", "stdnum.th.pin"): "TH_TNIN",
    ("national_id", "stdnum.se.personnummer"): "SE_PERSONNUMMER",
    ("tax_id", "stdnum.se.orgnr"): "SE_ORGANISATIONSNUMMER",
    ("national_id", "stdnum.ca.sin"): "CA_SIN",
    ("national_id", "stdnum.za.idnr"): "ZA_ID_NUMBER",
    ("tax_id", "stdnum.za.tin"): "ZA_INCOME_TAX_NUMBER",
    ("tax_id", "stdnum.de.idnr"): "DE_TAX_ID",
    ("tax_id", "stdnum.de.stnr"): "DE_TAX_NUMBER",
    ("tax_id", "stdnum.de.vat"): "DE_VAT_ID",
    ("tax_id", "stdnum.de.handelsregisternummer"): "DE_HANDELSREGISTER",
    ("national_id", "stdnum.tr.tckimlik"): "TR_NATIONAL_ID",
    ("tax_id", "stdnum.sg.uen"): "SG_UEN",
}
#: How exported recognizers name their entities: Presidio's names (above) or factsep's kinds in
#: upper case (``IBAN``, ``CRYPTO_ADDRESS``, ``DATE_OF_BIRTH``), as before this mapping existed.
ENTITY_NAMES = ("presidio", "factsep")


def entity_of(kind: str, subtype: str | None = None, names: str = "presidio") -> str:
    """The Presidio entity of a factsep span: the subtype's entity, else the kind's, else KIND."""
    if names not in ENTITY_NAMES:
        raise ValueError(f"entity names must be one of {ENTITY_NAMES}, not {names!r}")
    if names == "presidio":
        if subtype is not None and (kind, subtype) in SUBTYPE_ENTITIES:
            return SUBTYPE_ENTITIES[(kind, subtype)]
        if kind in KIND_ENTITIES:
            return KIND_ENTITIES[kind]
    return kind.upper()


def entities_of(kind: str, names: str = "presidio") -> list[str]:
    """Every entity one kind's recognizer can emit (its ``supported_entities``)."""
    found = [entity_of(kind, None, names)]
    if names == "presidio":
        found += [e for (k, _), e in SUBTYPE_ENTITIES.items() if k == kind]
    return list(dict.fromkeys(found))


#: Presidio entity -> factsep kind, for recognizers plugged into factsep. DATE_TIME is left out:
#: a Presidio date is mostly no date of birth (and no random fact).
PRESIDIO_TO_KIND = {
    **{e: k for k, e in KIND_ENTITIES.items() if e != "DATE_TIME"},
    **{e: k for (k, _), e in SUBTYPE_ENTITIES.items()},
    "US_BANK_NUMBER": "bank_account",
    "US_PASSPORT": "national_id",
    "MEDICAL_LICENSE": "national_id",
    "ES_NIF": "tax_id",
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
        self._last: tuple[str, list[tuple[Span, Hit]]] | None = None

    def explained(self, text: str) -> list[tuple[Span, Hit]]:
        """The text's spans that are not rejected, each with the hit (signals) behind it."""
        if self._last is not None and self._last[0] == text:
            return self._last[1]
        if self._detector is None:
            from factsep.detection.detector import Detector

            self._detector = Detector(self.config)
        found = [(s, h) for s, h in self._detector.detect_explained(text) if not s.rejected]
        self._last = (text, found)
        return found


class FactsepRecognizer(EntityRecognizer):
    """One factsep kind as a Presidio recognizer.

    Entities are Presidio's names where Presidio has one (:data:`KIND_ENTITIES`,
    :data:`SUBTYPE_ENTITIES`), else the kind in upper case; ``entity_names="factsep"`` gives every
    span its kind in upper case. Each result carries an ``analysis_explanation`` built from
    factsep's own signals (shown with ``analyze(..., return_decision_process=True)``) and, in
    ``recognition_metadata``, the kind, subtype, bits, decision and signal contributions.
    """

    def __init__(self, kind: Kind, shared: _SharedDetection | None = None, entity_names: str = "presidio") -> None:
        self.kind = kind
        self.entity_names = entity_names
        self._shared = shared or _SharedDetection(None)
        super().__init__(supported_entities=entities_of(kind.name, entity_names), name=f"factsep_{kind.name}",
                         supported_language="en", version="factsep")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        results = []
        for span, hit in self._shared.explained(text):
            if span.kind != self.kind.name:
                continue
            entity = entity_of(span.kind, span.subtype, self.entity_names)
            if entities and entity not in entities:
                continue
            parts = _contributions(hit)
            metadata = {
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                # factsep's confidence already counts its context words: Presidio must not add more.
                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                "kind": span.kind,
                "subtype": span.subtype,
                "bits": span.bits,
                "decision": span.decision,
                "detector": span.detector,
                "signals": dict(parts),
            }
            results.append(RecognizerResult(entity, span.start, span.end, float(span.confidence),
                                            analysis_explanation=self._explain(span, hit, parts),
                                            recognition_metadata=metadata))
        return results

    def _explain(self, span: Span, hit: Hit, parts: list[tuple[str, float]]) -> AnalysisExplanation:
        validator = "checksum" if hit.validation.checksum else ("validator" if span.validated else "format only")
        explanation = AnalysisExplanation(
            recognizer=self.name,
            original_score=float(span.confidence),
            pattern_name=span.subtype or span.kind,
            validation_result=bool(span.validated),
            textual_explanation=(
                f"factsep {span.kind} ({span.subtype or 'no subtype'}), {validator}, {span.bits:.1f} bits, "
                f"{span.decision}; logits: " + ", ".join(f"{name} {value:+.2f}" for name, value in parts)
            ),
        )
        if hit.context is not None and hit.context.positive:
            explanation.set_supportive_context_word(", ".join(dict.fromkeys(hit.context.positive)))
        if hit.context is not None and hit.context.negative:
            words = ", ".join(dict.fromkeys(hit.context.negative))
            explanation.append_textual_explanation_line(f"negative context: {words}")
        return explanation


def _contributions(hit: Hit) -> list[tuple[str, float]]:
    """The signals that moved this hit's score, in logits (zero ones left out)."""
    if hit.signals is None:
        return []
    return [(name, round(value, 3)) for name, value in Signals(*hit.signals).contributions() if value]


def recognizers(kinds: Sequence[str] | None = None, config: DetectorConfig | None = None,
                entity_names: str = "presidio") -> list[FactsepRecognizer]:
    """factsep's kinds as Presidio recognizers, ready for ``RecognizerRegistry.add_recognizer``.

    ``entity_names``: "presidio" (Presidio's entity names where it has them) or "factsep" (the
    kinds in upper case).
    """
    if entity_names not in ENTITY_NAMES:
        raise ValueError(f"entity_names must be one of {ENTITY_NAMES}, not {entity_names!r}")
    names = kinds or sorted(registry())
    shared = _SharedDetection(config)
    return [FactsepRecognizer(get_kind(n), shared, entity_names) for n in names]


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
                           strength=validator_weight("presidio", "source"))
            hit = detector.score(text, r.start, r.end, prior_kind, [v],
                                 detector=f"presidio/{self.recognizer.name}")
            if hit is not None:
                out.append(hit)
        return out


def as_factsep(recognizer: EntityRecognizer, kind_map: dict[str, str] | None = None) -> Any:
    """Wrap a Presidio recognizer for ``Detector(extra_recognizers=[...])``."""
    return PresidioSource(recognizer, kind_map)
