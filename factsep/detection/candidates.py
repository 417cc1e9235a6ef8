"""Stage one: one compiled pass over a whole batch finds candidate regions.

The pass runs a small *cover* pattern, not the union of every kind's pattern: a union of twenty
detailed patterns makes RE2's DFA run out of memory and fall back to its slow NFA (measured at a
tenth of the cover's speed). The cover finds the regions any kind could match in: runs of
digit-bearing tokens (joined across single separators, so "+44 20 7946 0958" and
"DE89 3704 0044 0532 0130 00" stay whole, with an optional capital prefix such as "DE " or "SSN "),
e-mail addresses, dates written with a month name of the languages in ``factsep/kinds/months.py`` or
with CJK or Korean year-month-day units (1987年3月14日), and codes of capitals (BIC, ISIL, WKN). Each
kind's own pattern then locates its value inside a candidate (stage two, in the detector).
``tests/test_detect.py`` checks that every kind's example lies inside a candidate.

RE2 (leftmost-longest) runs in linear time on any input; every prefix of a cover match is a match,
so a long run of number-like text is one long candidate, cut into windows, never rescanned. The
batch is joined into one UTF-8 buffer with NUL separators (nothing matches NUL), scanned once, and
offsets are mapped back to (document, code point offset). Python's ``re`` is the fallback engine.

The native engine (``factsep._native``, the Rust crate in ``native/``) runs the same cover pattern
over the whole batch with the GIL released, leftmost-longest like RE2, on all cores, and hands back
int32 buffers; ``engine="auto"`` picks it when the extension is built and RE2 otherwise (a worktree
run on ``PYTHONPATH`` without a build). RE2 stays the reference: ``tests/test_native.py`` holds the
two to identical (doc, start, end) on the evaluation sets, the samples and real text.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from factsep.kinds.base import DASHES, ID_SUFFIXES, Kind
from factsep.kinds.months import month_alternation

try:  # google-re2
    import re2 as _re2
except ImportError:  # pragma: no cover - re2 is a declared dependency
    _re2 = None

try:  # the Rust core, built by maturin (pip install -e .)
    from factsep import _native
except ImportError:  # not built: RE2 does the pass
    _native = None

#: The engines CandidateEngine accepts; "auto" is native when built, else re2, else re.
ENGINES = ("auto", "native", "re2", "re")

#: Bytes scanned per call to RE2 (see CandidateEngine.find).
SLICE = 16_384

_TOKEN = r"[A-Za-z0-9_%+\-./:()#&{}@~=]"
# Before its first digit a token may hold only a bounded run: an unbounded one would stay alive
# over a long digit-free run and make every later match rescan it (quadratic time).
_LEAD = r"[A-Za-z_%+\-./:()#&{}@~=]"
# "-" or a Unicode dash, as one alternation: the pattern runs over UTF-8 bytes, where a character
# class would take a dash's bytes one by one
_DASH = "(?:" + "|".join(["-", *DASHES]) + ")"
# month names and abbreviations of every language in factsep/kinds/months.py, as literals
_MONTH = month_alternation()
# a day: "14", "14th", "1er", "14." (German, Dutch, Nordic)
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|\.)?"
COVER_PATTERN = "|".join([
    # digit-bearing tokens, chained over one space, comma or slash when the next starts with a digit,
    # a +, a (, a short capital prefix ("GB82 WEST 1234", "0157 -23456719", "Tel: 030 1234") or a
    # phone extension ("0161 496 0732 ext. 123")
    rf"(?:\b[A-Z]{{1,5}}(?:[:#.]? ?| ?{_DASH} ?))?[+(]?{_LEAD}{{0,24}}\d{_TOKEN}*"
    rf"(?:(?: ?[,/]? |, ?| ?{_DASH} ?)[\-+(]?(?:[A-Z]{{1,4}} |ext\.? |x )?{_LEAD}{{0,12}}\d{_TOKEN}*)*"
    # ... and a check letter (not the words "A" and "I") or a VAT suffix after the last ("K 25391104 M",
    # "974 760 673 MVA")
    rf"(?: (?:[B-HJ-Z]|{'|'.join(ID_SUFFIXES)})\b)?",
    # dates with a month name: 14 March 1987, 14. März 1987, 14 de marzo de 1987, March 14th, 1987;
    # after a short capital label ("DOB 5 April 2000"), which the digit tokens would otherwise take
    rf"(?:\b[A-Z]{{1,5}}[:#.]? ?)?\b{_DAY} (?:de )?{_MONTH},? (?:de )?\d{{4}}",
    rf"\b{_MONTH} {_DAY},? \d{{4}}",
    # year-month-day with the CJK and Korean unit characters: 1987年3月14日, 1987년 3월 14일
    r"\b\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日",
    r"\b\d{4} ?년 ?\d{1,2} ?월 ?\d{1,2} ?일",
    # e-mail addresses without digits, from the first character of the local part (".abc@x.com" is
    # no address, and must not be read as "abc@x.com")
    r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,6}",
    # codes of capitals without digits: BIC, WKN, ISIL (GB-UkLoBS), hex pairs of MAC addresses
    r"\b[A-Z]{6}[A-Z0-9]{0,5}\b",
    r"\b[A-Z]{1,4}-[A-Za-z0-9:/\-]{1,16}",
    r"\b[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}\b",
    # GUIDs as SQL binary literals, quotes and all: X'c838f165-b97e-...'
    r"\b[xX]'[0-9A-Fa-f\-]{32,36}'",
])


#: (document index, byte offset in it, bytes, the document's bytes when it is not ASCII)
_Piece = tuple[int, int, bytes, "bytes | None"]


@dataclass(frozen=True, slots=True)
class Candidate:
    doc: int
    start: int
    end: int
    text: str


def union_pattern(kinds: Iterable[Kind]) -> str:
    """All kinds' patterns as one alternation (what the cover replaces; kept for comparison)."""
    seen: list[str] = []
    for kind in kinds:
        if kind.pattern not in seen:
            seen.append(kind.pattern)
    return "|".join(f"(?:{p})" for p in seen)


class CandidateEngine:
    """Finds candidate spans for a set of kinds; ``engine`` is one of ``ENGINES``."""

    def __init__(self, kinds: Sequence[Kind], engine: str = "auto", max_chars: int = 128,
                 pattern: str | None = None, threads: int = 0) -> None:
        self.pattern = pattern or COVER_PATTERN
        self.max_chars = max_chars
        self.threads = threads  # native engine: 0 = one thread per core
        if engine not in ENGINES:
            raise ValueError(f"candidate engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        if engine == "auto":
            engine = "native" if _native is not None else "re2" if _re2 is not None else "re"
        self.engine = engine
        if engine == "native":
            if _native is None:
                raise RuntimeError("engine 'native' needs the compiled extension factsep._native: "
                                   "pip install -e . (builds native/ with maturin)")
            self._native = _native.CoverScanner(self.pattern, SLICE, max_chars)
        elif engine == "re2":
            if _re2 is None:
                raise RuntimeError("engine 're2' needs the google-re2 package: pip install google-re2")
            options = _re2.Options()
            options.longest_match = True
            options.max_mem = 256 << 20
            self._rx = _re2.compile(self.pattern.encode(), options)
        else:
            self._rx = re.compile(self.pattern.encode(), re.ASCII)

    def find(self, texts: Sequence[str]) -> list[Candidate]:
        """All candidates of a batch, in document order then offset order.

        Documents are joined into NUL-separated buffers of about ``SLICE`` bytes and a longer
        document is cut at a line break or space: the google-re2 binding's cost per match grows
        with the text after it, so one giant buffer would make the pass quadratic. The native
        engine cuts documents at the same places, so both give the same candidates.
        """
        if self.engine == "native":
            docs, starts, ends = self.find_offsets(texts)
            return [Candidate(d, s, e, texts[d][s:e]) for d, s, e in zip(docs, starts, ends)]
        out: list[Candidate] = []
        pieces: list[_Piece] = []
        size = 0
        for doc, text in enumerate(texts):
            data = text.encode("utf-8", "surrogatepass")
            whole = None if len(data) == len(text) else data  # ASCII: bytes are code points
            for offset, chunk in _slices(data, SLICE):
                pieces.append((doc, offset, chunk, whole))
                size += len(chunk) + 1
                if size >= SLICE:
                    self._scan(pieces, texts, out)
                    pieces, size = [], 0
        if pieces:
            self._scan(pieces, texts, out)
        return out

    def find_offsets(self, texts: Sequence[str]) -> tuple[memoryview, memoryview, memoryview]:
        """(doc, start, end) of every candidate as int32 memoryviews, without an object per candidate.

        ``pyarrow.Array.from_buffers(pa.int32(), len(v), [None, pa.py_buffer(v)])`` wraps each one.
        Engines other than native build them from ``find``.
        """
        if self.engine == "native":
            doc, start, end, _ = self._native.scan(texts, self.threads)
            return memoryview(doc).cast("i"), memoryview(start).cast("i"), memoryview(end).cast("i")
        found = self.find(texts)
        cols = [array("i", (getattr(c, f) for c in found)) for f in ("doc", "start", "end")]
        return memoryview(cols[0]), memoryview(cols[1]), memoryview(cols[2])

    def _scan(self, pieces: list[_Piece], texts: Sequence[str], out: list[Candidate]) -> None:
        buffer = b"\x00".join(piece[2] for piece in pieces)
        starts: list[int] = []
        pos = 0
        for piece in pieces:
            starts.append(pos)
            pos += len(piece[2]) + 1
        i = 0
        mapper: _OffsetMapper | None = None
        mapper_doc = -1
        for m in self._rx.finditer(buffer):
            b0, b1 = m.span()
            while i + 1 < len(pieces) and b0 >= starts[i + 1]:
                i += 1
            doc, offset, _, whole = pieces[i]
            text = texts[doc]
            lo, hi = b0 - starts[i] + offset, b1 - starts[i] + offset
            if whole is None:
                s, e = lo, hi
            else:
                if mapper_doc != doc:
                    mapper, mapper_doc = _OffsetMapper(whole), doc
                assert mapper is not None
                s, e = mapper.to_char(lo), mapper.to_char(hi)
            if e - s > self.max_chars:
                out.extend(_windows(doc, text, s, e, self.max_chars))
            else:
                out.append(Candidate(doc, s, e, text[s:e]))


def _slices(data: bytes, size: int) -> list[tuple[int, bytes]]:
    """A document's bytes in pieces of about ``size``, cut after a newline or a space."""
    if len(data) <= size:
        return [(0, data)]
    out = []
    pos = 0
    while pos < len(data):
        end = min(pos + size, len(data))
        if end < len(data):
            cut = data.rfind(b"\n", pos + size // 2, end)
            if cut < 0:
                cut = data.rfind(b" ", pos + size // 2, end)
            if cut >= 0:
                end = cut + 1
        out.append((pos, data[pos:end]))
        pos = end
    return out


class _OffsetMapper:
    """Byte offset -> code point offset in one UTF-8 document, for increasing offsets."""

    __slots__ = ("data", "byte_pos", "char_pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.byte_pos = 0
        self.char_pos = 0

    def to_char(self, byte_offset: int) -> int:
        if byte_offset < self.byte_pos:
            self.byte_pos = 0
            self.char_pos = 0
        # Matches start and end on ASCII bytes, so every chunk decodes whole.
        self.char_pos += len(self.data[self.byte_pos:byte_offset].decode("utf-8", "surrogatepass"))
        self.byte_pos = byte_offset
        return self.char_pos


_BREAK = re.compile(r"[ ,/]")


def _windows(doc: int, text: str, start: int, end: int, size: int) -> list[Candidate]:
    """A long run cut into pieces of at most ``size`` characters at spaces, commas or slashes."""
    out: list[Candidate] = []
    s = start
    while s < end:
        e = min(s + size, end)
        if e < end:
            cut = max((m.start() for m in _BREAK.finditer(text, s + 1, e)), default=None)
            if cut is not None:
                e = cut
        out.append(Candidate(doc, s, e, text[s:e]))
        s = e
        while s < end and text[s] in " ,/":
            s += 1
    return out
