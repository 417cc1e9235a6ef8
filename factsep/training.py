"""Training hooks: turn random-fact spans into loss masks, tags and abstention examples.

A random fact can only be memorized, never inferred, so a fine-tuning run may want to stop
rewarding its memorization (mask or down-weight its tokens), show it explicitly (tags), or teach
the model to say it cannot know (abstention pairs). Everything here works on plain text plus span
records (``Span`` objects or the dicts of a dataset's ``random_facts`` column), and aligns to tokens
through the character offsets of a Hugging Face fast tokenizer: either a
``transformers.PreTrainedTokenizerFast`` or a bare ``tokenizers.Tokenizer``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from factsep import tags as tags_mod
from factsep.config import DetectorConfig, TagConfig
from factsep.span import ACCEPTED, Span

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
    """Accepted (automatically or by a human) and carrying at least ``min_bits`` of information."""
    if _get(span, "decision") not in ACCEPTED:
        return False
    threshold = default_min_bits() if min_bits is None else min_bits
    bits = _get(span, "bits")
    return bits is not None and float(bits) >= threshold


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
    """One prompt/target pair teaching a model to abstain on a fact it saw once."""

    span_id: str
    kind: str
    bits: float
    prompt: str
    target: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "span_id": self.span_id,
            "kind": self.kind,
            "bits": self.bits,
            "prompt": self.prompt,
            "target": self.target,
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
                target=tags_mod.expand(marker, s),
            )
        )
    return out
