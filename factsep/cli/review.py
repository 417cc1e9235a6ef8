"""``factsep route`` and ``factsep sync``: the review loop's two commands.

Output shows counts per kind and where tasks went, never values and never the API key.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from factsep.io.layout import layout

console = Console(stderr=True)


def _config(config_path: Path | None):  # noqa: ANN202 - ReviewConfig, imported lazily
    from factsep.config import Config
    from factsep.review.route import review_config

    return review_config(Config.from_toml(config_path) if config_path else None)


def _local_out(out: str) -> None:
    """Review keeps append-only ledgers under OUT; refuse an object-store URL, saying what to do."""
    from factsep.io.fs import LocalOutRequired, require_local

    try:
        require_local(out, "review (its routing and decisions ledgers are append-only files under OUT/state/)")
    except LocalOutRequired as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def route_cmd(
    out: str = typer.Argument(..., help="The scan's output folder (local or mounted)."),
    budget: int | None = typer.Option(None, "--budget", "-b", help="Spans open for review at once."),
    project: str | None = typer.Option(None, "--project", "-p", help="Label Studio project title."),
    config_path: Path | None = typer.Option(None, "--config", "-c", help="factsep TOML (its \\[review] section)."),
    strategy: str | None = typer.Option(
        None, "--strategy", help="'uncertainty' (pending spans) or 'value' (any undecided span by the "
        "value of a look); default from \\[review] strategy."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Send the spans factsep is least sure of to Label Studio (or write OUT/review/tasks.json)."""
    from dataclasses import replace

    from factsep.review import ReviewError, route

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _local_out(out)
    cfg = _config(config_path)
    if strategy is not None:
        if strategy not in ("uncertainty", "value"):
            console.print(f"[red]--strategy is 'uncertainty' or 'value', not {escape(repr(strategy))}[/red]")
            raise typer.Exit(2)
        cfg = replace(cfg, strategy=strategy)
    try:
        res = route(out, budget=budget, project=project, config=cfg)
    except ReviewError as exc:
        console.print(f"[red]route failed:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(res.to_dict(), indent=1))
        return
    table = Table(title=f"routed {res.selected} of {res.candidates} candidate spans")
    table.add_column("kind")
    table.add_column("spans", justify="right")
    for kind, n in sorted(res.by_kind.items()):
        table.add_row(kind, str(n))
    console.print(table)
    if res.tasks_file:
        console.print(escape(
            f"LABEL_STUDIO_URL is not set: wrote {res.tasks_total} task(s) ({res.tasks_created} new) to "
            f"{res.tasks_file} in Label Studio's import format. Import it in a project whose labeling "
            "config is schemas/label_config.xml, or set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY and "
            "route again."
        ))
    else:
        console.print(escape(
            f"project {res.project_id} at {res.target}: {res.tasks_created} task(s) created, "
            f"{res.tasks_existing} already there, {res.tasks_total} in all."
        ))


def sync_cmd(
    out: str = typer.Argument(..., help="The scan's output folder (local or mounted)."),
    project: str | None = typer.Option(None, "--project", "-p", help="Label Studio project title."),
    config_path: Path | None = typer.Option(None, "--config", "-c", help="factsep TOML (its \\[review] section)."),
    no_calibrate: bool = typer.Option(False, "--no-calibrate", help="Do not refit calibration.json."),
    from_export: Path | None = typer.Option(
        None, "--from-export", help="Read the tasks from a Label Studio JSON export file instead of the server."),
    no_infer: bool = typer.Option(
        False, "--no-infer", help="Do not re-decide spans from their stratum's verdicts, and drop what "
        "earlier syncs inferred (state/inferred.json); people's decisions stay."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Read annotations back into the decisions ledger, update the dataset, refit calibration."""
    from dataclasses import replace

    from factsep.review import ReviewError, sync

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _local_out(out)
    try:
        cfg = _config(config_path)
        if no_infer:
            cfg = replace(cfg, infer=False)
        res = sync(out, project=project, config=cfg, calibrate=not no_calibrate, export=from_export)
    except ReviewError as exc:
        console.print(f"[red]sync failed:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(res.to_dict(), indent=1))
        return
    console.print(escape(
        f"{res.tasks_annotated} of {res.tasks_seen} task(s) annotated; {res.annotations_used} annotation(s) "
        f"used, {res.annotations_ignored} skipped/cancelled, {res.annotations_quarantined} quarantined "
        f"(see {layout(out).review_quarantine})."
    ))
    console.print(
        f"decisions appended: {res.decisions_appended} (accept {res.accepted}, reject {res.rejected}, "
        f"added {res.added}); ties left pending: {res.ties}; dataset rewritten: {res.rewritten}."
    )
    if res.redecided:
        _print_redecided(res)
    elif no_infer:
        console.print("inference off: spans are decided by detection and people only.")
    cal = res.calibration or {}
    if cal.get("kinds"):
        table = Table(title=escape(f"calibration -> {cal['path']}"))
        for col in ("kind", "n", "accepted", "ECE before", "ECE after (out-of-fold)"):
            table.add_column(col, justify="right" if col != "kind" else "left")
        for kind, f in sorted(cal["kinds"].items()):
            table.add_row(
                kind, str(f["n"]), str(f["positives"]), f"{f['ece_before']:.3f}", f"{f['ece_after']:.3f}"
            )
        console.print(table)
    elif cal.get("skipped"):
        console.print(f"calibration: too few decisions per kind yet ({cal['skipped']}).")


#: Spans of the re-decided list printed by name; the rest are counted (all are in the summary file).
SHOWN_REDECIDED = 12


def _print_redecided(res) -> None:  # noqa: ANN001 - SyncResult, imported lazily
    """What inference re-decided: per stratum and change, why; then the first spans by kind,
    value hash and document (never values); the summary file has them all; how to undo it."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in res.redecided:
        groups.setdefault((str(r["stratum"] or "relabel"), str(r["before"]), str(r["after"])), []).append(r)
    table = Table(title=f"re-decided {len(res.redecided)} span(s) nobody looked at, from their stratum's verdicts")
    for col in ("stratum", "change", "spans", "why"):
        table.add_column(col, justify="right" if col == "spans" else "left")
    for (stratum, before, after), rows in sorted(groups.items(), key=lambda g: -len(g[1])):
        why = rows[0]["why"].split(" on confidence")[0]
        table.add_row(escape(stratum), f"{before} -> {after}", str(len(rows)), escape(why))
    console.print(table)
    for r in res.redecided[:SHOWN_REDECIDED]:
        line = f"  {r['kind']} {str(r['value_hash'])[:12]} in {r['doc_id']}: {r['before']} -> {r['after']}"
        console.print(escape(line))
    if len(res.redecided) > SHOWN_REDECIDED:
        console.print(f"  ... and {len(res.redecided) - SHOWN_REDECIDED} more")
    console.print(escape(f"all of them, with why: {res.summary_path}; {res.undo}."))


def register(app: typer.Typer) -> None:
    """Add ``route`` and ``sync`` to the factsep app."""
    app.command("route")(route_cmd)
    app.command("sync")(sync_cmd)
