"""What a number is comes before its formats: python-stdnum formats are tried only where the number
can be an identifier (issue 12, "evidence first"), and a value validated once is not validated again.

The validator of the tax-number family is wrapped to count what it is asked; the numbers are made up
here (85131377 passes several eight-digit check-digit formats).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import pytest

from factsep import Detector
from factsep.kinds.base import Kind

VALUE = "85131377"


@pytest.fixture()
def counted() -> Iterator[tuple[Detector, list[str]]]:
    """A detector whose tax_id validator records every value it is asked about."""
    det = Detector()
    asked: list[str] = []
    for i, kind in enumerate(det.kinds):
        if kind.name == "tax_id":
            inner = kind.validate

            def validate(value: str, opts: Mapping[str, Any], inner: Any = inner) -> Any:
                asked.append(value)
                return inner(value, opts)

            det.kinds[i] = replace(kind, validate=validate)
    det._gates = [(det.kinds[i], *g[1:]) for i, g in enumerate(det._gates)]
    yield det, asked


def _kinds(det: Detector, text: str) -> list[tuple[str, str]]:
    return [(s.kind, s.decision) for s in det.detect(text) if s.decision != "auto_reject"]


def test_a_bug_number_is_not_tried_as_a_tax_number(counted: tuple[Detector, list[str]]) -> None:
    det, asked = counted
    assert _kinds(det, f"  * Fix the crash on resume. Closes: #{VALUE}") == [("generic_id", "auto_accept")]
    assert VALUE not in asked


def test_the_same_digits_after_a_label_are_tried_and_tagged(counted: tuple[Detector, list[str]]) -> None:
    det, asked = counted
    assert _kinds(det, f"Our VAT number is {VALUE}, printed on each invoice.") == [("tax_id", "auto_accept")]
    assert asked.count(VALUE) == 1


def test_a_value_seen_again_is_validated_once(counted: tuple[Detector, list[str]]) -> None:
    det, asked = counted
    text = f"Closes: #{VALUE}. The firm's VAT number is {VALUE}; VAT number {VALUE} again."
    spans = [s for s in det.detect(text) if s.decision != "auto_reject"]
    assert [s.kind for s in spans] == ["generic_id", "tax_id", "tax_id"]
    assert asked.count(VALUE) == 1


def test_a_year_list_is_no_identifier_and_is_not_tried(counted: tuple[Detector, list[str]]) -> None:
    det, asked = counted
    assert _kinds(det, "Copyright 2011, 2012, 2015, 2018 The Example Authors") == []
    assert not any(a.startswith("2011") for a in asked)


def test_every_identifier_family_declares_that_it_tries_formats() -> None:
    det = Detector()
    formats = {k.name for k in det.kinds if k.formats}
    assert {"tax_id", "national_id", "security_id", "bank_account", "generic_id"} <= formats
    assert not formats & {"iban", "credit_card", "isbn", "uuid", "email_address", "phone_number"}
    assert all(isinstance(k, Kind) for k in det.kinds)


def test_digits_after_a_dialling_plus_or_a_currency_sign_are_not_tried(
        counted: tuple[Detector, list[str]]) -> None:
    det, asked = counted
    det.detect(f"Dial +44 {VALUE} after six, or pay $8513.13 at the desk.")
    assert not any(a.startswith(("44", "8513.")) for a in asked)
    det.detect(f"The VAT number 44 {VALUE} was printed on the bill.")
    assert any(a.startswith("44") for a in asked)  # the same digits, where they can be an identifier


def test_reference_regions_answer_overlap_and_cover() -> None:
    from factsep.detection.detector import _Regions
    from factsep.detection.numerals import Reference

    regions = _Regions([Reference(a, b, "generic_id", "reference.bug", "bug_word", "x")
                        for a, b in ((30, 35), (10, 20), (12, 14))])
    assert [regions.covers(a, b) for a, b in ((10, 20), (13, 16), (9, 12), (30, 35), (21, 22))] == [
        True, True, False, True, False]
    assert [regions.overlaps(a, b) for a, b in ((19, 25), (20, 30), (34, 40), (0, 10))] == [True, False, True, False]


def test_a_placeholder_word_of_another_paragraph_or_a_path_says_nothing_of_an_address() -> None:
    """"example" in the entry above a changelog trailer, or in a file name beside an address, is
    no word about the address; in the address's own sentence it still is."""
    det = Detector()
    trailer = ("frob (2.1-1) unstable; urgency=low\n\n  * Ship the example configs again.\n\n"
               " -- Ada Quill <aquill@lists.frob.org>  Tue, 03 Mar 2020 10:11:12 +0100\n")
    assert _kinds(det, trailer) == [("email_address", "auto_accept")]
    assert _kinds(det, "Upstream: Ola Brink <obrink@uni-frob.edu> (examples/sink.c)\n") == [
        ("email_address", "auto_accept")]
    entry = "  * Reply to Ola Brink <obrink@uni-frob.edu>.\n  * Fix the example config.\n"
    assert _kinds(det, entry) == [("email_address", "auto_accept")]
    assert _kinds(det, "For example, obrink@uni-frob.edu would do.\n") == [("email_address", "pending_review")]


def test_a_code_that_checks_only_its_country_code_needs_its_name() -> None:
    """Letters and digits glued ("PT48271", a generator's or a chip's name) pass a format that
    checks nothing but a country prefix (the EU excise number); its name makes it one."""
    det = Detector()
    assert _kinds(det, "The noise comes from a PT48271 generator seeded once.\n") == []
    assert ("tax_id", "auto_accept") in _kinds(det, "Our excise number: PT48271 (customs).\n")


def test_a_later_reading_with_a_word_of_its_own_is_scored_with_it() -> None:
    """The first reading of a value finding no word of its own does not end the search: a later
    reading of the same family whose name labels the value ("PEID: ...") is read with its word."""
    from factsep.kinds.base import Validation, get_kind

    det = Detector()
    text = "PEID: 4419207"
    first = Validation(normalized="4419207", subtype="stdnum.ar.dni", validated=True, strength=-3.4,
                       context=("dni",))
    named = replace(first, subtype="stdnum.li.peid", context=("peid",))
    hit = det.score(text, 6, len(text), get_kind("national_id"), [first, named])
    assert hit is not None and hit.validation.subtype == "stdnum.li.peid"
    assert hit.context is not None and "peid" in hit.context.positive


def test_a_reading_that_needs_its_words_is_not_read_past_an_empty_first_one() -> None:
    """A driving licence's reading needs its words and comes last: past a first reading that found
    no word, "driving" in a sentence about a drive does not make the number a licence's."""
    from factsep.kinds.base import Validation, get_kind

    det = Detector()
    text = "We went driving, and the odometer read 4419207 then."
    start = text.index("4419207")
    first = Validation(normalized="4419207", subtype="stdnum.ar.dni", validated=True, strength=-3.4,
                       context=("dni",))
    licence = Validation(normalized="4419207", subtype="us.driving_licence", validated=False, strength=0.8,
                         context=("driver", "driving", "licence", "license", "dl"), needs_context=True)
    hit = det.score(text, start, start + 7, get_kind("national_id"), [first, licence])
    assert hit is None or hit.validation.subtype != "us.driving_licence"


def test_a_phone_whose_country_is_named_beside_it_beats_a_bare_check_digit() -> None:
    """'0800-37-4412 in the UK': the country named is the phone reading's evidence; a foreign
    identity format that only passes its check digit on the same digits yields to it."""
    det = Detector()
    got = _kinds(det, "Our help desk: 1-800-555-0199 in the US, or 0800-37-4412  in  the  UK, all day.\n")
    assert got == [("phone_number", "auto_accept"), ("phone_number", "auto_accept")], got
