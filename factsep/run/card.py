"""``OUT/README.md``: a Hugging Face dataset card, so ``datasets.load_dataset(OUT)`` reads OUT.

The YAML header's ``configs:`` name ``dataset`` (the default), ``spans`` and each export found
under ``OUT/exports/``; the body gives the counts, monofact rates, detector and calibration
versions. Rewritten by every materialize (and by :func:`refresh_card`, e.g. after an export), from
the manifest and run state, so it always describes the parts next to it.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from factsep import __version__
from factsep.io import fs as outfs
from factsep.io.atomic import write_bytes
from factsep.io.layout import Layout
from factsep.run import columns
from factsep.run import state as run_state

if TYPE_CHECKING:
    from factsep.run.materialize import Materialized


def _exports(layout: Layout) -> list[str]:
    return [outfs.name_of(p)[: -len(".parquet")] for p in outfs.glob(layout.exports_dir, "*.parquet")]


def _calibration_version(layout: Layout) -> str:
    recorded, data = run_state.applied_calibration(layout)
    if not recorded or data is None:
        return "none (detector defaults)"
    digest = hashlib.blake2b(json.dumps(data, sort_keys=True).encode(), digest_size=8).hexdigest()
    return f"{data.get('version', '?')} (blake2b {digest})" if isinstance(data, dict) else digest


def render(layout: Layout, result: Materialized) -> str:
    from factsep.io import manifest as manifest_mod

    manifest = manifest_mod.read(layout) or {}
    configs = [
        "- config_name: dataset", "  default: true", "  data_files:",
        "  - split: train", "    path: dataset/part-*.parquet",
        "- config_name: spans", "  data_files:", "  - split: train", "    path: spans/part-*.parquet",
    ]
    for name in _exports(layout):
        configs += [f"- config_name: {name}", "  data_files:", "  - split: train", f"    path: exports/{name}.parquet"]
    counts = manifest.get("counts") or {}
    totals = result.totals
    header = ["---", "configs:", *configs, "tags:", "- factsep", "- random-facts", "---", ""]
    lines = [
        "# factsep output",
        "",
        "Documents scanned for random facts (identifiers, contact values, keys, dates of birth) by",
        f"factsep {__version__}. Load it with `datasets.load_dataset(\"{outfs.name_of(layout.out)}\")` "
        "from its parent folder (or with the folder's path).",
        "",
        "| | |", "|---|---|",
        f"| documents | {result.docs} |",
        f"| documents with facts | {result.docs_with_facts} |",
        f"| quarantined records | {counts.get('quarantined', 'n/a')} |",
        f"| spans | {totals.get('spans', 0)} |",
        f"| facts (not rejected) | {totals.get('facts', 0)} |",
        f"| distinct values | {totals.get('distinct_values', 0)} |",
        f"| monofact rate | {totals.get('monofact_rate')} |",
        f"| bits (sum) | {totals.get('bits_total', 0)} |",
        f"| detector | {manifest.get('detector_version', 'n/a')} |",
        f"| calibration | {_calibration_version(layout)} |",
        f"| schema version | {result.schema.metadata.get(b'factsep.schema_version', b'').decode()} |",
        "",
        "## Monofact rate per kind",
        "",
        "| kind | facts | distinct values | singletons | monofact rate |",
        "|---|---|---|---|---|",
    ]
    for kind, stats in sorted(result.kinds.items()):
        lines.append(f"| {kind} | {stats['facts']} | {stats['distinct_values']} | {stats['singletons']} | "
                     f"{stats['monofact_rate']} |")
    as_json = columns.json_columns(result.schema)
    lines += [
        "",
        "## Columns",
        "",
        "Every input column (null in rows of inputs without it), then `doc_id`, `source_file`,",
        "`source_line` / `source_row` (where the row was read), `random_facts`, `tagged_text`, `rf_count`,",
        "`rf_bits`, `rf_singletons`. See docs/scan.md of factsep and schemas/dataset.schema.json.",
        "JSON columns (values JSON-encoded, because inputs disagree on their type or they nest too deep): "
        + (", ".join(f"`{c}`" for c in as_json) if as_json else "none") + ".",
        "",
    ]
    return "\n".join(header + lines)


def write_card(out: str | Layout, result: Materialized) -> str:
    layout = Layout.of(out)
    write_bytes(layout.readme, render(layout, result).encode("utf-8"))
    return layout.readme


def refresh_card(out: str | Layout) -> str | None:
    """Rewrite the card from the parts as they are (after an export into ``OUT/exports/``)."""
    from factsep import counts as counts_mod
    from factsep.io import manifest as manifest_mod
    from factsep.run.materialize import Materialized

    layout = Layout.of(out)
    parts = layout.dataset_parts()
    if not parts:
        return None
    schema = outfs.parquet_file(parts[0]).schema_arrow
    from factsep.config import DetectorConfig, load_section

    min_bits = load_section(DetectorConfig, run_state.section(layout, "detect")).random_bits_threshold
    kinds = counts_mod.kind_stats(layout.span_parts(), min_bits)
    counts: dict[str, Any] = (manifest_mod.read(layout) or {}).get("counts") or {}
    result = Materialized(int(counts.get("written", 0)), int(counts.get("docs_with_facts", 0)), kinds,
                          counts_mod.totals(kinds), schema)
    return write_card(layout, result)
