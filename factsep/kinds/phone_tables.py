"""The phone tables of the native phone check, generated from the installed phonenumbers metadata.

The native phone check (native/src/phone.rs) parses and validates numbers the way phonenumbers does,
from these tables: the per-region metadata (country codes, international and national prefixes,
possible lengths, number patterns per type, leading digits, formats) and the few generic patterns
parse() uses, all taken from the package itself. A copy for the phonenumbers version the project
was tested with ships as ``data/phone_tables.txt.gz``; when another version is installed,
``tables_text`` builds them from that version's metadata in the process (about 0.2 s), so the core
always follows the installed package. ``scripts/gen_phone_tables.py`` rewrites the shipped copy.
Format (UTF-8 text, one record a line, fields split by TAB, no field holds a TAB or a newline):
``phonenumbers VERSION`` first; ``g NAME PATTERN`` generic patterns; ``a LETTER DIGIT`` the keypad;
``c CODE REGION...`` regions of a calling code, main first; ``m ID CODE`` opens a metadata record
(``ID`` a region, or ``001`` for a non-geographic code), followed by its fields: ``ip`` international
prefix, ``npp`` national prefix for parsing, ``npt`` its transform rule, ``ld`` leading digits, ``ep``
preferred extension prefix, ``same`` when mobile and fixed-line patterns are the same, ``d TYPE
LENGTHS LOCAL [PATTERN]`` a number description, ``f N|I PATTERN LEADING NATIONAL INTERNATIONAL``
a number format (N: national list, I: international list). Replacement templates are written in
the regex crate's syntax (``${1}``), so the core expands them as they are. Lines are sorted the same
way every run: regenerating from the same phonenumbers gives the same bytes.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers import phonenumberutil as pnu

SHIPPED = Path(__file__).resolve().parent / "data" / "phone_tables.txt.gz"

#: The number types, in the order the core indexes them (PhoneNumberType values in parentheses).
TYPES = ("general", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "voip",
         "personal_number", "pager", "uan", "voicemail")

#: parse()'s generic patterns the core compiles as they are.
GENERIC = {
    "valid_phone": pnu._VALID_PHONE_NUMBER_PATTERN,
    "extension": pnu._EXTN_PATTERN,
    "unwanted_end": pnu._UNWANTED_END_CHAR_PATTERN,
    "second_number": pnu._SECOND_NUMBER_START_PATTERN,
    "valid_alpha": pnu._VALID_ALPHA_PHONE_PATTERN,
}


def _field(value: str) -> str:
    if "\t" in value or "\n" in value or "\r" in value:
        raise ValueError(f"a phonenumbers pattern holds a TAB or newline: {value!r}")
    return value


def _ascii(value: str) -> str:
    """Metadata patterns are ASCII: the core matches them against ASCII digits only."""
    if not value.isascii():
        raise ValueError(f"a metadata pattern is not ASCII, the core compiles it without Unicode: {value!r}")
    return _field(value)


def _template(rule: str) -> str:
    """A Python re.sub template (``\\1``) as a regex crate one (``${1}``, ``$$`` a dollar)."""
    out = []
    i = 0
    while i < len(rule):
        c = rule[i]
        if c == "\\":
            m = re.match(r"\\(\d+)", rule[i:])
            if not m:
                raise ValueError(f"a template escape the generator does not translate: {rule!r}")
            out.append("${" + m.group(1) + "}")
            i += len(m.group(0))
            continue
        out.append("$$" if c == "$" else c)
        i += 1
    return _field("".join(out))


def _flags(pattern: re.Pattern[str]) -> str:
    """Python flags the pattern was compiled with, as an inline group for the regex crate."""
    known = re.IGNORECASE | re.UNICODE
    if pattern.flags & ~known:
        raise ValueError(f"flags the generator does not translate: {pattern.flags} on {pattern.pattern!r}")
    return "(?i)" if pattern.flags & re.IGNORECASE else ""


def _lengths(values: tuple[int, ...] | list[int]) -> str:
    return ",".join(str(v) for v in values) or "-"


def _desc_line(name: str, desc: object) -> str | None:
    if desc is None:
        return None
    lengths = getattr(desc, "possible_length", ()) or ()
    local = getattr(desc, "possible_length_local_only", ()) or ()
    pattern = getattr(desc, "national_number_pattern", None)
    fields = ["d", name, _lengths(lengths), _lengths(local)]
    if pattern is not None:
        fields.append(_ascii(pattern))
    return "\t".join(fields)


def _format_line(which: str, fmt: object) -> str:
    leading = list(fmt.leading_digits_pattern)
    rule = fmt.format
    national = rule
    if fmt.national_prefix_formatting_rule:
        # what _format_nsn_using_pattern does for NATIONAL, computed once here
        national = re.sub(pnu._FIRST_GROUP_PATTERN, fmt.national_prefix_formatting_rule, rule, count=1)
    return "\t".join(["f", which, _ascii(fmt.pattern), _ascii(leading[-1]) if leading else "-",
                      _template(national), _template(rule)])


def _metadata_lines(key: str, meta: PhoneMetadata) -> list[str]:
    lines = ["\t".join(["m", key, str(meta.country_code)])]
    for tag, value in (("ip", meta.international_prefix), ("npp", meta.national_prefix_for_parsing),
                       ("ld", meta.leading_digits)):
        if value is not None:
            lines.append(f"{tag}\t{_ascii(value)}")
    if meta.national_prefix_transform_rule is not None:
        lines.append(f"npt\t{_template(meta.national_prefix_transform_rule)}")
    if meta.preferred_extn_prefix is not None:
        lines.append(f"ep\t{_field(meta.preferred_extn_prefix)}")
    if meta.same_mobile_and_fixed_line_pattern:
        lines.append("same")
    for name in TYPES:
        line = _desc_line(name, getattr(meta, "general_desc" if name == "general" else name))
        if line is not None:
            lines.append(line)
    lines += [_format_line("N", f) for f in meta.number_format]
    lines += [_format_line("I", f) for f in meta.intl_number_format]
    return lines


def generate() -> str:
    """The tables as text, the same for the same phonenumbers."""
    lines = [f"phonenumbers\t{phonenumbers.__version__}"]
    for name, pattern in sorted(GENERIC.items()):
        lines.append("\t".join(["g", name, _field(_flags(pattern) + pattern.pattern)]))
    for letter, digit in sorted(pnu._ALPHA_MAPPINGS.items()):
        lines.append(f"a\t{letter}\t{digit}")
    for code, regions in sorted(pnu.COUNTRY_CODE_TO_REGION_CODE.items()):
        lines.append("\t".join(["c", str(code), *regions]))
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        lines += _metadata_lines(region, PhoneMetadata.metadata_for_region(region))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        lines += _metadata_lines(pnu.REGION_CODE_FOR_NON_GEO_ENTITY, PhoneMetadata.metadata_for_nongeo_region(code))
    return "\n".join(lines) + "\n"


def shipped_text(path: Path | None = None) -> str:
    """The shipped tables (or those at ``path``) as text."""
    return gzip.decompress((path or SHIPPED).read_bytes()).decode("utf-8")


def shipped_version(text: str) -> str:
    """The phonenumbers version a tables text was generated from (``?`` when it names none)."""
    first = text.split("\n", 1)[0].split("\t")
    return first[1] if len(first) == 2 and first[0] == "phonenumbers" else "?"


def tables_text() -> str:
    """The tables for the installed phonenumbers: the shipped copy when it is from that version,
    else generated from the installed metadata (raises when that metadata cannot be read)."""
    text = shipped_text()
    if shipped_version(text) == phonenumbers.__version__:
        return text
    return generate()
