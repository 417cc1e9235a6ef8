"""The ``factsep`` command. Each group of commands lives in its own module and registers itself."""

from __future__ import annotations

import typer

from factsep.cli import detect, flows, report, review, scan

app = typer.Typer(
    name="factsep",
    help="Find random facts in training corpora, tag their unpredictability, route doubts to review.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

for _module in (detect, scan, review, report, flows):
    _module.register(app)


def main() -> None:
    app()
