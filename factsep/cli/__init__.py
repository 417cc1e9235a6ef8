"""The ``factsep`` command. Each group of commands lives in its own module and registers itself."""

from __future__ import annotations

import typer

from factsep.cli import detect, flows, ml_backend, report, review, scan

app = typer.Typer(
    name="factsep",
    help="Find random facts in training corpora, tag their unpredictability, route doubts to review.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)



def _print_version(value: bool) -> None:
    if value:
        from factsep import __version__

        typer.echo(f"factsep {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Find random facts in training corpora, tag their unpredictability, route doubts to review."""


for _module in (detect, scan, review, report, flows, ml_backend):
    _module.register(app)


def main() -> None:
    from factsep.config import ConfigError

    try:
        app()
    except ConfigError as exc:  # a bad config file: say what is valid, no traceback
        from rich.console import Console
        from rich.markup import escape

        Console(stderr=True).print(f"[red]error:[/red] bad config: {escape(str(exc))}")
        raise SystemExit(2) from None
