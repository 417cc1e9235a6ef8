"""Stage one: one compiled pass over a whole batch finds candidate regions.

Every kind's pattern is joined into one alternation and compiled with RE2 in leftmost-longest
mode, which runs in linear time on any input (a megabyte of digits, a line with no spaces). The
batch is joined into one UTF-8 buffer with NUL separators (no pattern matches NUL), scanned once,
and match offsets are mapped back to (document, code point offset). Python's ``re`` is the
fallback engine; bench/speed.py measures both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from factsep.kinds.base import Kind

try:  # google-re2
    import re2 as _re2
except ImportError:  # pragma: no cover - re2 is a declared dependency
    _re2 = None

SEPARATOR = "\x00"


@dataclass(frozen=True, slots=True)
class Candidate:
    doc: int
    start: int
    end: int
    text: str


def union_pattern(kinds: Iterable[Kind]) -> str:
    seen: list[str] = []
    for kind in kinds:
        if kind.pattern not in seen:
            seen.append(kind.pattern)
    return "|".join(f"(?:{p})" for p in seen)


class CandidateEngine:
    """Finds candidate spans for a set of kinds; ``engine`` is "re2", "re" or "auto"."""

    def __init__(self, kinds: Sequence[Kind], engine: str = "auto", max_chars: int = 128) -> None:
        self.pattern = union_pattern(kinds)
        self.max_chars = max_chars
        if engine == "auto":
            engine = "re2" if _re2 is not None else "re"
        self.engine = engine
        if engine == "re2":
            if _re2 is None:
                raise RuntimeError("engine 're2' needs the google-re2 package: pip install google-re2")
            options = _re2.Options()
            options.longest_match = True
            options.max_mem = 256 << 20
            self._rx = _re2.compile(self.pattern.encode(), options)
        else:
            self._rx = re.compile(self.pattern.encode(), re.ASCII)

    def find(self, texts: Sequence[str]) -> list[Candidate]:
        """All candidates of a batch, in document order then offset order."""
        if not texts:
            return []
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        buffer = b"\x00".join(encoded)
        starts: list[int] = []
        pos = 0
        for e in encoded:
            starts.append(pos)
            pos += len(e) + 1
        out: list[Candidate] = []
        doc = 0
        n_docs = len(texts)
        mapper: _OffsetMapper | None = None
        for m in self._rx.finditer(buffer):
            b0, b1 = m.span()
            while doc + 1 < n_docs and b0 >= starts[doc + 1]:
                doc += 1
                mapper = None
            if b1 - b0 > self.max_chars * 4:
                continue
            base = starts[doc]
            text = texts[doc]
            if len(text) == len(encoded[doc]):  # ASCII: byte offsets are code point offsets
                s, e = b0 - base, b1 - base
            else:
                if mapper is None:
                    mapper = _OffsetMapper(encoded[doc])
                s, e = mapper.to_char(b0 - base), mapper.to_char(b1 - base)
            if e - s > self.max_chars:
                continue
            out.append(Candidate(doc, s, e, text[s:e]))
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
