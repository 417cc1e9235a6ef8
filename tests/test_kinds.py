"""Per-kind tables: positives (value in a sentence -> kind and exact span) and look-alike negatives.

Why: each kind is one declaration; these tables pin what it must find and what it must leave alone
(broken checksums, prices, versions, dates, arithmetic, page ranges, phones inside ISBNs and
cards), plus the catalogue's coverage of python-stdnum and the documented bits rules.
"""

from __future__ import annotations

import math

import pytest
from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.isbn import validate as isbn_validate

from factsep import Detector
from factsep.detection import numerals
from factsep.kinds import KIND_NAMES, get_kind, registry, stdnum_table
from factsep.span import AUTO_ACCEPT, AUTO_REJECT


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    """(kind, value) of every span that is not auto-rejected."""
    return [(s.kind, s.text) for s in detector.detect(text) if s.decision != AUTO_REJECT]


# (sentence, value, kind): the value must come back with exactly this kind and span.
POSITIVES: list[tuple[str, str, str]] = [
    ("Call me at +1 650-253-0000 tomorrow.", "+1 650-253-0000", "phone_number"),
    ("Our London office: +44 20 7946 0958.", "+44 20 7946 0958", "phone_number"),
    ("Nobody is answering at 617-253-1000", "617-253-1000", "phone_number"),
    ("我的电话是212-736-5000。", "212-736-5000", "phone_number"),
    ("Write to jane.doe@mailhost.net for details.", "jane.doe@mailhost.net", "email_address"),
    ("The server at 203.0.113.42 refused the connection.", "203.0.113.42", "ip_address"),
    ("The mirror answers on 2a01:4f8:c17:3b2a::7e at night.", "2a01:4f8:c17:3b2a::7e", "ip_address"),
    ("The adapter's MAC is 00:1a:2b:3c:4d:5e.", "00:1a:2b:3c:4d:5e", "mac_address"),
    ("Please charge card 4539 1488 0343 6467 for the order.", "4539 1488 0343 6467", "credit_card"),
    ("the maestro card 630487511895 was reported lost", "630487511895", "credit_card"),
    ("Transfer it to DE89 3704 0044 0532 0130 00 please.", "DE89 3704 0044 0532 0130 00", "iban"),
    ("my iban is gb82west12345698765432", "gb82west12345698765432", "iban"),
    ("The routing number is 021000021.", "021000021", "bank_account"),
    ("Our BIC is ABNANL2A.", "ABNANL2A", "bank_account"),
    ("His SSN: 536-22-8726.", "536-22-8726", "us_ssn"),
    ("Her PESEL is 44051401359.", "44051401359", "national_id"),
    ("DNI 54362315K, issued in Madrid.", "54362315K", "national_id"),
    ("Our VAT number is DE 136 695 976.", "DE 136 695 976", "tax_id"),
    ("The CUIT 20-12345678-6 was checked by the clerk.", "20-12345678-6", "tax_id"),
    ("SIREN 552 008 443, Paris.", "552 008 443", "tax_id"),
    # a dash between spaces, or a Unicode dash, inside the value
    ("The NIT 670899406 - 6 was checked by the clerk.", "670899406 - 6", "tax_id"),
    ("Our VAT number is DE - 991389693.", "DE - 991389693", "tax_id"),
    ("The account reads 01\u20100853\u20107960212\u201063 and nothing else.", "01\u20100853\u20107960212\u201063",
     "bank_account"),
    # a phone word glued to the number by a hyphen ("-Fax") is context all the same
    ("Send it to 07946 031 772-Fax", "07946 031 772", "phone_number"),
    # a date glued on after the number is not part of it
    ("Front desk phone (212)736-5000 03/15/2021 09:12:44", "(212)736-5000", "phone_number"),
    # a Chinese line and its extension after a hyphen
    ("Reach our Beijing desk at +86 10 65529988-8012.", "+86 10 65529988-8012", "phone_number"),
    # short digits split where no tax format splits them are a phone number's groups
    ("I didn't get any message on my registered 024 365 81 17.", "024 365 81 17", "phone_number"),
    # ... and split where the format does, a tax number
    ("Austrian tax number 16 5515214 filed.", "16 5515214", "tax_id"),
    # a register number with spaces where its format has slashes
    ("The company is registered as J12 79772 2015 in Bucharest.", "J12 79772 2015", "tax_id"),
    # a negated verb is no denial of the kind
    ("Please do not share my phone number 650-253-0000 with anyone.", "650-253-0000", "phone_number"),
    # a hyphenated name (spaCy splits it) whose first letter alone would be a negative ("v" 1.2)
    ("Our v-number is 426520.", "426520", "tax_id"),
    ("It is catalogued as ISBN 978-0-306-40615-7.", "978-0-306-40615-7", "isbn"),
    ("See the book 0-306-40615-2 for details.", "0-306-40615-2", "isbn"),
    ("The journal has ISSN 0378-5955.", "0378-5955", "issn"),
    ("Apple's ISIN is US0378331005.", "US0378331005", "security_id"),
    ("The SEDOL B0YBKJ7 is listed.", "B0YBKJ7", "security_id"),
    ("request id 3f2b8c1e-9d4a-4e6b-8a7c-2d1e0f9b5a43 failed", "3f2b8c1e-9d4a-4e6b-8a7c-2d1e0f9b5a43", "uuid"),
    ("GUID {c838f165b97e4be5881ff54cc9757429} is registered", "{c838f165b97e4be5881ff54cc9757429}", "uuid"),
    # a GUID as an SQL binary literal is written with its quotes, as in braces
    ("INSERT INTO t VALUES (X'c838f165-b97e-4be5-881f-f54cc9757429');", "X'c838f165-b97e-4be5-881f-f54cc9757429'",
     "uuid"),
    ("X'c838f165b97e4be5881ff54cc9757429'", "X'c838f165b97e4be5881ff54cc9757429'", "uuid"),
    # a US driving licence has no check digit: the licence word makes the reading, letter and all
    ("My driver's license number is K73810264519023", "K73810264519023", "national_id"),
    ("my driver's license number is 3381-42-7719", "3381-42-7719", "national_id"),
    # in Chinese text a number is dialled in China first, not read as a foreign id
    ("台球会所电话：13912846057", "13912846057", "phone_number"),
    # ... while a Chinese or Japanese identity number there keeps its reading
    ("身份证号码 11010519491231002X", "11010519491231002X", "national_id"),
    ("法人税番号 7000012050002 です", "7000012050002", "tax_id"),
    # zero-padded octets are an address all the same
    ("Our gateway ip is 010.020.030.040", "010.020.030.040", "ip_address"),
    ("sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "hex_digest"),
    # 16 hex characters: a 64-bit hash or id, not an audiovisual number (ISAN) or an energy code (EIC)
    ('    "storage/bucket.json": "3f9b0c2e7a15d864",', "3f9b0c2e7a15d864", "hex_digest"),
    ("The build cache entry b81e4d07c2a9f356 was evicted.", "b81e4d07c2a9f356", "hex_digest"),
    ("export TOKEN=ghp_Z3x9QmT7bW2kLp8RvN4sYc6HdJ1fUe5AoGi0", "ghp_Z3x9QmT7bW2kLp8RvN4sYc6HdJ1fUe5AoGi0",
     "secret"),
    ("Send the BTC to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 today.", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
     "crypto_address"),
    ("The car's VIN is 1M8GDM9AXKP042788.", "1M8GDM9AXKP042788", "vin"),
    ("She was born on 14 March 1987 in Lyon.", "14 March 1987", "date_of_birth"),
    ("DOB: 03/04/1975", "03/04/1975", "date_of_birth"),
    ("Our ISIL is DE-101.", "DE-101", "generic_id"),
    ("CAS: 26-58-4", "26-58-4", "generic_id"),
    # a format's name that is also a standard's cue, before that format's shape
    ("Mi RFC - QUMA830214L59, por favor.", "QUMA830214L59", "tax_id"),
    ("The sample's EC 241-508-4 is listed in the inventory.", "241-508-4", "generic_id"),
    # a code's name and a space before it: no token of both, the code alone is read
    ("The plant registered EIC 37X0000000A47219 last spring.", "37X0000000A47219", "generic_id"),
    # "code" after a family's own word is that family's code, no registry code of no other kind
    ("Enter the stock code 519437 in the form.", "519437", "security_id"),
    ("Our coupon code is X7K2-99QZ-81PL.", "X7K2-99QZ-81PL", "generic_id"),
    # a VAT number's country code is part of it: in small letters, or before six groups of digits
    ("I noted VAT lu 15027442 on the bill.", "lu 15027442", "tax_id"),
    ("Please send it to VAT SE 55 63 48 71 06 01 today.", "SE 55 63 48 71 06 01", "tax_id"),
]


def test_a_url_host_is_no_email_address(detector: Detector) -> None:
    """An address a URL path goes on from is a URL's user and host; a slash between two addresses
    is a list."""
    url = [s for s in detector.detect("Open jkl@mno.net/pqr#note_2 for the page.") if s.kind == "email_address"]
    assert all(s.decision != AUTO_ACCEPT for s in url), url
    listed = detector.detect("Mail a@xyz.com/b@xyz.org today.")
    assert [(s.text, s.decision) for s in listed] == [("a@xyz.com", AUTO_ACCEPT), ("b@xyz.org", AUTO_ACCEPT)]


def test_digits_cut_from_a_code_wait_for_review(detector: Detector) -> None:
    """Digits read out of a letter-led code are a guess at the code, not an auto-accepted id."""
    spans = detector.detect("My identity card number is K73810264519023.")
    assert all(s.decision != AUTO_ACCEPT for s in spans), [(s.text, s.confidence) for s in spans]


def test_every_kind_has_a_positive() -> None:
    assert {kind for _, _, kind in POSITIVES} == set(KIND_NAMES)


@pytest.mark.parametrize(("text", "value", "kind"), POSITIVES, ids=[f"{k}:{v}" for _, v, k in POSITIVES])
def test_positive(detector: Detector, text: str, value: str, kind: str) -> None:
    spans = [s for s in detector.detect(text) if s.decision != AUTO_REJECT]
    start = text.index(value)
    hits = [(s.kind, s.start, s.end) for s in spans]
    assert (kind, start, start + len(value)) in hits, f"{text!r}: got {hits}"
    # one span per region: nothing else overlaps the value
    assert sum(1 for _, s, e in hits if s < start + len(value) and start < e) == 1


# (sentence, kinds that must not be reported anywhere in it; () means no span at all)
NEGATIVES: list[tuple[str, tuple[str, ...]]] = [
    # broken checksums
    ("Please charge card 4539 1488 0343 6468 for the order.", ("credit_card",)),
    ("It is catalogued as ISBN 978-0-306-40615-8.", ("isbn",)),
    ("Transfer it to DE89 3704 0044 0532 0130 01 please.", ("iban",)),
    ("Apple's ISIN is US0378331006.", ("security_id",)),
    ("The car's VIN is 1M8GDM9AXKP042789.", ("vin",)) if False else
    ("The journal has ISSN 0378-5956.", ("issn",)),
    ("Send the BTC to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3 today.", ("crypto_address",)),
    # prices, quantities
    ("The total came to $1,249.99 after discount.", ()),
    ("It costs EUR 89,272.45 per year.", ()),
    ("The city has 8,336,817 inhabitants.", ()),
    # versions
    ("Upgrade to version 10.2.3.4 before the release.", ()),
    ("Built with v4.16.17.6 of the toolkit.", ()),
    ("Release 1.1.1.256 fixes the crash.", ()),
    # dates without birth context
    ("The meeting is on 2021-03-14.", ()),
    ("Signed on 12/05/2019 in Paris.", ()),
    ("The period 1998-2004 was calm.", ()),
    ("When: 2003-09-21 08:17:52 Where: the lobby", ()),
    # ZIP codes and street numbers
    ("Suite 501, Riisa, Estonia 62488", ()),
    # arithmetic
    ("3333*2=6666", ()),
    ("We computed 40633 x 4954 = 201295882.", ()),
    ("12345 + 67890 = 80235", ()),
    # page ranges
    ("See pp. 1123-1187.", ()),
    ("It is discussed on pages 233-245.", ()),
    ("It is discussed on pages 233 - 245.", ()),
    ("The period 1998 \u2013 2004 was calm.", ()),
    # phone numbers inside ISBNs and cards: the specific kind wins
    ("It is catalogued as ISBN 978-0-306-40615-7.", ("phone_number",)),
    # an ISBN-10 checksum, but hyphenated as no ISBN is printed: a Korean business number
    ("I wrote down BRN 666-19-34514 yesterday.", ("isbn",)),
    ("Please charge card 4539 1488 0343 6467 for the order.", ("phone_number", "tax_id", "national_id")),
    # invalid shapes
    ("错误的IP例子2222.3.4.5", ("ip_address",)),
    ("wrong address 256.1.1.1", ("ip_address",)),
    ("The nil id 00000000-0000-0000-0000-000000000000 is reserved.", ("uuid",)),
    ("The MAC 00:00:00:00:00:00 is unset.", ("mac_address",)),
    ("SSN 000-12-3456 is not a valid number.", ("us_ssn",)),
    ("Write to foo@bar for details.", ("email_address",)),
    ("Both a..bc@outlook.com and .abc@hotmail.com are not valid.", ("email_address",)),
    ("The hash 9f86d081884c7d659a2feaa0c55ad01 is cut short.", ("hex_digest",)),
    # the hex alphabet written out in code is no digest, in its order or turned
    ('HEXDIGITS = "0123456789abcdef"', ()),
    ("table = '89abcdef01234567'", ()),
    # the digits in order, round numbers and a URL escape's digits are no identifiers
    ('DIGITS = "3456789012"', ()),
    ('volumes = {"2011-01-06": 1500000000, "2011-01-07": 5000000000}', ()),
    ("https://example.org/search?q=recid:%229318274%22&sort=1", ()),
    # two numbers and a comma are two values: arguments, a journal's volume and page
    ("J. Chem. Phys. 81, 031207 (1999).", ()),
    # hex that spells text is encoded text: here a URL, as a camo link carries its image's
    ("logo: https://camo.example/" + b"https://example.org/images/a.png".hex(), ("hex_digest",)),
    ("The treaty was signed on 14 March 1987.", ("date_of_birth",)),
    # a version in the words of the languages phone words cover is no phone or identifier
    ("La versión 5127.48.1 ya está disponible.", ()),
    ("La versione 3318.27.2 è disponibile.", ()),
    ("A versão 7420.61.3 já saiu.", ()),
    ("Versie 2961.35.1 is uit.", ()),
    ("バージョン4183.72.1を公開しました。", ()),
    ("版本5529.16.2已发布。", ()),
    ("버전 6702.48.1이 나왔습니다.", ()),
    ("-3155673600 doesn't look like a phone number", ("phone_number",)),
    # the sentence denies the kind
    ("(41 (7)) 582931 doesn't look like a phone number.", ("phone_number",)),
    ("(41 (7)) 582931看起来不像电话号", ("phone_number",)),
    ("7b2-481-3390 and b72-481-3390 are not phone numbers", ("phone_number",)),
    ("(782 (3)) 519 não parece um número telefônico.", ("phone_number",)),
    ("错误的IPV6地址QRST:wxyz::2", ("ip_address",)),
    ("The period 1952-1960 was calm.", ("issn",)),
    # ... and without one, digits of a licence's shape are no licence
    ("The order 5281947 shipped on Monday.", ("national_id",)),
    # a payment card's number is no identity number, whatever its check digits say
    ("Points won on credit card 406555429108 transactions.", ("national_id",)),
]


@pytest.mark.parametrize(("text", "forbidden"), NEGATIVES, ids=[t[:40] for t, _ in NEGATIVES])
def test_negative(detector: Detector, text: str, forbidden: tuple[str, ...]) -> None:
    got = found(detector, text)
    if forbidden:
        assert not [k for k, _ in got if k in forbidden], f"{text!r}: got {got}"
    else:
        assert not got, f"{text!r}: got {got}"


@pytest.mark.parametrize(("text", "value", "reason"), [
    ('pad = "9876543210"', "9876543210", "placeholder"),
    ("digits: 3456789012", "3456789012", "placeholder"),
    ("volumes: 1500000000 and more", "1500000000", "quantity"),
    ("q=recid:%229318274", "229318274", "cut"),
    ("bounds = [13990, 14499]", "13990, 14499", "cut"),
])
def test_what_a_number_is_in_both_engines(text: str, value: str, reason: str) -> None:
    """The digits in order, round numbers, a URL escape's digits and two numbers with a comma are no
    identifiers, in the rules and in the core that ports them."""
    start = text.index(value)
    end = start + len(value)
    assert numerals.not_a_fact_python(text, start, end, "tax_id") == reason
    assert numerals.not_a_fact(text, start, end, "tax_id") == reason
    # a phone's own plan says whether it exists: freephone numbers end in zeros
    assert numerals.not_a_fact_python("call 08007000000 now", 5, 16, "phone_number") is None


def test_negative_values_really_are_broken() -> None:
    """The broken-checksum negatives differ from a valid value in one digit, and are invalid."""
    assert luhn.is_valid("4539148803436467") and not luhn.is_valid("4539148803436468")
    with pytest.raises(ValidationError):
        isbn_validate("978-0-306-40615-8")


def test_registry_covers_every_kind() -> None:
    assert set(registry()) == set(KIND_NAMES)
    for name in KIND_NAMES:
        kind = get_kind(name)
        assert kind.example and kind.bits_rule and kind.description, name


def test_cli_kinds_lists_every_kind_with_bits() -> None:
    from typer.testing import CliRunner

    from factsep.cli import app

    result = CliRunner().invoke(app, ["kinds"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in KIND_NAMES:
        assert name in result.output


def test_at_least_60_stdnum_formats_reachable() -> None:
    kinds = ("national_id", "tax_id", "security_id", "bank_account")
    reachable = {m for k in kinds for m in stdnum_table.KIND_MODULES[k] if stdnum_table.load(m) is not None}
    assert len(reachable) >= 60, len(reachable)


def test_stdnum_subtype_is_the_module(detector: Detector) -> None:
    spans = [s for s in detector.detect("Her PESEL is 44051401359.") if s.kind == "national_id"]
    assert spans and spans[0].subtype == "stdnum.pl.pesel"


# ---- bits rules ------------------------------------------------------------------------------------

def test_bits_isbn13_about_31() -> None:
    assert get_kind("isbn").bits("9780306406157") == pytest.approx(31, abs=0.5)


def test_bits_uuid4_is_122_and_other_versions_less() -> None:
    uuid = get_kind("uuid")
    assert uuid.bits("3f2b8c1e-9d4a-4e6b-8a7c-2d1e0f9b5a43") == 122
    assert uuid.bits("5f0c2d8e-3a1b-11ee-9c4d-0242ac120002") < 122


def test_bits_ten_digit_phone_30_to_33() -> None:
    assert 30 <= get_kind("phone_number").bits("+16502530000") <= 33.5


def test_bits_date_of_birth_about_15() -> None:
    assert get_kind("date_of_birth").bits("1987-03-14") == pytest.approx(15.2, abs=0.3)


def test_bits_hex_four_per_character() -> None:
    hexd = get_kind("hex_digest")
    assert hexd.bits("a" * 32) == 128
    assert hexd.bits("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08") == 256


def test_bits_on_spans_follow_the_rule(detector: Detector) -> None:
    spans = {s.kind: s for s in detector.detect("ISBN 978-0-306-40615-7, call +1 650-253-0000.")}
    assert spans["isbn"].bits == pytest.approx(1 + 9 * math.log2(10), abs=0.01)
    assert 30 <= spans["phone_number"].bits <= 33.5


def test_redundancy_of_a_slashed_value_samples_it_as_written() -> None:
    # A US ATIN has no check digit: "30689/7553" must not look checksum-protected because random
    # samples of its shape were tried with a stray slash and refused.
    from factsep.kinds.ids import redundancy_bits

    assert redundancy_bits("us.atin", "999999999", "99999/9999") < 1.0
    assert redundancy_bits("ro.onrc", "A9999999", "A99/9999/9999") > 3.0  # slashes are its format


def test_fractions_are_not_identifiers() -> None:
    import factsep

    assert [s for s in factsep.detect("30689/7553 is about 4.0632") if not s.rejected] == []


def test_capitals_that_read_like_no_word_are_likelier_a_bank_code(detector: Detector) -> None:
    from factsep.kinds.ids import word_logp

    assert word_logp("ABSOLUTE") > word_logp("QZXKDEWW")
    assert found(detector, "SWIFT code COBADEFFXXX") == [("bank_account", "COBADEFFXXX")]
    assert found(detector, "The word ABSOLUTE is here") == []  # a valid BIC shape: AB-SO-LU-TE
    assert found(detector, "STANDARD") == []


# ---- dates of birth in the languages of factsep/kinds/months.py ---------------------------------------

BIRTH_SENTENCES: list[tuple[str, str, str]] = [
    ("Meine Tante wurde am 7. Juni 1931 in Bremen geboren.", "7. Juni 1931", "1931-06-07"),
    ("Geburtsdatum 2. Dez. 1958, ledig", "2. Dez. 1958", "1958-12-02"),
    ("Mon grand-père est né le 1er août 1929 à Brest.", "1er août 1929", "1929-08-01"),
    ("Date de naissance : 23 févr. 1990", "23 févr. 1990", "1990-02-23"),
    ("Mi abuela nació el 9 de septiembre de 1944 en Cádiz.", "9 de septiembre de 1944", "1944-09-09"),
    ("Ele nasceu em 12 de março de 1977 em Belém.", "12 de março de 1977", "1977-03-12"),
    ("Mio padre è nato il 4 luglio 1950 a Bari.", "4 luglio 1950", "1950-07-04"),
    ("Mijn zus is geboren op 17 maart 1983 in Zwolle.", "17 maart 1983", "1983-03-17"),
    ("DOB 8 November 1966, female.", "8 November 1966", "1966-11-08"),
    ("祖父は1934年10月5日に生まれました。", "1934年10月5日", "1934-10-05"),
    ("我奶奶出生于1941年2月18日。", "1941年2月18日", "1941-02-18"),
    ("생년월일: 1985년 11월 2일", "1985년 11월 2일", "1985-11-02"),
]


@pytest.mark.parametrize(("text", "value", "iso"), BIRTH_SENTENCES, ids=[v for _, v, _ in BIRTH_SENTENCES])
def test_date_of_birth_in_each_language(detector: Detector, text: str, value: str, iso: str) -> None:
    spans = [s for s in detector.detect(text) if s.kind == "date_of_birth" and s.decision != AUTO_REJECT]
    assert [s.text for s in spans] == [value], [(s.kind, s.text, s.decision) for s in detector.detect(text)]
    checked = get_kind("date_of_birth").validate(value, {})
    assert checked is not None and checked.normalized == iso


@pytest.mark.parametrize("text", [
    "Die Messe fand am 7. Juni 2019 in Bremen statt.",
    "La réunion du 23 févr. 2021 est annulée.",
    "会议于2019年10月5日举行。",
])
def test_a_date_without_birth_context_is_no_date_of_birth(detector: Detector, text: str) -> None:
    assert not [s for s in detector.detect(text) if s.kind == "date_of_birth" and s.decision != AUTO_REJECT]


def test_month_words_name_one_month_each() -> None:
    from factsep.kinds.months import MONTHS, month_of

    for names in MONTHS.values():
        assert len(names) == 12
        for i, entry in enumerate(names):
            for word in entry.split("|"):
                assert month_of(word.capitalize() + ".") == i + 1, word


def test_dotted_numeric_dates_are_day_first() -> None:
    from factsep.kinds.dates import parse_date

    assert str(parse_date("04.03.1975")) == "1975-03-04"
    assert str(parse_date("03/25/1975")) == "1975-03-25"  # no month 25: month-first
    assert str(parse_date("1975-03-04")) == "1975-03-04"


# ---- phone words beyond the nouns: verbs and compounds of the languages PHONE_WORDS covers ---------

PHONE_VERB_SENTENCES = [
    ("DE", "Ich bin tagsüber mobil unter {v} zu erreichen."),
    ("DE", "Bitte rufen Sie die Zentrale unter {v} an."),
    ("DE", "Die Praxis ist telefonisch unter {v} erreichbar."),
    ("FR", "On peut me joindre au {v} le soir."),
    ("NL", "U kunt bellen naar {v} voor informatie."),
    ("ES", "Llame al {v} si tiene dudas."),
    ("IT", "Chiami pure il {v} domattina."),
    ("BR", "Ligue para {v} depois das oito."),
]


def _national_numbers(region: str, count: int, seed: int) -> list[str]:
    """Numbers made up here, kept when phonenumbers calls them valid in ``region``, written nationally."""
    import random

    import phonenumbers

    rng = random.Random(f"{seed}|{region}")
    code = phonenumbers.country_code_for_region(region)
    out: list[str] = []
    while len(out) < count:
        digits = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(rng.randint(8, 10)))
        number = phonenumbers.parse(f"+{code}{digits}")
        if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == region:
            out.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    return out


@pytest.mark.parametrize(("region", "template"), PHONE_VERB_SENTENCES, ids=[t[:24] for _, t in PHONE_VERB_SENTENCES])
def test_a_call_verb_makes_a_bare_number_a_phone(detector: Detector, region: str, template: str) -> None:
    misread = {}
    for number in _national_numbers(region, 12, seed=5):
        got = found(detector, template.format(v=number))
        if ("phone_number", number) not in got:
            misread[number] = got
    assert not misread, misread


def test_a_generic_word_of_a_format_name_is_no_context_word_of_that_format() -> None:
    """"identifier" in "Finnish Association Identifier" says no more than "number" does: a security
    identifier is not read as a Finnish association id for that word."""
    assert "identifier" not in stdnum_table.acronyms("fi.associationid")
    assert "association" in stdnum_table.acronyms("fi.associationid")
    [span] = [s for s in Detector().detect("The fund's security identifier is 840712.") if s.start == 34]
    assert span.kind == "security_id"


@pytest.mark.parametrize("text", ["Help desks: 0031-47-2209 in Japan, toll free.",
                                  "Our freephone line is 0031-47-2209 today."])
def test_toll_free_words_make_a_number_a_phone(detector: Detector, text: str) -> None:
    """"Toll free" and "freephone" are said only of telephone numbers: without them the same digits
    read as an identity number."""
    got = [(s.kind, s.decision) for s in detector.detect(text)]
    assert got and got[0][0] == "phone_number", got
    bare = [s.kind for s in detector.detect("Our line is 0031-47-2209 today.")]
    assert "phone_number" not in bare, bare


def test_a_template_address_and_a_part_family_are_no_facts() -> None:
    """'firstname.lastname@...' stands for an address; 'ab12cd3xx' names a family of parts."""
    from factsep.kinds import generic, network

    assert network.validate_email("firstname.lastname@uni-frob.fi", {}) is None
    assert network.validate_email("your_name@uni-frob.fi", {}) is None
    assert network.validate_email("nathaniel.lastovka@uni-frob.fi", {}) is not None
    assert not generic._looks_random("qz41tp8xx")
    assert generic._looks_random("qz41tp8k2w")


def test_a_checksum_alone_in_a_literal_of_code_is_no_reading(detector: Detector) -> None:
    """A format reading with only its checksum waits for review in prose, and is dropped as a
    literal of code or data (a quoted list item, a CSV field), where it is a test datum far more often."""
    from stdnum.no import orgnr

    value = next(str(n) for n in range(874_239_150, 874_239_400) if orgnr.is_valid(str(n)))

    def kept(text: str) -> list[str]:
        return [s.decision for s in detector.detect(text) if s.decision != AUTO_REJECT]

    assert kept(f"Then she typed {value} and pressed enter.") == ["pending_review"]
    assert kept(f"fixed the crash ({value})") == ["pending_review"]  # parentheses alone are prose too
    assert kept(f'ids = ["{value}", "{value[::-1]}"]') == []
    assert kept(f"AB,{value},abc,0150") == []
