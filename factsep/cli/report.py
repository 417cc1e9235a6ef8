"""``factsep report`` and ``factsep export``: the scan's numbers for people, its dataset for trainers."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()

#: Columns of the per-kind table that ``factsep scan``, ``factsep run`` and ``factsep report`` print.
FACT_COLUMNS = ("kind", "spans", "random facts", "pending", "distinct", "seen once", "monofact rate", "bits")


def facts_table(title: str, rows: dict[str, dict]) -> Table:
    """The per-kind table of random facts (:func:`factsep.span.is_random_fact`), one for every command.

    ``rows``: kind -> spans, facts, pending, distinct_values, singletons, monofact_rate, bits_total.
    """
    table = Table(title=title)
    for col in FACT_COLUMNS:
        table.add_column(col, justify="left" if col == "kind" else "right", no_wrap=col == "kind")
    for kind, k in rows.items():
        rate = k.get("monofact_rate")
        table.add_row(
            kind,
            f"{k.get('spans', 0):,}",
            f"{k.get('facts', 0):,}",
            f"{k.get('pending', 0):,}",
            f"{k.get('distinct_values', 0):,}",
            f"{k.get('singletons', 0):,}",
            "–" if rate is None else f"{100 * rate:.1f}%",
            f"{k.get('bits_total', 0):,.0f}",
        )
    return table


def facts_line(facts: int, documents_with_facts: int, distinct: int, bits: float, min_bits: float | None) -> str:
    """The headline every command prints: random facts, the documents holding them, their bits."""
    rule = f"accepted, >= {min_bits:g} bits" if min_bits is not None else "accepted, enough bits"
    return (
        f"{facts:,} random facts ({rule}) in {documents_with_facts:,} documents; "
        f"{distinct:,} distinct values, {bits:,.0f} bits"
    )


def _check_out(out: str) -> None:
    """Refuse a folder that is not a scan output, before writing anything into it."""
    from factsep.io import fs as outfs
    from factsep.report import dataset_files, span_files

    if not outfs.is_remote(out) and not Path(outfs.local_path(out)).is_dir():
        found = False
    else:
        found = bool(span_files(out) or dataset_files(out) or outfs.exists(outfs.join(out, "manifest.json")))
    if not found:
        console.print(f"[red]no scan output at {escape(str(out))} (expected spans/, dataset/ or manifest.json)[/red]")
        raise typer.Exit(2)


def report(
    out: str = typer.Argument(..., help="Scan output directory (OUT): a folder or an fsspec URL."),
    show_values: bool = typer.Option(False, "--show-values", help="Include raw values (most frequent per kind)."),
    min_bits: float | None = typer.Option(
        None, "--min-bits", help="Bits for a span to count as random (default: scan's)."
    ),
    bits_per_param: float = typer.Option(2.0, "--bits-per-param", help="Bits a parameter stores (Allen-Zhu & Li)."),
    as_json: bool = typer.Option(False, "--json", help="Print the key numbers as JSON (no raw values)."),
) -> None:
    """Write OUT/report.html (self-contained, plots embedded) and OUT/report.md."""
    from factsep.report import human_count, summary_from, write_report

    _check_out(out)
    paths = write_report(out, show_values=show_values, min_bits=min_bits, bits_per_param=bits_per_param)
    data = paths.data
    if as_json:
        summary = {**summary_from(data), "html": paths.html, "markdown": paths.markdown}
        typer.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    rows = {
        k.kind: {
            "spans": k.spans,
            "facts": k.random_fact_spans,
            "pending": k.status.get("pending", 0),
            "distinct_values": k.distinct_values,
            "singletons": k.singletons,
            "monofact_rate": k.monofact_rate,
            "bits_total": k.bits_total,
        }
        for k in [*data.kinds, data.total]
    }
    console.print(facts_table(f"random facts in {escape(str(out))}", rows))
    t = data.total
    console.print(
        facts_line(t.random_fact_spans, data.documents_with_facts, t.distinct_values, t.bits_total, data.min_bits)
    )
    console.print(f"to memorize them: {human_count(t.params_needed)} parameters at {data.bits_per_param:g} bits each")
    console.print(f"quarantined records: {data.quarantine.records}")
    console.print(escape(f"wrote {paths.html} and {paths.markdown}"))


def export(
    out: str = typer.Argument(..., help="Scan output directory (OUT): a folder or an fsspec URL."),
    fmt: str = typer.Option("tagged", "--format", "-f", help="tagged, masked or abstain."),
    to: str = typer.Option(
        ..., "--to", help="Parquet file to write, path or fsspec URL (a directory gets <format>.parquet)."
    ),
    tokenizer: str | None = typer.Option(
        None, "--tokenizer", help="Local tokenizer.json or saved HF tokenizer dir (masked: adds token masks)."
    ),
    weight_by_bits: bool = typer.Option(False, "--weight-by-bits", help="masked: down-weight by bits, not 0."),
    open_tag: str | None = typer.Option(None, "--open", help="tagged: open marker ({kind} {bits} {subtype})."),
    close_tag: str | None = typer.Option(None, "--close", help="tagged: close marker."),
    prompt_chars: int = typer.Option(512, "--prompt-chars", help="abstain: characters of text before the fact."),
    marker: str = typer.Option("<unknown:{kind}>", "--marker", help="abstain: completion marker."),
    min_bits: float | None = typer.Option(
        None, "--min-bits", help="Bits for a span to count as random (default: scan's)."
    ),
    text_field: str | None = typer.Option(None, "--text-field", help="Text column (default: the scan's)."),
    keep: list[str] = typer.Option(  # noqa: B006 - typer reads the default
        [], "--keep", help="Input column to copy onto every row (repeat; '*' for all)."
    ),
    pack: int | None = typer.Option(None, "--pack", help="masked: pack documents into blocks of N tokens."),
    pack_separator: str | None = typer.Option(
        None, "--pack-separator", help="masked, packed: token put after each document (e.g. an end-of-text token)."
    ),
) -> None:
    """Write the dataset as Parquet for fine-tuning: tagged text, loss masks, or abstention pairs."""
    from factsep.config import TagConfig
    from factsep.export import FORMATS, ExportConfig, load_tokenizer, scan_tags
    from factsep.export import export as run_export
    from factsep.training import token_id

    _check_out(out)
    if fmt not in FORMATS:
        console.print(f"[red]--format must be one of {', '.join(FORMATS)}[/red]")
        raise typer.Exit(2)
    tags = None
    if open_tag or close_tag:
        defaults = scan_tags(out)
        tags = TagConfig(open=open_tag or defaults.open, close=close_tag or defaults.close, escape=defaults.escape)
    tok = load_tokenizer(tokenizer) if tokenizer else None
    try:
        separator = token_id(tok, pack_separator) if pack_separator is not None else None
        config = ExportConfig(
            format=fmt,
            tags=tags,
            min_bits=min_bits,
            text_field=text_field,
            prompt_chars=prompt_chars,
            marker=marker,
            weight_by_bits=weight_by_bits,
            keep_columns=tuple(keep),
            pack_block_size=pack,
            pack_separator_id=separator,
        )
        result = run_export(out, to, config, tokenizer=tok)
    except ValueError as exc:
        console.print(f"[red]error: {escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    console.print(
        f"wrote {result.rows} {fmt} rows from {result.documents} documents "
        f"({result.facts} random facts) to {result.path}"
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the factsep app."""
    app.command("report")(report)
    app.command("export")(export)
