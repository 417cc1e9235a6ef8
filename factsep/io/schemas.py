"""JSON Schemas of the written files, generated from the Arrow types so code and files cannot drift.

``schemas/span.schema.json`` is one span record (:func:`factsep.span.span_json_schema`);
``schemas/dataset.schema.json`` is one dataset row: any input columns plus the columns the scan
adds. Regenerate both with ``python -m factsep.io.schemas [FOLDER]``; a test checks the committed
files are current and that written Parquet rows validate against them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from factsep.io.atomic import write_bytes
from factsep.span import SCHEMA_VERSION, span_json_schema

SPAN_SCHEMA_FILE = "span.schema.json"
DATASET_SCHEMA_FILE = "dataset.schema.json"


def dataset_json_schema() -> dict[str, Any]:
    """JSON Schema of one dataset row (the span record is embedded under ``$defs/span``)."""
    span = span_json_schema()
    span_def = {k: v for k, v in span.items() if k not in ("$schema", "$id")}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://factsep.dev/schemas/dataset.schema.json",
        "title": "factsep dataset row",
        "description": (
            f"One document of OUT/dataset/part-*.parquet (schema version {SCHEMA_VERSION}). Every part of "
            "an OUT has one schema: every input column of any input (null in rows of inputs without "
            "it; a column whose type differs between inputs, or that nests too deep for Parquet, holds "
            "JSON text, its field marked factsep.json and listed in the schema metadata "
            "factsep.json_columns), then doc_id and the source columns, then the random facts."
        ),
        "type": "object",
        "properties": {
            "doc_id": {
                "type": "string",
                "description": "the input's id field, else FILE:LINE (FILE:ROW for Parquet); spans carry the same",
            },
            "source_file": {"type": "string", "description": "the input file, relative to the path given"},
            "source_line": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "line of a JSONL/text input (a whole text file is line 1); null for Parquet",
            },
            "source_row": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "row of a Parquet input; null for line-based inputs",
            },
            "random_facts": {
                "type": "array",
                "description": "the document's spans that are not rejected, sorted by start",
                "items": {"$ref": "#/$defs/span"},
            },
            "tagged_text": {
                "type": "string",
                "description": (
                    "the text with accepted spans wrapped in tags (TagConfig; default <rf:KIND>...</rf:KIND>),"
                    " tag syntax in the text escaped (factsep.tags.untag recovers the text)"
                ),
            },
            "rf_count": {"type": "integer", "minimum": 0, "description": "number of random_facts"},
            "rf_bits": {"type": "number", "minimum": 0, "description": "sum of the bits of random_facts"},
            "rf_singletons": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "random_facts whose value occurs once in the corpus; null before counting",
            },
        },
        "required": [
            "doc_id", "source_file", "source_line", "source_row",
            "random_facts", "tagged_text", "rf_count", "rf_bits", "rf_singletons",
        ],
        "additionalProperties": True,
        "$defs": {"span": span_def},
    }


def _dump(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_schemas(folder: str | Path = "schemas") -> list[Path]:
    """Write span.schema.json and dataset.schema.json into ``folder`` (atomically); returns the paths."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in (
        (SPAN_SCHEMA_FILE, span_json_schema()),
        (DATASET_SCHEMA_FILE, dataset_json_schema()),
    ):
        write_bytes(root / name, _dump(schema))
        written.append(root / name)
    return written


def schema_files_current(folder: str | Path = "schemas") -> bool:
    """True when the files in ``folder`` are exactly what the code generates."""
    root = Path(folder)
    expected = {SPAN_SCHEMA_FILE: span_json_schema(), DATASET_SCHEMA_FILE: dataset_json_schema()}
    return all((root / n).exists() and (root / n).read_bytes() == _dump(s) for n, s in expected.items())


if __name__ == "__main__":  # pragma: no cover
    for path in write_schemas(sys.argv[1] if len(sys.argv) > 1 else "schemas"):
        print(path)
