"""Presidio both ways, offline: factsep kinds inside an AnalyzerEngine, a Presidio recognizer in factsep."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from presidio_analyzer import Pattern, PatternRecognizer

from factsep import Detector, DetectorConfig, presidio


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def test_factsep_kinds_inside_a_presidio_analyzer(no_network: None) -> None:
    engine = presidio.analyzer(presidio.recognizers(), predefined=False)
    text = "Call +1 650-253-0000, ISBN 978-0-306-40615-7, card 4111 1111 1111 1111."
    found = {(r.entity_type, text[r.start:r.end]) for r in engine.analyze(text, language="en")}
    assert ("PHONE_NUMBER", "+1 650-253-0000") in found
    assert ("ISBN", "978-0-306-40615-7") in found
    assert ("CREDIT_CARD", "4111 1111 1111 1111") in found
    # factsep's overlap resolution holds inside Presidio: the card is not also a tax id.
    assert not any(t == "TAX_ID" and "4111" in v for t, v in found)


def test_presidio_email_validation_stays_offline(no_network: None) -> None:
    engine = presidio.analyzer()
    text = "write to jane.doe@example.co.uk today"
    types = {r.entity_type for r in engine.analyze(text, language="en")}
    assert "EMAIL_ADDRESS" in types


def test_presidio_context_works_on_the_blank_pipeline() -> None:
    engine = presidio.nlp_engine()
    artifacts = engine.process_text("Her phones were ringing", "en")
    assert "phone" in artifacts.lemmas and "ring" not in artifacts.lemmas[:1]


def test_a_presidio_recognizer_inside_factsep() -> None:
    ticket = PatternRecognizer(supported_entity="TICKET", name="ticket",
                               patterns=[Pattern("ticket", r"\bTCK-\d{6}\b", 0.6)])
    detector = Detector(DetectorConfig(kinds=("phone_number",)),
                        extra_recognizers=[presidio.as_factsep(ticket, {"TICKET": "generic_id"})])
    spans = detector.detect("Reference TCK-123456 was closed.\n" + "-" * 60 + "\nCall +1 650-253-0000")
    kinds = {(s.kind, s.text) for s in spans}
    assert ("generic_id", "TCK-123456") in kinds and ("phone_number", "+1 650-253-0000") in kinds
    ticket_span = next(s for s in spans if s.kind == "generic_id")
    assert ticket_span.detector == "presidio/ticket" and ticket_span.subtype == "presidio.TICKET"


def test_unknown_spacy_model_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="not installed"):
        Detector(DetectorConfig(spacy_model="xx_no_such_model"))
