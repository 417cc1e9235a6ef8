"""Placing an annotator's region on the document, or refusing to.

Label Studio reports a region as ``start``/``end`` plus the ``text`` it covered. Depending on the
browser path, offsets may count code points (Python's ``str`` indices, what factsep sends),
UTF-16 code units (JavaScript strings: an emoji counts twice) or a text whose CRLF became LF. We
accept a placement only when the document slice equals ``value.text`` exactly; otherwise the
region goes to quarantine. Nothing is placed by guesswork: a text search is used only when the
text occurs exactly once in the task window.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    start: int
    end: int
    method: str


class Unplaceable(ValueError):
    """The region's offsets and text do not agree with the document; ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def utf16_to_codepoint(text: str) -> list[int]:
    """index in UTF-16 code units -> code point index; -1 inside a surrogate pair."""
    table: list[int] = []
    for i, ch in enumerate(text):
        table.append(i)
        if ord(ch) > 0xFFFF:
            table.append(-1)
    table.append(len(text))
    return table


def crlf_to_original(text: str) -> list[int]:
    """index in ``text.replace('\\r\\n', '\\n')`` -> index in ``text``."""
    table: list[int] = []
    i = 0
    while i < len(text):
        table.append(i)
        i += 2 if text.startswith("\r\n", i) else 1
    table.append(len(text))
    return table


def _try(text: str, s: int, e: int, value: str) -> bool:
    return 0 <= s <= e <= len(text) and text[s:e] == value


def place(window: str, start: int | None, end: int | None, value: str | None) -> Placement:
    """Where a region lies in ``window`` (code points), or :class:`Unplaceable`."""
    if value is None or value == "":
        raise Unplaceable("region has no text to check against the document")
    if start is not None and end is not None:
        s, e = int(start), int(end)
        found: dict[tuple[int, int], str] = {}
        if _try(window, s, e, value):
            found.setdefault((s, e), "codepoint")
        u16 = utf16_to_codepoint(window)
        if 0 <= s <= e < len(u16) and u16[s] >= 0 and u16[e] >= 0 and _try(window, u16[s], u16[e], value):
            found.setdefault((u16[s], u16[e]), "utf16")
        if "\r\n" in window:
            lf = crlf_to_original(window)
            for v in {value, value.replace("\r\n", "\n").replace("\n", "\r\n")}:
                if 0 <= s <= e < len(lf) and _try(window, lf[s], lf[e], v):
                    found.setdefault((lf[s], lf[e]), "crlf")
        if len(found) == 1:
            (ps, pe), method = next(iter(found.items()))
            return Placement(ps, pe, method)
        if len(found) > 1:
            raise Unplaceable(
                f"offsets fit the text at {len(found)} places depending on how characters are counted"
            )
    hits = _find_all(window, value)
    if len(hits) == 1:
        return Placement(hits[0], hits[0] + len(value), "search")
    if not hits:
        if unicodedata.normalize("NFC", value) in unicodedata.normalize("NFC", window):
            raise Unplaceable("region text matches the document only after Unicode normalization")
        raise Unplaceable("region text does not occur in the document window")
    raise Unplaceable(f"offsets disagree with the text, which occurs {len(hits)} times in the window")


def _find_all(haystack: str, needle: str) -> list[int]:
    hits: list[int] = []
    i = haystack.find(needle)
    while i >= 0:
        hits.append(i)
        i = haystack.find(needle, i + 1)
    return hits
