"""Reading a scan's output (``OUT/spans``, ``OUT/dataset``) for review, and writing side files."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from factsep.io import fs as outfs
from factsep.io.layout import Layout
from factsep.io.manifest import read as read_manifest
from factsep.review.client import ReviewError
from factsep.run import state as run_state
from factsep.span import SPAN_FIELDS, Span, doc_key, make_span_id

_TEXT_BATCH = 1024  # dataset rows per batch when looking documents up: ~2 MB of text at 2 KB a row


def span_parts(out: str | Path) -> list[Path]:
    return [Path(p) for p in Layout.of(out).span_parts()]


def require_scan(out: str | Path) -> None:
    """Review reads a scan's output: a mistyped OUT must fail, not route nothing or sync into it."""
    if not span_parts(out) and not run_state.exists(out):
        raise ReviewError(f"no scan output in {out} (no spans/part-*.parquet, no state/run.json): "
                          f"run `factsep scan CORPUS --out {out}` first")


def dataset_parts(out: str | Path) -> list[Path]:
    return [Path(p) for p in Layout.of(out).dataset_parts()]


def load_spans(out: str | Path, doc_ids: set[str] | None = None) -> list[Span]:
    """Span records of the run (optionally only some documents), read column-wise."""
    parts = span_parts(out)
    if not parts:
        return []
    frame = pl.scan_parquet([str(p) for p in parts]).select(list(SPAN_FIELDS))
    if doc_ids is not None:
        frame = frame.filter(pl.col("doc_id").is_in(sorted(doc_ids)))
    return [Span.from_dict(row) for row in frame.collect().iter_rows(named=True)]


def text_field(out: str | Path, default: str = "text") -> str:
    """The text column the scan used, from its run state or manifest when they say so."""
    field = run_state.scan_setting(out, "text_field")
    if isinstance(field, str):
        return field
    manifest = read_manifest(out) or {}
    for holder in (manifest.get("config", {}).get("scan", {}), manifest.get("config", {})):
        if isinstance(holder, dict) and isinstance(holder.get("text_field"), str):
            return holder["text_field"]
    return default


def _id_field(out: str | Path) -> str | None:
    value = run_state.scan_setting(out, "id_field")
    return value if isinstance(value, str) else None


def _id_texts(pf: pq.ParquetFile, ident: pl.Expr, cols: list[str], field: str) -> Iterable[pl.DataFrame]:
    """Frames of (doc_id, __text), a row group at a time: a whole part's texts grow with the shard."""
    for rb in outfs.iter_batches(pf, _TEXT_BATCH, cols):
        yield pl.from_arrow(rb).select(ident.alias("doc_id"), pl.col(field).alias("__text"))


def _texts_by_id(
    out: str | Path, doc_ids: set[str], field: str | None, spans: Iterable[Span] = ()
) -> dict[str, list[str]]:
    """doc_id -> every text with that id (an id may repeat in a corpus: each has its own key).

    A dataset row's doc id comes from a ``doc_id`` column, else the input's id column, else its
    ``random_facts``. A document whose facts were all rejected and that has no id column is found
    through ``spans``: a text is a span's document when the span id hashes that text's key.
    """
    field = field or text_field(out)
    id_field = _id_field(out)
    docs: dict[str, list[str]] = {}
    wanted = sorted(doc_ids)
    unresolved = [s for s in spans if s.doc_id in doc_ids]
    for part in dataset_parts(out):
        pf = pq.ParquetFile(part)
        names = set(pf.schema_arrow.names)
        if field not in names:
            continue
        facts_id = pl.col("random_facts").list.first().struct.field("doc_id")
        if "doc_id" in names:
            ident, cols = pl.col("doc_id").cast(pl.String), ["doc_id"]
        elif id_field and id_field in names:
            ident, cols = pl.coalesce(pl.col(id_field).cast(pl.String), facts_id), [id_field, "random_facts"]
        else:
            ident, cols = facts_id, ["random_facts"]
        cols = [c for c in dict.fromkeys([*cols, field]) if c in names]
        for frame in _id_texts(pf, ident, cols, field):
            for doc_id, text in frame.filter(pl.col("doc_id").is_in(wanted)).iter_rows():
                if doc_id is not None and text is not None and text not in docs.get(doc_id, ()):
                    docs.setdefault(doc_id, []).append(text)
        missing = [s for s in unresolved if s.doc_id not in docs]
        if not missing:
            continue
        for frame in _id_texts(pf, ident, cols, field):  # a second pass, as rare as documents without an id
            for text in frame.filter(pl.col("doc_id").is_null())["__text"].to_list():
                if text is None:
                    continue
                key = doc_key(text)
                for s in missing:
                    if s.doc_id not in docs and make_span_id(key, s.start, s.end, s.kind) == s.span_id:
                        docs[s.doc_id] = [text]
    return docs


def load_documents(
    out: str | Path, doc_ids: set[str], field: str | None = None, spans: Iterable[Span] = ()
) -> dict[str, str]:
    """doc_id -> text for the wanted documents (see :func:`_texts_by_id`). Where an id stands for
    several texts, the one whose key the given ``spans`` hash is taken; use :func:`span_texts` or
    :func:`documents_by_key` to keep such documents apart."""
    spans = list(spans)
    texts = _texts_by_id(out, doc_ids, field, spans)
    docs = {doc_id: found[0] for doc_id, found in texts.items()}
    own = span_texts(out, spans, field, texts)
    for s in spans:
        if s.span_id in own:
            docs[s.doc_id] = own[s.span_id]
    return docs


def span_texts(
    out: str | Path, spans: Iterable[Span], field: str | None = None,
    texts: dict[str, list[str]] | None = None,
) -> dict[str, str]:
    """span_id -> the text of the span's own document: the one of the span's doc id whose key the
    span id hashes, so two documents that share an id are never mixed up. Spans whose document is
    not in the dataset are left out."""
    spans = list(spans)
    if texts is None:
        texts = _texts_by_id(out, {s.doc_id for s in spans}, field, spans)
    keys = {doc_id: [(doc_key(t), t) for t in found] for doc_id, found in texts.items()}
    result: dict[str, str] = {}
    for s in spans:
        for key, text in keys.get(s.doc_id, ()):
            if make_span_id(key, s.start, s.end, s.kind) == s.span_id:
                result[s.span_id] = text
                break
    return result


def documents_by_key(out: str | Path, doc_ids: set[str], field: str | None = None) -> dict[str, str]:
    """doc_key -> text of every document with one of these ids: what a task's ``doc_key`` names."""
    return {doc_key(t): t for found in _texts_by_id(out, doc_ids, field).values() for t in found}


def iter_documents(out: str | Path, field: str | None = None, batch: int = 4096) -> Iterable[tuple[str, str]]:
    """(doc_id, text) of every dataset row whose id is known (a ``doc_id`` or the input's id
    column), part by part in batches, so memory follows ``batch`` rather than the corpus."""
    field = field or text_field(out)
    id_field = _id_field(out)
    for part in dataset_parts(out):
        names = set(pq.read_schema(part).names)
        ident = "doc_id" if "doc_id" in names else id_field if id_field in names else None
        if field not in names or ident is None:
            continue
        for rb in outfs.iter_batches(pq.ParquetFile(part), batch, [ident, field]):  # a row group at a time
            for doc_id, text in zip(rb.column(0).to_pylist(), rb.column(1).to_pylist(), strict=True):
                if doc_id is not None and isinstance(text, str):
                    yield str(doc_id), text


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary name beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def quarantine(out: str | Path, records: Iterable[dict[str, Any]], name: str = "review.jsonl") -> int:
    """Append records that could not be placed to ``OUT/quarantine/``, with reason and location."""
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records]
    if not lines:
        return 0
    path = Path(Layout.of(out).join("quarantine", name))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(lines))
        fh.flush()
        os.fsync(fh.fileno())
    return len(lines)
