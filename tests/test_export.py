"""Exports read back with the tools fine-tuning scripts use: datasets.load_dataset and polars."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import datasets  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402
import typer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report_fixture import build_out, make_docs  # noqa: E402
from test_training import bpe  # noqa: E402

from factsep.config import TagConfig  # noqa: E402
from factsep.decisions import Decision, append_decisions  # noqa: E402
from factsep.export import ExportConfig, export  # noqa: E402
from factsep.span import ACCEPTED, HUMAN_ACCEPT, HUMAN_REJECT, PENDING_REVIEW, doc_key  # noqa: E402
from factsep.training import IGNORE_INDEX, loss_mask  # noqa: E402

TAG = re.compile(r"</?rf:[a-z_]+>")


def load_both(path: str, tmp_path: Path) -> tuple[datasets.Dataset, pl.DataFrame]:
    ds = datasets.load_dataset("parquet", data_files=path, split="train", cache_dir=str(tmp_path / "hf"))
    return ds, pl.read_parquet(path)


def facts_of(spans: list, min_bits: float = 12.0) -> list:
    return sorted((s for s in spans if s.decision in ACCEPTED and s.bits >= min_bits), key=lambda s: s.start)


def test_tagged(tmp_path: Path) -> None:
    docs = make_docs()
    build_out(tmp_path / "out")
    result = export(tmp_path / "out", tmp_path / "tagged.parquet", ExportConfig(format="tagged"))
    ds, df = load_both(result.path, tmp_path)
    assert ds.num_rows == df.height == len(docs) == result.rows
    assert set(ds.column_names) == {"id", "text", "rf_count", "rf_bits"}
    by_id = {r["id"]: r for r in ds}
    for doc_id, text, spans in docs:
        row = by_id[doc_id]
        assert TAG.sub("", row["text"]) == text  # tags only add, never change text
        facts = facts_of(spans)
        assert row["rf_count"] == len(facts)
        assert re.findall(r"<rf:([a-z_]+)>", row["text"]) == [f.kind for f in facts]
        for f in facts:
            assert f"<rf:{f.kind}>{text[f.start : f.end]}</rf:{f.kind}>" in row["text"]
        assert row["rf_bits"] == pytest.approx(sum(f.bits for f in facts))
    assert df.filter(pl.col("id") == "d6")["text"][0].startswith("Low-bit code 4711 ")  # 8 bits: untagged
    assert "<rf:phone_number>+44" not in " ".join(df["text"])  # pending: untagged


def test_tagged_custom_markers(tmp_path: Path) -> None:
    build_out(tmp_path / "out")
    cfg = ExportConfig(format="tagged", tags=TagConfig(open="⟦{kind}:{bits}⟧", close="⟦/⟧"))
    result = export(tmp_path / "out", tmp_path / "t.parquet", cfg)
    text = " ".join(pl.read_parquet(result.path)["text"])
    assert "⟦uuid:122.0⟧3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70⟦/⟧" in text


def test_tagged_defaults_to_the_scans_markers(tmp_path: Path) -> None:
    import json

    build_out(tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    manifest["config"]["tags"] = {"open": "<fact kind={kind}>", "close": "</fact>"}
    (tmp_path / "out" / "manifest.json").write_text(json.dumps(manifest))
    text = " ".join(pl.read_parquet(export(tmp_path / "out", tmp_path / "t.parquet").path)["text"])
    assert "<fact kind=isbn>978-0-306-40615-7</fact>" in text


def test_masked_with_tokenizer(tmp_path: Path) -> None:
    docs = make_docs()
    build_out(tmp_path / "out")
    tok = bpe()
    result = export(tmp_path / "out", tmp_path / "masked.parquet", ExportConfig(format="masked"), tokenizer=tok)
    ds, df = load_both(result.path, tmp_path)
    assert {"id", "text", "char_loss_mask", "facts", "input_ids", "token_loss_mask", "labels"} <= set(ds.column_names)
    by_id = {r["id"]: r for r in ds}
    for doc_id, text, spans in docs:
        row = by_id[doc_id]
        facts = facts_of(spans)
        zero = [i for i, v in enumerate(row["char_loss_mask"]) if v == 0]
        assert zero == [i for f in facts for i in range(f.start, f.end)]
        enc = tok.encode(text, add_special_tokens=False)
        assert row["input_ids"] == enc.ids
        assert loss_mask(tok, row["text"], row["facts"]) == row["token_loss_mask"]  # docs recipe
        assert len(row["labels"]) == len(row["input_ids"]) == len(row["token_loss_mask"])
        for (a, b), tid, w, lab in zip(enc.offsets, enc.ids, row["token_loss_mask"], row["labels"], strict=True):
            hit = any(a < f.end and b > f.start for f in facts)
            assert w == (0.0 if hit else 1.0)
            assert lab == (IGNORE_INDEX if hit else tid)
    assert df.schema["labels"] == pl.List(pl.Int64)


def test_masked_without_tokenizer_has_char_masks_only(tmp_path: Path) -> None:
    build_out(tmp_path / "out")
    result = export(tmp_path / "out", tmp_path, ExportConfig(format="masked"))  # a directory target
    assert result.path == str(tmp_path / "masked.parquet")
    ds, df = load_both(result.path, tmp_path)
    assert "input_ids" not in ds.column_names
    assert df["char_loss_mask"].list.len().to_list() == df["text"].str.len_chars().to_list()


def test_abstain(tmp_path: Path) -> None:
    docs = make_docs()
    build_out(tmp_path / "out")
    cfg = ExportConfig(format="abstain", prompt_chars=12, marker="<unknown:{kind}>")
    result = export(tmp_path / "out", tmp_path / "abstain.parquet", cfg)
    ds, df = load_both(result.path, tmp_path)
    expected = {s.span_id: (text, s) for _, text, spans in docs for s in facts_of(spans) if s.corpus_count == 1}
    assert expected and ds.num_rows == df.height == len(expected)
    for row in ds:
        text, s = expected[row["span_id"]]
        assert row["completion"] == f"<unknown:{s.kind}>"
        assert row["kind"] == s.kind
        assert len(row["prompt"]) <= 12 and text[: s.start].endswith(row["prompt"])
        assert s.text not in row["prompt"]


def test_abstain_before_finalize_counts_from_spans(tmp_path: Path) -> None:
    build_out(tmp_path / "a")
    build_out(tmp_path / "b", finalized=False)
    rows = [
        sorted(
            pl.read_parquet(export(tmp_path / n, tmp_path / f"{n}.parquet", ExportConfig(format="abstain")).path)[
                "span_id"
            ].to_list()
        )
        for n in ("a", "b")
    ]
    assert rows[0] == rows[1] and rows[0]


def test_human_decisions_in_the_ledger_win(tmp_path: Path) -> None:
    docs = make_docs()
    out = tmp_path / "out"
    build_out(out)
    text0, phone0 = docs[0][1], docs[0][2][0]
    text2, pending = docs[2][1], next(s for s in docs[2][2] if s.decision == PENDING_REVIEW)
    append_decisions(
        out,
        [
            Decision(span_id=phone0.span_id, decision=HUMAN_REJECT, doc_key=doc_key(text0)),
            Decision(span_id=pending.span_id, decision=HUMAN_ACCEPT, doc_key=doc_key(text2)),
        ],
    )
    df = pl.read_parquet(export(out, tmp_path / "t.parquet", ExportConfig(format="tagged")).path)
    by_id = dict(zip(df["id"], df["text"], strict=True))
    assert by_id["d0"] == text0
    assert "<rf:phone_number>+44 20 7946 0958</rf:phone_number>" in by_id["d2"]


def test_failed_export_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no dataset parts"):
        export(tmp_path, tmp_path / "x.parquet")
    build_out(tmp_path / "out")
    (tmp_path / ".tmp-x.parquet.99999").write_bytes(b"torn")  # a killed export's leftover
    with pytest.raises(ValueError, match="no text column"):
        export(tmp_path / "out", tmp_path / "x.parquet", ExportConfig(format="tagged", text_field="body"))
    assert not list(tmp_path.glob("*x.parquet*"))
    export(tmp_path / "out", tmp_path / "x.parquet")
    assert [p.name for p in tmp_path.glob("*x.parquet*")] == ["x.parquet"]


def test_cli_export(tmp_path: Path) -> None:
    from factsep.cli import report as report_cli

    build_out(tmp_path / "out")
    tok_path = tmp_path / "tokenizer.json"
    bpe().save(str(tok_path))
    app = typer.Typer()
    report_cli.register(app)
    runner = CliRunner()
    for fmt, extra in (
        ("tagged", ["--open", "[{kind}]", "--close", "[/]"]),
        ("masked", ["--tokenizer", str(tok_path)]),
        ("abstain", ["--marker", "<idk:{kind}>", "--prompt-chars", "40"]),
    ):
        target = tmp_path / f"{fmt}.parquet"
        result = runner.invoke(app, ["export", str(tmp_path / "out"), "--format", fmt, "--to", str(target), *extra])
        assert result.exit_code == 0, result.output
        assert "+1 415" not in result.output
        ds, df = load_both(str(target), tmp_path)
        assert ds.num_rows == df.height > 0
    assert "[phone_number]+1 415 555 0132[/]" in " ".join(pl.read_parquet(tmp_path / "tagged.parquet")["text"])
    assert "labels" in pl.read_parquet(tmp_path / "masked.parquet").columns
    assert set(pl.read_parquet(tmp_path / "abstain.parquet")["completion"]) <= {
        "<idk:phone_number>",
        "<idk:email_address>",
        "<idk:uuid>",
        "<idk:isbn>",
    }
    bad = runner.invoke(app, ["export", str(tmp_path / "out"), "--format", "nope", "--to", str(tmp_path / "n")])
    assert bad.exit_code == 2
    packed = tmp_path / "packed.parquet"
    args = ["--tokenizer", str(tok_path), "--pack", "16", "--pack-separator", "[SEP]", "--to", str(packed)]
    result = runner.invoke(app, ["export", str(tmp_path / "out"), "--format", "masked", *args])
    assert result.exit_code == 0, result.output
    lengths = pl.read_parquet(packed)["input_ids"].list.len().to_list()
    assert lengths and set(lengths[:-1]) <= {16} and 0 < lengths[-1] <= 16
    wrong = runner.invoke(app, ["export", str(tmp_path / "out"), "--keep", "nope", "--to", str(packed)])
    assert wrong.exit_code == 2 and "not dataset columns" in wrong.output


def add_input_columns(out: Path) -> dict[str, tuple[str, int | None]]:
    """Give every dataset part two input columns (as a scan keeps them); returns id -> values."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    values = {}
    for n, part in enumerate(sorted((out / "dataset").glob("part-*.parquet"))):
        table = pq.read_table(part)
        ids = table.column("id").to_pylist()
        source = [f"src-{i}" for i in ids]
        # One part has ints, the other has none at all: types unify to a nullable int.
        lines = pa.array([k * 10 for k in range(len(ids))] if n == 0 else [None] * len(ids), type=pa.int64())
        table = table.append_column("source", pa.array(source)).append_column("line", lines)
        pq.write_table(table, part)
        values.update({i: (s, v) for i, s, v in zip(ids, source, lines.to_pylist(), strict=True)})
    return values


@pytest.mark.parametrize("fmt", ["tagged", "masked", "abstain"])
def test_input_columns_pass_through(tmp_path: Path, fmt: str) -> None:
    build_out(tmp_path / "out")
    values = add_input_columns(tmp_path / "out")
    for keep in (("source", "line"), ("*",)):
        cfg = ExportConfig(format=fmt, keep_columns=keep)
        df = pl.read_parquet(export(tmp_path / "out", tmp_path / f"{fmt}.parquet", cfg).path)
        assert df.columns[-2:] == ["source", "line"] and "tagged_text" not in df.columns
        assert df.height > 0
        for row in df.iter_rows(named=True):
            assert (row["source"], row["line"]) == values[row["id"]]
    with pytest.raises(ValueError, match="export writes itself"):
        export(tmp_path / "out", tmp_path / "x.parquet", ExportConfig(format=fmt, keep_columns=("id",)))
    with pytest.raises(ValueError, match="not dataset columns"):
        export(tmp_path / "out", tmp_path / "x.parquet", ExportConfig(format=fmt, keep_columns=("nope",)))


def test_packed_blocks_keep_the_mask_aligned(tmp_path: Path) -> None:
    docs = make_docs()
    build_out(tmp_path / "out")
    tok = bpe()
    sep = tok.token_to_id("[SEP]")
    unpacked = pl.read_parquet(
        export(tmp_path / "out", tmp_path / "m.parquet", ExportConfig(format="masked"), tokenizer=tok).path
    )
    cfg = ExportConfig(format="masked", pack_block_size=32, pack_separator_id=sep)
    result = export(tmp_path / "out", tmp_path / "p.parquet", cfg, tokenizer=tok)
    ds, df = load_both(result.path, tmp_path)
    assert ds.column_names == ["input_ids", "labels", "token_loss_mask", "doc_ids"]
    lengths = df["input_ids"].list.len().to_list()
    assert all(n == 32 for n in lengths[:-1]) and 0 < lengths[-1] <= 32
    # Concatenated, the blocks are the documents' tokens and labels in dataset order, a separator after each.
    ids = [t for block in df["input_ids"] for t in block]
    labels = [t for block in df["labels"] for t in block]
    want_ids, want_labels = [], []
    for row in unpacked.iter_rows(named=True):
        want_ids += [*row["input_ids"], sep]
        want_labels += [*row["labels"], sep]
    assert ids == want_ids and labels == want_labels
    assert sum(lab == IGNORE_INDEX for lab in labels) > 0  # the fixture's facts are masked inside blocks
    for block_ids, block_labels in zip(df["input_ids"], df["labels"], strict=True):
        assert all(lab in (tid, IGNORE_INDEX) for tid, lab in zip(block_ids, block_labels, strict=True))
    seen = [d for block in df["doc_ids"] for d in block]
    assert list(dict.fromkeys(seen)) == unpacked["id"].to_list() and len(docs) == unpacked.height
    with pytest.raises(ValueError, match="needs a tokenizer"):
        export(tmp_path / "out", tmp_path / "x.parquet", cfg)
    with pytest.raises(ValueError, match="masked format only"):
        ExportConfig(format="tagged", pack_block_size=8)


def docs_block(needle: str) -> str:
    """The python block of docs/report.md that contains ``needle`` (the docs' copy-paste examples)."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "report.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    found = [b for b in blocks if needle in b]
    assert len(found) == 1, f"expected one docs/report.md python block with {needle!r}"
    return found[0]


def test_docs_training_recipes_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/report.md's collator and prompt-completion examples, run as written on real exports."""
    from test_training import hf_tokenizer

    build_out(tmp_path / "out")
    export(tmp_path / "out", tmp_path / "masked.parquet", ExportConfig(format="masked"))
    export(tmp_path / "out", tmp_path / "abstain.parquet", ExportConfig(format="abstain"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf"))
    tokenizer = hf_tokenizer()
    ns: dict = {"tokenizer": tokenizer}
    exec(docs_block("DataCollatorForSeq2Seq"), ns)  # noqa: S102 - the documented recipe itself
    collator = ns["collator"]
    collator.return_tensors = "np"  # the recipe's default is torch tensors; numpy needs no torch
    rows = list(ns["train"])
    batch = collator(rows)
    masked = 0
    for i, row in enumerate(rows):
        n = len(row["input_ids"])
        assert batch["labels"][i, :n].tolist() == row["labels"]
        assert (batch["labels"][i, n:] == IGNORE_INDEX).all()
        masked += sum(lab == IGNORE_INDEX for lab in row["labels"])
    assert masked > 0
    exec(docs_block("select_columns"), ns)  # noqa: S102
    assert ns["sft"].column_names == ["prompt", "completion"] and ns["sft"].num_rows > 0
