"""What a number is, read from its shape and neighbourhood before any format is tried.

Why: with ~190 python-stdnum formats most digit strings pass some format's checksum, so a format
is a hypothesis that needs evidence. Most numbers in real text are no identifiers at all: years
and year lists, versions, timestamps, code constants and tables, postal codes, standard and
regulation numbers, well-known constants. And many that are identifiers are *reference numbers*
(bug, PR, issue and CVE ids) or commit ids, which have kinds of their own (``generic_id`` and
``hex_digest`` with a subtype) and must never be read as some country's tax number.

Two readers, both cheap:

- :func:`references` scans a document once for reference numbers and commit ids where their
  cues put them ("Closes: #1029349", "CVE-2022-27782", "PR c++/105795", "upstream commit
  3d7a2d78", gbp's "* [2322fe2]"). Each is a :class:`Reference` with the signals that found it.
- :func:`not_a_fact` says, for one value read as one kind, why it is no random fact ("year list",
  "version", "timestamp", ...), or None. Formats are only tried for what it lets through.

Each reason and signal has a name: the detector writes it into the span's ``detector`` field and
:meth:`factsep.detection.detector.Detector.explain` shows it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Kinds whose values are written with letters or structure that no number has: a reason found
#: for a number does not apply to them.
STRUCTURAL = frozenset({"email_address", "uuid", "hex_digest", "secret", "crypto_address", "mac_address"})


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference number or commit id found by its cue."""

    start: int
    end: int
    kind: str  # "generic_id" or "hex_digest"
    subtype: str  # "reference.debian_bug", "reference.cve", "commit.abbreviated", ...
    signal: str  # the cue that found it, a feature name of the scoring table
    normalized: str


# ---- references and commit ids -------------------------------------------------------------------

_CVE = re.compile(r"(?<![A-Za-z0-9])(?:CVE|CAN)-(?:19|20)\d\d-\d{4,7}\b")
_ADVISORY = re.compile(r"\b(?:TALOS|ZDI|DSA|DLA|USN|RHSA|GHSA|OSV|TROVE)-\d{2,4}(?:-\d{1,7})+\b"
                       r"|\b[A-Z][A-Z0-9]{1,9}-SA-(?:19|20)\d\d-\d{3,7}\b|\bJDK-\d{7}\b"
                       # advisory databases named for security ("RUSTSEC-2020-0146", "PYSEC-2021-13"): a year
                       # and a sequence number, like a CVE id
                       r"|\b[A-Z]{2,9}SEC-(?:19|20)\d\d-\d{2,7}\b")
_HANDLE = re.compile(r"(?:hdl\.handle\.net/|\bhandle\)?:? )(\d{2,6}(?:\.\d+)*/\d{2,12})\b")
#: A message, post or thread id as the value of a URL's query: "?l=list&m=111352423504277".
_QUERY_ID = re.compile(r"[?&;](?:m|id|msg|mid|message|msgid|topic|post|thread|p)=(\d{6,20})(?![\w.])")
#: A comment or note id as a URL's fragment: "issues/6710#issuecomment-485580032", "#note_1234".
_FRAGMENT_ID = re.compile(r"#(?:issuecomment-|discussion_r|note_|comment-|c)(\d{2,12})(?![\w.])")
_BUG_URL = re.compile(r"(?:bugs\.[\w.\-]+/|show_bug\.cgi\?id=|/(?:issues|pull|bugs|merge_requests|tickets?)/)"
                      r"(\d{2,8})\b")
#: "#1029349" (not "# 1234", not "#12" or a card number), after a cue or anywhere in a list of them
_HASH_REF = re.compile(r"(?<![&#/])#(\d{3,8})(?![\w\-])")
_CLOSES = re.compile(r"(?i:\b(?:closes|close|closed|fixes|fixed|fix|mitigates|see|bug|bugs|lp|ticket|issue|"
                     r"issues|pr|merge request|mr|fd\.o|gh|gitlab|bugzilla|bts|debbugs)\b)")
_PR = re.compile(r"\bPR ?(?:[a-z][\w+\-]*/)(\d{2,7})\b|\b(?:PR|GH|BZ|LP)(\d{3,7})\b|\bGH (\d{3,7})\b"
                 r"|\b(?:gh-issue|gh-pr|bpo|gh)-(\d{3,7})\b")
#: A tracker's name glued to the number: "bgo#786035", "BGO#12345", "rhbz#1234567", "glib#2572" (a
#: word, then "#", then digits), and reST/Sphinx roles that name a tracker (``:bzbug:`777719```,
#: ``:issue:`123```, ``:gh:`42```, ``:pr:`7```, ``:bpo:`33065```).
_ROLE_REF = re.compile(r"(?i::(?:\w*bug|issue|gh|ghissue|pr|pull|bpo|mr|ticket|cve|lp):`(\d{2,8})`)")
#: GitLab merge requests: "!2442" where a list or a bullet puts it ("(!2814, !2827, #2694)", " - !157 ...").
_MR_REF = re.compile(r"(?:^[ \t]{0,8}(?:[-*] )?|[(\[,] ?)!(\d{2,6})(?![\w!=])", re.M)
_BUG_WORD = re.compile(r"(?i:\b(?:bug|bugs|issue|issues|ticket|pull request|bugzilla|bz|lp|gnome bug|"
                       r"kde bug|savannah|rhbz|boo|bsc|cid|closes)\b)\s*(?:no\.?|nr\.?|number)?\s*[:#=]?\s*#?"
                       r"(\d{3,9})\b"
                       r"|(?!)(\d)")
#: The next number of a list after a bug label ("Bugs: 119171089, 119929050", "bugs #1, #2 and #3").
_BUG_MORE = re.compile(r"[ \t]*(?:,|and|&)\s*(#?)(\d{3,9})\b")
#: A patent or patent application number after its name: "Patent No. 6,789,012", "U.S. Patent
#: Application No. 09/918,615", "patent US 7654321 B2". A reference, not some country's tax number.
_PATENT = re.compile(r"(?i:\b(?:patents?|pat\.)(?: application)?(?: serial)?(?: nos?\.?| numbers?| #)?)"
                     r"[ \t]*:?[ \t]*((?:[A-Z]{2}[ \-]?)?(?:\d{1,2}/\d{3},\d{3}|\d{1,2},\d{3},\d{3}|\d{6,10})"
                     r"(?: ?[A-C]\d)?)(?![\w,/])")
#: An OpenPGP key fingerprint as gpg prints it: ten groups of four hex digits, two halves.
_FINGERPRINT = re.compile(r"\b[0-9A-F]{4}(?: [0-9A-F]{4}){4}  [0-9A-F]{4}(?: [0-9A-F]{4}){4}\b")
#: GNOME-style NEWS lists: " 775864 getting-started: typo" at the start of a line, in a run of them
_BUG_ROW = re.compile(r"^[ \t]{0,8}\d{5,7}(?:[ \t]+\d{5,7})+[ \t]*$", re.M)
_BUGS_HEADING = re.compile(r"(?i:[ \t]*[-*\u2022]?[ \t]*(?:\w+ )?bugs? (?:fixed|closed|resolved)[^\n]{0,20}:[ \t]*\n)")
#: (glibc's NEWS writes the number in brackets: "  [29461] resolver: a crash on ...")
_BUG_LINE = re.compile(r"^[ \t]{0,8}(?:[-*\u2022] )?\[?(\d{5,7})\]?(?:[ \t]{1,3}(?:- )?(?=[A-Za-z_`'\"(\[.])|[ \t]*$)",
                       re.M)
#: What makes "#" and three or six digits a colour rather than a reference: a quote, an assignment
#: or a colour word on its line, or another colour written with hex letters there.
_COLOUR_CUE = re.compile(r"(?i:colou?r|rgb|background|foreground|fill|stroke|style)"
                         r"|#(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{3,8}\b")
_HEX_TOKEN = r"([0-9a-f]{7,40})"
_COMMIT_CUES = (
    ("commit_word", re.compile(
        r"(?i:\b(?:commits?|committed|cherry[- ]?pick(?:ed|s)?(?: from| of)?|revert(?:s|ed)?|revision|rev|"
        r"changeset|hash|sha1?|git|upstream|snapshot|backport(?:ed|s)?(?: of)?|applied|fixed in|fix(?:ed)? by|"
        r"introduced (?:in|by)|regressed in|since)\b)[\s:#=(\[]{1,3}"
        r"(?:(?:upstream|commit|of|from|git|in|id|ID):? ){0,2}?"
        + rf"\b{_HEX_TOKEN}\b")),
    ("commit_url", re.compile(
        rf"(?:[;?&]h=|[;?&]id=|/commits?/|/rev/|/raw-rev/|/changeset/|/tree/|/blob/){_HEX_TOKEN}\b")),
    ("gbp_line", re.compile(rf"^\s*\* \[{_HEX_TOKEN}\] ", re.M)),
    ("log_line", re.compile(rf"^ {{2,8}}{_HEX_TOKEN} (?=[A-Za-z])", re.M)),
    ("git_describe", re.compile(rf"\d-g{_HEX_TOKEN}\b")),
    ("git_version", re.compile(rf"(?:\+git\d{{8}}(?:\.\d+)?|\d{{14}}|\bgit\d{{8}})[+.~]g?{_HEX_TOKEN}\b")),
)


def _hexlike(value: str) -> bool:
    """A commit id: 7 to 40 lower-case hex digits with at least one digit and one letter, not a
    run of one or two characters, not a date or a number."""
    return (any(c.isdigit() for c in value) and any(c.isalpha() for c in value) and len(set(value)) >= 4
            and not value.isdigit())


def references(text: str) -> list[Reference]:
    """Every reference number and commit id of a document, found by its cue."""
    out: list[Reference] = []
    if "CVE-" in text or "CAN-" in text:
        out.extend(Reference(m.start(), m.end(), "generic_id", "reference.cve", "cve_id", m.group())
                   for m in _CVE.finditer(text))
    if "-" in text:
        out.extend(Reference(m.start(), m.end(), "generic_id", "reference.advisory", "advisory_id", m.group())
                   for m in _ADVISORY.finditer(text))
    if "#" in text:
        for m in _HASH_REF.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            before = text[max(line_start, m.start() - 40):m.start()]
            cue = _CLOSES.search(before)
            # (a "#" at the start of a line is no quoted colour: "#21633: title" lists tickets)
            quoted = before != "" and before[-1] in "'\":="
            if cue is None and (quoted or len(m.group(1)) in (3, 6) and _colour_line(text, m)):
                continue  # "#008080", "'#000080'": a colour, not a reference
            # "Closes: #...", "Bug#...", "fd.o #...", "See #...": a number glued to "#" is a reference
            debian = cue is not None and cue.group().lower() in ("closes", "close", "closed") or (
                before.rstrip().endswith(",") and "closes" in before.lower())
            sub = "reference.debian_bug" if debian else "reference.issue"
            out.append(Reference(m.start(1), m.end(1), "generic_id", sub, "hash_cue" if cue else "hash_ref",
                                 m.group(1)))
    if "PR" in text or "GH" in text or "BZ" in text or "LP" in text or "gh-" in text or "bpo-" in text:
        for m in _PR.finditer(text):
            g = 1 if m.group(1) else 2 if m.group(2) else 3 if m.group(3) else 4
            s, e = (m.start(g), m.end(g)) if g != 2 else (m.start(), m.end())
            out.append(Reference(s, e, "generic_id", "reference.pr", "pr_cue", text[s:e]))
    if ":`" in text:
        out.extend(Reference(m.start(1), m.end(1), "generic_id", "reference.issue", "bug_word", m.group(1))
                   for m in _ROLE_REF.finditer(text))
    if "!" in text:
        out.extend(Reference(m.start(1), m.end(1), "generic_id", "reference.pr", "pr_cue", m.group(1))
                   for m in _MR_REF.finditer(text))
    for m in _BUG_WORD.finditer(text):
        g = 1 if m.group(1) else 2
        out.append(Reference(m.start(g), m.end(g), "generic_id", "reference.bug", "bug_word", m.group(g)))
        more = _BUG_MORE.match(text, m.end())
        # the label names the whole list: "#" and digits, or five digits or more (not a year)
        while more is not None and (more.group(1) or len(more.group(2)) >= 5):
            out.append(Reference(more.start(2), more.end(2), "generic_id", "reference.bug", "bug_word", more.group(2)))
            more = _BUG_MORE.match(text, more.end())
    if "at" in text or "AT" in text:
        out.extend(Reference(m.start(1), m.end(1), "generic_id", "reference.patent", "patent", m.group(1))
                   for m in _PATENT.finditer(text))
    if "  " in text:
        for m in _FINGERPRINT.finditer(text):
            v = m.group()
            if any(c.isdigit() for c in v) and any(c.isalpha() for c in v):
                out.append(Reference(m.start(), m.end(), "hex_digest", "fingerprint.openpgp", "fingerprint", v))
    if "/" in text:
        out.extend(Reference(m.start(1), m.end(1), "generic_id", "reference.bug", "bug_url", m.group(1))
                   for m in _BUG_URL.finditer(text))
        out.extend(Reference(m.start(1), m.end(1), "generic_id", "reference.handle", "handle", m.group(1))
                   for m in _HANDLE.finditer(text))
        if "=" in text:
            out.extend(Reference(m.start(1), m.end(1), "generic_id", "reference.bug", "bug_url", m.group(1))
                       for m in _QUERY_ID.finditer(text) if "://" in text[max(0, m.start() - 200):m.start()])
        if "#" in text:
            out.extend(Reference(m.start(1), m.end(1), "generic_id", "reference.bug", "bug_url", m.group(1))
                       for m in _FRAGMENT_ID.finditer(text) if "://" in text[max(0, m.start() - 200):m.start()])
    if "\n" in text:
        for m in _BUG_ROW.finditer(text):
            # a line of bug numbers only, right under a heading that names them ("* Bugs fixed:")
            lo = text.rfind("\n", 0, max(0, m.start() - 1)) + 1
            if _BUGS_HEADING.match(text, lo, m.start()):
                out.extend(Reference(m.start() + n.start(), m.start() + n.end(), "generic_id", "reference.bug_list",
                                     "bug_list", n.group()) for n in re.finditer(r"\d+", m.group()))
    lines = list(_BUG_LINE.finditer(text))
    for i, m in enumerate(lines):
        # a list: another such line right before or after (a lone number at a line start is no list)
        near = any(abs(text.count("\n", min(m.start(), o.start()), max(m.start(), o.start()))) <= 2
                   for o in lines[max(0, i - 1):i + 2] if o is not m)
        if near:
            out.append(Reference(m.start(1), m.end(1), "generic_id", "reference.bug_list", "bug_list", m.group(1)))
    for signal, rx in _COMMIT_CUES:
        for m in rx.finditer(text):
            v = m.group(1)
            if not _hexlike(v) or 16 < len(v) < 40 or len(v) > 40:
                continue  # git abbreviates to 7 characters and more as a repository grows; a full SHA-1 is 40
            sub = "commit.full" if len(v) == 40 else "commit.abbreviated"
            out.append(Reference(m.start(1), m.end(1), "hex_digest", sub, signal, v))
    return _disjoint(out)


def _colour_line(text: str, m: re.Match[str]) -> bool:
    """A "#" number on a line that speaks of colours (or in a list of hex colours) is a colour."""
    lo, hi = _line_of(text, m.start())
    line = text[lo:hi]
    rest = line[:m.start() - lo] + " " + line[m.end() - lo:]
    return _COLOUR_CUE.search(rest) is not None


def _disjoint(refs: list[Reference]) -> list[Reference]:
    """One reference per region, the longest (then the first found) winning."""
    out: list[Reference] = []
    for r in sorted(refs, key=lambda r: (r.start, -(r.end - r.start))):
        if out and r.start < out[-1].end:
            continue
        out.append(r)
    return out


# ---- numbers that are no random facts ------------------------------------------------------------

#: The digits in their order, twice round: a run of it is the digits written out, not a value.
_DIGITS_IN_ORDER = "0123456789" * 2
_YEAR = re.compile(r"(?:19|20)\d\d")
_GROUPS = re.compile(r"[,;\s\-–/]+")
_QUARTER = re.compile(r"(?:19|20)\d\d ?[QH]\d|[QH]\d ?(?:19|20)\d\d")
_DAY_YEAR = re.compile(r"\d{1,2},? (?:19|20)\d\d|\d{1,2}/(?:19|20)\d\d")
_DECIMALS = re.compile(r"\d+\.\d+(?: \d+\.\d+)+|0\.\d+|[1-9]\d{3,}\.\d{3,}")
_STANDARD_VALUE = re.compile(r"(?:RFC|ISO|IEC|IEEE|ECMA|POSIX|GOST|ANSI|FIPS|DIN|JIS|SP|PR|GH)[ \-]?\d")
#: An EC number (a chemical's EINECS/ELINCS entry) as written: no regulation is numbered so.
_EC_NUMBER = re.compile(r"\d{3}-\d{3}-\d")
_DOTTED = re.compile(r"(?:0|[1-9]\d{0,2})(?:\.\d{1,3}){2,}")
_PLUS_VERSION = re.compile(r"[0-9A-Za-z.~]\+[0-9A-Za-z]")
_ZONE = re.compile(r"^\d{1,2} ?[+\-]\d{4}$")
_STANDARD_CUE = re.compile(
    r"(?:\b(?:RFCs?|ISO(?:/IEC)?(?: IS| DIS)?|DIS|Std|IEC|ECMA|POSIX|GOST|DFARS?|DFARs|FARs?|CFR|IEEE|ANSI|"
    r"ITU(?:-T)?|NIST|SP ?800|"
    r"FIPS|C\.F\.R\.|EN|DIN|JIS|BS|UN|ECE|EC|EU|EEC|OIDs?|ASN\.1|X|Directive|Regulation|Clause|clause|section|Section|"
    r"sect\.|chapter|Chapter|§|art\.|Article|paragraph|Table|table|figure|Figure|Appendix)[\s.\-/]{0,3}"
    r"(?:No\.? ?)?$)")
_VERSION_CUE = re.compile(
    # version words of the languages the phone words cover too
    r"(?i:(?:\bversions?|\bver\.?|\bv|\bversi(?:ón|one|e|on)|\bversão|バージョン|版本|버전|"
    r"\brelease[sd]?|\bpolicy|standards-version:?|\bupgraded? to|\bbump(?:ed)? to|"
    r"\bupstream|\bnew upstream(?: release| version)?|\bdebhelper|<<|>>|<=|>=|\(=)\s?)$")
#: Words before a dotted number that make a version of an address-like one ("before 1.7.9.5").
_IP_WORDS = re.compile(r"(?i:\b(?:ip|ips|ipv4|address|addr|host|server|dns|gateway|client|connect\w*|ping|"
                       r"resolver|nameserver|subnet|route|proxy|port)\b|ip|地址)")
_HEADER = re.compile(r"^[a-z0-9][a-z0-9.+\-]* \(([^()\n]{1,80})\) [\w\-]+(?: [\w\-]+)*; urgency=", re.M)
_DOC_PLACEHOLDER = re.compile(r"(?i:(?:\bexample_number|\bexample|\bsample|\bdummy|\bplaceholder|>>>)"
                              r"\W{0,4}(?:\w+\W{1,3}){0,1}$)")
#: Numbers given as instances of a kind of number: "for certain numbers like 1234...", "values such as".
_NUMBERS_LIKE = re.compile(r"(?i:\b(?:numbers|values|inputs|integers) (?:like|such as|e\.g\.,?)\s+)$")
_STATE = re.compile(r"(?:\b[A-Z]{2},?\s{1,2}|\b(?:zip|postal|postcode|post code|plz|cep|cap)\b\W{0,3})$", re.I)
_OBFUSCATED_AT = re.compile(r" (?:at|AT|\[at\]|\(at\)) [a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}\b")
#: Paragraphs of a regulation's sections ("227.7202-4" of 48 C.F.R.): part, section, paragraph.
_PARAGRAPH = re.compile(r"\d{2,3}\.\d{3,4}-\d{1,2}")
_YEAR_EDITION = re.compile(r"(?:19|20)\d\d (?:R|SP)\d")
_STANDARD_EDITION = re.compile(r"\d{1,3}(?:\.\d{1,4})+-(?:19|20)\d\d")
_DECADE_RANGE = re.compile(r"(?:19|20)\d\d ?[-–] ?(?:19|20)\d[xX?]")
#: A file name or charset that carries a standard's number: "iso_8859-13.7", "iso-8859-1".
_STANDARD_NAME = re.compile(r"(?i:\biso)[_\-]$")
#: A release heading: "3.36.0 - 2020-03-08", "2.4.1 (2019-11-02)", a version and its ISO date.
_RELEASE_DATE = re.compile(r"[ \t]*(?:[-–—:,]|\(|[-–] \()[ \t]*(?:19|20)\d\d-\d\d-\d\d\b")
_VERSION_DATE = re.compile(r"v?\d+(?:\.\d+)+[ \t]*(?:[-–—:,]|\(|[-–] \()[ \t]*(?:19|20)\d\d-\d\d(?:-\d\d)?\)?")
_UNDERLINE = re.compile(r"[=\-~^*#+]{3,}[ \t]*$")
#: An element of a markup or feature file with numbers for arguments: "<anchor 350 -200>".
_ELEMENT_ARGS = re.compile(r"<[A-Za-z][\w\-]*(?:[ \t]+-?\d+)*[ \t]+$")
_NUMBER_ROW = re.compile(r"[ \t]*\d+(?:[ \t]+\d+)+[ \t]*")
_HEX_COLOUR = re.compile(r"[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}")
#: A line that configures a network: a netmask written out or named.
_NETMASK_LINE = re.compile(r"\b255\.(?:255|0)\.\d{1,3}\.\d{1,3}\b|(?i:\bnetmask\b)")
#: A file extension right after a number: a dot, a lower-case name of at most five characters.
_FILE_EXTENSION = re.compile(r"\.[a-z][a-z0-9]{0,4}(?:\.[a-z][a-z0-9]{0,4})*\b")
_VERSION_LIST = re.compile(r"\d{1,3}\.\d{1,3}(?:/\d{1,3}\.\d{1,3})+")
_CIDR = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}")
_PREFIX_LENGTH = re.compile(r"/([0-9]{1,2})(?![0-9])")
_CONSTANT_IPS = frozenset({"255.255.255.255", "255.255.255.0", "255.255.0.0", "255.0.0.0", "0.0.0.0", "::", "::1"})


def _line_of(text: str, start: int) -> tuple[int, int]:
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", start)
    return lo, len(text) if hi < 0 else hi


def not_a_fact(text: str, start: int, end: int, kind: str) -> str | None:
    """Why ``text[start:end]``, read as ``kind``, is no random fact, or None.

    The reasons, in order: "cut" (the value starts or ends inside a token or at a separator),
    "year list", "timestamp", "date", "version", "standard number", "postal code", "code
    constant", "code table", "placeholder", "constant". Dates of birth are dates: only reasons
    other than "date" and "year list" apply to them.
    """
    if kind in STRUCTURAL:
        if kind == "email_address":
            if text[end:end + 1] == "/" and text[end + 1:end + 2].isalnum() \
                    and "@" not in text[end:end + 80].split(None, 1)[0]:
                return "url"  # "user@host/path" is a URL with a user part, not a mailbox ("a@x.org/b@y.org": a list)
            return _email_reason(text, start, end)
        return None
    value = text[start:end]
    before = text[max(0, start - 40):start]
    after = text[end:end + 16]
    if kind == "ip_address":
        return _ip_reason(text, start, end, value, before, after)
    if value[-1] in ",;:-./" or value[0] in ",;:-./" or ("(" in value) != (")" in value):
        return "cut"
    if before[-1:] == "/" and before[-2:-1].isalnum():
        return "cut"  # the tail of a path or of a list of numbers: "nistp256/384/521", "RFCs 4491/4357"
    if before[-1:] == "%":
        return "cut"  # digits a URL escape begins: "%22" + "4817768" of "q=id:%224817768%22"
    if after[:1] == "-" and value[-1:].isalnum() and (after[1:3].isalpha() and after[1:3].islower()
                                                       or re.match(r"-[A-Z]{2,}\b", after)):
        return "cut"  # a piece of a hyphenated name or a vanity number: "02-687531-fix.patch", "-AMD"
    if _OBFUSCATED_AT.match(text, end):
        return "cut"  # the local part of an address written "name at example.org"
    if re.search(r"[A-Za-z]\w*, +[A-Za-z]", value) or re.match(r"(?:19|20)\d\d, ", value):
        return "cut"  # two values read as one: "SHA256, SHA512", "2011, F123"
    if after[:1] == "/" and after[1:2].isalnum() or after[:2] == "-g" and after[2:3].isalnum():
        return "cut"  # a number a path or a git describe goes on from ("10.1007/s00453", "2.24.32-62-g56c6")
    if before[-1:] in ("-", "\u2212") and before[-2:-1] in ("", " ", "(", "=", "\t", "\n", "[", ","):
        return "quantity"  # a signed number: "-700975964"
    if _CIDR.fullmatch(value):
        return "network"  # an address block read as another kind: "192.168.0.0/24"
    if value[-1].isdigit() and after[:1].isascii() and after[:1].isalpha():
        return "cut"  # digits a word or a hex string goes on from: "5-10000pt", "340383" of "340383f5f49f8"
    if value[-1].isdigit() and _FILE_EXTENSION.match(after):
        return "name"  # a file name: "12345678901.gz", "20417.patch"
    if _spaced_letter(value[-1]) and (_spaced_letter(after[:1]) or after[:1] == "." and after[1:2].isalpha()) \
            or _spaced_letter(value[0]) and _spaced_letter(before[-1:]):
        return "cut"  # a value ends inside a word or an abbreviation: "12345 R" of "12345 Rákóczi", "P" of "P.O."
    if before[-1:] == "#" and _HEX_COLOUR.fullmatch(value):
        return "code constant"  # a colour: "#00ff00"
    if before[-1:] == "~":
        return "version"  # "0~20171227-0.1": what follows a tilde is a version
    digits = sum(c.isdigit() for c in value)
    if not digits:
        return None
    groups = [g for g in _GROUPS.split(value) if g]
    if kind != "date_of_birth":
        years = groups[:-1] if len(groups) > 1 and groups[-1].isalpha() and len(groups[-1]) <= 2 else groups
        if years and all(_YEAR.fullmatch(g) or (len(g) <= 2 and g.isdigit() and i) for i, g in enumerate(years)) \
                and _YEAR.fullmatch(years[0]):
            return "year list"  # "2013, 2014, 2017", "1996-1999, 2000-2003", "1984,2000 S" (of "S.L. Moshier")
        if _DECADE_RANGE.fullmatch(value):
            return "year list"  # "2010-202x": a range whose end year is written with a placeholder digit
        if _YEAR_EDITION.fullmatch(value):
            return "version"  # a product's year and its edition: "Server 2012 R2", "2016 SP1"
        if _date_digits(value) or _DAY_YEAR.fullmatch(value) or _QUARTER.fullmatch(value):
            return "date"  # "20200714", "26 2006" of "Oct 26 2006", "13/2019"
    if _ZONE.match(value) or (before[-1:] == ":" and before[-2:-1].isdigit()) or (
            after[:1] == ":" and after[1:2].isdigit() and kind != "ip_address"):
        return "timestamp"
    if "0x" in value[:2].lower():
        return "code constant"
    if ".." in value or after.startswith(("..", "…")) or before.endswith(("..", "…")):
        return "code table"
    if _STANDARD_NAME.search(before[-5:]):
        return "standard number"  # "iso_8859-13.7", "iso-8859-1": a file or charset name carrying a standard
    if _STANDARD_EDITION.fullmatch(value):
        return "standard number"  # a standard's number and the year of its edition: "34.10-2012", "50.1.112-2016"
    if _VERSION_DATE.fullmatch(value) or re.fullmatch(r"v?\d+(?:\.\d+)+", value) and (
            _RELEASE_DATE.match(text, end) or _heading(text, start) or _list_heading(text, start, end)):
        return "version"  # a release heading: "3.36.0 - 2020-03-08", "2.50.5" underlined by "====="
    if _ELEMENT_ARGS.search(before) or re.fullmatch(r"\d{1,4}[ \t]+-\d{1,4}", value):
        return "code table"  # coordinates: "<anchor 350 -200>", "<anchor 625 1800>", "350 -200"
    if _number_rows(text, start, end, value):
        return "code table"  # a row of a table of numbers, or two numbers of a longer row
    # a cue word that also names an identifier format, followed by that format's shape: a Mexican
    # RFC has letters ("RFC - ABC680524P76"), an EC number is written 200-001-8
    cue = before.rstrip().rstrip("-\u2013:./").rstrip()
    named = cue.endswith("RFC") and not value[0].isdigit() or cue.endswith("EC") and _EC_NUMBER.fullmatch(value)
    if not named and _STANDARD_CUE.search(before[-14:]) or _STANDARD_VALUE.match(value):
        return "standard number"
    if _PARAGRAPH.fullmatch(value) and (_STANDARD_CUE.search(before[-14:]) or re.search(
            r"(?:C\.F\.R\.|DFARS?|FAR)\s[\d.\-]+\s(?:through|to|and|or)\s$", before)):
        return "standard number"  # "48 C.F.R. 227.7202-1 through 227.7202-4"
    if _in_header_version(text, start, end):
        return "version"
    if "~" in value or _PLUS_VERSION.search(value) or after[:1] in ("~", "+") and after[1:2].isalnum():
        return "version"
    if _VERSION_CUE.search(before[-24:]) and re.fullmatch(r"\d+(?:[.\-]\d+)+(?:-\d+)?", value) \
            and value.count(".") >= 1 and not value.startswith("+"):
        return "version"
    if _VERSION_LIST.fullmatch(value):
        return "version"  # versions joined by slashes: "2.32/2.33/2.34"
    if value.isascii() and value.isdigit() and 5 <= len(value) <= 20 and _power_of_two(int(value)):
        return "code constant"  # 2^n or 2^n - 1: "4294967295", "2147483647", "65536"
    if kind != "phone_number" and value.isascii() and value.isdigit() and len(value) >= 6:
        # (a phone's own plan says whether it exists: freephone and switchboard numbers end in zeros)
        if value in _DIGITS_IN_ORDER or value in _DIGITS_IN_ORDER[::-1]:
            return "placeholder"  # the digits in order, up or down: "3456789012", "6543210987"
        if len(value) - len(value.rstrip("0")) >= 5 and value.rstrip("0"):
            return "quantity"  # a round number: "1500000000" (an identifier ends in 00000 once in 10^5)
    if _DOTTED.fullmatch(value) and not all(len(g) == 2 for g in value.split(".")) \
            and not all(len(g) == 3 for g in value.split(".")[1:]):
        return "version"  # dotted small groups: versions, sections, OIDs ("52.227.19", "2.5.4.3")
    if kind == "generic_id" and "-" in value and re.search(r"[a-z]{2}", value):
        return "name"  # package, option and region names: "at-spi2-atk", "us-east-1", "no-tr64"
    if _DECIMALS.fullmatch(value) or after[:1] == "*" or before[-1:] == "*":
        return "quantity"  # "0.9583 0.8563", "108013.434", a coefficient "2024910556*x3"
    if len(value) >= 7 and set(value) <= {"0", "1", " "}:
        return "code constant"  # a bit vector: "1 0 0 0 0 0 1 1 1"
    if before[-1:] == "[" and after[:1] == "]" and "-" in value:
        return "code table"  # a regular expression's character class: "[0-25689]"
    if re.fullmatch(r"\d{5}(?:-\d{4})?", value) and _STATE.search(before[-16:]):
        return "postal code"
    if re.fullmatch(r"\d{5}-\d{4}", value):
        return "postal code"  # ZIP+4: five digits, a hyphen, four
    if _table(text, start, end, value, before, after):
        return "code table"
    if _DOC_PLACEHOLDER.search(before[-28:]) or _in_doctest(text, start) or _NUMBERS_LIKE.search(before[-28:]):
        return "placeholder"
    if _fraction(value, after):
        return "quantity"
    if _house_number(value, before, text[end:end + 60]):
        return "address"
    if re.fullmatch(r"[0-9]+, +[0-9]+", value):
        return "cut"  # two numbers and a comma are two values: "randrange(1000, 99999)", "Phys. 81, 031207"
    return None


#: What a "name@domain" written as a protocol's name (SSH names its extensions, algorithms and
#: methods so, RFC 4251 6.): that word right after it (one word between when the name is quoted:
#: '"x@y.org" sftp-server extension'), or before it (two words between at most) with the name quoted.
_PROTOCOL_AFTER = re.compile(r"(?:[\"'`][ \t]+[\w\-]+[ \t]+|[\"'`)]?[ \t]+)(?:protocol[ \t]+)?"
                             r"(?i:extensions?|methods?|algorithms?|ciphers?|kex|key exchange|key types?|hybrid)\b")
_PROTOCOL_BEFORE = re.compile(r"(?i:\b(?:extensions?|methods?|algorithms?|ciphers?|kex))"
                              r"[ \t]+(?:\w+[ \t]+){0,2}[(\"'`]{1,2}$")


_LAST_TOKEN = re.compile(r"\S*\Z")


def _email_reason(text: str, start: int, end: int) -> str | None:
    """"url" for the user and password of a URL ("http://user:secret@proxy.net/"), "name" for a
    protocol's name written like an address ("the limits@example.net extension")."""
    token = _LAST_TOKEN.search(text[max(0, start - 200):start]).group()
    if "://" in token and "/" not in token.rsplit("://", 1)[1]:
        return "url"  # before the host: "http://user:secret@", "cvs://:pserver:anon@"
    if _PROTOCOL_AFTER.match(text[end:end + 40]) or _PROTOCOL_BEFORE.search(text[max(0, start - 48):start]):
        return "name"
    return None


_DOCTEST_PROMPT = re.compile(r"^[ \t]*(?:>>>|\.\.\.)(?: |$)")


def _in_doctest(text: str, start: int) -> bool:
    """On a doctest's prompt line or among the output lines after it (up to a blank line): an
    example value of a docstring, not a fact."""
    lo = text.rfind("\n", 0, start) + 1
    for _ in range(12):
        hi = text.find("\n", lo)
        line = text[lo:hi if hi >= 0 else len(text)]
        if not line.strip():
            return False  # a blank line ends an example
        if _DOCTEST_PROMPT.match(line):
            return True
        if lo == 0:
            return False
        lo = text.rfind("\n", 0, lo - 1) + 1
    return False


_STATED = re.compile(r"\s*(?:is |are |equals |=|≈|~)\s*(?:about |approximately |roughly |around |nearly )?"
                     r"(-?\d+(?:\.\d+)?)")


def _fraction(value: str, after: str) -> bool:
    """A ratio followed by its own quotient ("p/q is about 7.13"): arithmetic, not an identifier."""
    m = re.fullmatch(r"(\d{1,9})/(\d{1,9})", value)
    if m is None or int(m.group(2)) == 0:
        return False
    q = _STATED.match(after + " " * 8)
    if q is None:
        return False
    stated = float(q.group(1))
    actual = int(m.group(1)) / int(m.group(2))
    return abs(stated - actual) <= max(0.01, 0.01 * abs(actual))


#: Street types of the languages the phone words cover, as words ("Main Street", "Rue de la Gare",
#: "Via Roma") and as the endings of compounds ("Skovvej", "Storgata", "Hauptstraße", "Dorpsweg").
_STREET_WORD = re.compile(
    r"(?i:\b(?:street|st|avenue|ave|av|road|rd|lane|ln|drive|dr|close|place|pl|square|sq|way|boulevard|blvd|"
    r"court|ct|terrace|crescent|parkway|pkwy|highway|hwy|alley|row|walk|rue|chemin|allée|calle|carrer|avenida|"
    r"rua|travessa|via|viale|piazza|corso|straße|strasse|gasse|platz|allee|weg|laan|straat|plein|gracht|"
    r"vej|veien|vegen|gata|gatan|gade|katu|út|utca|ulica|ul|odos|οδός|"
    # a street name, then a unit of the building: "Maple Grove Suite 310"
    r"suite|apt|apartment|unit|flat)\b\.?"
    r"|\w(?:straße|strasse|gasse|weg|vej|veien|vegen|gata|gatan|gade|katu|laan|straat|plein)\b)")
_UNIT_BEFORE = re.compile(r"(?i:\b(?:apt|apartment|suite|ste|unit|flat|room|rm|floor|box|no|nr|house|bldg|"
                          r"building)\.?\s?#?\s?)$")


def _house_number(value: str, before: str, after: str) -> bool:
    """House, flat and suite numbers of a postal address: digits right before a street name ("4217
    Larkspur Close", "12 Rue de la Gare") or after a unit word ("Apt. 212", "Suite 118")."""
    if _UNIT_BEFORE.search(before[-12:]) and re.fullmatch(r"\d{1,6}(?:,? \d{1,6})?", value):
        return True  # "Suite 118", "P.O. Box 94079, 1090" (a box number, then a postal code)
    if not re.fullmatch(r"\d{1,6}(?: \d{1,6})?", value):
        return False
    line = after.split("\n", 1)[0]
    # up to four words of a street name, then its type: "Archwood Avenue", "St. John Street"
    words = line.split()[:5]
    if not words or not words[0][:1].isalpha():
        return False
    return _STREET_WORD.search(" ".join(words)) is not None


def _spaced_letter(c: str) -> bool:
    """A letter of a script that writes spaces between words (CJK runs words into numbers)."""
    return c.isalpha() and c < "\u2e80"


def _date_digits(value: str) -> bool:
    """YYYYMMDD, YYYYMMDDhhmm(ss), DDMMYYYY or YYYYMM of a plausible date: snapshot and build stamps."""
    if not value.isdigit() or len(value) not in (6, 8, 12, 14):
        return False
    if len(value) == 6:
        return 1970 <= int(value[:4]) <= 2039 and 1 <= int(value[4:]) <= 12
    y, m, d = int(value[:4]), int(value[4:6]), int(value[6:8])
    if not (1970 <= y <= 2039 and 1 <= m <= 12 and 1 <= d <= 31):
        if len(value) == 8:  # DDMMYYYY
            d, m, y = int(value[:2]), int(value[2:4]), int(value[4:])
            return 1900 <= y <= 2039 and 1 <= m <= 12 and 1 <= d <= 31
        return False
    if len(value) >= 12 and not (int(value[8:10]) < 24 and int(value[10:12]) < 60):
        return False
    return True


def _in_header_version(text: str, start: int, end: int) -> bool:
    """Inside the version of a Debian changelog header: "pkg (1.2.5.1-1) unstable; urgency=..."."""
    lo, hi = _line_of(text, start)
    if hi - lo > 200 or "urgency=" not in text[lo:hi]:
        return False
    m = _HEADER.match(text, lo)
    return m is not None and m.start(1) - 1 <= start and end <= m.end(1) + 1


def _ip_reason(text: str, start: int, end: int, value: str, before: str, after: str) -> str | None:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if value in _CONSTANT_IPS or ip.is_loopback or ip.is_unspecified or value.startswith("255.255."):
        return "constant"
    b, a = before[-1:], after[:1]
    if b.isascii() and b.isalnum() or b in (":", "/", ".", "@") or a.isascii() and a.isalpha() or a == ":":
        return "cut"  # "APT::Hashes::RIPE-MD/160::Weak"
    prefix = _PREFIX_LENGTH.match(after)
    if prefix is not None and ip.version == 4 and int(prefix.group(1)) <= 32 \
            and int(ip) & ((1 << (32 - int(prefix.group(1)))) - 1) == 0:
        return "network"  # a block, not a host: "192.168.0.0/24", "10.0.0.0/8" (its host bits are zero)
    if ip.version == 6:
        if before.rstrip().endswith((",", "[", "(")) and after[:1] in ("]", ",", ")") and len(value) <= 8:
            return "code table"  # a slice: "out[:, 0::2]"
        return "placeholder" if ip in ipaddress.ip_network("2001:db8::/32") else None
    octets = value.split(".")
    if octets[0] == "0":
        return "version"
    if after[:1] == "-" and after[1:2].isdigit() or after[:1] in ("~", "+"):
        return "version"  # "1.8.1.2-1": a Debian revision follows
    if _in_header_version(text, start, end) or _VERSION_CUE.search(before[-24:]):
        return "version"  # "Upgraded to policy 3.5.5.0"
    if _RELEASE_DATE.match(text, end) or (_heading(text, start) or _list_heading(text, start, end)) \
            and not _IP_WORDS.search(text[slice(*_line_of(text, start))]):
        return "version"  # a release heading: "3.7.91.1 - 2013-03-05", "2.30.1.2" underlined
    if ip.is_private and _NETMASK_LINE.search(text[slice(*_line_of(text, start))]):
        return "placeholder"  # a LAN address of a configuration line ("inet 10.8.0.1 netmask 255.255.255.0")
    tail = [int(o) for o in octets[1:]]
    if len(set(tail)) == 1 and tail[0] <= 9 or all(b - a == 1 for a, b in zip([int(octets[0]), *tail], tail)):
        return "placeholder"  # octets nobody assigns a host: "10.1.1.1", "1.2.3.4"
    if all(len(o) == 1 for o in octets) and not _IP_WORDS.search(before[-40:] + " " + after):
        return "version"  # "Linux 2.6.8.1", "SP800-38D 5.2.1.1": single-digit groups and no address word
    if _STANDARD_CUE.search(before[-14:]) or re.search(r"(?i:\boids?\b|commonname|\boid\W)", before[-24:]):
        return "standard number"
    return None


def _power_of_two(n: int) -> bool:
    """2^n or 2^n - 1: limits and masks of code, not identifiers."""
    return n & (n - 1) == 0 or n & (n + 1) == 0


#: A line that starts an item of a list: "  - fixed a crash", "* new icons".
_BULLET_LINE = re.compile(r"[ \t]*[-*+\u2022][ \t]+\S")


def _list_heading(text: str, start: int, end: int) -> bool:
    """The value alone on its line, and the next line starts a list: a release heading of notes
    ("3.23.91.1" over "  - new icons")."""
    lo, hi = _line_of(text, start)
    if text[lo:hi].strip() != text[start:end] or hi >= len(text):
        return False
    nlo, nhi = _line_of(text, hi + 1)
    return _BULLET_LINE.match(text, nlo, nhi) is not None


def _heading(text: str, start: int) -> bool:
    """The value's line is underlined ("2.50.5" over "======"): a section heading of release notes."""
    lo, hi = _line_of(text, start)
    if hi - lo > 80 or hi >= len(text):
        return False
    nlo, nhi = _line_of(text, hi + 1)
    return _UNDERLINE.match(text, nlo, nhi) is not None and nhi > nlo


def _number_rows(text: str, start: int, end: int, value: str) -> bool:
    """A value on a line made only of numbers, in a block of such lines with as many numbers each
    (an octal code table: "041 117 132" over "133 112 255"), or that joins some numbers of a longer
    such line ("776306 775808" of a line of ten bug numbers): a table or a list, not one value."""
    if not re.fullmatch(r"\d+(?:[ \t]+\d+)+", value):
        return False
    lo, hi = _line_of(text, start)
    if _NUMBER_ROW.fullmatch(text, lo, hi) is None:
        return False
    n = len(text[lo:hi].split())
    if n > len(value.split()):
        return True
    if max(len(g) for g in value.split()) > 4:
        return False
    rows = 1
    for step in (-1, 1):  # neighbouring rows with the same number of numbers
        a, b = lo, hi
        for _ in range(2):
            if step < 0:
                if a == 0:
                    break
                a, b = _line_of(text, a - 1)
            else:
                if b >= len(text):
                    break
                a, b = _line_of(text, b + 1)
            if _NUMBER_ROW.fullmatch(text, a, b) is None or len(text[a:b].split()) != n:
                break
            rows += 1
    return rows >= 3


_LIST_ITEM = re.compile(r"\d+")


def _table(text: str, start: int, end: int, value: str, before: str, after: str) -> bool:
    """A value of a list of small numbers: array literals, tuples, ranges of code points."""
    if ", " in value or "," in value:
        items = [g for g in re.split(r",\s*", value) if g]
        if len(items) >= 2 and all(g.isdigit() and len(g) <= 4 for g in items):
            return True
        if len(items) >= 3 and all(g.isdigit() for g in items):
            return True  # "time(16, 37, 0, 900000)": arguments, not a grouped identifier
        if len(items) >= 2 and all(re.fullmatch(r"\d+\.?\d*", g) for g in items) and any("." in g for g in items):
            return True  # coordinates and coefficients: "461.5, 590", "10, 11, 0.25"
    # a number among others in brackets: "[11,12,13]", "(175, 215, 255)"
    b = before.rstrip()
    a = after.lstrip()
    if b.endswith(("[", "(", ",")) and a[:1] in (",", "]", ")") and len(value) <= 4:
        return True
    return False


# ---- engines ---------------------------------------------------------------------------------------
# The rules above are the reference implementation. The native core (factsep._native, built from
# native/src/numerals.rs) runs the same rules, held to them by tests/test_native_numerals.py;
# ``FACTSEP_NUMERALS_ENGINE=python`` (or no extension) keeps the rules above in use. The core names
# the digest of the rules it was ported from (``NUMERALS_RULES``): when the rules above change and
# the port has not followed, the digests differ and the rules above are used, so the two never drift.

references_python = references
not_a_fact_python = not_a_fact


def rules_digest() -> str:
    """The digest of this module's rules: its text above the engines section."""
    source = Path(__file__).read_text(encoding="utf-8")
    return hashlib.sha256(source.split("\n# ---- engines -", 1)[0].encode("utf-8")).hexdigest()[:16]


def _load_native() -> Any | None:
    if os.environ.get("FACTSEP_NUMERALS_ENGINE", "auto") == "python":
        return None
    try:
        from factsep import _native
    except ImportError:
        return None
    if not (hasattr(_native, "numeral_references") and hasattr(_native, "numeral_text")):
        return None
    return _native if getattr(_native, "NUMERALS_RULES", None) == rules_digest() else None


_NATIVE: Any | None = _load_native()
_CODES: tuple[tuple[str, str, str], ...] = tuple(_NATIVE.REFERENCE_CODES) if _NATIVE is not None else ()
_REASONS: tuple[str, ...] = tuple(_NATIVE.NUMERAL_REASONS) if _NATIVE is not None else ()
#: (text, the core's view of it) of the last document not_a_fact read: one tuple, swapped whole
_LAST: tuple[str | None, Any] = (None, None)


def engine() -> str:
    """``native`` when the core reads numbers, else ``python``."""
    return "native" if _NATIVE is not None else "python"


def set_engine(name: str) -> None:
    """Switch engines in this process (``native`` or ``python``), for A/B runs and tests."""
    global _NATIVE, _CODES, _REASONS
    if name not in ("native", "python"):
        raise ValueError(f"unknown numerals engine {name!r}: use native or python")
    if name == "python":
        _NATIVE = None
        return
    previous = os.environ.pop("FACTSEP_NUMERALS_ENGINE", None)
    try:
        _NATIVE = _load_native()
    finally:
        if previous is not None:
            os.environ["FACTSEP_NUMERALS_ENGINE"] = previous
    if _NATIVE is None:
        raise RuntimeError("the native numerals engine needs factsep._native built from native/, ported from "
                           f"these rules (digest {rules_digest()})")
    _CODES = tuple(_NATIVE.REFERENCE_CODES)
    _REASONS = tuple(_NATIVE.NUMERAL_REASONS)


def references(text: str) -> list[Reference]:  # noqa: F811 - the engine switch over the reference above
    """Every reference number and commit id of a document, found by its cue (the core's, when built)."""
    if _NATIVE is not None:
        found = _NATIVE.numeral_references(text)
        if found is not None:
            codes = _CODES
            return [Reference(s, e, *codes[c], text[s:e]) for s, e, c in found]
    return references_python(text)


def not_a_fact(text: str, start: int, end: int, kind: str) -> str | None:  # noqa: F811 - the engine switch
    """Why ``text[start:end]``, read as ``kind``, is no random fact, or None (the core's answer, when
    built; what it does not mirror, such as IPv6 values, it hands to the rules above)."""
    global _LAST
    if _NATIVE is not None:
        last = _LAST
        if last[0] is not text:
            last = _LAST = (text, _NATIVE.numeral_text(text))
        doc = last[1]
        if doc is not None:
            r = doc.not_a_fact(start, end, kind)
            if r >= 0:
                return _REASONS[r]
            if r == -1:
                return None
    return not_a_fact_python(text, start, end, kind)
