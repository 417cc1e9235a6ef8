"""datatrove steps: tag documents with factsep, count values across ranks, then apply or filter.

A corpus is processed in three executor stages (docs/adapters.md has the whole pipeline)::

    reader -> FactsepTagger -> FactsepCountWriter(counts) -> writer     N tasks
    FactsepCountMerger(counts)                                        1 task
    reader -> FactsepApply(counts) -> FactsepFilter(...) -> writer      N tasks

Counting needs the whole corpus, so it is a reduce: each rank writes its spans (the span record,
without raw values) to ``counts/spans/part-<rank>.parquet``, and the merge counts them with the
same polars aggregation ``factsep scan`` uses (:mod:`factsep.counts`), so both give equal counts.
Everything a step adds lives in ``doc.metadata``, as JSON-ready values:

- ``factsep_spans``: every detected span as a span-record dict (rejected ones too: counts and
  thresholds need them; ``random_facts`` in a factsep dataset holds the not-rejected ones);
- ``rf_count``, ``rf_bits``: number and summed bits of the spans not rejected (as in the dataset);
- after :class:`FactsepApply`: ``corpus_count``/``singleton`` filled in each span, ``rf_singletons``,
  ``tagged_text`` (or the tagged text in ``doc.text``), ``rf_mask`` (character ranges of random
  facts, for a loss mask) and, with a tokenizer, ``input_ids`` and ``loss_mask`` per token.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter
from datatrove.utils.batching import batched

from factsep.config import DetectorConfig, TagConfig
from factsep.span import REJECTED, SPAN_ARROW_SCHEMA, SPAN_FIELDS, Span

#: ``doc.metadata`` key of the span list.
SPANS_KEY = "factsep_spans"
COUNTS_FILE = "counts.parquet"
SUMMARY_FILE = "summary.json"
_SPAN_ROWS_PER_WRITE = 65536


def doc_spans(doc: Document) -> list[dict[str, Any]]:
    """The span dicts :class:`FactsepTagger` stored on ``doc`` (empty when it found none)."""
    return list(doc.metadata.get(SPANS_KEY) or [])


def _facts(spans: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in spans if s.get("decision") not in REJECTED]


class FactsepTagger(PipelineStep):
    """Detects random facts in batches of documents; spans, value hashes and bits go to ``doc.metadata``.

    One :class:`factsep.Detector` per worker process, built on the first batch (building one loads
    the kinds and spaCy; a pickled pipeline step must not carry it). ``no_values`` drops the raw
    value from each span and keeps its hash, as ``factsep scan --no-values`` does. A document the
    detector fails on gets ``factsep_error`` (the reason) and no spans; with ``quarantine`` (a
    datatrove writer) it goes there instead of down the pipeline. Either way it is counted in the
    ``detector_errors`` stat, so nothing is lost silently.
    """

    name = "factsep tagger"
    type = "🏷 - TAGGER"

    def __init__(
        self,
        config: DetectorConfig | None = None,
        batch_size: int = 256,
        no_values: bool = False,
        quarantine: DiskWriter | None = None,
    ) -> None:
        super().__init__()
        self.config = config or DetectorConfig()
        self.batch_size = batch_size
        self.no_values = no_values
        self.quarantine = quarantine
        self._detector: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_detector"] = None
        return state

    def detector(self) -> Any:
        if self._detector is None:
            from factsep import Detector

            self._detector = Detector(self.config)
        return self._detector

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        from factsep.scan import detect_isolated  # a failing document fails alone, as in a scan

        with self.quarantine if self.quarantine else contextlib.nullcontext() as quarantine:
            for batch in batched(data, self.batch_size):
                with self.track_time("batch"):
                    found = detect_isolated(self.detector(), [d.text for d in batch], [str(d.id) for d in batch])
                self.stat_update("batches")
                for doc, spans in zip(batch, found, strict=True):
                    self.stat_update("documents")
                    if isinstance(spans, str):
                        self.stat_update("detector_errors")
                        doc.metadata["factsep_error"] = spans
                        if quarantine is not None:
                            quarantine.write(doc, rank)
                            continue
                        yield doc
                        continue
                    rows = [s.with_(text=None).to_dict() if self.no_values else s.to_dict() for s in spans]
                    facts = _facts(rows)
                    doc.metadata[SPANS_KEY] = rows
                    doc.metadata["rf_count"] = len(facts)
                    doc.metadata["rf_bits"] = float(sum(float(s["bits"]) for s in facts))
                    self.stat_update("spans", value=len(rows))
                    self.stat_update("facts", value=len(facts))
                    yield doc


class FactsepCountWriter(PipelineStep):
    """Map side of the count: this rank's spans (without raw values) to ``folder/spans/part-<rank>.parquet``.

    Documents pass through unchanged. The part is written atomically when the rank ends, so the
    merge never reads a half-written rank; an empty rank writes an empty part.
    """

    name = "factsep count writer"
    type = "📊 - STATS"

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = str(folder)

    def part_path(self, rank: int) -> str:
        from factsep.io import fs as outfs

        return outfs.join(self.folder, "spans", f"part-{rank:05d}.parquet")

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        import pyarrow as pa

        from factsep.io import fs as outfs
        from factsep.io.atomic import AtomicParquetWriter

        outfs.makedirs(outfs.join(self.folder, "spans"))
        writer = AtomicParquetWriter(self.part_path(rank), SPAN_ARROW_SCHEMA, row_group_size=_SPAN_ROWS_PER_WRITE)
        buf: list[dict[str, Any]] = []

        def flush() -> None:
            if buf:
                writer.write(pa.Table.from_pylist(buf, schema=SPAN_ARROW_SCHEMA))
                buf.clear()

        try:
            for doc in data or ():
                for s in doc_spans(doc):
                    buf.append({name: (None if name == "text" else s.get(name)) for name in SPAN_FIELDS})
                self.stat_update("spans_written", value=len(doc_spans(doc)))
                if len(buf) >= _SPAN_ROWS_PER_WRITE:
                    flush()
                yield doc
            flush()
            writer.close()
        except BaseException:
            writer.abort()
            raise


class FactsepCountMerger(PipelineStep):
    """Reduce side: counts every value over all ranks' parts; writes ``counts.parquet`` and ``summary.json``.

    ``counts.parquet`` has ``value_hash, corpus_count`` (the same table as ``OUT/state/counts.parquet``
    of a scan); ``summary.json`` has per-kind spans, facts, distinct values, singletons, bits and
    monofact rate, and their totals (the manifest's ``counts`` of a scan). Run it in one task after
    the tagging stage (``depends=``); other ranks pass their input through.
    """

    name = "factsep count merger"
    type = "📊 - STATS"

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = str(folder)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if rank == 0:
            self.merge()
        if data:
            yield from data

    def merge(self) -> dict[str, Any]:
        from factsep import counts as counts_mod
        from factsep.io import fs as outfs
        from factsep.io.atomic import write_json, write_table

        parts = outfs.glob(outfs.join(self.folder, "spans"), "part-*.parquet")
        if not parts:
            raise FileNotFoundError(
                f"no span parts in {self.folder}/spans/: run FactsepCountWriter({self.folder!r}) first"
            )
        counts = counts_mod.value_counts(parts)
        write_table(outfs.join(self.folder, COUNTS_FILE), counts.to_arrow(), row_group_size=1 << 20)
        kinds = counts_mod.kind_stats(parts)  # no corpus_count in the parts: counted over them all
        summary = {"parts": len(parts), "kinds": kinds, "totals": counts_mod.totals(kinds)}
        write_json(outfs.join(self.folder, SUMMARY_FILE), summary)
        self.stat_update("distinct_values", value=len(counts))
        self.stat_update("singletons", value=int(summary["totals"]["singletons"]))
        return summary


class FactsepApply(PipelineStep):
    """Writes corpus counts back into the spans, then tags the text and builds loss masks.

    - ``counts_folder``: the merger's folder; fills ``corpus_count``/``singleton`` in each span and
      ``rf_singletons`` (a value missing from the counts is left ``None`` and counted in the stats);
    - ``tags``: the ``[tags]`` syntax; ``tagged_text`` goes to ``doc.metadata`` or, with
      ``replace_text``, replaces ``doc.text`` (escaped as in a factsep dataset);
    - ``mask``: ``rf_mask`` as ``[start, end]`` character ranges of random facts (accepted, at least
      ``min_bits``); with ``tokenizer`` (a ``tokenizer.json`` path or a ``tokenizers.Tokenizer``)
      also ``input_ids`` and per-token ``loss_mask`` (:func:`factsep.training.mask_from_offsets`).
    """

    name = "factsep apply"
    type = "✂️ - FORMAT"

    def __init__(
        self,
        counts_folder: str | None = None,
        tags: TagConfig | None = None,
        tag: bool = True,
        replace_text: bool = False,
        mask: bool = True,
        tokenizer: Any = None,
        weight_by_bits: bool = False,
        min_bits: float | None = None,
        batch_size: int = 1024,
    ) -> None:
        super().__init__()
        self.counts_folder = None if counts_folder is None else str(counts_folder)
        self.tags = tags or TagConfig()
        self.tag = tag
        self.replace_text = replace_text
        self.mask = mask
        self.tokenizer = tokenizer
        self.weight_by_bits = weight_by_bits
        self.min_bits = min_bits
        self.batch_size = batch_size
        self._counts: Any = None
        self._tok: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_counts"] = state["_tok"] = None
        return state

    def _lookup(self, hashes: list[str]) -> dict[str, int]:
        """Counts of one batch's values: a join, so only the batch's values are materialized."""
        import polars as pl

        from factsep.io import fs as outfs

        if self._counts is None:
            path = outfs.join(str(self.counts_folder), COUNTS_FILE)
            if not outfs.exists(path):
                raise FileNotFoundError(f"{path} is missing: run FactsepCountMerger({self.counts_folder!r}) first")
            self._counts = outfs.scan_parquet([path]).collect()
        wanted = pl.DataFrame({"value_hash": sorted(set(hashes))}, schema={"value_hash": pl.String})
        joined = wanted.join(self._counts, on="value_hash", how="inner")
        return dict(zip(joined["value_hash"].to_list(), joined["corpus_count"].to_list(), strict=True))

    def _tokenizer(self) -> Any:
        if self._tok is None and self.tokenizer is not None:
            if isinstance(self.tokenizer, str):
                from tokenizers import Tokenizer

                self._tok = Tokenizer.from_file(self.tokenizer)
            else:
                self._tok = self.tokenizer
        return self._tok

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        for batch in batched(data, self.batch_size):
            with self.track_time("batch"):
                self._apply(batch)
            yield from batch

    def _apply(self, batch: list[Document]) -> None:
        from factsep import tags as tags_mod
        from factsep import training

        counts: dict[str, int] = {}
        if self.counts_folder is not None:
            counts = self._lookup([s["value_hash"] for d in batch for s in doc_spans(d)])
        for doc in batch:
            spans = doc_spans(doc)
            if self.counts_folder is not None:
                for s in spans:
                    n = counts.get(s["value_hash"])
                    s["corpus_count"] = n
                    s["singleton"] = None if n is None else n == 1
                    if n is None:
                        self.stat_update("values_not_counted")
                facts = _facts(spans)
                known = all(s["singleton"] is not None for s in facts)
                doc.metadata["rf_singletons"] = sum(1 for s in facts if s["singleton"]) if known else None
                doc.metadata[SPANS_KEY] = spans
            if self.mask:
                selected = training.select_facts(spans, self.min_bits)
                doc.metadata["rf_mask"] = [[int(s["start"]), int(s["end"])] for s in selected]
                tok = self._tokenizer()
                if tok is not None:
                    ids, offsets = training.token_offsets(tok, doc.text)
                    doc.metadata["input_ids"] = ids
                    doc.metadata["loss_mask"] = training.mask_from_offsets(
                        offsets, spans, self.weight_by_bits, self.min_bits
                    )
            if self.tag:
                tagged = tags_mod.tag_text(doc.text, spans, self.tags)
                if self.replace_text:
                    doc.text = tagged
                else:
                    doc.metadata["tagged_text"] = tagged


class FactsepFilter(BaseFilter):
    """Drops documents over a threshold of random facts; dropped ones can go to ``exclusion_writer``.

    A span counts when it is not rejected and has at least ``min_confidence``; a document is dropped
    when its counted spans exceed ``max_facts``, their bits exceed ``max_bits``, or (after
    :class:`FactsepApply` with counts) their singletons exceed ``max_singletons``. ``None`` turns a
    limit off. The reason (``too_many_facts``, ``too_many_bits``, ``too_many_singletons``) is
    recorded in the stats and in the excluded document's metadata.
    """

    name = "factsep filter"

    def __init__(
        self,
        max_facts: int | None = None,
        max_bits: float | None = None,
        max_singletons: int | None = None,
        min_confidence: float = 0.0,
        exclusion_writer: DiskWriter | None = None,
    ) -> None:
        super().__init__(exclusion_writer)
        self.max_facts = max_facts
        self.max_bits = max_bits
        self.max_singletons = max_singletons
        self.min_confidence = min_confidence

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        counted = [s for s in _facts(doc_spans(doc)) if float(s["confidence"]) >= self.min_confidence]
        if self.max_facts is not None and len(counted) > self.max_facts:
            return False, "too_many_facts"
        if self.max_bits is not None and sum(float(s["bits"]) for s in counted) > self.max_bits:
            return False, "too_many_bits"
        if self.max_singletons is not None:
            if any(s.get("singleton") is None for s in counted):
                raise ValueError("max_singletons needs corpus counts: put FactsepApply(counts_folder=...) before it")
            if sum(1 for s in counted if s["singleton"]) > self.max_singletons:
                return False, "too_many_singletons"
        return True


def spans_of(doc: Document) -> list[Span]:
    """The spans on ``doc`` as :class:`factsep.Span` records."""
    return [Span.from_dict(s) for s in doc_spans(doc)]

