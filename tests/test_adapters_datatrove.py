"""datatrove adapter: the docs' pipeline runs on a real LocalPipelineExecutor with two tasks, and its
counts, spans, tags and filter agree with ``factsep scan`` on the same JSON-lines input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from adapters_support import doc_example, read_jsonl_folder, write_jsonl_corpus

pytest.importorskip("datatrove", reason="pip install -e '.[datatrove]'")

from factsep.scan import scan  # noqa: E402
from factsep.tags import untag  # noqa: E402


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The docs' example run in a fresh folder, and a scan of the same corpus beside it."""
    root = tmp_path_factory.mktemp("datatrove")
    write_jsonl_corpus(root / "corpus", files=3, n=60, real=24)
    code = doc_example("datatrove")
    mp = pytest.MonkeyPatch()
    mp.chdir(root)
    try:
        exec(compile(code, str(root / "example.py"), "exec"), {"__name__": "__main__"})
    finally:
        mp.undo()
    summary = scan([str(root / "corpus")], str(root / "scanout"))
    return {"root": root, "scan": summary}


def _kept_and_dropped(root: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return read_jsonl_folder(root / "out" / "kept"), read_jsonl_folder(root / "out" / "dropped")


def test_counts_equal_scan(pipeline_run: dict[str, Any]) -> None:
    root = pipeline_run["root"]
    ours = pl.read_parquet(root / "work/counts/counts.parquet").sort("value_hash")
    theirs = pl.read_parquet(root / "scanout/state/counts.parquet").sort("value_hash")
    assert len(ours) > 50
    assert ours.equals(theirs)
    summary = json.loads((root / "work/counts/summary.json").read_text())
    manifest = json.loads((root / "scanout/manifest.json").read_text())
    assert summary["kinds"] == manifest["counts"]["kinds"]
    for key, value in summary["totals"].items():
        assert manifest["counts"][key] == value, key
    assert summary["parts"] == 2  # one part per task


def test_values_shared_across_ranks_are_summed(pipeline_run: dict[str, Any]) -> None:
    """A value both ranks saw gets the sum of both ranks' occurrences, not either rank's alone."""
    root = pipeline_run["root"]
    parts = sorted((root / "work/counts/spans").glob("part-*.parquet"))
    per_rank = [Counter(pl.read_parquet(p)["value_hash"].to_list()) for p in parts]
    shared = set(per_rank[0]) & set(per_rank[1])
    assert shared, "the corpus should repeat a value across files of both ranks"
    counts = dict(pl.read_parquet(root / "work/counts/counts.parquet").iter_rows())
    for h in shared:
        assert counts[h] == per_rank[0][h] + per_rank[1][h] >= 2
    assert pl.read_parquet(parts[0])["text"].null_count() == len(pl.read_parquet(parts[0]))  # no raw values


def test_documents_carry_scan_spans_with_counts(pipeline_run: dict[str, Any]) -> None:
    root = pipeline_run["root"]
    kept, dropped = _kept_and_dropped(root)
    docs = kept + dropped
    assert len(docs) == 60 + 24
    spans = pl.read_parquet(root / "scanout/spans/part-*.parquet")
    scan_spans = {r["span_id"]: r for r in spans.to_dicts()}
    dataset = pl.read_parquet(root / "scanout/dataset/part-*.parquet")
    tagged_by_id = dict(zip(dataset["id"].to_list(), dataset["tagged_text"].to_list(), strict=True))
    n_spans = 0
    for d in docs:
        meta = d["metadata"]
        for s in meta["factsep_spans"]:
            ref = scan_spans[s["span_id"]]
            assert (s["start"], s["end"], s["kind"], s["value_hash"], s["decision"]) == (
                ref["start"], ref["end"], ref["kind"], ref["value_hash"], ref["decision"],
            )
            assert s["corpus_count"] == ref["corpus_count"] and s["singleton"] == ref["singleton"]
            assert d["text"][s["start"] : s["end"]] == ref["text"]
            n_spans += 1
        assert meta["tagged_text"] == tagged_by_id[d["id"]]
        assert untag(meta["tagged_text"]) == d["text"]
        facts = [s for s in meta["factsep_spans"] if s["decision"] not in ("auto_reject", "human_reject")]
        assert meta["rf_count"] == len(facts)
        assert meta["rf_singletons"] == sum(1 for s in facts if s["singleton"])
        accepted = [s for s in facts if s["decision"] in ("auto_accept", "human_accept", "human_added")]
        assert meta["rf_mask"] == sorted([s["start"], s["end"]] for s in accepted if s["bits"] >= 12)
    assert n_spans == len(spans)


def test_filter_drops_exactly_the_documents_over_the_limit(pipeline_run: dict[str, Any]) -> None:
    kept, dropped = _kept_and_dropped(pipeline_run["root"])
    assert kept and dropped
    for d in kept:
        assert d["metadata"]["rf_singletons"] <= 2
    for d in dropped:
        assert d["metadata"]["rf_singletons"] > 2
        assert d["metadata"]["filter_reason"] == "too_many_singletons"


def test_token_loss_mask_and_thresholds(tmp_path: Path) -> None:
    """The apply step's token mask on a real tokenizer, and the other filter limits, in one executor."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from factsep.adapters.datatrove import FactsepApply, FactsepFilter, FactsepTagger
    from factsep.training import IGNORE_INDEX, masked_labels

    write_jsonl_corpus(tmp_path / "corpus", files=2, n=16)
    texts = [r["text"] for r in read_jsonl_folder(tmp_path / "corpus")]
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]"]))
    tok.save(str(tmp_path / "tokenizer.json"))
    LocalPipelineExecutor(
        [
            JsonlReader(str(tmp_path / "corpus")),
            FactsepTagger(batch_size=5, no_values=True),
            FactsepApply(tokenizer=str(tmp_path / "tokenizer.json"), replace_text=True),
            FactsepFilter(max_facts=2, exclusion_writer=JsonlWriter(str(tmp_path / "over"))),
            JsonlWriter(str(tmp_path / "kept")),
        ],
        tasks=2,
        logging_dir=str(tmp_path / "logs"),
    ).run()
    kept = read_jsonl_folder(tmp_path / "kept")
    over = read_jsonl_folder(tmp_path / "over")
    assert len(kept) + len(over) == 16 and over
    assert all(d["metadata"]["filter_reason"] == "too_many_facts" and d["metadata"]["rf_count"] > 2 for d in over)
    masked_tokens = 0
    for d in kept + over:
        meta = d["metadata"]
        assert all(s["text"] is None for s in meta["factsep_spans"])
        assert "<rf:" in d["text"] or not meta["rf_mask"]  # tagged text replaced doc.text
        original = untag(d["text"])
        enc = tok.encode(original, add_special_tokens=False)
        assert meta["input_ids"] == enc.ids
        labels = masked_labels(meta["input_ids"], meta["loss_mask"])
        for (a, b), label in zip(enc.offsets, labels, strict=True):
            inside = any(a < e and b > s for s, e in meta["rf_mask"])
            assert (label == IGNORE_INDEX) == inside
            masked_tokens += inside
    assert masked_tokens > 20


class _FailingDetector:
    """A real detector that raises on one document: the fault a corpus cannot be made to produce."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def detect_batch(self, texts: list[str], ids: list[str] | None = None) -> Any:
        if any("EXPLODE" in t for t in texts):
            raise RuntimeError("injected detector fault")
        return self.real.detect_batch(texts, ids)


@pytest.mark.parametrize("with_quarantine", [True, False])
def test_a_document_the_detector_fails_on_is_kept_apart(tmp_path: Path, with_quarantine: bool) -> None:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from factsep.adapters.datatrove import FactsepTagger

    class Failing(FactsepTagger):
        def detector(self) -> Any:
            return _FailingDetector(super().detector())

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [{"id": f"d{i}", "text": f"Call +1 650 253 {1000 + i} about it."} for i in range(5)]
    rows.insert(2, {"id": "bad", "text": "EXPLODE here, +1 650 253 0000"})
    (corpus / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    quarantine = JsonlWriter(str(tmp_path / "quarantine")) if with_quarantine else None
    LocalPipelineExecutor(
        [JsonlReader(str(corpus)), Failing(batch_size=4, quarantine=quarantine), JsonlWriter(str(tmp_path / "out"))],
        tasks=1,
        workers=1,
        logging_dir=str(tmp_path / "logs"),
    ).run()
    out = {d["id"]: d for d in read_jsonl_folder(tmp_path / "out")}
    stats = json.loads((tmp_path / "logs" / "stats.json").read_text())
    tagger = next(s for s in stats if s["name"].startswith("🏷"))
    assert tagger["stats"]["detector_errors"] == 1
    good = {f"d{i}" for i in range(5)}
    assert all(len(out[i]["metadata"]["factsep_spans"]) == 1 for i in good)
    if with_quarantine:
        assert set(out) == good
        (bad,) = read_jsonl_folder(tmp_path / "quarantine")
        assert bad["id"] == "bad" and "injected detector fault" in bad["metadata"]["factsep_error"]
    else:
        assert set(out) == good | {"bad"}
        assert "factsep_spans" not in out["bad"]["metadata"]
        assert "injected detector fault" in out["bad"]["metadata"]["factsep_error"]
