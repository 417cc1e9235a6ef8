"""The rules of factsep.detection.numerals that read what a number is, on sentences of their shape.

Why: each rule is a general fact about text (a release heading, a row of a code table, a tracker's
role in reST); these sentences are written here, not taken from any corpus. They test the Python
rules (the reference implementation); tests/test_native_numerals.py holds the native core to them.
"""

from __future__ import annotations

import pytest

from factsep.detection import numerals


def reason(text: str, value: str, kind: str = "tax_id") -> str | None:
    start = text.index(value)
    return numerals.not_a_fact_python(text, start, start + len(value), kind)


def refs(text: str) -> list[tuple[str, str]]:
    return [(r.subtype, text[r.start:r.end]) for r in numerals.references_python(text)]


NOT_FACTS = [
    # a version and its release date, and a version underlined as a heading
    ("Changes\n\n5.12.3 - 2019-07-14\n-------------------\n\n* fixes\n", "5.12.3 - 2019-07-14", "phone_number",
     "version"),
    ("Changes\n\n2.18.7.1 - 2014-02-11\n---------------------\n", "2.18.7.1", "ip_address", "version"),
    ("News\n\nVersion 4.71.2\n==============\n\n- the parser is faster\n", "4.71.2", "phone_number", "version"),
    ("Major changes in 6.27.0.3\n=========================\n- build fixes\n", "6.27.0.3", "ip_address", "version"),
    # a standard's number in a file or charset name
    ("It installs man7/iso_8859-14.7 and man7/iso-8859-16.7 too.", "8859-14.7", "phone_number", "standard number"),
    ("It installs man7/iso_8859-14.7 and man7/iso-8859-16.7 too.", "8859-16", "tax_id", "standard number"),
    # a row of a table of small numbers, and two numbers of a longer row
    ("The codes, in octal:\n\n   X   Y   Z\n  044 121 136\n  137 115 257\n  141 134 277\n", "137 115 257", "tax_id",
     "code table"),
    ("* Bugs fixed:\n 713512 714208 714377 715090 715122\n", "714377 715090", "phone_number", "code table"),
    # coordinates of an element, a signed second number
    ("    markClass [grave] <anchor 420 -180> @MARKS;", "420 -180", "tax_id", "code table"),
    ("    pos base alef <anchor 615 1750> mark @MARKS;", "615 1750", "phone_number", "code table"),
    # a box number, then a postal code
    ("Write to Foo Labs, P.O. Box 61823, 3041 KL Rotterdam.", "61823, 3041", "tax_id", "address"),
    # ... and the same cue words before a standard's or a regulation's number
    ("The parser follows RFC - 7159 to the letter.", "7159", "tax_id", "standard number"),
    ("Regulation EC 1272/08 applies.", "1272/08", "tax_id", "standard number"),
    ("See EC 241-508 for the labels.", "241-508", "phone_number", "standard number"),
    # a year range whose end year has a placeholder digit
    ("Copyright: 2012-202x, The frobnicate authors", "2012-202x", "issn", "year list"),
]


@pytest.mark.parametrize(("text", "value", "kind", "want"), NOT_FACTS, ids=[f"{v}-{w}" for _, v, _, w in NOT_FACTS])
def test_numbers_read_as_what_they_are(text: str, value: str, kind: str, want: str) -> None:
    assert reason(text, value, kind) == want


KEPT = [
    # a phone number on its own line is no table row; an address in a heading about a host is an address
    ("Call the desk:\n030 4417 2290\n", "030 4417 2290", "phone_number"),
    ("Our resolver 8.26.56.26 answers\n------\n", "8.26.56.26", "ip_address"),
    # a bare number with no cue stays a candidate for its formats
    ("Send 61823 to the office.", "61823", "tax_id"),
    # a cue word that also names a format, before that format's shape: a Mexican RFC has letters,
    # an EC number (a chemical's entry) is written ddd-ddd-d
    ("Mi RFC - QUMA830214L59, por favor.", "QUMA830214L59", "tax_id"),
    ("RFC: TOVE770903K2A", "TOVE770903K2A", "tax_id"),
    ("The sample's EC 241-508-4 is listed in the inventory.", "241-508-4", "generic_id"),
    ("Substance: EC - 312-775-5", "312-775-5", "generic_id"),
]


@pytest.mark.parametrize(("text", "value", "kind"), KEPT, ids=[v for _, v, _ in KEPT])
def test_numbers_the_new_rules_leave_alone(text: str, value: str, kind: str) -> None:
    assert reason(text, value, kind) is None


def test_trackers_named_by_a_role_or_a_sigil_are_references() -> None:
    text = ("* Fix a leak in the closure cache (Ana Lima) (:bzbug:`731245`)\n"
            "* Support frozen dataclasses :issue:`418` :mr:`207`\n"
            " - !164 wayland: honour the scale factor\n"
            "* Drop the old loader (!2391, !2402, #2718)\n")
    got = refs(text)
    for value in ("731245", "418", "207", "164", "2391", "2402", "2718"):
        assert any(v == value for _, v in got), (value, got)
    assert all(sub.startswith("reference.") for sub, _ in got)


def test_a_bang_in_code_is_no_merge_request() -> None:
    assert refs("if x != 3 and flags & 0x40: y = !1234abc") == []


def test_a_row_of_bug_numbers_under_its_heading_is_a_bug_list() -> None:
    text = "Overview of changes\n\n* Bugs fixed:\n 713512 714208 714377\n 713512 crash in the cache\n"
    assert [v for sub, v in refs(text) if sub == "reference.bug_list"][:3] == ["713512", "714208", "714377"]
    # the same row with no heading naming bugs is no list of bugs
    assert refs("Sizes:\n 713512 714208 714377\n") == []


def test_a_lone_number_in_a_run_of_bug_lines_is_a_bug() -> None:
    text = "* Bugs fixed:\n 611204 Crash on exit\n 612377\n 613050 ...assertion failed\n"
    got = [v for sub, v in refs(text) if sub == "reference.bug_list"]
    assert got == ["611204", "612377", "613050"], got


def test_a_lan_address_on_a_line_that_configures_a_network_is_an_example() -> None:
    line = "\tifconfig tun1 10.44.0.1 10.44.0.2 netmask 255.255.255.252\n"
    assert reason(line, "10.44.0.1", "ip_address") == "placeholder"
    assert reason("\tinet 172.18.3.9 255.255.0.0 172.18.255.255\n", "172.18.3.9", "ip_address") == "placeholder"
    # a public address on such a line, and a LAN address in prose, stay addresses
    assert reason("\tinet 81.4.109.7 255.255.255.0\n", "81.4.109.7", "ip_address") is None
    assert reason("The build box answers on 192.168.40.17 today.", "192.168.40.17", "ip_address") is None


def test_a_message_id_in_a_url_query_is_a_reference() -> None:
    text = "The fix was posted to http://archive.example.net/list/?l=devel&m=117733445566121&w=2 last week."
    assert ("reference.bug", "117733445566121") in refs(text)
    # a number in a query of no URL, or a short one, is not
    assert refs("set ?m=117733445566121 in the form") == []
    assert refs("see http://example.net/?id=42") == []


def test_a_phone_written_with_a_dash_before_its_subscriber_number_is_no_coordinate_pair() -> None:
    assert reason("Ruf mich an: 0157 -44810273", "0157 -44810273", "phone_number") is None


def test_numbers_given_as_instances_of_numbers_are_examples() -> None:
    text = "The parser looped forever on some integers like\n  90417735521940037781 and more."
    assert reason(text, "90417735521940037781", "national_id") == "placeholder"
    assert reason("Her number is 90417735521940037781.", "90417735521940037781", "national_id") is None
