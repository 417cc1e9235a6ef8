"""The native phone check against the phonenumbers package, verdict for verdict.

Every (text, region) pair is read by both: the core's tuple (parse raises or not, calling code,
national significant number, extension, is_valid_number, is_possible_number,
region_code_for_number, number_type, and the NATIONAL and INTERNATIONAL formats of a valid number)
must equal the package's. The one documented class of difference: the core *defers* (hands the
value back to phonenumbers, which phones.py then asks) on input it does not mirror — a character
outside printable ASCII, a ``;`` (RFC 3966 parameters), a region not in capitals — and on nothing else.
"""

from __future__ import annotations

import functools
import glob
import gzip
import json
import random
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from factsep.kinds import phone_tables, phones

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path("/work/shared/eval")

try:
    from factsep import _native
except ImportError:  # pragma: no cover - a checkout without a build
    _native = None

pytestmark = pytest.mark.skipif(_native is None or not hasattr(_native, "PhoneTables"),
                                reason="factsep._native is not built: pip install -e . builds it")

Pair = tuple[str, "str | None"]


@pytest.fixture(scope="module")
def tables() -> Any:
    return _native.PhoneTables(phone_tables.tables_text())


def reference(text: str, region: str | None) -> tuple[Any, ...]:
    """The package's verdicts in the core's tuple layout."""
    try:
        num = phonenumbers.parse(text, region)
    except NumberParseException:
        return (1,) + (None,) * 9
    valid = phonenumbers.is_valid_number(num)
    return (0, num.country_code, phonenumbers.national_significant_number(num), num.extension or "", valid,
            phonenumbers.is_possible_number(num), phonenumbers.region_code_for_number(num),
            phonenumbers.number_type(num),
            phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL) if valid else None,
            phonenumbers.format_number(num, PhoneNumberFormat.INTERNATIONAL) if valid else None)


def may_defer(text: str, region: str | None) -> bool:
    """The input class the core hands back to phonenumbers."""
    return (not all(" " <= c <= "~" for c in text) or ";" in text
            or (region is not None and region != region.upper())) and len(text) <= 250


def compare(tables: Any, pairs: Iterable[Pair], at_least: int) -> dict[str, int]:
    """Asserts the core agrees with the package on every pair; returns counts by verdict."""
    pairs = list(dict.fromkeys(pairs))
    assert len(pairs) >= at_least, f"only {len(pairs)} distinct values to compare"
    got = tables.verdicts([t for t, _ in pairs], [r for _, r in pairs])
    counts = {"pairs": len(pairs), "valid": 0, "parsed": 0, "not_a_number": 0, "deferred": 0}
    bad = []
    for (text, region), native in zip(pairs, got):
        if native[0] == 2:
            counts["deferred"] += 1
            if not may_defer(text, region):
                bad.append((text, region, "deferred", reference(text, region)))
            continue
        want = reference(text, region)
        if tuple(native) != want:
            bad.append((text, region, tuple(native), want))
        counts["parsed" if want[0] == 0 else "not_a_number"] += 1
        counts["valid"] += bool(want[4])
    assert not bad, f"{len(bad)} of {len(pairs)} disagree, first: {bad[:5]}"
    return counts


TYPES = [v for k, v in vars(PhoneNumberType).items() if k.isupper() and k != "UNKNOWN"]


@functools.cache
def example_pairs() -> list[Pair]:
    pairs: list[Pair] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for t in TYPES:
            num = phonenumbers.example_number_for_type(region, t)
            if num is None:
                continue
            for fmt in (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL,
                        PhoneNumberFormat.RFC3966):
                text = phonenumbers.format_number(num, fmt)
                pairs += [(text, region), (text, None), (text, "US"), (text, "DE")]
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        num = phonenumbers.example_number_for_non_geo_entity(code)
        if num is not None:
            text = phonenumbers.format_number(num, PhoneNumberFormat.INTERNATIONAL)
            pairs += [(text, None), (text, "GB")]
    return pairs


@functools.cache
def faker_pairs() -> list[Pair]:
    from faker import Faker
    from faker.config import AVAILABLE_LOCALES

    pairs: list[Pair] = []
    for locale in sorted(AVAILABLE_LOCALES):
        region = locale.split("_")[-1].upper() if "_" in locale else None
        fake = Faker(locale)
        if not hasattr(fake, "phone_number"):
            continue  # a locale with no phone provider
        fake.seed_instance(15)
        for _ in range(40):
            text = fake.phone_number()
            pairs += [(text, region if region in phonenumbers.SUPPORTED_REGIONS else "US"), (text, None),
                      (text, "IN")]
        for _ in range(5):
            pairs.append((fake.msisdn(), region if region in phonenumbers.SUPPORTED_REGIONS else None))
    return pairs


def mutations(pairs: list[Pair], seed: int = 5) -> list[Pair]:
    """A digit changed, dropped or added, once each, at a random place."""
    rng = random.Random(seed)
    out: list[Pair] = []
    for text, region in pairs:
        places = [i for i, c in enumerate(text) if c.isdigit()]
        if not places:
            continue
        i = rng.choice(places)
        d = str(rng.randrange(10))
        out += [(text[:i] + d + text[i + 1:], region), (text[:i] + text[i + 1:], region),
                (text[:i] + d + text[i:], region)]
    return out


def random_digit_pairs(n: int, seed: int = 9) -> list[Pair]:
    rng = random.Random(seed)
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    out: list[Pair] = []
    for _ in range(n):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 17)))
        out += [(digits, rng.choice(regions)), ("+" + digits, None), ("00" + digits, rng.choice(regions))]
    return out


def detector_pairs(docs: list[str]) -> list[Pair]:
    """Every (text, region) the detector asks the phone check about on these documents."""
    from factsep import Detector

    seen: list[Pair] = []
    original = phones.read

    def recording(text: str, region: str | None) -> phones.Reading | None:
        seen.append((text, region))
        return original(text, region)

    phones.read = recording
    try:
        detector = Detector()
        for start in range(0, len(docs), 256):
            list(detector.detect_batch(docs[start:start + 256]))
    finally:
        phones.read = original
    return seen


def changelog_docs(limit: int) -> list[str]:
    docs: list[str] = []
    size = 0
    for path in sorted(glob.glob("/usr/share/doc/*/changelog*.gz")):
        try:
            text = gzip.open(path, "rt", encoding="utf-8", errors="replace").read()
        except (OSError, EOFError):
            continue
        docs += [text[i:i + 4096] for i in range(0, len(text), 4096)]
        size += len(text)
        if size >= limit:
            break
    return docs


def eval_docs() -> list[str]:
    docs: list[str] = []
    for path in sorted(EVAL.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                docs.append(str(row.get("text") or row.get("value") or ""))
    return docs


def test_example_numbers_of_every_region_and_type(tables: Any) -> None:
    counts = compare(tables, example_pairs(), 5000)
    assert counts["valid"] > 3000


def test_faker_numbers_in_every_locale(tables: Any) -> None:
    counts = compare(tables, faker_pairs(), 5000)
    assert counts["valid"] > 1000


def test_mutated_numbers(tables: Any) -> None:
    compare(tables, mutations(example_pairs() + faker_pairs()), 20000)



def test_random_digit_strings(tables: Any) -> None:
    counts = compare(tables, random_digit_pairs(6000), 15000)
    assert counts["valid"] > 500 and counts["not_a_number"] > 100


def test_every_detector_candidate_on_changelogs(tables: Any) -> None:
    compare(tables, detector_pairs(changelog_docs(2_000_000)), 2000)


def test_every_detector_candidate_on_the_eval_sets(tables: Any) -> None:
    docs = eval_docs()
    assert docs, f"no evaluation sets under {EVAL}"
    compare(tables, detector_pairs(docs), 1000)


def test_hand_written_edge_cases(tables: Any) -> None:
    """Forms a corpus rarely holds: vanity letters, IDD prefixes, extensions, a national prefix
    with a carrier code, calling codes written without +, regions sharing a calling code."""
    pairs = [
        ("1-800-FLOWERS", "US"), ("1 800 MICROSOFT", "US"), ("0800 FLOWERS", "GB"), ("abc", "US"),
        ("011 33 1 42 68 53 00", "US"), ("00 33 1 42 68 53 00", "FR"), ("0011 61 2 9374 4000", "AU"),
        ("+1 650 253 0000 ext. 123", None), ("650 253 0000 x123", "US"), ("650-253-0000 #12#", "US"),
        ("(530) 583-6985 x302/x2303", "US"), ("0 11 4 123 4567", "AR"), ("011 15 2345 6789", "AR"),
        ("0343 15 555 1212", "AR"), ("1 6502530000", "US"), ("16502530000", "US"), ("442070313000", "GB"),
        ("+44 (0) 20 7031 3000", None), ("+1 (242) 357-1234", None), ("+7 701 123 4567", None),
        ("+7 495 123 4567", None), ("+262 269 61 23 45", None), ("+590 590 27 12 34", None),
        ("+800 1234 5678", None), ("+979 1 2345 6789", None), ("+0 123 4567", None), ("++1 650 253 0000", None),
        ("+999 123 4567", None), ("+1", None), ("tel: 650 253 0000", "US"), ("Tel: +41 44 668 18 00", None),
        ("0041 44 668 1800", "CH"), ("044 668 18 00", "CH"), ("06 12 34 56 78", "FR"), ("3 12 34 56 78", "IT"),
        ("02 1234 5678", "IT"), ("0549 123456", "SM"), ("8 (495) 123-45-67", "RU"), ("8 10 1 650 253 0000", "RU"),
        ("(020) 7031 3000", "GB"), ("07700 900123", "GB"), ("01624 123456", "IM"), ("01624 123456", "GB"),
        ("+44 1624 123456", None), ("(+49) 30 123456", "DE"), ("030 123456-78", "DE"), ("x", "US"),
        ("", "US"), ("++", None), ("12", "US"), ("123", "US"), ("+12", None), ("1" * 18, "US"), ("+" + "1" * 18, None),
        ("650 253 0000", "XX"), ("+1 650 253 0000", "XX"), ("650 253 0000", "001"), ("650 253 0000", "us"),
        ("650\u00a0253\u00a00000", "US"), ("+1 650 253 0000;ext=12", None), ("６５０ ２５３ ００００", "US"),
    ]
    counts = compare(tables, pairs, len(pairs) - 1)
    assert counts["deferred"] == 4


def test_tables_in_use_follow_the_installed_phonenumbers() -> None:
    """The core reads the installed package's metadata: the shipped copy when it is from that
    version (and then equal to what the generator writes), else tables generated in the process."""
    shipped = phone_tables.shipped_text()
    in_use = phone_tables.tables_text()
    assert phone_tables.shipped_version(in_use) == phonenumbers.__version__
    assert in_use == phone_tables.generate(), "the tables in use differ from the installed metadata"
    if phone_tables.shipped_version(shipped) == phonenumbers.__version__:
        assert shipped == in_use, "phone_tables.txt.gz is stale: rerun scripts/gen_phone_tables.py"


def test_tables_of_another_version_are_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shipped copy from another phonenumbers release is not used: the loader builds the tables
    from the installed metadata, and the native engine stays on."""
    text = phone_tables.generate()
    stale = text.replace(f"phonenumbers\t{phonenumbers.__version__}\n", "phonenumbers\t0.0.0\n", 1)
    assert stale != text
    path = tmp_path / "phone_tables.txt.gz"
    path.write_bytes(gzip.compress(stale.encode("utf-8")))
    monkeypatch.setattr(phone_tables, "SHIPPED", path)
    assert phone_tables.tables_text() == text
    tables = phones._load_tables()
    assert tables is not None and tables.version == phonenumbers.__version__


def test_generation_is_deterministic(tmp_path: Path) -> None:
    outs = []
    for name in ("a.gz", "b.gz"):
        subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_phone_tables.py"), "--out", str(tmp_path / name)],
                       check=True, capture_output=True)
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]


def test_hostile_input_stays_linear_and_never_panics(tables: Any) -> None:
    """A megabyte of + or of digits is refused at once (parse's length limit), in one batch with
    ordinary values, and every verdict is a tuple (a panic would be a RuntimeError)."""
    hostile = ["+" * (1 << 20), "9" * (1 << 20), "+1 " + "5" * 300, "(" * 200 + "650 253 0000",
               "x" * 249 + "1", "+" + "ext. 1" * 40]
    got = tables.verdicts(hostile + ["+1 650 253 0000"], [None, "US", None, "US", "US", None, None])
    assert [g[0] for g in got[:3]] == [1, 1, 1]
    assert got[-1][4] is True
    compare(tables, list(zip(hostile[3:], ["US", "US", None])), 3)


def test_batch_checks_lengths(tables: Any) -> None:
    with pytest.raises(ValueError, match="regions"):
        tables.verdicts(["+1 650 253 0000"], [])


def test_phone_kind_reads_the_same_with_either_engine() -> None:
    """phones.validate gives the same Validation with the core and with phonenumbers alone, on
    the detector's phone candidates of the eval sets."""
    texts = sorted({t for t, _ in detector_pairs(eval_docs()[:3000])})
    opts_list = [{"phone_regions": ("US",)}, {"phone_regions": ("DE", "GB", "CN")}]
    assert phones.engine() == "native"
    try:
        results = {}
        for name in ("native", "phonenumbers"):
            phones.set_engine(name)
            results[name] = [phones.validate(t, o) for t in texts for o in opts_list]
            results[name + "_bits"] = [phones.bits(v.normalized) for v in results[name] if v is not None]
    finally:
        phones.set_engine("native")
    assert results["native"] == results["phonenumbers"]
    assert results["native_bits"] == results["phonenumbers_bits"]
    assert sum(1 for v in results["native"] if v is not None and v.validated) > 50


def test_comparison_catches_a_wrong_table() -> None:
    """The harness can fail: tables with GB's mobile numbers removed disagree with the package."""
    text = phone_tables.tables_text()
    lines = text.split("\n")
    start = lines.index("m\tGB\t44")
    mobile = next(i for i in range(start, len(lines)) if lines[i].startswith("d\tmobile\t"))
    broken = _native.PhoneTables("\n".join(lines[:mobile] + lines[mobile + 1:]))
    with pytest.raises(AssertionError, match="disagree"):
        compare(broken, [p for p in example_pairs() if p[1] == "GB"], 10)


def spans_of(docs: list[str]) -> list[tuple[Any, ...]]:
    from factsep import Detector

    detector = Detector()
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(docs), 256):
        for i, spans in enumerate(list(detector.detect_batch(docs[start:start + 256])), start):
            rows += [(i, s.start, s.end, s.kind, s.subtype, s.value_hash, s.confidence, s.bits, s.validated,
                      s.decision) for s in spans]
    return rows


def test_detector_spans_identical_with_and_without_the_core() -> None:
    """The whole detector gives the same spans when phones reads numbers through the core as when
    phonenumbers reads them, on every eval set and samples/ (bench/same_spans.py's check)."""
    from test_native import sample_docs

    docs = eval_docs() + sample_docs()
    assert phones.engine() == "native"
    try:
        phones.set_engine("phonenumbers")
        reference_spans = spans_of(docs)
    finally:
        phones.set_engine("native")
    native_spans = spans_of(docs)
    assert sum(1 for r in reference_spans if r[3] == "phone_number") > 500
    assert native_spans == reference_spans, f"first differences: {sorted(set(native_spans) ^ set(reference_spans))[:5]}"


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="0123456789 +-./()xXetnEXT#*~,:[]aAbB\u00a0\uff10", max_size=30),
       region=st.sampled_from([None, "US", "GB", "DE", "AR", "RU", "IT", "CN", "BR", "IN", "KZ", "XX"]))
def test_generated_text_agrees(tables: Any, text: str, region: str | None) -> None:
    """Any string of phone characters (separators, letters, extension words, a wide digit)."""
    native = tables.verdict(text, region)
    if native[0] == 2:
        assert may_defer(text, region), (text, region)
    else:
        assert tuple(native) == reference(text, region), (text, region)
