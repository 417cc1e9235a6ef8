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
        assert row["target"] == f"<unknown:{s.kind}>"
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
    assert set(pl.read_parquet(tmp_path / "abstain.parquet")["target"]) <= {
        "<idk:phone_number>",
        "<idk:email_address>",
        "<idk:uuid>",
        "<idk:isbn>",
    }
    bad = runner.invoke(app, ["export", str(tmp_path / "out"), "--format", "nope", "--to", str(tmp_path / "n")])
    assert bad.exit_code == 2
