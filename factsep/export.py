"""Export a scan's dataset as Parquet that fine-tuning scripts read directly.

Three formats, one per way of using the tags (see docs/report.md):

- ``tagged``: ``id, text, rf_count, rf_bits``; ``text`` has every random fact wrapped in the
  configurable markers (default ``<rf:{kind}>...</rf:{kind}>``), tag syntax in the text escaped.
- ``masked``: ``id, text, char_loss_mask, facts`` and, given a tokenizer, ``input_ids,
  token_loss_mask, labels`` (``labels`` is ``-100`` on masked tokens, what HF trainers ignore).
  With ``pack_block_size`` the documents are concatenated and cut into blocks of that many tokens
  instead: ``input_ids, labels, token_loss_mask, doc_ids`` (labels still aligned and masked).
- ``abstain``: one row per singleton random fact: ``id, span_id, kind, bits, prompt, completion``
  (TRL's prompt-completion format); ``prompt`` is the text before the fact, ``completion`` a
  marker such as ``<unknown:phone_number>``.

``keep_columns`` passes input columns through (``*`` for all of them) on every row-per-document or
row-per-fact format. The dataset parts are streamed batch by batch (memory follows ``batch_rows``),
human decisions from the ledger are overlaid again (so an export after a sync is current even
before the parts are rewritten), and the file appears whole or not at all (``factsep.io.atomic``).
OUT and the target may be local paths or fsspec URLs (``s3://...``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from factsep.config import TagConfig
from factsep.decisions import DecisionIndex
from factsep.io import fs as outfs
from factsep.io.atomic import TMP_PREFIX, AtomicParquetWriter
from factsep.report import dataset_files, find_setting, read_manifest, span_files
from factsep.scan import FACT_COLUMNS
from factsep.span import REJECTED, Span, doc_key
from factsep.training import (
    DEFAULT_ABSTAIN_MARKER,
    DEFAULT_FULL_MASK_BITS,
    abstain_examples,
    char_mask,
    mask_from_offsets,
    masked_labels,
    pack_blocks,
    select_facts,
    tag_text,
    token_offsets,
)

FORMATS = ("tagged", "masked", "abstain")

FACT_TYPE = pa.struct(
    [
        pa.field("start", pa.int32()),
        pa.field("end", pa.int32()),
        pa.field("kind", pa.string()),
        pa.field("bits", pa.float32()),
        pa.field("decision", pa.string()),
    ]
)


def export_schema(
    fmt: str, with_tokens: bool = False, packed: bool = False, extra: Sequence[pa.Field] = ()
) -> pa.Schema:
    """Arrow schema of an export; fixed so every batch and an empty export agree.

    ``extra`` are the passed-through input columns, appended after the export's own.
    """
    if fmt == "tagged":
        fields = [
            pa.field("id", pa.string()),
            pa.field("text", pa.string()),
            pa.field("rf_count", pa.int32()),
            pa.field("rf_bits", pa.float32()),
        ]
    elif fmt == "masked" and packed:
        fields = [
            pa.field("input_ids", pa.list_(pa.int32())),
            pa.field("labels", pa.list_(pa.int64())),
            pa.field("token_loss_mask", pa.list_(pa.float32())),
            pa.field("doc_ids", pa.list_(pa.string())),
        ]
    elif fmt == "masked":
        fields = [
            pa.field("id", pa.string()),
            pa.field("text", pa.string()),
            pa.field("char_loss_mask", pa.list_(pa.uint8())),
            pa.field("facts", pa.list_(FACT_TYPE)),
        ]
        if with_tokens:
            fields += [
                pa.field("input_ids", pa.list_(pa.int32())),
                pa.field("token_loss_mask", pa.list_(pa.float32())),
                pa.field("labels", pa.list_(pa.int64())),
            ]
    elif fmt == "abstain":
        fields = [
            pa.field("id", pa.string()),
            pa.field("span_id", pa.string()),
            pa.field("kind", pa.string()),
            pa.field("bits", pa.float32()),
            pa.field("prompt", pa.string()),
            pa.field("completion", pa.string()),
        ]
    else:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    return pa.schema([*fields, *extra])


@dataclass
class ExportConfig:
    """Options of an export. ``min_bits`` None means the scan's random_bits_threshold."""

    format: str = "tagged"
    #: Markers of the tagged format; None means the scan's own ``[tags]`` (from its manifest).
    tags: TagConfig | None = None
    min_bits: float | None = None
    text_field: str | None = None
    id_field: str | None = None
    prompt_chars: int = 512
    marker: str = DEFAULT_ABSTAIN_MARKER
    weight_by_bits: bool = False
    full_mask_bits: float = DEFAULT_FULL_MASK_BITS
    batch_rows: int = 1024
    #: Input columns copied onto every row (``("*",)``: all but the text and the scan's own columns).
    keep_columns: tuple[str, ...] = ()
    #: masked: concatenate the documents and cut blocks of this many tokens (needs a tokenizer).
    pack_block_size: int | None = None
    #: masked, packed: token id appended after every document (an end-of-text token), or none.
    pack_separator_id: int | None = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {self.format!r}")
        if self.prompt_chars < 1:
            raise ValueError("prompt_chars must be at least 1")
        self.keep_columns = tuple(self.keep_columns)
        if self.pack_block_size is not None:
            if self.format != "masked":
                raise ValueError("packing (pack_block_size) applies to the masked format only")
            if self.pack_block_size < 1:
                raise ValueError("pack_block_size must be at least 1")
            if self.keep_columns:
                raise ValueError("a packed block mixes documents, so keep_columns cannot apply; export unpacked")


@dataclass
class ExportResult:
    path: str
    format: str
    documents: int
    rows: int
    facts: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def scan_tags(out: str | Path) -> TagConfig:
    """The tag templates the scan used (its manifest's ``config.tags``), else the defaults."""
    tags = read_manifest(out).get("config", {}).get("tags")
    if isinstance(tags, dict) and isinstance(tags.get("open"), str) and isinstance(tags.get("close"), str):
        escape = tags.get("escape")
        if not isinstance(escape, str):  # a scan from before escaping: escape now all the same
            escape = TagConfig().escape
        return TagConfig(open=tags["open"], close=tags["close"], escape=escape)
    return TagConfig()


def load_tokenizer(path: str) -> Any:
    """A fast tokenizer from a local ``tokenizer.json`` (tokenizers) or a saved HF directory.

    Local only: nothing is downloaded.
    """
    p = Path(path)
    if p.is_file():
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(p))
    if p.is_dir():
        if (p / "tokenizer.json").is_file():
            try:
                from transformers import AutoTokenizer
            except ImportError:
                from tokenizers import Tokenizer

                return Tokenizer.from_file(str(p / "tokenizer.json"))
            return AutoTokenizer.from_pretrained(str(p), local_files_only=True, use_fast=True)
    raise FileNotFoundError(f"no tokenizer.json at {path}")


def _resolve_output(to: str | Path, fmt: str) -> str:
    """The Parquet file to write: ``to``, or ``<to>/<format>.parquet`` when ``to`` is a folder."""
    text = str(to)
    if outfs.is_remote(text):
        fs, path = outfs.to_fs(text)
        folder = text.endswith("/") or fs.isdir(path)
    else:
        folder = Path(text).is_dir() or text.endswith(os.sep)
    return outfs.join(text, f"{fmt}.parquet") if folder else text


class _Counts:
    """value_hash -> spans, built from OUT/spans only if some span lacks corpus counts."""

    def __init__(self, out: str | Path) -> None:
        self.out = out
        self._map: dict[str, int] | None = None

    def get(self, key: str, default: Any = None) -> Any:
        if self._map is None:
            import polars as pl

            files = span_files(self.out)
            self._map = {}
            if files:
                frame = outfs.scan_parquet(files).group_by("value_hash").agg(pl.len().alias("n")).collect()
                self._map = dict(zip(frame["value_hash"].to_list(), frame["n"].to_list(), strict=True))
        return self._map.get(key, default)


def _kept_fields(out: str | Path, keep: Sequence[str], text_field: str, own: Sequence[str]) -> list[pa.Field]:
    """Arrow fields of the input columns to pass through, their types unified across dataset parts."""
    if not keep:
        return []
    schemas = [outfs.parquet_file(p).schema_arrow for p in dataset_files(out)]
    present = list(dict.fromkeys(name for sch in schemas for name in sch.names))
    if tuple(keep) == ("*",):
        names = [n for n in present if n != text_field and n not in FACT_COLUMNS and n not in own]
    else:
        names = list(dict.fromkeys(keep))
        missing = [n for n in names if n not in present]
        if missing:
            raise ValueError(f"keep_columns {missing} are not dataset columns; they are: {present}")
        clash = [n for n in names if n in own]
        if clash:
            raise ValueError(f"keep_columns {clash} are columns the export writes itself; rename them on input")
    fields = []
    for name in names:
        types = [sch.field(name) for sch in schemas if name in sch.names]
        unified = pa.unify_schemas([pa.schema([f]) for f in types], promote_options="permissive")
        fields.append(unified.field(name).with_nullable(True))
    return fields


def _documents(
    out: str | Path, text_field: str, id_field: str, batch_rows: int, keep: Sequence[str] = ()
) -> Iterator[tuple[str, str, list[dict[str, Any]], dict[str, Any]]]:
    """(id, text, spans, kept columns) per dataset row, streaming; rows without a string text are skipped."""
    for path in dataset_files(out):
        pf = outfs.parquet_file(path)
        names = set(pf.schema_arrow.names)
        if text_field not in names:
            raise ValueError(f"{path} has no text column {text_field!r}; pass text_field")
        wanted = [text_field, id_field, "doc_id", "random_facts", *keep]
        cols = [c for c in dict.fromkeys(wanted) if c in names]
        stem = outfs.name_of(path).removesuffix(".parquet")
        row = 0
        for batch in outfs.iter_batches(pf, batch_rows, cols):  # a row group at a time
            data = batch.to_pydict()
            for i in range(batch.num_rows):
                text = data[text_field][i]
                facts = (data.get("random_facts") or [None] * batch.num_rows)[i] or []
                if "doc_id" in data and data["doc_id"][i] is not None:
                    ident = str(data["doc_id"][i])
                elif id_field in data and data[id_field][i] is not None:
                    ident = str(data[id_field][i])
                elif facts:
                    ident = str(facts[0]["doc_id"])
                else:
                    ident = f"{stem}:{row}"
                row += 1
                if isinstance(text, str):
                    yield ident, text, facts, {k: (data[k][i] if k in data else None) for k in keep}


class _Writer:
    """Batches rows into row groups of one Parquet file that appears whole (io/atomic.py), local or remote."""

    def __init__(self, target: str, schema: pa.Schema, batch_rows: int) -> None:
        if not outfs.is_remote(target):  # staging files left by a killed export sit beside the target
            folder = Path(outfs.local_path(target)).parent
            for stale in folder.glob(f"{TMP_PREFIX}{outfs.name_of(target)}.*"):
                stale.unlink(missing_ok=True)
        self.schema = schema
        self.batch_rows = batch_rows
        self.rows: list[dict[str, Any]] = []
        self.count = 0
        self.writer = AtomicParquetWriter(target, schema, row_group_size=batch_rows)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.count += len(self.rows)
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()

    def abort(self) -> None:
        self.writer.abort()


def export(
    out: str | Path,
    to: str | Path,
    config: ExportConfig | None = None,
    tokenizer: Any = None,
) -> ExportResult:
    """Write the dataset of scan output ``out`` in ``config.format`` to the Parquet file ``to``."""
    config = config or ExportConfig()
    if not dataset_files(out):
        raise FileNotFoundError(f"no dataset parts in {out}/dataset: run factsep scan first")
    manifest = read_manifest(out)
    min_bits = config.min_bits
    if min_bits is None:
        found = find_setting(manifest, "random_bits_threshold")
        min_bits = float(found) if isinstance(found, (int, float)) else None
    text_field = config.text_field or find_setting(manifest, "text_field") or "text"
    id_field = config.id_field or find_setting(manifest, "id_field") or "id"
    tags = config.tags or scan_tags(out)
    with_tokens = tokenizer is not None and config.format == "masked"
    packed = config.pack_block_size is not None
    if packed and tokenizer is None:
        raise ValueError("packing needs a tokenizer: pass one (--tokenizer)")
    own = export_schema(config.format, with_tokens, packed).names
    extra = _kept_fields(out, config.keep_columns, str(text_field), own)
    keep = [f.name for f in extra]
    schema = export_schema(config.format, with_tokens, packed, extra)
    target = _resolve_output(to, config.format)
    ledger = DecisionIndex.load(out)
    counts = _Counts(out)
    writer = _Writer(target, schema, config.batch_rows)
    totals = {"documents": 0, "facts": 0}

    def documents() -> Iterator[tuple[str, str, list[Any], dict[str, Any]]]:
        """Each document with its random facts, human decisions from the ledger applied."""
        for ident, text, raw, kept in _documents(out, str(text_field), str(id_field), config.batch_rows, keep):
            totals["documents"] += 1
            spans: list[Any] = raw
            if len(ledger):
                overlaid = ledger.apply([Span.from_dict(s) for s in raw], doc_key(text))
                spans = [s for s in overlaid if s.decision not in REJECTED]
            facts = select_facts(spans, min_bits)
            totals["facts"] += len(facts)
            yield ident, text, facts, kept

    def token_weights(text: str, facts: list[Any]) -> tuple[list[int], list[float]]:
        ids, offsets = token_offsets(tokenizer, text)
        return ids, mask_from_offsets(offsets, facts, config.weight_by_bits, min_bits, config.full_mask_bits)

    try:
        if packed:
            tokenized = ((ident, *token_weights(text, facts)) for ident, text, facts, _ in documents())
            for block in pack_blocks(tokenized, int(config.pack_block_size or 0), config.pack_separator_id):
                writer.add(block.to_dict())
        for ident, text, facts, kept in () if packed else documents():
            if config.format == "tagged":
                writer.add(
                    {
                        "id": ident,
                        "text": tag_text(text, facts, tags, min_bits),
                        "rf_count": len(facts),
                        "rf_bits": float(sum(float(_field(s, "bits")) for s in facts)),
                        **kept,
                    }
                )
            elif config.format == "masked":
                row: dict[str, Any] = {
                    "id": ident,
                    "text": text,
                    "char_loss_mask": char_mask(len(text), facts, min_bits),
                    "facts": [{k: _field(s, k) for k in FACT_TYPE.names} for s in facts],
                    **kept,
                }
                if with_tokens:
                    ids, weights = token_weights(text, facts)
                    row["input_ids"] = ids
                    row["token_loss_mask"] = weights
                    row["labels"] = masked_labels(ids, weights)
                writer.add(row)
            else:
                for ex in abstain_examples(text, facts, config.prompt_chars, config.marker, min_bits, counts=counts):
                    writer.add({"id": ident, **ex.to_dict(), **kept})
        writer.close()
    except BaseException:
        writer.abort()
        raise
    from factsep.io.layout import Layout

    if str(target).startswith(Layout.of(out).exports_dir):
        from factsep.run.card import refresh_card

        refresh_card(out)  # an export into OUT/exports/ becomes a config of OUT's dataset card
    return ExportResult(
        path=str(target),
        format=config.format,
        documents=totals["documents"],
        rows=writer.count,
        facts=totals["facts"],
    )


def _field(span: Any, name: str) -> Any:
    return span[name] if isinstance(span, dict) else getattr(span, name)
