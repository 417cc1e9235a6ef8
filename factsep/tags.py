"""Tags that cannot be forged: accepted spans wrapped in markers, the text around them escaped.

``tagged_text`` (and the ``tagged`` export) mark random facts with the ``[tags]`` templates,
``<rf:{kind}>...</rf:{kind}>`` by default. A document may already contain that syntax; left as is,
a literal ``<rf:credit_card>fake</rf:credit_card>`` would read as a real tag. So the text is
escaped first, reversibly, with one escape character (``[tags] escape``, default ``\\``):

- an *opener* is the literal start of a template, before its first placeholder (``<rf:`` and
  ``</rf:`` by default); its first character is a *lead* (``<``);
- a lead followed by an opener's rest (``<rf:``) gets one escape character after it (``<\\rf:``),
  and a lead already followed by escape characters gets one more (``<\\`` becomes ``<\\\\``);
- nothing else changes, so ordinary text (code with ``<`` or ``\\``) is left alone.

Unescaping removes one escape character after every lead that has any, which recovers the text
exactly (:func:`unescape`, :func:`untag`). Escaped text never contains an opener of two or more
characters, so every opener in a tagged text starts a real tag. A one-character opener (``[``)
is allowed, but then every ``[`` of the text gets the escape character after it: prefer two.
``escape = ""`` turns escaping off (tags are then forgeable, as before).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from factsep.span import ACCEPTED

if TYPE_CHECKING:
    from factsep.config import TagConfig

#: The placeholders a template may use, and what their values look like (for :func:`untag`).
_FIELD_PATTERNS = {"kind": r"[a-z][a-z0-9_]*", "bits": r"-?[0-9]+(?:\.[0-9]+)?|", "subtype": r"[^\s]*?"}


def span_field(span: Any, name: str) -> Any:
    """A field of a ``Span`` or of a span dict (a dataset's ``random_facts`` entry)."""
    return span.get(name) if isinstance(span, Mapping) else getattr(span, name)


def opener(template: str) -> str:
    """The literal start of a template, before its first placeholder (``{{`` read as ``{``)."""
    parsed = list(string.Formatter().parse(template))
    return parsed[0][0] if parsed else ""


def check_tags(open_: str, close: str, escape: str) -> None:
    """Refuse tag settings that could not be escaped reversibly; the message says what to change."""
    for name, template in (("open", open_), ("close", close)):
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as exc:
            raise ValueError(f"[tags] {name} = {template!r} is not a valid template: {exc}") from None
        unknown = sorted(set(fields) - set(_FIELD_PATTERNS))
        if unknown:
            raise ValueError(f"[tags] {name} uses {unknown}; only {{kind}}, {{bits}}, {{subtype}} expand")
        if not opener(template):
            raise ValueError(f"[tags] {name} = {template!r} must start with literal text, e.g. '<rf:{{kind}}>'")
    if not escape:
        return
    if len(escape) != 1:
        raise ValueError(f"[tags] escape must be one character (or empty to turn escaping off), not {escape!r}")
    literals = "".join(lit for t in (open_, close) for lit, _, _, _ in string.Formatter().parse(t))
    if escape in literals:
        raise ValueError(f"[tags] escape {escape!r} appears in the tag templates; choose another character")


@dataclass(frozen=True)
class _Escaper:
    """The escape of one tag syntax: its leads, escape character, and the two regexes."""

    leads: tuple[str, ...]
    escape: str
    find: re.Pattern[str]
    find_escaped: re.Pattern[str]

    def apply(self, text: str, follow: str = "") -> str:
        """``text`` escaped; ``follow`` is what comes right after it (a tag), read but not escaped.

        An opener may straddle the end of a text and the start of the tag after it ("…ab" then
        "abab{kind}:"), so the lookahead reads on into ``follow``; only leads inside ``text`` get
        the escape character.
        """
        if not any(lead in text for lead in self.leads):  # most texts: one fast substring test
            return text
        if not follow:
            return self.find.sub(lambda m: m.group() + self.escape, text)
        joined, pieces, pos = text + follow, [], 0
        for m in self.find.finditer(joined):
            if m.start() >= len(text):
                break
            pieces += [joined[pos : m.end()], self.escape]
            pos = m.end()
        pieces.append(text[pos:])
        return "".join(pieces)

    def undo(self, text: str) -> str:
        if self.escape not in text:
            return text
        return self.find_escaped.sub(lambda m: m.group(1), text)


@lru_cache(maxsize=32)
def _escaper(open_: str, close: str, escape: str) -> _Escaper:
    by_lead: dict[str, set[str]] = {}
    for o in (opener(open_), opener(close)):
        by_lead.setdefault(o[0], set()).add(o[1:])
    esc = re.escape(escape)
    # Escape: a lead followed by escape characters, or by the rest of an opener, gets one more
    # (each alternative starts with its literal lead, so the regex engine skips ahead to leads).
    alternatives = []
    for lead, rests in sorted(by_lead.items()):
        ahead = "|".join([esc, *(re.escape(r) for r in sorted(rests, key=len, reverse=True))])
        alternatives.append(f"{re.escape(lead)}(?={ahead})")
    leads = "|".join(re.escape(lead) for lead in sorted(by_lead))
    # Unescape: one escape character after a lead goes away.
    return _Escaper(
        leads=tuple(sorted(by_lead)),
        escape=escape,
        find=re.compile("|".join(alternatives)),
        find_escaped=re.compile(f"({leads}){esc}"),
    )


def escape_text(text: str, tags: TagConfig | None = None, follow: str = "") -> str:
    """``text`` with the tag syntax escaped, so that no part of it, nor of it and the ``follow``ing
    tag together, reads as a tag."""
    tags = _tags(tags)
    if not tags.escape:
        return text
    return _escaper(tags.open, tags.close, tags.escape).apply(text, follow)


def unescape(text: str, tags: TagConfig | None = None) -> str:
    """Inverse of :func:`escape_text`: ``unescape(escape_text(t)) == t`` for every text."""
    tags = _tags(tags)
    if not tags.escape:
        return text
    return _escaper(tags.open, tags.close, tags.escape).undo(text)


def _tags(tags: TagConfig | None) -> TagConfig:
    if tags is None:
        from factsep.config import TagConfig

        return TagConfig()
    return tags


def expand(template: str, span: Any) -> str:
    """A template with the span's ``{kind}``, ``{subtype}`` and ``{bits}`` (one decimal) filled in."""
    bits = span_field(span, "bits")
    return template.format(
        kind=span_field(span, "kind"),
        subtype=span_field(span, "subtype") or "",
        bits=round(float(bits), 1) if bits is not None else "",
    )


def tag_text(text: str, spans: Iterable[Any], tags: TagConfig | None = None) -> str:
    """``text`` with accepted spans wrapped in the ``tags`` templates, the text escaped around and inside.

    Overlapping spans are tagged once (earliest, then longest, wins), so tags stay well nested;
    spans outside the text or empty are skipped. :func:`untag` recovers ``text`` exactly.
    """
    tags = _tags(tags)
    pieces: list[str] = []
    pos = 0
    accepted = [s for s in spans if span_field(s, "decision") in ACCEPTED]
    for s in sorted(accepted, key=lambda s: (int(span_field(s, "start")), -int(span_field(s, "end")))):
        a, b = int(span_field(s, "start")), int(span_field(s, "end"))
        if a < pos or b > len(text) or a >= b:
            continue
        open_tag, close_tag = expand(tags.open, s), expand(tags.close, s)
        pieces += [
            escape_text(text[pos:a], tags, follow=open_tag),
            open_tag,
            escape_text(text[a:b], tags, follow=close_tag),
            close_tag,
        ]
        pos = b
    pieces.append(escape_text(text[pos:], tags))
    return "".join(pieces)


@dataclass(frozen=True)
class TaggedSpan:
    """A tag read back from a tagged text: offsets into the original text, and what the tag said."""

    start: int
    end: int
    kind: str | None
    bits: float | None
    subtype: str | None


def _template_regex(template: str) -> str:
    parts = []
    seen: set[str] = set()
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            pattern = _FIELD_PATTERNS[name]
            parts.append(f"(?:{pattern})" if name in seen else f"(?P<{name}>{pattern})")
            seen.add(name)
    return "".join(parts)


@lru_cache(maxsize=32)
def _tag_regex(open_: str, close: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    return re.compile(_template_regex(open_)), re.compile(_template_regex(close))


def read_tags(tagged: str, tags: TagConfig | None = None) -> tuple[str, list[TaggedSpan]]:
    """The original text of a tagged text, and its tags with offsets into that text.

    Every opener in a tagged text starts a real tag (the text around was escaped), so reading
    is a left-to-right scan: open tag, escaped value, close tag, escaped text.
    """
    tags = _tags(tags)
    open_re, close_re = _tag_regex(tags.open, tags.close)
    open_lit = opener(tags.open)
    out: list[str] = []
    found: list[TaggedSpan] = []
    length = 0
    pos = 0
    while True:
        at = tagged.find(open_lit, pos)
        m = open_re.match(tagged, at) if at >= 0 else None
        while at >= 0 and m is None:  # an opener that is no open tag: not ours (escaping off), keep it
            at = tagged.find(open_lit, at + 1)
            m = open_re.match(tagged, at) if at >= 0 else None
        if m is None:
            break
        before = unescape(tagged[pos:at], tags)
        close = close_re.search(tagged, m.end())
        if close is None:
            raise ValueError(f"open tag at character {at} has no close tag")
        value = unescape(tagged[m.end() : close.start()], tags)
        start = length + len(before)
        out += [before, value]
        length = start + len(value)
        fields = m.groupdict()
        bits = fields.get("bits")
        found.append(
            TaggedSpan(start, length, fields.get("kind"), float(bits) if bits else None, fields.get("subtype") or None)
        )
        pos = close.end()
    out.append(unescape(tagged[pos:], tags))
    return "".join(out), found


def untag(tagged: str, tags: TagConfig | None = None) -> str:
    """The original text of a tagged text: tags removed, escaping undone (exactly)."""
    return read_tags(tagged, tags)[0]
