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


#: One sentence per Presidio entity that factsep's recognizers should emit under Presidio's own name.
PRESIDIO_NAMED = [
    ("Transfer the rent to IBAN GB82 WEST 1234 5698 7654 32 by Friday.", "GB82 WEST 1234 5698 7654 32", "IBAN_CODE"),
    ("Send ETH to 0x52908400098527886E0F7030069857D2E4169EE7 now.", "0x52908400098527886E0F7030069857D2E4169EE7",
     "CRYPTO"),
    ("My SSN is 536-22-8726.", "536-22-8726", "US_SSN"),
    ("Her ITIN 912-70-1234 is on file.", "912-70-1234", "US_ITIN"),
    ("The server 192.0.2.10 went down.", "192.0.2.10", "IP_ADDRESS"),
    ("Pay with card 4111 1111 1111 1111 today.", "4111 1111 1111 1111", "CREDIT_CARD"),
    ("Write to jane.doe@example.com soon.", "jane.doe@example.com", "EMAIL_ADDRESS"),
    ("Call 650-253-0000 (office phone).", "650-253-0000", "PHONE_NUMBER"),
    ("The MAC 00:1A:2B:3C:4D:5E is blocked.", "00:1A:2B:3C:4D:5E", "MAC_ADDRESS"),
    ("Su DNI 12345678Z caducó.", "12345678Z", "ES_NIF"),
    ("He was born on 12 March 1961 in Leeds.", "12 March 1961", "DATE_TIME"),
    ("ISBN 978-0-306-40615-7 is cited.", "978-0-306-40615-7", "ISBN"),  # no Presidio entity: the kind
]


@pytest.mark.parametrize(("text", "value", "entity"), PRESIDIO_NAMED)
def test_entities_carry_the_names_presidio_users_map(no_network: None, text: str, value: str, entity: str) -> None:
    engine = presidio.analyzer(presidio.recognizers(), predefined=False)
    found = {(r.entity_type, text[r.start:r.end]) for r in engine.analyze(text, language="en")}
    assert (entity, value) in found
    # Asking Presidio for that entity alone finds it: it is among the recognizers' supported entities.
    only = engine.analyze(text, language="en", entities=[entity])
    assert [(r.entity_type, text[r.start:r.end]) for r in only] == [(entity, value)]


def test_factsep_names_on_request(no_network: None) -> None:
    engine = presidio.analyzer(presidio.recognizers(entity_names="factsep"), predefined=False)
    types = {}
    for text, _value, _ in PRESIDIO_NAMED[:2] + PRESIDIO_NAMED[10:11]:
        types.update({text[r.start:r.end]: r.entity_type for r in engine.analyze(text, language="en")})
    assert types["GB82 WEST 1234 5698 7654 32"] == "IBAN"
    assert types["0x52908400098527886E0F7030069857D2E4169EE7"] == "CRYPTO_ADDRESS"
    assert types["12 March 1961"] == "DATE_OF_BIRTH"
    with pytest.raises(ValueError, match="entity_names"):
        presidio.recognizers(entity_names="spacy")


def test_analysis_explanation_from_factsep_signals(no_network: None) -> None:
    engine = presidio.analyzer(presidio.recognizers(), predefined=False)
    text = "Call 650-253-0000 (office phone). Card 4111 1111 1111 1111."
    results = {r.entity_type: r for r in engine.analyze(text, language="en", return_decision_process=True)}
    phone, card = results["PHONE_NUMBER"], results["CREDIT_CARD"]
    e = phone.analysis_explanation
    assert e is not None and e.recognizer == "factsep_phone_number"
    assert e.original_score == pytest.approx(phone.score) and e.pattern_name == "US" and e.validation_result is True
    assert "validator" in e.textual_explanation and "context +" in e.textual_explanation
    assert "phone" in e.supportive_context_word.split(", ")
    signals = phone.recognition_metadata["signals"]
    assert {"bias", "validator", "context"} <= set(signals) and "checksum" not in signals
    assert phone.recognition_metadata["kind"] == "phone_number" and phone.recognition_metadata["bits"] > 30
    c = card.analysis_explanation
    assert "checksum" in card.recognition_metadata["signals"] and "made_up" in c.textual_explanation
    assert c.pattern_name == "visa"
    # Presidio drops the explanation unless asked for the decision process, as for its own recognizers.
    assert all(r.analysis_explanation is None for r in engine.analyze(text, language="en"))


def test_shared_names_let_presidio_merge_duplicates(no_network: None) -> None:
    """With Presidio's predefined recognizers too, one IBAN is one IBAN_CODE result, not two entities."""
    engine = presidio.analyzer(presidio.recognizers(["iban"]), predefined=True)
    text, value, _ = PRESIDIO_NAMED[0]
    hits = [r for r in engine.analyze(text, language="en") if text[r.start:r.end] == value]
    assert [r.entity_type for r in hits] == ["IBAN_CODE"]


def test_signal_contributions_add_up_to_the_score() -> None:
    from factsep.detection.scoring import Signals

    s = Signals(bias=-0.85, checksum=False, validated=True, strength=0.5, n_context=2, n_negative=1, partial=True)
    parts = dict(s.contributions())
    assert set(parts) == {"bias", "strength", "validator", "context", "context_extra", "negative", "partial"}
    assert sum(parts.values()) == pytest.approx(s.raw_logit())


def test_readme_presidio_example_runs(no_network: None, capsys: pytest.CaptureFixture[str]) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("### Presidio"):]
    block = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert block is not None
    ns: dict = {}
    exec(block.group(1), ns)  # noqa: S102 - the README's copy-paste example itself
    assert capsys.readouterr().out.startswith("IBAN_CODE factsep iban (GB), checksum")
    spans = ns["detector"].detect("Reference TCK-123456 was closed.")
    assert [(s.kind, s.text) for s in spans] == [("generic_id", "TCK-123456")]
