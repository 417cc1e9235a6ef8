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


def test_a_bug_label_names_every_number_of_its_list() -> None:
    """A tracker's label then a list ("Tracker Bugs: 1, 2"), nine-digit tracker numbers, "bug=N"."""
    text = "Fix a hang.  (Addresses Acme Bugs:\n204417738, 204419925)\n"
    assert refs(text) == [("reference.bug", "204417738"), ("reference.bug", "204419925")]
    assert refs("Fix a hang (Acme Bug: #305501772).") == [("reference.bug", "305501772")]
    assert refs("  - Use the new parser.  [bug=2041776]\n") == [("reference.bug", "2041776")]
    # a year after the list is no bug number
    assert refs("Fixes bug 44172, 2019 was a long year.") == [("reference.bug", "44172")]


def test_a_patent_number_is_a_reference() -> None:
    text = "licensed under U.S. Patent No. 5,318,442 and Patent Application No. 11/604,228 only."
    assert refs(text) == [("reference.patent", "5,318,442"), ("reference.patent", "11/604,228")]


def test_an_advisory_of_a_security_database_is_whole() -> None:
    assert refs("  - bump frobcrate to 0.4.1 (CRATESEC-2023-0071)\n") == [("reference.advisory", "CRATESEC-2023-0071")]


def test_a_comment_id_in_a_url_fragment_is_a_reference() -> None:
    text = "# see https://tracker.example.org/o/r/issues/88#issuecomment-771203344 for why\n"
    assert ("reference.bug", "771203344") in refs(text)
    assert refs("# issuecomment-771203344 without a URL") == []


def test_a_ticket_number_at_the_start_of_a_line_is_a_reference() -> None:
    text = "** Bug Fixes\n\n#40417: the parser drops the last line\n\n#40388: a crash on empty input\n"
    assert refs(text) == [("reference.issue", "40417"), ("reference.issue", "40388")]


def test_an_openpgp_fingerprint_is_one_digest() -> None:
    fpr = "3A1F 77C0 9B2E 4D61 08AA  E5F3 21C4 6B90 7D2E 1F08"
    assert refs(f"      Key fingerprint = {fpr}\n") == [("fingerprint.openpgp", fpr)]


def test_an_address_block_and_its_network_are_no_host() -> None:
    assert reason('scan a block, e.g. "probe 10.20.0.0/16" first', "10.20.0.0", "ip_address") == "network"
    assert reason("net = '172.30.64.0/20'", "172.30.64.0/20", "phone_number") == "network"
    # a host written with its prefix length is still a host
    assert reason("inet 81.4.109.7/24 on eth0", "81.4.109.7", "ip_address") is None


def test_code_limits_file_names_and_glued_units_are_no_identifiers() -> None:
    assert reason("a length of 4294967295 overflows", "4294967295", "tax_id") == "code constant"
    assert reason("cap it at 1048576 entries", "1048576", "tax_id") == "code constant"
    assert reason("renamed 73314092.tar.gz to x", "73314092", "tax_id") == "name"
    assert reason("sizes from 6-12000pt work", "6-12000", "tax_id") == "cut"
    assert reason("  - 8817233f2f0c4 (\"Rework\")", "8817233", "tax_id") == "cut"
    assert reason("[4.17/4.18/4.19 Regression] in the loader", "4.17/4.18/4.19", "phone_number") == "version"


def test_a_version_alone_over_a_list_is_a_release_heading() -> None:
    text = "new icons\n4.31.90.2\n  - faster thumbnails\n  - a crash fixed\n"
    assert reason(text, "4.31.90.2", "ip_address") == "version"
    # a line that names a host keeps its address
    assert reason("relay 81.4.109.7\n  - answers DNS\n", "81.4.109.7", "ip_address") is None


def test_a_protocol_name_and_url_credentials_are_no_mailbox() -> None:
    assert reason('adds a "frob-limits@sshd.example.net" extension', "frob-limits@sshd.example.net",
                  "email_address") == "name"
    assert reason('the key exchange method ("kx448-sha3@sshd.example.net")', "kx448-sha3@sshd.example.net",
                  "email_address") == "name"
    assert reason("proxy http://ann:s3cret@proxy.corp.net/ works", "s3cret@proxy.corp.net", "email_address") == "url"
    # an address in a URL's path, or one of a person, is an address
    assert reason("list http://bugs.example.org/ann@lists.corp.net today", "ann@lists.corp.net",
                  "email_address") is None
    assert reason("Write to ann@lists.corp.net for the method", "ann@lists.corp.net", "email_address") is None


def test_a_year_with_an_edition_and_a_standard_with_its_year_are_no_identifiers() -> None:
    assert reason("runs on Frobnix Server 2012 R2 and later", "2012 R2", "generic_id") == "version"
    assert reason("keys as in GOST R 34.10-2012 only", "34.10-2012", "phone_number") == "standard number"


def test_git_abbreviates_a_commit_id_to_more_than_twelve_digits_in_a_large_repository() -> None:
    assert refs("  * Update to commit 5e0f17c2ab34d (\"fix the build\")\n") == [
        ("commit.abbreviated", "5e0f17c2ab34d")]
    assert refs("see https://git.example.org/r/commit/a3f0c81d29e4b7c6 for it") == [
        ("commit.abbreviated", "a3f0c81d29e4b7c6")]


def test_bracketed_numbers_of_a_run_of_bug_lines_are_bugs() -> None:
    text = "The following bugs were resolved:\n\n  [30417] loader: a crash on resume\n  [30522] stdio: a leak\n"
    assert [v for sub, v in refs(text) if sub == "reference.bug_list"] == ["30417", "30522"]


def test_a_quoted_protocol_name_with_its_program_before_the_word_is_no_mailbox() -> None:
    text = 'sftp(1): use "frob-ids@sshd.example.net" sftp-server extension when there'
    assert reason(text, "frob-ids@sshd.example.net", "email_address") == "name"
    # unquoted, a word between says nothing: "mail ann@lists.corp.net privately, extension 12"
    assert reason("mail ann@lists.corp.net phone extension 12", "ann@lists.corp.net", "email_address") is None
