"""``factsep run`` (the whole pipeline as a Prefect flow) and ``factsep serve`` (the same on a schedule).

Prefect is imported only inside the commands, so ``factsep detect`` and friends stay light.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

console = Console(stderr=False)
err = Console(stderr=True)

Inputs = Annotated[list[str], typer.Argument(help="Input files, directories or globs (local or fsspec URLs).")]
Out = Annotated[str, typer.Option("--out", "-o", help="Output directory (local or fsspec URL).")]
ConfigOpt = Annotated[str | None, typer.Option("--config", "-c", help="factsep TOML config.")]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        "--dask-address",
        envvar="FACTSEP_DASK_ADDRESS",
        help="Run shard tasks on this Dask scheduler (tcp://HOST:PORT); default: local cores.",
    ),
]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-w", help="Local worker processes.")]
RetriesOpt = Annotated[int, typer.Option("--retries", help="Retries per shard (exponential backoff).")]
DelayOpt = Annotated[float, typer.Option("--retry-delay", help="First retry delay in seconds; doubles.")]
BudgetOpt = Annotated[int | None, typer.Option("--budget", help="Most spans to route to review.")]


def _abs(path: str) -> str:
    return path if "://" in path else os.path.abspath(path)


def _parameters(
    inputs: list[str],
    out: str,
    config: str | None,
    dask_address: str | None,
    workers: int | None,
    retries: int,
    retry_delay: float,
    refresh: bool,
    route: bool,
    budget: int | None,
) -> dict[str, Any]:
    return {
        "inputs": [_abs(p) for p in inputs],
        "out": _abs(out),
        "config_path": _abs(config) if config else None,
        "dask_address": dask_address,
        "workers": workers,
        "retries": retries,
        "retry_delay": retry_delay,
        "refresh_cache": refresh,
        "route": route,
        "budget": budget,
    }


def _print_result(result: dict[str, Any]) -> None:
    from factsep.cli.report import facts_line, facts_table

    report = result.get("report") or {}
    rows = {
        kind: {**k, "facts": k.get("random_fact_spans", 0)} for kind, k in sorted((report.get("kinds") or {}).items())
    }
    console.print(facts_table(f"factsep: {escape(str(result.get('out')))}", rows))
    console.print(
        facts_line(
            int(report.get("random_fact_spans", 0)),
            int(report.get("documents_with_facts", 0)),
            int(report.get("distinct_values", 0)),
            float(report.get("bits_total", 0.0)),
            report.get("min_bits"),
        )
    )
    console.print(
        f"documents {report.get('documents', 0)} · shards {result.get('shards')} on {result.get('runner')} · "
        f"quarantined {report.get('quarantined', 0)}"
    )
    routed = result.get("route") or {}
    if routed:
        where = routed.get("import_file") or routed.get("path") or routed.get("server") or routed.get("url")
        note = routed.get("message") or ""
        line = f"review: {note or 'routed'}" + (f" ({where})" if where and str(where) not in note else "")
        console.print(escape(line))
    if result.get("report_html"):
        console.print(escape(f"report: {result['report_html']}"))


def run(
    inputs: Inputs,
    out: Out,
    config: ConfigOpt = None,
    dask_address: DaskOpt = None,
    workers: WorkersOpt = None,
    retries: RetriesOpt = 2,
    retry_delay: DelayOpt = 2.0,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ignore cached shard results.")] = False,
    route: Annotated[bool, typer.Option("--route/--no-route", help="Route uncertain spans.")] = True,
    budget: BudgetOpt = None,
) -> None:
    """Run the whole pipeline (scan → count → route → report) as a Prefect flow.

    Uses PREFECT_API_URL when set; otherwise Prefect's temporary local API (SQLite), no server to
    start by hand.
    """
    from factsep.config import Config
    from factsep.orchestration import TemporaryPrefectServer

    Config.from_toml(config)  # a bad config fails here, before Prefect starts
    launched = TemporaryPrefectServer.launch_if_needed()  # boots while the flows are imported
    if launched is not None:
        err.print(
            escape(f"Starting temporary server on {launched.api_url} (Prefect's API for this run only; "
                   "set PREFECT_API_URL to record runs on a server that stays up)")
        )  # fmt: skip
    try:
        from flows.pipeline_flow import pipeline_flow
        from flows.runtime import api_url, prefect_api
    except BaseException:
        if launched is not None:
            launched.stop()
        raise

    params = _parameters(inputs, out, config, dask_address, workers, retries, retry_delay, refresh, route, budget)
    temporary = api_url() is None  # no configured server: the run's links die with this command
    with prefect_api(launched):
        state = pipeline_flow(**params, return_state=True)
    if not state.is_completed():
        err.print(f"[red]factsep run failed[/red]: {escape(str(state.message))}")
        err.print("Re-run the same command to complete only what is missing.")
        if temporary:
            err.print(escape(after_the_fact_hint(state.state_details.flow_run_id)))
        raise typer.Exit(1)
    _print_result(state.result())
    if temporary:
        console.print(escape(after_the_fact_hint(state.state_details.flow_run_id)))


def after_the_fact_hint(flow_run_id: object) -> str:
    """What to do about the "View at" links of a temporary server, which die with the command."""
    home = os.environ.get("PREFECT_HOME") or os.path.join(os.path.expanduser("~"), ".prefect")
    return (
        "prefect: the temporary server has stopped, so the 'View at' links above no longer open. "
        f"The runs, logs and artifacts are kept in {home}: run `prefect server start` "
        f"(same PREFECT_HOME) and open http://127.0.0.1:4200/runs/flow-run/{flow_run_id}"
    )


def serve(
    inputs: Inputs,
    out: Out,
    cron: Annotated[str, typer.Option("--cron", help='Cron schedule, e.g. "0 2 * * *".')],
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = "factsep-nightly",
    config: ConfigOpt = None,
    dask_address: DaskOpt = None,
    workers: WorkersOpt = None,
    retries: RetriesOpt = 2,
    retry_delay: DelayOpt = 2.0,
    route: Annotated[bool, typer.Option("--route/--no-route", help="Route uncertain spans.")] = True,
    budget: BudgetOpt = None,
) -> None:
    """Serve the pipeline on a cron schedule (needs a Prefect server: set PREFECT_API_URL)."""
    from flows.pipeline_flow import pipeline_flow
    from flows.runtime import api_url

    if not api_url():
        err.print(
            "[red]Schedules need a Prefect server.[/red] Start one with "
            "`prefect server start --host 127.0.0.1` and set PREFECT_API_URL=http://127.0.0.1:4200/api."
        )
        raise typer.Exit(2)
    params = _parameters(inputs, out, config, dask_address, workers, retries, retry_delay, False, route, budget)
    console.print(f"serving deployment factsep-pipeline/{name} on cron {cron!r}; Ctrl-C stops")
    sys.stdout.flush()
    pipeline_flow.serve(name=name, cron=cron, parameters=params, print_starting_message=False)


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``serve`` to the factsep app."""
    app.command("run")(run)
    app.command("serve")(serve)
