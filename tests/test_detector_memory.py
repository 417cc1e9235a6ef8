"""The detector's caches are bounded in bytes (issue 17: 13), however many distinct values it reads.

They used to be bounded by entries (200,000 per cache, five caches), which on a corpus of distinct
values is hundreds of MB. Here the bound is set small, the detector reads thousands of distinct
values, and the caches' real size (counted object by object) must stay near the bound.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import uuid
from typing import Any

import pytest

import factsep.detection.detector as detector_mod
from factsep import Detector
from factsep.kinds.base import Kind


def deep_size(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes held by ``obj`` and what it references, each object once; kinds are shared, not held."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, (Kind, type)) or obj is None or isinstance(obj, bool):
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (tuple, list, set, frozenset)):
        size += sum(deep_size(x, seen) for x in obj)
    elif dataclasses.is_dataclass(obj):
        size += sum(deep_size(getattr(obj, f.name), seen) for f in dataclasses.fields(obj))
    return size


def distinct_documents(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        docs.append(
            f"ticket {i}: call +1 {rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}, "
            f"request id {uuid.UUID(int=rng.getrandbits(128), version=4)}, commit {rng.getrandbits(160):040x}, "
            f"order {rng.randint(10**9, 10**10 - 1)} and ISBN 978-{rng.randint(0, 9)}-{rng.randint(1000, 9999)}"
        )
    return docs


def cache_size(det: Detector) -> int:
    caches = [det._cache, det._readings, det._confidences, det._cannot_matter, det._bits_cache]
    seen: set[int] = set()
    return sum(deep_size(c, seen) for c in caches)


def test_detector_caches_stay_within_their_byte_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    bound = 128 << 10
    monkeypatch.setattr(detector_mod, "CACHE_BYTES", bound, raising=False)
    det = Detector()
    sizes = []
    for part in range(4):
        for spans in det.detect_batch(distinct_documents(500, seed=part)):
            assert spans  # the documents hold facts: the caches were used
        sizes.append(cache_size(det))
    print("cache bytes after each part", sizes)
    # real bytes within 1.5x the bound (the estimate is close), and no growth once the bound is hit
    assert max(sizes) <= 1.5 * bound, sizes
    assert sizes[-1] <= 1.1 * sizes[1], sizes


def test_a_repeated_value_is_still_served_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detector_mod, "CACHE_BYTES", 256 << 10, raising=False)
    det = Detector()
    text = "call +1 650-253-0000 today"
    first = det.detect(text)
    calls = 0
    original = det._read

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(det, "_read", counting)
    assert det.detect(text) == first and calls == 0


def _windows_of_new_words(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        f"please call {''.join(rng.choice('bcdfghjklmnpqrstvwxz') for _ in range(8))} at 555-{i:04d} phone"
        for i in range(n)
    ]


def test_context_reader_leaves_no_new_words_in_the_spacy_vocabulary() -> None:
    """Every new token used to stay in the shared pipeline's StringStore (~3,200 per MB of prose)."""
    from factsep.detection.context import ContextReader

    reader = ContextReader()
    strings = reader.nlp.vocab.strings
    before = len(strings)
    for text in _windows_of_new_words(2000, seed=5):
        start = text.index("555")
        assert reader.read(text, start, start + 8, ("phone", "call"), ("fax",)).positive
    assert len(strings) - before < 50


def test_context_reader_inside_a_memory_zone_opened_by_the_caller() -> None:
    """Zones cannot nest: inside the caller's zone the reader uses it, and its words go with it."""
    from factsep.detection.context import ContextReader

    reader = ContextReader()
    strings = reader.nlp.vocab.strings
    before = len(strings)
    with reader.nlp.memory_zone():
        for text in _windows_of_new_words(200, seed=6):
            start = text.index("555")
            assert reader.read(text, start, start + 8, ("phone", "call"), ()).positive
    assert len(strings) - before < 50
