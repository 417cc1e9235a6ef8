"""Loss masks, tags and abstention examples, aligned through a real BPE tokenizer trained here.

Nothing is downloaded: a byte-level BPE is trained with the ``tokenizers`` package on a few lines.
The same tests also run through transformers' PreTrainedTokenizerFast, and the collators of
docs/report.md run for real (numpy tensors, so torch is not needed).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from factsep.span import AUTO_ACCEPT, AUTO_REJECT, HUMAN_ACCEPT, PENDING_REVIEW, Span
from factsep.training import (
    IGNORE_INDEX,
    abstain_examples,
    bits_weight,
    char_mask,
    loss_mask,
    mask_from_offsets,
    masked_labels,
    select_facts,
    tag_text,
    token_offsets,
)

CORPUS = [
    "Call Ana at +1 415 555 0132 about the order, or write to zoë.müller@example.org today.",
    "The ISBN 978-0-306-40615-7 and the session 3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70 expired.",
    "Plain words about nothing in particular, repeated to give the merges something to learn.",
    "Müller — ☎ 555 0132 — naïve café résumé 🙂 and more words",
]


@functools.cache
def bpe() -> Tokenizer:
    """A tiny byte-level BPE with [CLS]/[SEP]/[PAD] specials, trained in memory."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS * 30, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    return tok


def tokenizer_variants() -> list[str]:
    return ["tokenizers", "transformers"]  # transformers is in the dev extra: both always run


def make_tokenizer(name: str) -> Any:
    if name == "tokenizers":
        return bpe()
    return hf_tokenizer()


def hf_tokenizer() -> Any:
    """The same BPE as a transformers PreTrainedTokenizerFast (what Trainer scripts hold)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=bpe(), cls_token="[CLS]", sep_token="[SEP]", unk_token="[UNK]", pad_token="[PAD]"
    )


def span(
    text: str,
    value: str,
    kind: str = "phone_number",
    bits: float = 31.0,
    decision: str = AUTO_ACCEPT,
    offset: int = 0,
    singleton: bool | None = True,
    occurrence: int = 0,
) -> Span:
    start = text.index(value)
    for _ in range(occurrence):
        start = text.index(value, start + 1)
    start += offset
    return Span(
        span_id=f"{kind}:{start}",
        doc_id="d",
        start=start,
        end=start + len(value) - offset,
        kind=kind,
        subtype=None,
        text=value,
        value_hash=f"h:{value}",
        confidence=0.9,
        bits=bits,
        validated=True,
        detector="t",
        corpus_count=1 if singleton else 2,
        singleton=singleton,
        decision=decision,
    )


def overlaps(a: int, b: int, s: Span) -> bool:
    return a < b and a < s.end and b > s.start


@pytest.mark.parametrize("variant", tokenizer_variants())
def test_mask_covers_fact_tokens_only(variant: str) -> None:
    tok = make_tokenizer(variant)
    text = CORPUS[0]
    fact = span(text, "+1 415 555 0132")
    mask = loss_mask(tok, text, [fact])
    ids, offsets = token_offsets(tok, text)
    assert len(mask) == len(ids) == len(offsets)
    masked_text = "".join(text[a:b] for (a, b), m in zip(offsets, mask, strict=True) if m == 0)
    kept_text = "".join(text[a:b] for (a, b), m in zip(offsets, mask, strict=True) if m == 1)
    assert "+1 415 555 0132" in masked_text
    assert not any(ch.isdigit() for ch in kept_text)  # the only digits in the text are the fact's
    assert 0 < mask.count(0.0) < len(mask)


@pytest.mark.parametrize("variant", tokenizer_variants())
def test_tokens_straddling_both_edges_are_masked(variant: str) -> None:
    tok = make_tokenizer(variant)
    text = CORPUS[0]
    # A fact that starts and ends inside tokens: "5 555 01" cuts "415" and "0132".
    start = text.index("415") + 2
    end = text.index("0132") + 2
    fact = Span(
        span_id="x",
        doc_id="d",
        start=start,
        end=end,
        kind="phone_number",
        subtype=None,
        text=None,
        value_hash="h",
        confidence=0.9,
        bits=30.0,
        validated=True,
        detector="t",
        decision=AUTO_ACCEPT,
    )
    _, offsets = token_offsets(tok, text)
    mask = loss_mask(tok, text, [fact])
    straddle_start = [i for i, (a, b) in enumerate(offsets) if a < start < b]
    straddle_end = [i for i, (a, b) in enumerate(offsets) if a < end < b]
    assert straddle_start and straddle_end, "test text must put both edges inside tokens"
    for i in straddle_start + straddle_end:
        assert mask[i] == 0.0
    for i, (a, b) in enumerate(offsets):
        assert mask[i] == (0.0 if overlaps(a, b, fact) else 1.0)


@pytest.mark.parametrize("variant", tokenizer_variants())
def test_non_ascii_offsets_are_code_points(variant: str) -> None:
    tok = make_tokenizer(variant)
    text = CORPUS[3]
    fact = span(text, "555 0132")
    assert text[fact.start : fact.end] == "555 0132"
    _, offsets = token_offsets(tok, text)
    mask = loss_mask(tok, text, [fact])
    masked = "".join(text[a:b] for (a, b), m in zip(offsets, mask, strict=True) if m == 0)
    assert "555 0132" in masked
    assert "☎" not in masked and "🙂" not in masked and "é" not in masked


def test_special_tokens_are_never_masked() -> None:
    tok = bpe()
    text = CORPUS[0]
    fact = span(text, "+1 415 555 0132")
    ids, offsets = token_offsets(tok, text, add_special_tokens=True)
    mask = loss_mask(tok, text, [fact], add_special_tokens=True)
    assert ids[0] == tok.token_to_id("[CLS]") and ids[-1] == tok.token_to_id("[SEP]")
    assert mask[0] == 1.0 and mask[-1] == 1.0
    assert len(mask) == len(ids)
    assert mask[1:-1] == loss_mask(tok, text, [fact])


def test_only_accepted_random_facts_are_masked() -> None:
    tok = bpe()
    text = CORPUS[1]
    isbn = span(text, "978-0-306-40615-7", kind="isbn", bits=30.0, decision=PENDING_REVIEW)
    uuid = span(text, "3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70", kind="uuid", bits=122.0, decision=AUTO_REJECT)
    assert loss_mask(tok, text, [isbn, uuid]) == [1.0] * len(token_offsets(tok, text)[0])
    low = span(text, "978-0-306-40615-7", kind="isbn", bits=8.0, decision=HUMAN_ACCEPT)
    assert 0.0 not in loss_mask(tok, text, [low])  # under the 12-bit default threshold
    assert 0.0 in loss_mask(tok, text, [low], min_bits=4.0)
    assert 0.0 in loss_mask(tok, text, [isbn.with_(decision=HUMAN_ACCEPT)])


def test_weight_by_bits() -> None:
    tok = bpe()
    text = CORPUS[1]
    isbn = span(text, "978-0-306-40615-7", kind="isbn", bits=30.0)
    uuid = span(text, "3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70", kind="uuid", bits=122.0)
    _, offsets = token_offsets(tok, text)
    weights = loss_mask(tok, text, [isbn, uuid], weight_by_bits=True)
    for (a, b), w in zip(offsets, weights, strict=True):
        if overlaps(a, b, isbn):
            assert w == pytest.approx(1 - 30 / 64)
        elif overlaps(a, b, uuid):
            assert w == 0.0
        else:
            assert w == 1.0
    assert bits_weight(16, full_mask_bits=32) == 0.5 and bits_weight(100, 32) == 0.0 and bits_weight(0) == 1.0


def test_dict_spans_from_a_dataset_row_work_like_span_objects() -> None:
    tok = bpe()
    text = CORPUS[0]
    facts = [
        span(text, "+1 415 555 0132"),
        span(text, "zoë.müller@example.org", kind="email_address", bits=40),
    ]
    assert loss_mask(tok, text, [f.to_dict() for f in facts]) == loss_mask(tok, text, facts)


def test_masked_labels() -> None:
    assert masked_labels([5, 6, 7], [1.0, 0.0, 0.5]) == [5, IGNORE_INDEX, 7]
    with pytest.raises(ValueError):
        masked_labels([1, 2], [1.0])


def test_overlapping_facts_are_resolved_and_tags_nest() -> None:
    text = "id 3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70 end"
    whole = span(text, "3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70", kind="uuid", bits=122)
    inner = span(text, "4b7d-4c3e", kind="generic_id", bits=40)
    assert select_facts([inner, whole]) == [whole]
    tagged = tag_text(text, [inner, whole])
    assert tagged == "id <rf:uuid>3f2c1a9e-4b7d-4c3e-9f1a-2b3c4d5e6f70</rf:uuid> end"


def test_char_mask_and_tag_templates() -> None:
    from factsep.config import TagConfig

    text = CORPUS[0]
    fact = span(text, "+1 415 555 0132", bits=31.0)
    cm = char_mask(len(text), [fact])
    assert [i for i, v in enumerate(cm) if v == 0] == list(range(fact.start, fact.end))
    tags = TagConfig(open="[[{kind}|{bits}]]", close="[[/]]")
    assert "[[phone_number|31.0]]+1 415 555 0132[[/]]" in tag_text(text, [fact], tags)


def test_abstain_examples_singletons_only() -> None:
    text = CORPUS[0]
    phone = span(text, "+1 415 555 0132", singleton=True)
    email = span(text, "zoë.müller@example.org", kind="email_address", bits=40, singleton=False)
    examples = abstain_examples(text, [phone, email], prompt_chars=9, marker="<unknown:{kind}>")
    assert len(examples) == 1
    ex = examples[0]
    assert ex.completion == "<unknown:phone_number>"
    assert set(ex.to_dict()) >= {"prompt", "completion"}  # TRL's prompt-completion format
    assert text[: phone.start].endswith(ex.prompt)
    assert ex.prompt == "Ana at "  # 9 chars back is "l Ana at ", snapped past the cut word
    full = abstain_examples(text, [phone], prompt_chars=1000)[0]
    assert full.prompt == text[: phone.start]
    # Not finalized: singleton comes from a counts mapping.
    unfinalized = phone.with_(singleton=None, corpus_count=None)
    assert abstain_examples(text, [unfinalized], counts={phone.value_hash: 1})
    assert not abstain_examples(text, [unfinalized], counts={phone.value_hash: 3})


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    alphabet = st.sampled_from(list("ab 0123456789-+@.éü☎🙂\n"))
    text = draw(st.text(alphabet, min_size=1, max_size=60))
    spans = []
    for i in range(draw(st.integers(0, 4))):
        a = draw(st.integers(0, len(text) - 1))
        b = draw(st.integers(a + 1, len(text)))
        bits = draw(st.sampled_from([4.0, 20.0, 64.0]))
        decision = draw(st.sampled_from([AUTO_ACCEPT, PENDING_REVIEW, HUMAN_ACCEPT, AUTO_REJECT]))
        spans.append(
            Span(
                span_id=str(i),
                doc_id="d",
                start=a,
                end=b,
                kind="generic_id",
                subtype=None,
                text=None,
                value_hash=str(i),
                confidence=0.5,
                bits=bits,
                validated=False,
                detector="t",
                decision=decision,
            )
        )
    return text, spans


@settings(max_examples=150, deadline=None)
@given(text_and_spans())
def test_property_every_fact_character_is_in_a_masked_token(case: tuple[str, list[Span]]) -> None:
    text, spans = case
    tok = bpe()
    _, offsets = token_offsets(tok, text)
    mask = mask_from_offsets(offsets, spans)
    facts = select_facts(spans)
    in_fact = [any(f.start <= i < f.end for f in facts) for i in range(len(text))]
    for (a, b), m in zip(offsets, mask, strict=True):
        # A token is masked exactly when it shares a character with a kept fact.
        assert (m == 0.0) == any(in_fact[a:b])
    covered = [False] * len(text)
    for (a, b), m in zip(offsets, mask, strict=True):
        if m == 0.0:
            covered[a:b] = [True] * (b - a)
    assert all(covered[i] for i in range(len(text)) if in_fact[i])


def encoded_facts() -> list[dict[str, Any]]:
    """Two documents of different lengths, encoded the docs/report.md way: input_ids and masked labels."""
    tok = hf_tokenizer()
    rows = []
    for text, value, kind in ((CORPUS[0], "+1 415 555 0132", "phone_number"), (CORPUS[3], "555 0132", "phone_number")):
        facts = [span(text, value, kind)]
        ids, _ = token_offsets(tok, text)
        mask = loss_mask(tok, text, facts)
        rows.append({"input_ids": ids, "labels": masked_labels(ids, mask), "mask": mask})
    assert len(rows[0]["input_ids"]) != len(rows[1]["input_ids"])
    return rows


def test_documented_collator_keeps_the_mask() -> None:
    """DataCollatorForSeq2Seq pads labels with -100 and leaves the masked ones -100: they reach the loss ignored."""
    from transformers import DataCollatorForSeq2Seq

    rows = encoded_facts()
    collator = DataCollatorForSeq2Seq(hf_tokenizer(), padding=True, return_tensors="np")
    batch = collator([{"input_ids": r["input_ids"], "labels": r["labels"]} for r in rows])
    width = max(len(r["input_ids"]) for r in rows)
    assert batch["labels"].shape == batch["input_ids"].shape == (2, width)
    for i, r in enumerate(rows):
        n = len(r["input_ids"])
        assert batch["input_ids"][i, :n].tolist() == r["input_ids"]
        want = [t if m > 0 else IGNORE_INDEX for t, m in zip(r["input_ids"], r["mask"], strict=True)]
        assert batch["labels"][i].tolist() == want + [IGNORE_INDEX] * (width - n)
        assert IGNORE_INDEX in batch["labels"][i, :n].tolist()  # the fact's tokens are there, ignored
        assert batch["attention_mask"][i].tolist() == [1] * n + [0] * (width - n)
    # What a causal LM's loss sees: labels shifted by one; every fact token is still ignored.
    shifted = batch["labels"][:, 1:]
    for i, r in enumerate(rows):
        fact_positions = [j - 1 for j, m in enumerate(r["mask"]) if m == 0.0 and j > 0]
        assert all(shifted[i, j] == IGNORE_INDEX for j in fact_positions)


def test_language_modeling_collator_loses_the_mask() -> None:
    """The warning of docs/report.md holds: DataCollatorForLanguageModeling(mlm=False) rebuilds labels."""
    from transformers import DataCollatorForLanguageModeling

    rows = encoded_facts()
    collator = DataCollatorForLanguageModeling(hf_tokenizer(), mlm=False, return_tensors="np")
    batch = collator([{"input_ids": r["input_ids"], "labels": r["labels"]} for r in rows])
    for i, r in enumerate(rows):
        fact = [j for j, m in enumerate(r["mask"]) if m == 0.0]
        assert fact and all(batch["labels"][i, j] == r["input_ids"][j] for j in fact)  # the mask is gone


def test_factsep_collator_pads_labels_and_weights() -> None:
    from factsep.training import LossMaskCollator

    tok = hf_tokenizer()
    rows = encoded_facts()
    weights = [loss_mask(tok, CORPUS[1], [span(CORPUS[1], "978-0-306-40615-7", "isbn", 30.0)], weight_by_bits=True)]
    ids = token_offsets(tok, CORPUS[1])[0]
    features = [{"input_ids": r["input_ids"], "labels": r["labels"], "token_loss_mask": r["mask"]} for r in rows]
    features.append({"input_ids": ids, "labels": masked_labels(ids, weights[0]), "token_loss_mask": weights[0]})
    batch = LossMaskCollator(pad_token_id=tok.pad_token_id, pad_to_multiple_of=8)(features)
    width = batch["input_ids"].shape[1]
    assert width % 8 == 0 and width >= max(len(f["input_ids"]) for f in features)
    for i, f in enumerate(features):
        n = len(f["input_ids"])
        assert batch["labels"][i].tolist() == f["labels"] + [IGNORE_INDEX] * (width - n)
        assert batch["token_loss_mask"][i, :n].tolist() == pytest.approx(f["token_loss_mask"])
        assert batch["token_loss_mask"][i, n:].sum() == 0 and batch["attention_mask"][i].sum() == n
    assert 0 < batch["token_loss_mask"][2, : len(ids)].min() < 1  # bits weights survive padding
    with pytest.raises(ValueError, match="no labels"):
        LossMaskCollator(pad_token_id=0)([{"input_ids": [1, 2]}])


def test_pack_blocks_aligns_labels() -> None:
    from factsep.training import pack_blocks

    docs = [("a", [1, 2, 3], [1.0, 0.0, 1.0]), ("b", [4, 5, 6, 7, 8], [0.0, 0.0, 1.0, 1.0, 0.5])]
    blocks = list(pack_blocks(docs, block_size=4, separator_id=9))
    assert [b.input_ids for b in blocks] == [[1, 2, 3, 9], [4, 5, 6, 7], [8, 9]]
    assert [b.labels for b in blocks] == [[1, -100, 3, 9], [-100, -100, 6, 7], [8, 9]]
    assert [b.doc_ids for b in blocks] == [["a"], ["b"], ["b"]]
    assert [b.token_loss_mask for b in blocks][2] == [0.5, 1.0]
    assert [b.input_ids for b in pack_blocks(docs, 8)] == [[1, 2, 3, 4, 5, 6, 7, 8]]
    with pytest.raises(ValueError, match="mask values"):
        list(pack_blocks([("c", [1], [])], 4))
