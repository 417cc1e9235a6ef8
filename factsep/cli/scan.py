"""``factsep scan INPUT... --out OUT``: the corpus scan from the command line.

A progress bar (bytes, documents per second, facts) on a terminal; nothing on a pipe unless
``--json`` asks for the summary. Exit codes as in :mod:`factsep.errors` (0 on success, even with
quarantined records; 1 when nothing could be read; 2 when OUT cannot be used or the options are
wrong; 3 when the disk is full). Values are never printed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape


def _progress_bar(console: Any) -> tuple[Any, Any, Any]:
    """A rich progress bar and the callbacks that feed it from plan and shard events."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("[bold]scan[/bold] {task.fields[files]}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[docs]:,} docs ({task.fields[rate]:,.0f}/s) {task.fields[facts]:,} facts"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    state = {"task": None, "docs": 0, "facts": 0, "done": 0, "files": 0, "t0": time.perf_counter()}

    def on_plan(shards: list[Any]) -> None:
        state["files"] = len(shards)
        total = sum(s.input_bytes for s in shards)  # a range shard: its bytes
        state["task"] = progress.add_task(
            "scan", total=total, files=f"0/{len(shards)} files", docs=0, facts=0, rate=0.0
        )

    def on_event(ev: Any) -> None:
        if state["task"] is None:
            return
        state["docs"] += ev.docs
        state["facts"] += ev.facts
        state["done"] += 1 if ev.done else 0
        rate = state["docs"] / max(time.perf_counter() - state["t0"], 1e-6)
        progress.update(
            state["task"],
            advance=ev.bytes,
            docs=state["docs"],
            facts=state["facts"],
            rate=rate,
            files=f"{state['done']}/{state['files']} files",
        )

    return progress, on_plan, on_event


def _print_summary(console: Any, summary: Any, min_bits: float) -> None:
    from factsep.cli.report import facts_line, facts_table

    console.print(
        f"read {summary.read:,} records: {summary.written:,} documents written, "
        f"{summary.quarantined:,} quarantined, {summary.skipped:,} skipped; "
        f"{summary.shards} files ({summary.shards_resumed} resumed) in {summary.seconds:.1f}s"
    )
    distinct = sum(int(k["distinct_values"]) for k in summary.kinds.values())
    console.print(facts_line(summary.facts, summary.docs_with_facts, distinct, summary.bits_total, min_bits))
    if summary.kinds:
        rows = {kind: {**k, "pending": k["pending_review"]} for kind, k in summary.kinds.items()}
        console.print(facts_table("random facts by kind", rows))
    if summary.quarantine_reasons:
        reasons = ", ".join(f"{r}: {n}" for r, n in summary.quarantine_reasons.items())
        console.print(escape(f"quarantined ({summary.out}/quarantine/): {reasons}"))
    console.print(escape(f"manifest: {summary.manifest}"))


def register(app: typer.Typer) -> None:
    """Add ``factsep scan`` to the app."""

    @app.command("scan")
    def scan_cmd(
        inputs: Annotated[list[str], typer.Argument(help="Files, folders, globs or fsspec URLs to scan.")],
        out: Annotated[str, typer.Option("--out", "-o", help="Output folder (created if needed).")],
        text_field: Annotated[str | None, typer.Option(help="Field holding the document text.")] = None,
        id_field: Annotated[
            str | None, typer.Option(help="Field holding the document id (else relative/path:line).")
        ] = None,
        no_values: Annotated[bool | None, typer.Option("--no-values", help="Drop raw span text; keep hashes.")] = None,
        workers: Annotated[int | None, typer.Option(help="Processes scanning files in parallel.")] = None,
        batch_size: Annotated[int | None, typer.Option(help="Documents per detection batch.")] = None,
        config: Annotated[Path | None, typer.Option("--config", "-c", help="A factsep TOML config.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
    ) -> None:
        """Scan a corpus into OUT: tagged Parquet dataset, span files, corpus counts, quarantine."""
        from rich.console import Console

        from factsep.config import Config, load_section
        from factsep.scan import ScanConfig, scan

        err = Console(stderr=True)
        try:
            cfg = Config.from_toml(config)
            scan_cfg = load_section(ScanConfig, cfg.sections.get("scan"))
        except (OSError, ValueError, TypeError) as exc:
            err.print(f"[red]error:[/red] bad config: {escape(str(exc))}")
            raise typer.Exit(2) from exc
        overrides = {
            "text_field": text_field,
            "id_field": id_field,
            "no_values": no_values,
            "workers": workers,
            "batch_size": batch_size,
        }
        for key, value in overrides.items():
            if value is not None:
                setattr(scan_cfg, key, value)
        if scan_cfg.batch_size < 1 or scan_cfg.workers < 1:
            err.print("[red]error:[/red] --batch-size and --workers must be at least 1")
            raise typer.Exit(2)
        tty = sys.stderr.isatty() and not as_json
        bar = on_plan = on_event = None
        if tty:
            bar, on_plan, on_event = _progress_bar(err)
            bar.start()
        try:  # a failure reaches the CLI's handler: one error line and its exit code (factsep.errors)
            summary = scan(inputs, out, scan_cfg, cfg.detect, cfg.tags, progress=on_event, on_plan=on_plan)
        finally:
            if bar is not None:
                bar.stop()
        if as_json:
            print(json.dumps(summary.to_dict(), indent=2, sort_keys=True))
        elif tty:
            _print_summary(err, summary, cfg.detect.random_bits_threshold)
