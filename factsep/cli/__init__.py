"""The ``factsep`` command. Each group of commands lives in its own module and registers itself.

Every failure ends as one ``error:`` line on stderr and an exit code from :mod:`factsep.errors`
(the table is in docs/scan.md): :class:`ErrorLines` catches what a command raises, so a full disk
or a bug prints one line that says what to do instead of a traceback (``FACTSEP_DEBUG=1`` adds it).
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

from factsep.cli import detect, flows, ml_backend, report, review, scan

#: typer's own exceptions (--help, usage errors, typer.Exit from a command) pass through untouched.
_CLICK_EXCEPTION = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_PASS_THROUGH = (typer.Exit, typer.Abort, _CLICK_EXCEPTION)


def print_error(message: str) -> None:
    """One ``error:`` line on stderr (rich markup in ``message`` is escaped)."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(message)}")


class ErrorLines(TyperGroup):
    """The command group whose commands fail with one line and a documented exit code."""

    def invoke(self, ctx: Any) -> Any:
        from factsep.errors import describe

        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the top of every command
            message, code = describe(exc)
            if os.environ.get("FACTSEP_DEBUG"):
                traceback.print_exception(exc, file=sys.stderr)
            print_error(message)
            raise typer.Exit(code) from None


app = typer.Typer(
    cls=ErrorLines,
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
    app()
