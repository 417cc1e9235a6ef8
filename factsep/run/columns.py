"""Input columns as Arrow columns, losslessly, and one schema for every part of an OUT.

Why: each input keeps its own columns (a JSONL with ``n`` as ints, another with ``n`` as strings,
a Parquet file with extra columns), and loaders (``datasets``, pyarrow.dataset, polars) need one
schema over all parts. The rule, documented in docs/scan.md:

- a column keeps its Arrow type when every input that has it agrees or Arrow can promote the types
  (int32 and int64, null and anything); rows of inputs without it hold null;
- a column whose types cannot be unified, or that nests deeper than :data:`MAX_PARQUET_DEPTH`
  Parquet levels (Parquet readers refuse ~100; 50 nested lists is 100), becomes a *JSON column*:
  every non-null value is ``json.dumps``-ed (strings too, so ``"12"`` and ``12`` stay apart).
  Its field carries the metadata ``factsep.json = "1"``, and the dataset card lists it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

#: Parquet schema levels a column may use before it is stored as JSON text.
MAX_PARQUET_DEPTH = 32
JSON_META = b"factsep.json"


def parquet_depth(t: pa.DataType) -> int:
    """Parquet schema levels under a column of type ``t`` (a list is two: group and repeated)."""
    if pa.types.is_struct(t):
        return 1 + max((parquet_depth(t.field(i).type) for i in range(t.num_fields)), default=0)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return 2 + parquet_depth(t.value_type)
    if pa.types.is_map(t):
        return 2 + max(parquet_depth(t.key_type), parquet_depth(t.item_type))
    return 0


def json_text(value: Any) -> str | None:
    """One value as JSON text (None stays None)."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def json_field(name: str) -> pa.Field:
    return pa.field(name, pa.string(), metadata={JSON_META: b"1"})


def is_json(f: pa.Field) -> bool:
    return bool(f.metadata) and f.metadata.get(JSON_META) == b"1"


def json_column(values: Iterable[Any]) -> pa.Array:
    return pa.array([json_text(v) for v in values], type=pa.string())


def column(name: str, values: list[Any]) -> tuple[pa.Field, pa.Array]:
    """A typed column when Arrow can hold the values in Parquet, else a JSON column."""
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, ValueError):
        return json_field(name), json_column(values)
    if parquet_depth(arr.type) > MAX_PARQUET_DEPTH:
        return json_field(name), json_column(values)
    return pa.field(name, arr.type), arr


def storable(table: pa.Table) -> pa.Table:
    """``table`` with every column too deep for Parquet turned into a JSON column."""
    if not any(parquet_depth(f.type) > MAX_PARQUET_DEPTH for f in table.schema):
        return table
    fields, cols = [], []
    for f, col in zip(table.schema, table.columns, strict=True):
        if parquet_depth(f.type) > MAX_PARQUET_DEPTH:
            fields.append(json_field(f.name))
            cols.append(json_column(col.to_pylist()))
        else:
            fields.append(f)
            cols.append(col)
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))


def unify(schemas: Sequence[pa.Schema], skip: Iterable[str] = ()) -> list[pa.Field]:
    """One field per column name over ``schemas`` (first-seen order), by the rule of the module doc."""
    skipped = set(skip)
    seen: dict[str, list[pa.Field]] = {}
    for schema in schemas:
        for f in schema:
            if f.name not in skipped:
                seen.setdefault(f.name, []).append(f)
    fields: list[pa.Field] = []
    for name, fs in seen.items():
        if any(is_json(f) for f in fs):
            fields.append(json_field(name))
            continue
        try:
            merged = pa.unify_schemas(
                [pa.schema([pa.field(name, f.type)]) for f in fs], promote_options="permissive"
            ).field(name)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            fields.append(json_field(name))
            continue
        if parquet_depth(merged.type) > MAX_PARQUET_DEPTH:
            fields.append(json_field(name))
        else:
            fields.append(pa.field(name, merged.type))
    return fields


def conform(table: pa.Table, fields: Sequence[pa.Field]) -> list[pa.ChunkedArray | pa.Array]:
    """``table``'s columns cast to ``fields``: missing ones null, JSON columns JSON-encoded."""
    cols: list[pa.ChunkedArray | pa.Array] = []
    for f in fields:
        if f.name not in table.column_names:
            cols.append(pa.nulls(table.num_rows, f.type))
            continue
        col = table.column(f.name)
        source = table.schema.field(f.name)
        if is_json(f):
            cols.append(col if is_json(source) else json_column(col.to_pylist()))
        elif col.type == f.type:
            cols.append(col)
        else:
            cols.append(col.cast(f.type))
    return cols


def json_columns(schema: pa.Schema) -> list[str]:
    return [f.name for f in schema if is_json(f)]
