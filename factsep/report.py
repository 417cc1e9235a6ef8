"""The scan report: what random facts a corpus holds, how often it repeats them, what they would cost.

A person decides from this page whether to mask, tag or teach abstention, so it puts three
numbers per kind up front: the monofact rate (share of distinct values seen exactly once; by Kalai
and Vempala a calibrated model hallucinates on such facts at about that rate), the bits of the
distinct random facts, and the parameters a model would need to memorize them at about 2 bits per
parameter (Allen-Zhu and Li, Physics of Language Models 3.3).

Everything is aggregated lazily with polars over ``OUT/spans/part-*.parquet``; only per-value and
per-bin aggregates are collected, so memory follows the number of distinct values, not of spans.
Raw values appear only with ``show_values=True``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from factsep.counts import random_fact, random_values
from factsep.io import fs as outfs
from factsep.io.layout import Layout, layout
from factsep.span import ACCEPTED, DECISIONS, HUMAN, PENDING_REVIEW, REJECTED
from factsep.training import default_min_bits

#: Bits a parameter stores, after Allen-Zhu and Li (Physics of Language Models 3.3).
DEFAULT_BITS_PER_PARAM = 2.0
#: Width of a bits-histogram bin.
BITS_BIN = 4.0
CONFIDENCE_BINS = 20
#: Rows a table of the report shows; a longer one says so above it ("first N of M rows") and
#: names where the rest is, so no table is cut silently.
MAX_TABLE_ROWS = 500
#: Review status of a span: decided automatically (accepted or rejected), pending, or by a person.
STATUS_ORDER = ("auto accepted", "auto rejected", "pending", "human")


# ----------------------------------------------------------------------------------------- data


@dataclass
class KindStats:
    """Numbers of one kind (or of all kinds when ``kind == "all"``)."""

    kind: str
    spans: int = 0
    random_fact_spans: int = 0
    distinct_values: int = 0
    singletons: int = 0
    monofact_rate: float | None = None
    #: Good-Turing missing mass: singleton values over all occurrences of random-fact values.
    singleton_occurrence_share: float | None = None
    bits_total: float = 0.0
    bits_median: float | None = None
    params_needed: float = 0.0
    confidence_median: float | None = None
    #: The same numbers if every value still pending review were accepted (upper end of the range).
    distinct_with_pending: int = 0
    monofact_rate_with_pending: float | None = None
    params_with_pending: float = 0.0
    decisions: dict[str, int] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class QuarantineSummary:
    records: int = 0
    files: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReviewQueue:
    """What routing sent to review, from the routing ledger (``OUT/state/routing.jsonl``)."""

    tasks: int = 0
    spans: int = 0
    #: where the tasks went ("OUT/review/tasks.json" or a server URL and project) -> (tasks, spans)
    targets: dict[str, list[int]] = field(default_factory=dict)
    #: kind -> spans routed
    kinds: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_review_queue(out: str | Path) -> ReviewQueue | None:
    """The routing ledger summed per target and kind; None when nothing was routed (or OUT is remote:
    review keeps its ledgers in a local OUT only)."""
    if outfs.is_remote(out):
        return None
    from factsep.review.ledger import RoutingLedger

    latest = {(t.target, t.task_key): t for t in RoutingLedger(outfs.local_path(out))}
    if not latest:
        return None
    queue = ReviewQueue()
    for (target, _key), task in sorted(latest.items()):
        where = outfs.local_path(layout(out).tasks_file) if target == "file" else target
        counts = queue.targets.setdefault(where, [0, 0])
        counts[0] += 1
        counts[1] += len(task.spans)
        queue.tasks += 1
        queue.spans += len(task.spans)
        for span in task.spans:
            kind = str(span.get("kind"))
            queue.kinds[kind] = queue.kinds.get(kind, 0) + 1
    queue.kinds = dict(sorted(queue.kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    return queue


def input_rows(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per input file of the manifest: path, format, documents, quarantined, spans, bytes."""
    inputs = manifest.get("inputs") if isinstance(manifest, dict) else None
    if isinstance(inputs, dict):
        inputs = list(inputs.values())
    rows = []
    for item in inputs or []:
        if not isinstance(item, dict):
            continue
        counts = item.get("counts") or {}
        fingerprint = item.get("fingerprint") or {}
        rows.append(
            {
                "file": str(item.get("path") or item.get("rel") or item.get("url") or "?"),
                "format": str(item.get("format") or "–")
                + (f" ({item['compression']})" if item.get("compression") else ""),
                "written": counts.get("written"),
                "quarantined": counts.get("quarantined"),
                "spans": counts.get("spans"),
                "bytes": fingerprint.get("size"),
            }
        )
    return rows


@dataclass
class ReportData:
    """Everything the report shows; built by :func:`collect_report`."""

    out: str
    generated_at: str
    min_bits: float
    bits_per_param: float
    documents: int
    documents_with_facts: int
    kinds: list[KindStats]
    total: KindStats
    quarantine: QuarantineSummary
    manifest: dict[str, Any]
    #: (kind, bin start) -> number of distinct values, for the bits histogram.
    bits_hist: list[dict[str, Any]] = field(default_factory=list)
    #: (status, bin) -> spans, for the confidence histogram.
    confidence_hist: list[dict[str, Any]] = field(default_factory=list)
    #: kind -> [(value, count)] (only with show_values).
    top_values: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    #: Most common subtypes: kind, subtype, spans, random-fact spans, distinct random values.
    subtypes: list[dict[str, Any]] = field(default_factory=list)
    values_kept: bool = True
    review_low: float | None = None
    review_high: float | None = None
    #: the input files of the scan (see :func:`input_rows`)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    review: ReviewQueue | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def status_of(decision: str) -> str:
    """The review status (one of :data:`STATUS_ORDER`) of a decision."""
    if decision in HUMAN:
        return "human"
    if decision == PENDING_REVIEW:
        return "pending"
    return "auto rejected" if decision in REJECTED else "auto accepted"


def _status(decision_col: pl.Expr) -> pl.Expr:
    return (
        pl.when(decision_col.is_in(list(HUMAN)))
        .then(pl.lit("human"))
        .when(decision_col == PENDING_REVIEW)
        .then(pl.lit("pending"))
        .when(decision_col.is_in(sorted(REJECTED)))
        .then(pl.lit("auto rejected"))
        .otherwise(pl.lit("auto accepted"))
    )


def span_files(out: str | Path) -> list[str]:
    return Layout.of(out).span_parts()


def dataset_files(out: str | Path) -> list[str]:
    return Layout.of(out).dataset_parts()


def read_manifest(out: str | Path) -> dict[str, Any]:
    path = outfs.join(out, "manifest.json")
    try:
        return json.loads(outfs.read_bytes(path).decode("utf-8"))
    except (OSError, ValueError):
        return {}


def find_setting(mapping: Any, key: str) -> Any:
    """First value of ``key`` anywhere in a nested manifest (its layout belongs to the scan)."""
    if isinstance(mapping, dict):
        if key in mapping and not isinstance(mapping[key], dict):
            return mapping[key]
        for value in mapping.values():
            found = find_setting(value, key)
            if found is not None:
                return found
    return None


def _empty_spans() -> pl.LazyFrame:
    return pl.LazyFrame(
        schema={
            "kind": pl.String,
            "subtype": pl.String,
            "value_hash": pl.String,
            "bits": pl.Float32,
            "confidence": pl.Float32,
            "decision": pl.String,
            "corpus_count": pl.Int64,
        }
    )


def _spans_frame(out: str | Path, with_text: bool = False) -> pl.LazyFrame:
    files = span_files(out)
    if not files:
        return _empty_spans()
    cols = ["kind", "subtype", "value_hash", "bits", "confidence", "decision", "corpus_count"]
    if with_text:
        cols.append("text")
    return outfs.scan_parquet(files).select(cols)


def _is_random(min_bits: float, include_pending: bool = False) -> pl.Expr:
    return random_fact(min_bits, include_pending)


def value_table(spans: pl.LazyFrame, min_bits: float, include_pending: bool = False) -> pl.LazyFrame:
    """:func:`factsep.counts.random_values`: the scan summary and manifest count from the same table."""
    return random_values(spans, min_bits, include_pending)


def _collect_all(frames: list[pl.LazyFrame]) -> list[pl.DataFrame]:
    try:
        return pl.collect_all(frames, engine="streaming")
    except Exception:  # pragma: no cover - engines without streaming support for a plan
        return pl.collect_all(frames)


def _collect(lf: pl.LazyFrame) -> pl.DataFrame:
    try:
        return lf.collect(engine="streaming")
    except Exception:  # pragma: no cover - engines without streaming support for a plan
        return lf.collect()


def _reason_class(reason: str) -> str:
    for sep in (": ", " ("):
        reason = reason.split(sep, 1)[0]
    return reason.strip() or "unknown"


def read_quarantine(out: str | Path, show_values: bool = False) -> QuarantineSummary:
    """Count quarantined records by file and reason.

    Without ``show_values`` a reason is cut to its class (before ``": "`` or ``" ("``) so a message
    that quotes the bad input ("bad JSON: {...}") cannot leak it, and variants group together.
    """
    summary = QuarantineSummary()
    for path in outfs.glob(layout(out).quarantine_dir, "*.jsonl"):
        name = outfs.name_of(path)
        with io.TextIOWrapper(io.BytesIO(outfs.read_bytes(path)), encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                summary.records += 1
                summary.files[name] = summary.files.get(name, 0) + 1
                try:
                    record = json.loads(line)
                    reason = str(record.get("reason", "unknown")) if isinstance(record, dict) else "unknown"
                except ValueError:
                    reason = "unreadable quarantine line"
                if not show_values:
                    reason = _reason_class(reason)
                reason = reason[:120]
                summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
    summary.reasons = dict(sorted(summary.reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    return summary


def _documents(out: str | Path, min_bits: float) -> tuple[int, int]:
    """(documents, documents with random facts), one file at a time: parts of different inputs
    carry different input columns, so they are never scanned as one table. A document counts when
    one of its ``random_facts`` is a random fact by :func:`factsep.span.is_random_fact`."""
    import pyarrow.compute as pc

    accepted = pa.array(sorted(ACCEPTED))
    documents = with_facts = 0
    for path in dataset_files(out):
        pf = outfs.parquet_file(path)
        documents += pf.metadata.num_rows
        if "random_facts" not in pf.schema_arrow.names:
            continue
        for batch in outfs.iter_batches(pf, 65536, ["random_facts"]):  # a row group at a time
            facts = batch.column(0)
            flat = pc.list_flatten(facts)
            if not len(flat):
                continue
            parents = pc.list_parent_indices(facts)
            keep = pc.and_(
                pc.is_in(flat.field("decision"), value_set=accepted),
                pc.greater_equal(flat.field("bits"), pa.scalar(min_bits, pa.float32())),
            )
            with_facts += len(pc.unique(pc.filter(parents, keep)))
    return documents, with_facts


def collect_report(
    out: str | Path,
    *,
    min_bits: float | None = None,
    bits_per_param: float = DEFAULT_BITS_PER_PARAM,
    show_values: bool = False,
    top_n: int = 10,
) -> ReportData:
    """Aggregate a scan output directory into the numbers of the report."""
    manifest = read_manifest(out)
    if min_bits is None:
        found = find_setting(manifest, "random_bits_threshold")
        min_bits = float(found) if isinstance(found, (int, float)) else default_min_bits()
    spans = _spans_frame(out)

    def per_value(v: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
        """Per kind (or overall): distinct values, singletons, occurrences, bits."""
        aggs = [
            pl.len().alias("distinct"),
            (pl.col("count") == 1).sum().alias("singletons"),
            pl.col("count").sum().alias("occurrences"),
            pl.col("bits").sum().alias("bits_total"),
            pl.col("bits").median().alias("bits_median"),
        ]
        return v.group_by(by).agg(aggs) if by else v.select(aggs)

    values = value_table(spans, min_bits)
    values_up = value_table(spans, min_bits, include_pending=True)
    status_expr = _status(pl.col("decision")).alias("status")
    conf_bin = (
        (pl.col("confidence").cast(pl.Float64) * CONFIDENCE_BINS)
        .floor()
        .clip(0, CONFIDENCE_BINS - 1)
        .cast(pl.Int32)
        .alias("bin")
    )
    # One pass of polars over the span files for every aggregate (shared sub-plans are computed once);
    # what comes back is per kind or per bin, never per span or per value.
    (
        by_value,
        by_value_all,
        up_value,
        up_value_all,
        by_decision,
        conf,
        conf_all,
        rf_spans,
        bits_hist,
        conf_hist,
        subtypes,
    ) = _collect_all(
        [
            per_value(values, ["kind"]),
            per_value(values, []),
            per_value(values_up, ["kind"]),
            per_value(values_up, []),
            spans.group_by(["kind", "decision"]).agg(pl.len().alias("n")),
            spans.group_by("kind").agg(pl.col("confidence").median().alias("median")),
            spans.select(pl.col("confidence").median()),
            spans.filter(_is_random(min_bits)).group_by("kind").agg(pl.len().alias("n")),
            spans.filter(~pl.col("decision").is_in(sorted(REJECTED)))
            .group_by(["kind", "value_hash"])
            .agg(pl.col("bits").cast(pl.Float64).mean().alias("bits"))
            .with_columns(((pl.col("bits") / BITS_BIN).floor() * BITS_BIN).alias("bin"))
            .group_by(["kind", "bin"])
            .agg(pl.len().alias("n"))
            .sort(["kind", "bin"]),
            spans.with_columns(status_expr, conf_bin)
            .group_by(["status", "bin"])
            .agg(pl.len().alias("n"))
            .sort(["status", "bin"]),
            spans.with_columns(_is_random(min_bits).alias("_random"))
            .group_by(["kind", "subtype"])
            .agg(
                pl.len().alias("spans"),
                pl.col("_random").sum().alias("random_fact_spans"),
                pl.col("value_hash").filter(pl.col("_random")).n_unique().alias("distinct_values"),
            )
            .sort(["spans", "kind", "subtype"], descending=[True, False, False], nulls_last=True),
        ]
    )

    kinds = sorted(set(by_decision["kind"].to_list()))
    stats: dict[str, KindStats] = {k: KindStats(kind=k) for k in kinds}
    total = KindStats(kind="all")
    for kind, decision, n in by_decision.iter_rows():
        for s in (stats[kind], total):
            s.spans += n
            s.decisions[decision] = s.decisions.get(decision, 0) + n
            group = status_of(decision)
            s.status[group] = s.status.get(group, 0) + n
    for kind, n in rf_spans.iter_rows():
        stats[kind].random_fact_spans = n
        total.random_fact_spans += n
    for kind, median in conf.iter_rows():
        stats[kind].confidence_median = None if median is None else float(median)
    median_all = conf_all.item() if conf_all.height else None
    total.confidence_median = None if median_all is None else float(median_all)

    def fill(s: KindStats, row: dict[str, Any]) -> None:
        s.distinct_values = int(row["distinct"] or 0)
        if not s.distinct_values:
            return
        s.singletons = int(row["singletons"])
        s.monofact_rate = s.singletons / s.distinct_values
        occurrences = int(row["occurrences"] or 0)
        s.singleton_occurrence_share = s.singletons / occurrences if occurrences else None
        s.bits_total = float(row["bits_total"])
        s.bits_median = float(row["bits_median"])
        s.params_needed = s.bits_total / bits_per_param

    def fill_up(s: KindStats, row: dict[str, Any]) -> None:
        s.distinct_with_pending = int(row["distinct"] or 0)
        if s.distinct_with_pending:
            s.monofact_rate_with_pending = int(row["singletons"]) / s.distinct_with_pending
            s.params_with_pending = float(row["bits_total"]) / bits_per_param

    for row in by_value.to_dicts():
        fill(stats[row["kind"]], row)
    for row in up_value.to_dicts():
        fill_up(stats[row["kind"]], row)
    if by_value_all.height:
        fill(total, by_value_all.row(0, named=True))
    if up_value_all.height:
        fill_up(total, up_value_all.row(0, named=True))

    top_values: dict[str, list[tuple[str, int]]] = {}
    values_kept = True
    if show_values and span_files(out):
        texts = _collect(
            _spans_frame(out, with_text=True)
            .filter(_is_random(min_bits))
            .group_by(["kind", "value_hash"])
            .agg(pl.col("text").drop_nulls().first().alias("text"), pl.len().alias("n"))
            .sort(["kind", "n", "value_hash"], descending=[False, True, False])
            .group_by("kind", maintain_order=True)
            .head(top_n)
        )
        values_kept = texts.height == 0 or texts["text"].null_count() < texts.height
        for kind, _vh, text, n in texts.select(["kind", "value_hash", "text", "n"]).iter_rows():
            top_values.setdefault(kind, []).append((text if text is not None else "(not kept)", int(n)))

    documents, with_facts = _documents(out, min_bits)
    low = find_setting(manifest, "review_low")
    high = find_setting(manifest, "review_high")
    return ReportData(
        out=str(out),
        generated_at=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        min_bits=float(min_bits),
        bits_per_param=bits_per_param,
        documents=documents,
        documents_with_facts=with_facts,
        kinds=[stats[k] for k in kinds],
        total=total,
        quarantine=read_quarantine(out, show_values=show_values),
        manifest=manifest,
        bits_hist=bits_hist.to_dicts(),
        confidence_hist=conf_hist.to_dicts(),
        subtypes=subtypes.to_dicts(),
        top_values=top_values,
        values_kept=values_kept,
        review_low=float(low) if isinstance(low, (int, float)) else None,
        review_high=float(high) if isinstance(high, (int, float)) else None,
        inputs=input_rows(manifest),
        review=read_review_queue(out),
    )


def report_summary(out: str | Path, **kwargs: Any) -> dict[str, Any]:
    """The key numbers, JSON-ready, for Prefect artifacts and CLI output (no raw values)."""
    return summary_from(collect_report(out, **{k: v for k, v in kwargs.items() if k != "show_values"}))


def summary_from(data: ReportData) -> dict[str, Any]:
    """:func:`report_summary` of already collected data (``write_report(...).data``): no second pass."""
    t = data.total
    return {
        "documents": data.documents,
        "documents_with_facts": data.documents_with_facts,
        "spans": t.spans,
        "random_fact_spans": t.random_fact_spans,
        "distinct_values": t.distinct_values,
        "singletons": t.singletons,
        "monofact_rate": t.monofact_rate,
        "singleton_occurrence_share": t.singleton_occurrence_share,
        "bits_total": t.bits_total,
        "params_needed": t.params_needed,
        "distinct_values_with_pending": t.distinct_with_pending,
        "monofact_rate_with_pending": t.monofact_rate_with_pending,
        "params_with_pending": t.params_with_pending,
        "bits_per_param": data.bits_per_param,
        "min_bits": data.min_bits,
        "status": dict(t.status),
        "quarantined": data.quarantine.records,
        "inputs": len(data.inputs),
        "review_tasks": data.review.tasks if data.review else 0,
        "review_spans": data.review.spans if data.review else 0,
        "kinds": {
            k.kind: {
                "spans": k.spans,
                "random_fact_spans": k.random_fact_spans,
                "distinct_values": k.distinct_values,
                "singletons": k.singletons,
                "monofact_rate": k.monofact_rate,
                "bits_total": k.bits_total,
                "params_needed": k.params_needed,
                "monofact_rate_with_pending": k.monofact_rate_with_pending,
                "pending": k.status.get("pending", 0),
                "human": k.status.get("human", 0),
            }
            for k in data.kinds
        },
    }


# ---------------------------------------------------------------------------------- formatting


def human_count(x: float) -> str:
    """1234567 -> '1.23M': parameter counts span many orders of magnitude."""
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            return f"{x / size:.3g}{unit}"
    return f"{x:.3g}" if x and x != int(x) else f"{int(x)}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


KIND_COLUMNS = (
    "kind",
    "spans",
    "random facts",
    "distinct values",
    "seen once",
    "monofact rate",
    "GT singleton share",
    "median bits",
    "total bits",
    "params @ {bpp} bits/param",
    "monofact incl. pending",
    "params incl. pending",
    "median confidence",
    *STATUS_ORDER,
)


def kind_rows(data: ReportData) -> list[list[str]]:
    rows = []
    for k in [*data.kinds, data.total]:
        rows.append(
            [
                k.kind,
                str(k.spans),
                str(k.random_fact_spans),
                str(k.distinct_values),
                str(k.singletons),
                _pct(k.monofact_rate),
                _pct(k.singleton_occurrence_share),
                _num(k.bits_median),
                f"{k.bits_total:,.0f}",
                human_count(k.params_needed),
                _pct(k.monofact_rate_with_pending),
                human_count(k.params_with_pending),
                _num(k.confidence_median, 2),
                *(str(k.status.get(s, 0)) for s in STATUS_ORDER),
            ]
        )
    return rows


def kind_columns(data: ReportData) -> list[str]:
    """Header of :func:`kind_rows` (for Prefect table artifacts)."""
    return [c.format(bpp=f"{data.bits_per_param:g}") for c in KIND_COLUMNS]


_columns = kind_columns  # kept: flows imported it under this name


def subtype_rows(data: ReportData) -> list[list[str]]:
    return [
        [r["kind"], r["subtype"] or "–", str(r["spans"]), str(r["random_fact_spans"]), str(r["distinct_values"])]
        for r in data.subtypes
    ]


def all_unique(data: ReportData) -> bool:
    """Every distinct random-fact value is seen exactly once (a chart of 100% bars would say nothing)."""
    return data.total.distinct_values > 0 and data.total.singletons == data.total.distinct_values


def monofact_sentence(data: ReportData) -> str | None:
    """What the monofact chart would show when it shows nothing: every value is unique."""
    if not all_unique(data):
        return None
    t = data.total
    return (
        f"Every one of the {t.distinct_values:,} distinct random-fact values is seen exactly once: the "
        "monofact rate is 100% for every kind, so a calibrated model trained on this corpus would "
        "hallucinate on about every question about them."
    )


def paged(rows: list[list[str]], where: str, limit: int | None = None) -> tuple[list[list[str]], str | None]:
    """At most ``limit`` (default :data:`MAX_TABLE_ROWS`) rows, and the note that says so (``where``:
    where the rest is)."""
    limit = MAX_TABLE_ROWS if limit is None else limit
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], f"first {limit:,} of {len(rows):,} rows; all of them: {where}"


def input_table_rows(data: ReportData) -> list[list[str]]:
    def n(x: Any) -> str:
        return "–" if x is None else f"{int(x):,}"

    return [[r["file"], r["format"], n(r["written"]), n(r["quarantined"]), n(r["spans"]), n(r["bytes"])]
            for r in data.inputs]  # fmt: skip


def _files(n: int) -> str:
    return f"{n:,} file" if n == 1 else f"{n:,} files"


INPUT_COLUMNS = ["file", "format", "documents", "quarantined", "spans", "bytes"]


def review_lines(data: ReportData) -> list[str]:
    """Sentences on what went to review: tasks, spans, and where."""
    q = data.review
    if q is None:
        return ["Nothing was routed to review (`factsep route OUT` sends the uncertain spans)."]
    lines = [f"{q.tasks:,} review tasks hold {q.spans:,} spans:"]
    for where, (tasks, spans) in q.targets.items():
        how = "written for Label Studio import to" if where.endswith("tasks.json") else "in Label Studio at"
        lines.append(f"{tasks:,} tasks ({spans:,} spans) {how} {where}")
    return lines


# ---------------------------------------------------------------------------------------- plots


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)  # figures are already tight_layout-ed: no second pass
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def make_plots(data: ReportData) -> dict[str, str]:
    """The report's figures as base64 PNGs (matplotlib's Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    plots: dict[str, str] = {}
    kinds = [k.kind for k in data.kinds]
    if not kinds:
        return plots

    # Bits histogram, one panel per kind.
    ncols = min(4, len(kinds))
    nrows = (len(kinds) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.4 * nrows), squeeze=False)
    for ax, kind in zip(axes.flat, kinds, strict=False):
        rows = [r for r in data.bits_hist if r["kind"] == kind]
        ax.bar(
            [r["bin"] for r in rows],
            [r["n"] for r in rows],
            width=BITS_BIN * 0.9,
            align="edge",
            color="#3b6ea5",
        )
        ax.axvline(data.min_bits, color="#c0392b", linestyle="--", linewidth=1)
        ax.set_title(kind, fontsize=9)
        ax.set_xlim(left=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("bits", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(kinds) :]:
        ax.set_visible(False)
    fig.suptitle(f"Bits per distinct value (dashed: random threshold {data.min_bits:g} bits)", fontsize=10)
    fig.tight_layout()
    plots["bits"] = _png(fig)

    # Confidence distribution, stacked by review status.
    fig, ax = plt.subplots(figsize=(7, 3))
    bottom = [0] * CONFIDENCE_BINS
    colors = {"auto accepted": "#3b6ea5", "auto rejected": "#a0a7b0", "pending": "#e6a23c", "human": "#2e8b57"}
    for status in STATUS_ORDER:
        counts = [0] * CONFIDENCE_BINS
        for r in data.confidence_hist:
            if r["status"] == status:
                counts[int(r["bin"])] += int(r["n"])
        ax.bar(
            [i / CONFIDENCE_BINS for i in range(CONFIDENCE_BINS)],
            counts,
            width=0.9 / CONFIDENCE_BINS,
            align="edge",
            bottom=bottom,
            label=status,
            color=colors[status],
        )
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    for edge in (data.review_low, data.review_high):
        if edge is not None:
            ax.axvline(edge, color="#555", linestyle=":", linewidth=1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("spans")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Confidence by review status (dotted: review band)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    plots["confidence"] = _png(fig)

    # Monofact rate (unless every value is unique: then a sentence says it) and memory budget per kind.
    ys = list(range(len(kinds)))
    if all_unique(data):
        fig, ax2 = plt.subplots(figsize=(6, 0.35 * len(kinds) + 1.4))
    else:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 0.35 * len(kinds) + 1.4))
        ax1.barh(ys, [100 * (k.monofact_rate or 0) for k in data.kinds], color="#8e44ad")
        ax1.set_yticks(ys, kinds, fontsize=8)
        ax1.set_xlim(0, 100)
        ax1.set_xlabel("monofact rate (% of distinct values seen once)")
        ax1.invert_yaxis()
    params = [max(k.params_needed, 0) for k in data.kinds]
    ax2.barh(ys, params, color="#16a085")
    ax2.set_yticks(ys, kinds, fontsize=8)
    if any(p > 0 for p in params):
        ax2.set_xscale("log")
        ax2.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: human_count(x)))
        ax2.xaxis.set_minor_formatter(NullFormatter())
        for y, p in zip(ys, params, strict=True):
            if p > 0:
                ax2.text(p, y, f" {human_count(p)}", va="center", fontsize=7)
        ax2.set_xlim(right=max(params) * 4)
    ax2.set_xlabel(f"parameters to memorize (@ {data.bits_per_param:g} bits/param)")
    ax2.invert_yaxis()
    fig.tight_layout()
    plots["budget"] = _png(fig)

    # Review status per kind.
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(kinds) + 1.2))
    left = [0] * len(kinds)
    for status in STATUS_ORDER:
        counts = [k.status.get(status, 0) for k in data.kinds]
        ax.barh(ys, counts, left=left, label=status, color=colors[status])
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.set_yticks(ys, kinds, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("spans")
    ax.legend(fontsize=8)
    ax.set_title("Review status per kind", fontsize=10)
    fig.tight_layout()
    plots["status"] = _png(fig)
    return plots


# ----------------------------------------------------------------------------------- rendering

_CSS = """
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:2rem auto;max-width:1400px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.sub{color:#666;font-size:.9rem}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{background:#f4f7fb;border:1px solid #dde5ef;border-radius:8px;padding:.8rem 1.1rem;min-width:150px}
.card b{display:block;font-size:1.5rem;color:#1f4e79}.card span{font-size:.8rem;color:#555}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .4rem;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
tr.total td{font-weight:bold;background:#fafafa}img{max-width:100%;margin:.5rem 0}
.note{font-size:.85rem;color:#444;max-width:900px}
"""


def _paged_html(header: list[str], rows: list[list[str]], where: str) -> str:
    """A table of at most MAX_TABLE_ROWS rows; a longer one says so above it and where the rest is."""
    shown, note = paged(rows, where)
    prefix = f"<p class='note'><b>{html.escape(note)}</b></p>" if note else ""
    return prefix + _table_html(header, shown)


def _table_html(header: list[str], rows: list[list[str]], total_last: bool = False) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="total"' if total_last and i == len(rows) - 1 else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return f"<div class='scroll'>{table}</div>"


def _run_facts(data: ReportData) -> list[tuple[str, str]]:
    m = data.manifest
    facts = [("output", data.out), ("generated", data.generated_at)]
    for key in ("run_id", "schema_version", "detector_version", "created_at", "finished_at"):
        value = find_setting(m, key)
        if value is not None:
            facts.append((key, str(value)))
    inputs = m.get("inputs") if isinstance(m, dict) else None
    if isinstance(inputs, (list, dict)):
        facts.append(("inputs", str(len(inputs))))
    facts.append(("random threshold", f"{data.min_bits:g} bits"))
    return facts


def render_html(data: ReportData, plots: dict[str, str], show_values: bool = False) -> str:
    t = data.total
    cards = [
        (str(data.documents), "documents"),
        (str(t.random_fact_spans), "random-fact spans"),
        (str(t.distinct_values), "distinct random facts"),
        (_pct(t.monofact_rate), "monofact rate (≈ hallucination floor)"),
        (f"{t.bits_total:,.0f}", "bits to memorize"),
        (human_count(t.params_needed), f"parameters @ {data.bits_per_param:g} bits/param"),
        (str(t.status.get("pending", 0)), "spans pending review"),
        (str(data.quarantine.records), "quarantined records"),
    ]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>factsep report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>factsep report</h1>",
        f"<div class='sub'>{html.escape(data.out)} · {html.escape(data.generated_at)}</div>",
        "<div class='cards'>",
        *(f"<div class='card'><b>{html.escape(v)}</b><span>{html.escape(lbl)}</span></div>" for v, lbl in cards),
        "</div>",
        "<h2>Per kind</h2>",
        _table_html(kind_columns(data), kind_rows(data), total_last=True),
        "<p class='note'><b>Random facts</b> are accepted spans (auto or human) with at least "
        f"{data.min_bits:g} bits. <b>Monofact rate</b>: share of distinct random-fact values the corpus "
        "states exactly once; Kalai and Vempala show a calibrated model hallucinates on such facts at "
        "least at about this rate. <b>GT singleton share</b>: the Good-Turing form, singleton values over "
        "all occurrences. <b>Params</b>: total bits of the distinct values divided by the bits a parameter "
        "stores (about 2, Allen-Zhu and Li): the memory a model needs to hold every one of them. "
        "<b>Incl. pending</b>: the same if every value still waiting for review were accepted.</p>",
    ]
    captions = {
        "budget": "Monofact rate and memory budget",
        "bits": "Bits distribution",
        "confidence": "Confidence distribution",
        "status": "Review status",
    }
    unique = monofact_sentence(data)
    if unique:
        captions["budget"] = "Memory budget"
    for key, caption in captions.items():
        if key == "budget" and unique:
            parts.append(f"<h2>Monofact rate</h2><p class='note' id='all-unique'>{html.escape(unique)}</p>")
        if key in plots:
            parts.append(f"<h2>{caption}</h2><img alt='{caption}' src='data:image/png;base64,{plots[key]}'>")
    decisions = [d for d in DECISIONS if t.decisions.get(d)] + sorted(set(t.decisions) - set(DECISIONS))
    parts.append("<h2>Review queue</h2>")
    parts.append("<p>" + "<br>".join(html.escape(line) for line in review_lines(data)) + "</p>")
    if data.review is not None and data.review.kinds:
        parts.append(_table_html(["kind", "spans routed"], [[k, str(n)] for k, n in data.review.kinds.items()]))
    if data.subtypes:
        parts.append(f"<h2>Subtypes ({len(data.subtypes)})</h2>")
        parts.append(
            _paged_html(
                ["kind", "subtype", "spans", "random facts", "distinct values"], subtype_rows(data), "report.md"
            )
        )
    parts.append("<h2>Decisions</h2>")
    parts.append(
        _table_html(
            ["kind", *decisions],
            [[k.kind, *(str(k.decisions.get(d, 0)) for d in decisions)] for k in [*data.kinds, t]],
            total_last=True,
        )
    )
    parts.append("<h2>Quarantine</h2>")
    q = data.quarantine
    if q.records:
        parts.append(f"<p>{q.records} records quarantined (kept with file, location and reason).</p>")
        parts.append(_paged_html(["reason", "records"], [[r, str(n)] for r, n in q.reasons.items()], "quarantine/"))
        parts.append(_paged_html(["file", "records"], [[f, str(n)] for f, n in q.files.items()], "quarantine/"))
    else:
        parts.append("<p>No quarantined records.</p>")
    if show_values:
        parts.append("<h2>Most frequent values (--show-values)</h2>")
        if not data.values_kept:
            parts.append("<p>The scan dropped raw values; only hashes exist.</p>")
        for kind, vals in data.top_values.items():
            parts.append(f"<h3>{html.escape(kind)}</h3>")
            parts.append(_table_html(["value", "spans"], [[v, str(n)] for v, n in vals]))
    parts.append(f"<h2>Inputs ({_files(len(data.inputs))})</h2>")
    if data.inputs:
        parts.append(_paged_html(INPUT_COLUMNS, input_table_rows(data), "manifest.json (inputs)"))
    else:
        parts.append("<p>The manifest lists no input files.</p>")
    parts.append("<h2>Run</h2>")
    parts.append(_table_html(["run", "value"], [[a, b] for a, b in _run_facts(data)]))
    parts.append("</body></html>")
    return "\n".join(parts)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(x: str) -> str:
        return str(x).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(data: ReportData, show_values: bool = False) -> str:
    t = data.total
    lines = [
        "# factsep report",
        "",
        f"`{data.out}` · {data.generated_at}",
        "",
        f"- documents: {data.documents} ({data.documents_with_facts} with random facts)",
        f"- random-fact spans: {t.random_fact_spans} of {t.spans} spans; distinct values: {t.distinct_values}",
        f"- monofact rate: {_pct(t.monofact_rate)} (Good-Turing singleton share {_pct(t.singleton_occurrence_share)})",
        f"- memory budget: {t.bits_total:,.0f} bits ≈ {human_count(t.params_needed)} parameters at "
        f"{data.bits_per_param:g} bits/parameter",
        "- review status: " + ", ".join(f"{s} {t.status.get(s, 0)}" for s in STATUS_ORDER),
        "- review queue: " + " ".join(review_lines(data)),
        f"- quarantined records: {data.quarantine.records}",
        f"- inputs: {_files(len(data.inputs))} (listed below)",
        "",
        "## Per kind",
        "",
        _md_table(kind_columns(data), kind_rows(data)),
        "",
        f"Random facts: accepted spans with at least {data.min_bits:g} bits. "
        "Monofact rate: share of distinct values seen exactly once "
        "(Kalai and Vempala's lower bound on the hallucination rate of a "
        "calibrated model on such facts). Params: total bits / bits per parameter (Allen-Zhu and Li).",
        "",
        *([monofact_sentence(data) or "", ""] if monofact_sentence(data) else []),
        "Plots (bits and confidence distributions) are in report.html.",
        "",
    ]
    if data.subtypes:
        lines += [
            "## Subtypes",
            "",
            _md_table(["kind", "subtype", "spans", "random facts", "distinct values"], subtype_rows(data)),
            "",
        ]
    lines += [
        "## Quarantine",
        "",
    ]
    q = data.quarantine
    if q.records:
        lines.append(_md_table(["reason", "records"], [[r, str(n)] for r, n in q.reasons.items()]))
    else:
        lines.append("No quarantined records.")
    lines += ["", f"## Inputs ({_files(len(data.inputs))})", ""]
    if data.inputs:
        lines.append(_md_table(INPUT_COLUMNS, input_table_rows(data)))
    if show_values and data.top_values:
        lines += ["", "## Most frequent values", ""]
        for kind, vals in data.top_values.items():
            lines += [f"### {kind}", "", _md_table(["value", "spans"], [[v, str(n)] for v, n in vals]), ""]
    return "\n".join(lines) + "\n"


def _atomic_write(path: str, text: str) -> None:
    """The report appears whole or not at all, locally or on an object store (see io/atomic.py)."""
    from factsep.io.atomic import write_bytes

    write_bytes(path, text.encode("utf-8"))


@dataclass
class ReportPaths:
    html: str
    markdown: str
    data: ReportData

    def to_dict(self) -> dict[str, Any]:
        return {"html": self.html, "markdown": self.markdown}


def write_report(
    out: str | Path,
    *,
    show_values: bool = False,
    min_bits: float | None = None,
    bits_per_param: float = DEFAULT_BITS_PER_PARAM,
    html_path: str | Path | None = None,
    md_path: str | Path | None = None,
) -> ReportPaths:
    """Write ``OUT/report.html`` (self-contained, plots embedded) and ``OUT/report.md``."""
    data = collect_report(out, min_bits=min_bits, bits_per_param=bits_per_param, show_values=show_values)
    plots = make_plots(data)
    hp = str(html_path) if html_path else outfs.join(out, "report.html")
    mp = str(md_path) if md_path else outfs.join(out, "report.md")
    _atomic_write(hp, render_html(data, plots, show_values=show_values))
    _atomic_write(mp, render_markdown(data, show_values=show_values))
    return ReportPaths(html=str(hp), markdown=str(mp), data=data)
