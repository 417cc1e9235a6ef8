"""``factsep detect`` and ``factsep kinds``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from factsep.config import Config


def mask(value: str) -> str:
    """A value with its letters and digits hidden, keeping the shape: "+1 650-253-0000" -> "+9 999-999-9999"."""
    return "".join("9" if c.isdigit() else "a" if c.isalpha() else c for c in value)


def register(app: typer.Typer) -> None:
    @app.command()
    def detect(
        source: Annotated[str, typer.Argument(help="A text file, or - for standard input.")],
        config: Annotated[Path | None, typer.Option(help="A factsep TOML config file.")] = None,
        show_values: Annotated[bool, typer.Option(help="Print raw values instead of masked shapes.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON span record a line.")] = False,
        all_spans: Annotated[bool, typer.Option("--all", help="Include auto-rejected spans.")] = False,
    ) -> None:
        """Print the random facts of one text: kind, offsets, bits, confidence, decision."""
        from factsep.detection.detector import Detector

        if source == "-":
            text = sys.stdin.read()
        else:
            path = Path(source)
            if not path.is_file():
                raise typer.BadParameter(f"{source} is not a file (use - for standard input)")
            text = path.read_text(encoding="utf-8", errors="replace")
        cfg = Config.from_toml(config)
        spans = [s for s in Detector(cfg.detect).detect(text, doc_id=source) if all_spans or not s.rejected]
        if as_json:
            for s in spans:
                record = s.to_dict()
                if not show_values:
                    record["text"] = None
                print(json.dumps(record, ensure_ascii=False))
            return
        table = Table(title=f"{len(spans)} random facts in {source}")
        for col in ("kind", "subtype", "start", "end", "value" if show_values else "shape", "bits",
                    "confidence", "decision"):
            table.add_column(col, justify="right" if col in ("start", "end", "bits", "confidence") else "left")
        for s in spans:
            table.add_row(s.kind, s.subtype or "", str(s.start), str(s.end),
                          s.text if show_values else mask(s.text or ""), f"{s.bits:.1f}",
                          f"{s.confidence:.2f}", s.decision)
        Console(width=max(Console().width, 120)).print(table)

    @app.command()
    def kinds(
        show_values: Annotated[bool, typer.Option(help="Show example values unmasked.")] = True,
    ) -> None:
        """List every kind of random fact with an example and its bits."""
        from factsep.kinds import registry, stdnum_table

        table = Table(title="factsep kinds")
        for col in ("kind", "example", "bits", "formats", "bits rule"):
            table.add_column(col)
        for name, kind in sorted(registry().items()):
            opts: dict[str, object] = {"phone_regions": ("US",)}
            result = kind.validate(kind.example, opts)
            v = (result[0] if isinstance(result, list) else result) if result else None
            bits = f"{kind.bits(v.normalized):.1f}" if v else "?"
            formats = str(len(stdnum_table.KIND_MODULES.get(name, ()))) if name in stdnum_table.KIND_MODULES else ""
            example = kind.example if show_values else mask(kind.example)
            table.add_row(name, example, bits, formats, kind.bits_rule)
        Console(width=160).print(table)

