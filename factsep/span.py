"""The span record: one data model from detection to the written dataset.

A span is defined once here, as a Python dataclass and as an Arrow struct type, and published as
JSON Schema (`schemas/span.schema.json`) by :func:`span_json_schema`.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = "1.0"

AUTO_ACCEPT = "auto_accept"
AUTO_REJECT = "auto_reject"
PENDING_REVIEW = "pending_review"
HUMAN_ACCEPT = "human_accept"
HUMAN_REJECT = "human_reject"
HUMAN_ADDED = "human_added"
DECISIONS = (AUTO_ACCEPT, AUTO_REJECT, PENDING_REVIEW, HUMAN_ACCEPT, HUMAN_REJECT, HUMAN_ADDED)
#: Decisions whose spans count as random facts in the dataset.
ACCEPTED = frozenset({AUTO_ACCEPT, HUMAN_ACCEPT, HUMAN_ADDED})
#: Decisions that drop a span from the dataset's ``random_facts``.
REJECTED = frozenset({AUTO_REJECT, HUMAN_REJECT})
HUMAN = frozenset({HUMAN_ACCEPT, HUMAN_REJECT, HUMAN_ADDED})


def is_random_fact(decision: str, bits: float, min_bits: float) -> bool:
    """The one definition of a *random fact*: accepted (automatically or by a person) and carrying at
    least ``min_bits`` (the detector's ``random_bits_threshold``).

    Scan summary, manifest, report, ``factsep run`` and training all count with this rule (its
    polars form is :func:`factsep.counts.random_fact`). Pending and rejected spans stay in the span
    files, and the dataset's ``random_facts`` lists keep pending ones, but they are not counted.
    """
    return decision in ACCEPTED and bits >= min_bits


def _digest(*parts: str, size: int = 16) -> str:
    h = hashlib.blake2b(digest_size=size)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def doc_key(text: str) -> str:
    """Hash of a document's text: spans keep their ids when the corpus is re-scanned or moved."""
    return _digest(text)


def make_span_id(doc_key_: str, start: int, end: int, kind: str) -> str:
    return _digest(doc_key_, str(start), str(end), kind)


_HASH_KEY: bytes | None = None


def use_hash_key(key: bytes | None) -> None:
    """Key value hashes with ``key`` in this process (:func:`factsep.hashkey.activate` sets OUT's)."""
    global _HASH_KEY
    _HASH_KEY = key


def hash_key() -> bytes:
    """The key in use: the one set by :func:`use_hash_key` (OUT's, in a scan or sync), else
    :func:`factsep.hashkey.default_key` (``FACTSEP_HASH_KEY``, else the user's own)."""
    global _HASH_KEY
    if _HASH_KEY is None:
        from factsep.hashkey import default_key

        _HASH_KEY = default_key()
    return _HASH_KEY


def make_value_hash(kind: str, normalized: str, key: bytes | None = None) -> str:
    """Keyed hash of the normalized value (BLAKE2b in its keyed mode, a MAC), namespaced by kind so
    equal digits of two kinds do not merge. Without the key nobody can test a guessed value
    against it, so a phone number or a date of birth cannot be recovered by trying them all."""
    h = hashlib.blake2b(digest_size=16, key=key if key is not None else hash_key())
    for part in (kind, normalized):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


@dataclass(slots=True)
class Span:
    """One random fact found in one document. Fields and meanings as in DESIGN.md."""

    span_id: str
    doc_id: str
    start: int
    end: int
    kind: str
    subtype: str | None
    text: str | None
    value_hash: str
    confidence: float
    bits: float
    validated: bool
    detector: str
    corpus_count: int | None = None
    singleton: bool | None = None
    decision: str = PENDING_REVIEW

    @property
    def accepted(self) -> bool:
        return self.decision in ACCEPTED

    @property
    def rejected(self) -> bool:
        return self.decision in REJECTED

    def is_random_fact(self, min_bits: float) -> bool:
        """:func:`is_random_fact` of this span."""
        return is_random_fact(self.decision, self.bits, min_bits)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Span:
        names = SPAN_FIELDS
        return cls(**{k: data.get(k) for k in names if k in data or k in _DEFAULTS})

    def with_(self, **changes: Any) -> Span:
        return replace(self, **changes)


SPAN_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Span))
_DEFAULTS = {"corpus_count", "singleton", "decision"}

#: The Arrow type of one span record; spans files hold these fields as columns.
SPAN_ARROW_FIELDS: list[pa.Field] = [
    pa.field("span_id", pa.string(), nullable=False),
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("start", pa.int32(), nullable=False),
    pa.field("end", pa.int32(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("subtype", pa.string(), nullable=True),
    pa.field("text", pa.string(), nullable=True),
    pa.field("value_hash", pa.string(), nullable=False),
    pa.field("confidence", pa.float32(), nullable=False),
    pa.field("bits", pa.float32(), nullable=False),
    pa.field("validated", pa.bool_(), nullable=False),
    pa.field("detector", pa.string(), nullable=False),
    pa.field("corpus_count", pa.int64(), nullable=True),
    pa.field("singleton", pa.bool_(), nullable=True),
    pa.field("decision", pa.string(), nullable=False),
]
SPAN_ARROW_TYPE = pa.struct(SPAN_ARROW_FIELDS)
SPAN_ARROW_SCHEMA = pa.schema(SPAN_ARROW_FIELDS, metadata={"factsep.schema_version": SCHEMA_VERSION})


def spans_to_table(spans: list[Span]) -> pa.Table:
    """Spans as an Arrow table with the span schema (one column a field)."""
    columns = {name: [getattr(s, name) for s in spans] for name in SPAN_FIELDS}
    return pa.Table.from_pydict(columns, schema=SPAN_ARROW_SCHEMA)


def spans_from_table(table: pa.Table) -> list[Span]:
    return [Span.from_dict(row) for row in table.select(list(SPAN_FIELDS)).to_pylist()]


_JSON_TYPES = {
    pa.string(): "string",
    pa.int32(): "integer",
    pa.int64(): "integer",
    pa.float32(): "number",
    pa.bool_(): "boolean",
}

_DESCRIPTIONS = {
    "span_id": "hash of (doc_key, start, end, kind); doc_key hashes the document text",
    "doc_id": "the input's id field, else relative/path:line or relative/path:row",
    "start": "Unicode code point offset of the first character (Python str index)",
    "end": "Unicode code point offset one past the last character",
    "kind": "a registered kind name",
    "subtype": "the finer format, e.g. stdnum.es.nif, or a phone region",
    "text": "the raw value; null when the run drops raw values",
    "value_hash": "keyed hash of the kind and the normalized value (key: OUT/state/hash_key.json or FACTSEP_HASH_KEY)",
    "confidence": "calibrated probability that this is a random fact of this kind",
    "bits": "log2 of the number of values the format leaves open",
    "validated": "a checksum or format validator accepted the value",
    "detector": "recognizer name and version",
    "corpus_count": "occurrences of value_hash in the corpus of the run",
    "singleton": "corpus_count == 1",
    "decision": "how the span was decided",
}


def span_json_schema() -> dict[str, Any]:
    """JSON Schema of one span record, generated from the Arrow fields so the two cannot drift."""
    props: dict[str, Any] = {}
    for f in SPAN_ARROW_FIELDS:
        t = _JSON_TYPES[f.type]
        prop: dict[str, Any] = {"type": [t, "null"] if f.nullable else t}
        prop["description"] = _DESCRIPTIONS[f.name]
        props[f.name] = prop
    props["decision"]["enum"] = list(DECISIONS)
    props["start"]["minimum"] = 0
    props["end"]["minimum"] = 0
    props["confidence"]["minimum"] = 0
    props["confidence"]["maximum"] = 1
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://factsep.dev/schemas/span.schema.json",
        "title": "factsep span record",
        "description": f"One random fact in one document (schema version {SCHEMA_VERSION}).",
        "type": "object",
        "properties": props,
        "required": [f.name for f in SPAN_ARROW_FIELDS],
        "additionalProperties": False,
    }
