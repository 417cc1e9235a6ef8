"""Training hooks: turn random-fact spans into loss masks, tags and abstention examples.

A random fact can only be memorized, never inferred, so a fine-tuning run may want to stop
rewarding its memorization (mask or down-weight its tokens), show it explicitly (tags), or teach
the model to say it cannot know (abstention pairs). Everything here works on plain text plus span
records (``Span`` objects or the dicts of a dataset's ``random_facts`` column), and aligns to tokens
through the character offsets of a Hugging Face fast tokenizer: either a
``transformers.PreTrainedTokenizerFast`` or a bare ``tokenizers.Tokenizer``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from factsep import tags as tags_mod
from factsep.config import DetectorConfig, TagConfig
from factsep.span import Span
from factsep.span import is_random_fact as span_is_random_fact

#: Default marker for abstention targets; ``{kind}`` and ``{subtype}`` expand.
DEFAULT_ABSTAIN_MARKER = "<unknown:{kind}>"
#: Facts with at least this many bits get weight 0 under ``weight_by_bits``; fewer bits keep some loss.
DEFAULT_FULL_MASK_BITS = 64.0
#: Label value that PyTorch's cross-entropy (and so HF Trainer) ignores.
IGNORE_INDEX = -100

SpanLike = Span | Mapping[str, Any]


_get = tags_mod.span_field


def default_min_bits() -> float:
    """The detector's ``random_bits_threshold``: below it a value is not called random."""
    return DetectorConfig().random_bits_threshold


def is_random_fact(span: SpanLike, min_bits: float | None = None) -> bool:
    """:func:`factsep.span.is_random_fact` of a span record or mapping (``min_bits``: the detector's)."""
    bits = _get(span, "bits")
    threshold = default_min_bits() if min_bits is None else min_bits
    return bits is not None and span_is_random_fact(_get(span, "decision"), float(bits), threshold)


def select_facts(spans: Iterable[SpanLike], min_bits: float | None = None) -> list[SpanLike]:
    """Random facts among ``spans``, sorted by start, overlaps resolved (earliest, then longest, wins).

    Overlaps are dropped rather than merged so that tags stay well nested and each fact keeps its
    own kind.
    """
    facts = [s for s in spans if is_random_fact(s, min_bits)]
    facts.sort(key=lambda s: (int(_get(s, "start")), -int(_get(s, "end"))))
    kept: list[SpanLike] = []
    last_end = -1
    for s in facts:
        if int(_get(s, "start")) >= last_end:
            kept.append(s)
            last_end = int(_get(s, "end"))
    return kept


def bits_weight(bits: float, full_mask_bits: float = DEFAULT_FULL_MASK_BITS) -> float:
    """Loss weight of a fact's tokens under ``weight_by_bits``: 1 - bits/full_mask_bits, clipped to [0, 1].

    Why linear in bits: the irreducible loss of a random fact is its bits, so the share of its
    loss worth keeping shrinks as the fact gets less predictable; at ``full_mask_bits`` (a UUID, a
    key) nothing is learnable and the weight is 0.
    """
    if full_mask_bits <= 0:
        return 0.0
    return min(1.0, max(0.0, 1.0 - float(bits) / full_mask_bits))


def token_offsets(
    tokenizer: Any, text: str, add_special_tokens: bool = False
) -> tuple[list[int], list[tuple[int, int]]]:
    """Token ids and character offsets of ``text`` from a fast tokenizer of either package.

    Offsets are Python ``str`` indices (code points), the same unit as span ``start``/``end``.
    Special tokens come back with empty offsets ``(0, 0)`` and are never masked.
    """
    try:
        from tokenizers import Tokenizer
    except ImportError:  # pragma: no cover - tokenizers is optional
        Tokenizer = None  # noqa: N806
    if Tokenizer is not None and isinstance(tokenizer, Tokenizer):
        enc = tokenizer.encode(text, add_special_tokens=add_special_tokens)
        return list(enc.ids), [(int(a), int(b)) for a, b in enc.offsets]
    if callable(tokenizer):  # transformers fast tokenizer
        if not getattr(tokenizer, "is_fast", False):
            raise TypeError("loss_mask needs a fast tokenizer (one that returns offset mappings)")
        enc = tokenizer(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
        return list(enc["input_ids"]), [(int(a), int(b)) for a, b in enc["offset_mapping"]]
    raise TypeError(f"unsupported tokenizer type {type(tokenizer).__name__}")


def token_id(tokenizer: Any, token: str) -> int:
    """The id of one token (an end-of-text token for packing) in a fast tokenizer of either package."""
    if tokenizer is None:
        raise ValueError(f"token {token!r} needs a tokenizer to look it up")
    if hasattr(tokenizer, "token_to_id"):
        found = tokenizer.token_to_id(token)
    else:
        found = tokenizer.convert_tokens_to_ids(token)
        if found == getattr(tokenizer, "unk_token_id", None) and token != getattr(tokenizer, "unk_token", None):
            found = None
    if found is None:
        raise ValueError(f"token {token!r} is not in the tokenizer's vocabulary")
    return int(found)


def mask_from_offsets(
    offsets: Sequence[tuple[int, int]],
    spans: Iterable[SpanLike],
    weight_by_bits: bool = False,
    min_bits: float | None = None,
    full_mask_bits: float = DEFAULT_FULL_MASK_BITS,
) -> list[float]:
    """Per-token loss weights: 1.0 normal, 0.0 (or the bits weight) on tokens touching a random fact.

    A token that straddles a fact's edge (``"Ġ555"`` with the space before the number) is covered:
    any overlap of at least one character masks it. With several facts on one token the lowest
    weight wins.
    """
    facts = select_facts(spans, min_bits)
    weights = [1.0] * len(offsets)
    if not facts:
        return weights
    # Both lists are sorted by start; walk them together so the cost is O(tokens + facts).
    order = sorted(range(len(offsets)), key=lambda i: offsets[i][0])
    j = 0
    for i in order:
        a, b = offsets[i]
        if b <= a:
            continue
        while j < len(facts) and int(_get(facts[j], "end")) <= a:
            j += 1
        k = j
        while k < len(facts) and int(_get(facts[k], "start")) < b:
            if int(_get(facts[k], "end")) > a:
                w = bits_weight(float(_get(facts[k], "bits")), full_mask_bits) if weight_by_bits else 0.0
                weights[i] = min(weights[i], w)
            k += 1
    return weights


def loss_mask(
    tokenizer: Any,
    text: str,
    spans: Iterable[SpanLike],
    weight_by_bits: bool = False,
    *,
    min_bits: float | None = None,
    full_mask_bits: float = DEFAULT_FULL_MASK_BITS,
    add_special_tokens: bool = False,
) -> list[float]:
    """Token-level loss mask of ``text``: 0.0 on tokens of accepted random facts, 1.0 elsewhere.

    With ``weight_by_bits`` the fact tokens get :func:`bits_weight` instead of 0, so a low-entropy
    fact still teaches a little. Multiply the per-token loss by this list (same length as the
    tokenizer's ``input_ids`` for the same ``add_special_tokens``), or use :func:`masked_labels`.
    """
    _, offsets = token_offsets(tokenizer, text, add_special_tokens=add_special_tokens)
    return mask_from_offsets(offsets, spans, weight_by_bits, min_bits, full_mask_bits)


def masked_labels(input_ids: Sequence[int], mask: Sequence[float], ignore_index: int = IGNORE_INDEX) -> list[int]:
    """Labels for a causal-LM trainer: the token id where the mask is positive, ``ignore_index`` where 0."""
    if len(input_ids) != len(mask):
        raise ValueError(f"{len(input_ids)} ids but {len(mask)} mask values")
    return [int(t) if m > 0 else ignore_index for t, m in zip(input_ids, mask, strict=True)]


def char_mask(text_length: int, spans: Iterable[SpanLike], min_bits: float | None = None) -> list[int]:
    """Character-level loss mask: 0 on characters of random facts, 1 elsewhere."""
    mask = [1] * text_length
    for s in select_facts(spans, min_bits):
        a, b = max(0, int(_get(s, "start"))), min(text_length, int(_get(s, "end")))
        mask[a:b] = [0] * max(0, b - a)
    return mask


def tag_text(text: str, spans: Iterable[SpanLike], tags: TagConfig | None = None, min_bits: float | None = None) -> str:
    """``text`` with each random fact wrapped in the open/close templates of ``tags``, the rest escaped.

    The random-facts-only form of :func:`factsep.tags.tag_text` (which tags every accepted span);
    :func:`factsep.tags.untag` recovers ``text``.
    """
    return tags_mod.tag_text(text, select_facts(spans, min_bits), tags)


def is_singleton(span: SpanLike, counts: Mapping[str, int] | None = None) -> bool:
    """Seen once in the corpus; falls back to ``counts`` (value_hash -> count) when not finalized."""
    single = _get(span, "singleton")
    if single is not None:
        return bool(single)
    count = _get(span, "corpus_count")
    if count is None and counts is not None:
        count = counts.get(_get(span, "value_hash"))
    return count == 1


@dataclass(frozen=True)
class AbstainExample:
    """One prompt/completion pair teaching a model to abstain on a fact it saw once.

    ``prompt``/``completion`` are the field names of TRL's prompt-completion dataset format, so
    the export loads into ``SFTTrainer`` as it is (which then computes the loss on the completion).
    """

    span_id: str
    kind: str
    bits: float
    prompt: str
    completion: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "span_id": self.span_id,
            "kind": self.kind,
            "bits": self.bits,
            "prompt": self.prompt,
            "completion": self.completion,
        }


def abstain_examples(
    text: str,
    spans: Iterable[SpanLike],
    prompt_chars: int = 512,
    marker: str = DEFAULT_ABSTAIN_MARKER,
    min_bits: float | None = None,
    counts: Mapping[str, int] | None = None,
    snap_to_word: bool = True,
) -> list[AbstainExample]:
    """One example per singleton random fact: the text before it (at most ``prompt_chars``) -> marker.

    Only singletons: a fact the corpus repeats can be learned, one it states once cannot (the
    monofact argument), so that is where the model should learn to say so. With ``snap_to_word``
    a cut prompt starts after the first whitespace so it does not open mid-word.
    """
    out: list[AbstainExample] = []
    for s in select_facts(spans, min_bits):
        if not is_singleton(s, counts):
            continue
        start = int(_get(s, "start"))
        begin = max(0, start - prompt_chars)
        prompt = text[begin:start]
        if snap_to_word and begin > 0:
            cut = next((i for i, ch in enumerate(prompt) if ch.isspace()), -1)
            if 0 <= cut < len(prompt) - 1:
                prompt = prompt[cut + 1 :]
        out.append(
            AbstainExample(
                span_id=str(_get(s, "span_id")),
                kind=str(_get(s, "kind")),
                bits=float(_get(s, "bits")),
                prompt=prompt,
                completion=tags_mod.expand(marker, s),
            )
        )
    return out


@dataclass
class PackedBlock:
    """``block_size`` tokens cut from the concatenated documents, labels aligned to ``input_ids``."""

    input_ids: list[int]
    labels: list[int]
    token_loss_mask: list[float]
    #: Ids of the documents with tokens in this block, in order (a long document spans several blocks).
    doc_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def pack_blocks(
    documents: Iterable[tuple[str, Sequence[int], Sequence[float]]],
    block_size: int,
    separator_id: int | None = None,
    ignore_index: int = IGNORE_INDEX,
) -> Iterator[PackedBlock]:
    """Concatenate tokenized documents and cut them into blocks of ``block_size`` tokens.

    ``documents`` yields ``(doc_id, input_ids, token_loss_mask)``. Each token keeps its own label
    (``ignore_index`` where the mask is 0), so the loss mask survives packing; a ``separator_id``
    (an end-of-text token) is appended after every document and learnt. The last block may be
    shorter: nothing is dropped. Memory holds one block and one document.
    """
    if block_size < 1:
        raise ValueError("block_size must be at least 1")
    ids: list[int] = []
    weights: list[float] = []
    owners: list[str] = []
    for doc_id, doc_ids, mask in documents:
        if len(doc_ids) != len(mask):
            raise ValueError(f"document {doc_id}: {len(doc_ids)} ids but {len(mask)} mask values")
        ids += [int(t) for t in doc_ids]
        weights += [float(w) for w in mask]
        owners += [doc_id] * len(doc_ids)
        if separator_id is not None:
            ids.append(int(separator_id))
            weights.append(1.0)
            owners.append(doc_id)
        while len(ids) >= block_size:
            yield _block(ids[:block_size], weights[:block_size], owners[:block_size], ignore_index)
            del ids[:block_size], weights[:block_size], owners[:block_size]
    if ids:
        yield _block(ids, weights, owners, ignore_index)


def _block(ids: list[int], weights: list[float], owners: list[str], ignore_index: int) -> PackedBlock:
    return PackedBlock(
        input_ids=list(ids),
        labels=masked_labels(ids, weights, ignore_index),
        token_loss_mask=list(weights),
        doc_ids=list(dict.fromkeys(owners)),
    )


@dataclass
class LossMaskCollator:
    """Pads a batch of ``input_ids``/``labels`` (and ``token_loss_mask``) without touching the labels.

    What transformers' ``DataCollatorForSeq2Seq`` does for ``input_ids`` and ``labels``, plus the
    float ``token_loss_mask`` of ``weight_by_bits`` (padded with 0.0), which that collator leaves
    ragged. Never use ``DataCollatorForLanguageModeling(mlm=False)`` here: it rebuilds ``labels``
    from ``input_ids`` and silently drops the mask. ``return_tensors``: "np", "pt" (torch) or None.
    """

    pad_token_id: int
    ignore_index: int = IGNORE_INDEX
    pad_to_multiple_of: int | None = None
    return_tensors: str | None = "np"

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        width = max((len(f["input_ids"]) for f in features), default=0)
        if self.pad_to_multiple_of:
            width = -(-width // self.pad_to_multiple_of) * self.pad_to_multiple_of
        pads = {"input_ids": self.pad_token_id, "labels": self.ignore_index, "token_loss_mask": 0.0}
        batch: dict[str, list[list[Any]]] = {"attention_mask": []}
        for f in features:
            n = len(f["input_ids"])
            batch["attention_mask"].append([1] * n + [0] * (width - n))
            for key, pad in pads.items():
                if key in f:
                    values = list(f[key])
                    if len(values) != n:
                        raise ValueError(f"{key} has {len(values)} values for {n} input_ids")
                    batch.setdefault(key, []).append(values + [pad] * (width - n))
        if "labels" not in batch:
            raise ValueError("features carry no labels: build them with masked_labels (or a masked export)")
        return _tensors(batch, self.return_tensors)


def _tensors(batch: dict[str, list[list[Any]]], kind: str | None) -> dict[str, Any]:
    if kind is None:
        return dict(batch)
    import numpy as np

    arrays = {
        k: np.asarray(v, dtype=np.float32 if k == "token_loss_mask" else np.int64) for k, v in batch.items()
    }
    if kind == "np":
        return arrays
    if kind == "pt":
        import torch

        return {k: torch.from_numpy(v) for k, v in arrays.items()}
    raise ValueError(f"return_tensors must be 'np', 'pt' or None, not {kind!r}")
