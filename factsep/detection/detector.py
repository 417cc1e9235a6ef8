"""The Detector: candidates (one compiled pass) -> validation -> context -> score -> overlaps.

Stage two touches candidates only: each candidate is offered to the kinds whose cheap pre-checks
it passes, each kind's own pattern locates its value inside the candidate, the kind's validator
normalizes or refuses it, and context is read only for values a validator kept.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import sys
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, NamedTuple

from factsep.config import DetectorConfig
from factsep.detection import context as _context
from factsep.detection.candidates import CandidateEngine
from factsep.detection.context import NO_CONTEXT, ContextHit, ContextReader, denial_pattern, denial_words
from factsep.detection.numerals import Reference, not_a_fact, references
from factsep.detection.scoring import (
    UNPROVEN_CEILING,
    W_NEGATIVE,
    Calibration,
    Signals,
    decide,
    kind_bias,
    logit,
    made_up,
    reference_logit,
    sigmoid,
)
from factsep.kinds.base import DASHES, Kind, Validation, registry
from factsep.span import Span, doc_key, make_span_id, make_value_hash

try:  # the Rust core, built by maturin (pip install -e .)
    from factsep import _native
except ImportError:  # not built: the Python signals are the only ones
    _native = None

_MISSING = object()
#: Bytes (estimated) all of one Detector's caches may hold together. Why bytes, not entries: an
#: entry's key is a candidate text of up to ``max_candidate_chars`` and its value a tuple of
#: readings, so 200,000 entries per cache (the old bound) let five caches grow to hundreds of MB on
#: a corpus of distinct values. Shares: readings and validator results most, the rest small.
CACHE_BYTES = 96 << 20
_CACHE_SHARES = {"readings": 0.35, "gated": 0.05, "validate": 0.4, "bits": 0.1, "confidence": 0.05,
                 "cannot_matter": 0.05}
_ENTRY_BYTES = 104  # a dict slot, the key tuple and its hash, beside what _cost counts
_OBJECT_BYTES = 64  # a small object (a Validation's slots) without the strings it holds
_getsizeof = sys.getsizeof
#: Types whose objects cost a cache nothing (singletons, or shared like a Kind): exact types only.
_FREE = frozenset({int, bool, type(None), Kind})


def _cost(obj: Any) -> int:
    """Estimated bytes ``obj`` keeps alive in a cache. Kinds are shared and cost nothing; small
    ints, bools and None are singletons; strings and containers are counted with their contents.
    Exact types first (every reading is counted as it is cached: this runs per distinct value);
    a container's free and string items are counted in its own loop, without a call each (the
    same figure, a fraction of the calls: the cost was 9% of detection on new text)."""
    t = type(obj)
    if t is str:
        return _getsizeof(obj)
    if t is tuple or t is list:
        n = _getsizeof(obj)
        for x in obj:
            tx = type(x)
            if tx is str:
                n += _getsizeof(x)
            elif tx in _FREE:
                continue
            elif tx is float:
                n += 24
            elif tx is Validation:
                v = x.normalized
                n += _OBJECT_BYTES + (_getsizeof(v) if type(v) is str else _cost(v)) + _cost(x.context)
            else:
                n += _cost(x)
        return n
    if t is Validation:
        return _OBJECT_BYTES + _cost(obj.normalized) + _cost(obj.context)
    if t is float:
        return 24
    if t in _FREE:
        return 0
    return _cost_of_subclass(obj)


def _cost_of_subclass(obj: Any) -> int:
    if isinstance(obj, str):
        return sys.getsizeof(obj)
    if isinstance(obj, (tuple, list)):
        return sys.getsizeof(obj) + sum(map(_cost, obj))
    if isinstance(obj, Validation):
        return _OBJECT_BYTES + _cost(obj.normalized) + _cost(obj.context)
    if isinstance(obj, float):
        return 24
    return 0


class _Cache(OrderedDict):  # type: ignore[type-arg]
    """A dict bounded in estimated bytes; when full, the oldest entries go first.

    Why oldest-first rather than clearing all (as before): repeated values of a corpus stay cached
    across the bound, and memory never drops and climbs back in one step. Why an OrderedDict: a
    plain dict finds its oldest entry by iterating past every slot freed at its front, which grows
    with the entries evicted since it last resized (7% of detection on new text once a cache was
    full); ``popitem(last=False)`` takes it at once, in the same order.
    """

    __slots__ = ("max_bytes", "nbytes")

    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.nbytes = 0

    def put(self, key: Any, value: Any) -> Any:
        """Store a value that is not cached yet and return it."""
        self[key] = value
        self.nbytes += _ENTRY_BYTES + _cost(key) + _cost(value)
        while self.nbytes > self.max_bytes and len(self) > 1:
            old_key, old = self.popitem(last=False)
            self.nbytes -= _ENTRY_BYTES + _cost(old_key) + _cost(old)
        return value

    def clear(self) -> None:
        super().clear()
        self.nbytes = 0


def _caches(max_bytes: int) -> dict[str, _Cache]:
    return {name: _Cache(int(max_bytes * share)) for name, share in _CACHE_SHARES.items()}


_ATTEMPTS_PER_CANDIDATE = 16
#: A sign glued before a number that says what it is: a "+" dials a country ("+1 201-555-..." is a
#: phone's digits), a currency sign prices it ("$129.99"). No identifier format is tried after one.
_DIALLED_OR_PRICED = frozenset("+$€£¥₹")
#: Occurrences a value may be kept from its validator before it is validated anyway (its verdict is
#: then cached): bounds what a wall of one repeated value costs, per occurrence, to a look-up.
_GATED_LIMIT = 32
#: What Detector._read_format says of a match whose every attempt its validator refused.
_REFUSED: Any = object()
_SEP_GROUP = re.compile(rf"[ \-./{DASHES}]+[^ \-./{DASHES}]*$")
_LETTER_PREFIX = re.compile(rf"^[A-Za-z]{{1,4}}(?: ?[\-{DASHES}] |:? ?)(?=[A-Z]?-? ?\d)")
#: A validated reading of a candidate: (offset in it, length, kind, options best first, made-up
#: digits, trailing digit groups dropped to make it validate).
_Reading = tuple[int, int, Kind, tuple[Validation, ...], bool, int]
#: A format kind's match in a candidate, validated per occurrence (Detector._read_format): (offset
#: in the candidate, kind, backoff attempts as (shift, attempt, digit groups dropped)).
_Deferred = tuple[int, Kind, tuple[tuple[int, str, int], ...]]
#: The fields of :class:`Signals`, in order.
_SignalTuple = tuple[float, bool, bool, float, int, int, bool, bool, int, bool, bool, bool, bool, int, bool, str]


class Traced(NamedTuple):
    """One reading as the detector scored it (``Detector.trace``): a training example of
    scripts/fit_weights.py. ``signals`` is None for a reference number, found by its ``cue``."""

    start: int
    end: int
    kind: str
    signals: _SignalTuple | None
    #: no context word and no structure of its own: it waits for review, and without a checksum
    #: it is rejected (Detector._unproven)
    unproven: bool
    #: a checksum that counts: an unproven reading's checksum does not in a literal of code
    #: (_code_literal), where Detector._spans rejects it as it rejects one without a checksum
    checksum: bool
    script_fit: int
    cue: str = ""


@dataclass(frozen=True, slots=True)
class Hit:
    """A validated value of one kind, before overlaps are resolved."""

    start: int
    end: int
    kind: Kind
    validation: Validation
    confidence: float
    detector: str
    #: False when context was skipped because it could not change the decision (it may still
    #: change which of two rival readings of one region wins).
    context_read: bool = True
    #: What the score was made of, for explanations (Presidio's analysis_explanation): the
    #: :class:`~factsep.detection.scoring.Signals` fields, and the context words that fired.
    signals: _SignalTuple | None = None
    context: ContextHit | None = None
    #: A format reading with neither a context word nor a structure of its own: it ranks among its
    #: rivals by its confidence, and waits for review once chosen (Detector._unproven).
    unproven: bool = False
    #: What the script around the value says of its country (see script_near): +1 for a phone
    #: reading in a region that writes it, -1 for a national format of a country that does not.
    script_fit: int = 0

    @property
    def rank(self) -> tuple[float, int, int]:
        # In logits: near certainty, probabilities saturate and a context word would no longer count.
        return (logit(self.confidence) + 0.01 * self.kind.specificity, self.kind.specificity,
                self.end - self.start)


def _suffix_backoff(value: str, limit: int = 2) -> Iterator[tuple[str, int]]:
    """The value, then the value without its last separated group (a greedy match may run on),
    with the number of digit-bearing groups dropped: a word after a number ("... 976 I think") is
    no sign that the number goes on."""
    yield value, 0
    runs_on = 0
    for _ in range(limit):
        shorter = _SEP_GROUP.sub("", value)
        if shorter == value or not shorter:
            return
        runs_on += any(c.isdigit() for c in value[len(shorter):])
        value = shorter
        yield value, runs_on


def _backoff(value: str, limit: int = 2) -> Iterator[tuple[int, str, int]]:
    """(offset, attempt, digit groups dropped): the value; without a leading word that the pattern
    took for a letter prefix ("CUIT 20-...", "ID 4560...": context words); then shorter at the end."""
    m = _LETTER_PREFIX.match(value)
    starts = [(0, value)] + ([(m.end(), value[m.end():])] if m else [])
    for offset, v in starts:
        yield offset, v, 0
    for offset, v in starts:
        for i, (attempt, dropped) in enumerate(_suffix_backoff(v, limit)):
            if i:
                yield offset, attempt, dropped


class Detector:
    """Finds random facts in texts. Configure with :class:`DetectorConfig`.

    ``extra_recognizers`` are Presidio recognizers (see :mod:`factsep.presidio`) run beside the
    catalogue; their results compete in overlap resolution like any kind.
    """

    def __init__(self, config: DetectorConfig | None = None, extra_recognizers: Sequence[Any] = ()) -> None:
        self.config = config or DetectorConfig()
        kinds = registry()
        if self.config.kinds is not None:
            unknown = sorted(set(self.config.kinds) - set(kinds))
            if unknown:
                raise ValueError(f"unknown kind(s) {unknown} in config; known: {sorted(kinds)}")
            kinds = {k: v for k, v in kinds.items() if k in self.config.kinds}
        self.kinds: list[Kind] = sorted(kinds.values(), key=lambda k: -k.specificity)
        sources = list(dict.fromkeys(k.pattern for k in self.kinds))
        self._patterns = [re.compile(p, re.ASCII) for p in sources]
        self._gates = [(k, sources.index(k.pattern), k.min_len, k.min_digits, k.needs_char) for k in self.kinds]
        self.engine = CandidateEngine(self.kinds, self.config.engine, self.config.max_candidate_chars)
        self.context = ContextReader(self.config.spacy_model, self.config.context_window)
        self.calibration = Calibration.load(self.config.calibration_path)
        self.extra = list(extra_recognizers)
        self.version = detector_version()
        self._opts = asdict(self.config)
        self._script_opts = {script: {**self._opts, "phone_regions": regions + tuple(
            r for r in self.config.phone_regions if r not in regions)} for script, regions in SCRIPT_REGIONS.items()}
        # Validators are pure: repeated values (common in corpora, and in hostile input) are free.
        # Each is bounded in bytes (CACHE_BYTES together), so memory does not grow with the corpus.
        caches = _caches(CACHE_BYTES)
        self._cache: _Cache = caches["validate"]  # (kind, attempt[, script]) -> validator result
        self._readings: _Cache = caches["readings"]  # (candidate text, script) -> readings
        self._gated: _Cache = caches["gated"]  # (kind, attempt[, script]) -> times kept from its validator
        self._confidences: _Cache = caches["confidence"]  # (kind, signals) -> confidence
        self._cannot_matter: _Cache = caches["cannot_matter"]  # (kind, signals) -> bool
        self._bits_cache: _Cache = caches["bits"]  # (kind, normalized) -> bits
        self._detector_names = {k.name: f"{self.version}/{k.name}" for k in self.kinds}
        self._phrases = {k.name: _Phrases.of(k) for k in self.kinds}
        #: The core's label and denial reader (None: the Python path, the reference), with each
        #: kind's word lists in it, and the last document's view (text, the core's view of it).
        self._signals, self._signal_ids = _native_signals(self.kinds)
        self._view: tuple[str | None, Any] = (None, None)
        #: Kinds as the catalogue declares them: their bias is the weight table's. Another Kind
        #: object of the same name (a Presidio recognizer's, with its score as prior) uses its prior.
        self._declared = registry()
        #: When a list, every reading scored and every reference found is appended (context is then
        #: always read): the training examples of scripts/fit_weights.py.
        self.trace: list[Traced] | None = None

    # -- public API -------------------------------------------------------------------------------

    def detect(self, text: str, doc_id: str = "0") -> list[Span]:
        return next(self.detect_batch([text], [doc_id]))

    def detect_batch(self, texts: Sequence[str], doc_ids: Sequence[str] | None = None) -> Iterator[list[Span]]:
        """One list of spans per text, in order, each sorted by offset."""
        if doc_ids is not None and len(doc_ids) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(doc_ids)} doc_ids")
        starts, ends, bounds = self._candidates(texts)
        for i, text in enumerate(texts):
            a, b = bounds[i], bounds[i + 1]
            yield self._spans(text, doc_ids[i] if doc_ids is not None else str(i),
                              self._chosen(text, zip(starts[a:b], ends[a:b])))

    def detect_explained(self, text: str, doc_id: str = "0") -> list[tuple[Span, Hit]]:
        """Spans of one text, each with the hit that made it (its signals and context words)."""
        starts, ends, _ = self._candidates([text])
        chosen = self._chosen(text, zip(starts, ends))
        return list(zip(self._spans(text, doc_id, chosen), chosen, strict=True))

    def _candidates(self, texts: Sequence[str]) -> tuple[Sequence[int], Sequence[int], list[int]]:
        """(starts, ends, bounds) of the batch's candidates: document i's are ``bounds[i]`` to
        ``bounds[i + 1]``. The native pass's int32 buffers as they come, with no object per
        candidate (a ``Candidate`` cost ~1.5 us, 3-5% of detection); other engines' candidates
        as lists."""
        if self.engine.engine == "native":
            docs, starts, ends = self.engine.find_offsets(texts)
        else:
            found = self.engine.find(texts)
            docs = [c.doc for c in found]
            starts, ends = [c.start for c in found], [c.end for c in found]
        # candidates come in document order: each document's run starts where the last one ended
        bounds = [bisect.bisect_left(docs, i) for i in range(len(texts))]
        bounds.append(len(docs))
        return starts, ends, bounds

    def _chosen(self, text: str, candidates: Iterable[tuple[int, int]]) -> list[Hit]:
        refs = references(text)
        regions = _Regions(refs)
        hits = [h for s, e in candidates for h in self._classify(text, s, e, regions)]
        for extra in self.extra:
            hits.extend(extra.hits(text, self))
        if refs:  # a reference is what it is: no other reading of its digits stands
            hits = [h for h in hits if not _overlaps_any(h, refs)] + self._reference_hits(refs)
        return self._resolve(_prefer_evidence(_prefer_script_phones(self._read_rivals_context(text, hits))))

    # -- stage two --------------------------------------------------------------------------------

    def _classify(self, text: str, cand_start: int, cand_end: int, refs: _Regions | None = None) -> list[Hit]:
        script = script_near(text, cand_start, cand_end)
        value = text[cand_start:cand_end]
        key = (value, script)
        readings = self._readings.get(key)
        if readings is None:
            readings = self._readings.put(key, self._read(value, script))
        hits: list[Hit] = []
        where: dict[tuple[int, int, bool], bool] = {}  # attempts kept out here: the kinds share matches
        refused: list[_Deferred] = []
        regions = refs or _NO_REGIONS
        # a candidate inside a reference number ("#1029349" of "Closes: #1029349"): every attempt
        # of every format overlaps it, so none is tried (one question, not one an attempt)
        in_reference = regions.covers(cand_start, cand_end)
        for item in readings:
            if len(item) == 3:  # a format kind's match: what the number is decides whether it is tried
                if in_reference:
                    continue
                reading = self._read_format(text, cand_start, item, script, regions, where)
                if reading is None or reading is _REFUSED:
                    if reading is _REFUSED:
                        refused.append(item)
                    continue
                offset, length, kind, options, placeholder, dropped = reading
                start = cand_start + offset
            else:
                offset, length, kind, options, placeholder, dropped = item
                start = cand_start + offset
                if not_a_fact(text, start, start + length, kind.name):
                    continue  # a year list, a version, a timestamp...: no format is tried for it
            hit = self._score(text, start, start + length, kind, options, placeholder, None, script=script,
                              backoff=dropped)
            if hit is not None:
                hits.append(hit)
        if refused and key in self._readings:  # refused in every attempt: no occurrence asks again
            self._readings[key] = tuple(r for r in readings if not any(r is d for d in refused))
        return hits

    def _read(self, value: str, script: str | None = None) -> tuple[_Reading | _Deferred, ...]:
        """Every kind's readings of one candidate text, before context.

        They depend on the text alone (and the script around it, which orders the phone regions
        tried), so they are computed once per distinct candidate text (bug numbers, versions and
        addresses repeat) and only scoring runs per occurrence. A kind that tries formats
        (``Kind.formats``: the python-stdnum families) is not validated here: its matches and their
        backoff attempts are kept, and :meth:`_read_format` validates them per occurrence, only
        where the number can be an identifier.
        """
        size = len(value)
        n_digits = sum(map(str.isdigit, value))
        readings: list[_Reading | _Deferred] = []
        budget = _ATTEMPTS_PER_CANDIDATE
        found: dict[int, list[tuple[int, str]]] = {}  # kinds sharing a pattern search once
        attempts: dict[str, tuple[tuple[int, str, int], ...]] = {}
        for kind, rx_index, min_len, min_digits, needs in self._gates:
            if size < min_len or n_digits < min_digits or (needs is not None and needs not in value):
                continue  # the kind's pre-checks, inlined: this loop runs for every candidate
            matches = found.get(rx_index)
            if matches is None:
                matches = found[rx_index] = [(m.start(), m.group()) for m in self._patterns[rx_index].finditer(value)]
            for offset, match in matches:
                budget -= 1
                if budget < 0:  # a wall of number-like text: stop, keeping cost linear
                    return tuple(readings)
                if kind.formats:
                    tries = attempts.get(match)
                    if tries is None:
                        tries = attempts[match] = tuple(_backoff(match))
                    readings.append((offset, kind, tries))
                    continue
                reading = self._validate(offset, match, kind, script)
                if reading is not None:
                    readings.append(reading)
        return tuple(readings)

    def _read_format(self, text: str, cand_start: int, item: _Deferred, script: str | None,
                     refs: _Regions, where: dict[tuple[int, int, bool], bool]) -> Any:
        """A format kind's reading of one occurrence: the first backoff attempt its validator
        accepts, among the attempts that can be an identifier where they stand.

        What a number is comes first (issue 12, "evidence first"): an attempt that overlaps a
        reference number ("Closes: #1029349": no other reading of its digits stands) or that is a
        year list, a version, a timestamp, a postal code... (numerals' ``not_a_fact``), or that
        follows a glued "+" or currency sign (a phone's digits, a price), is not tried, as if its
        validator had refused it. The outcome does not depend on what is cached: where an attempt
        stands only matters when its validator accepts it. On changelogs this leaves about one
        python-stdnum call in ten (BENCHMARKS.md, seventh session). Validator results
        stay cached per (kind, attempt), so a value seen again where it can be one costs nothing.
        Returns the reading, None, or ``_REFUSED`` when the validator refused every attempt (then
        the match can leave the candidate text's readings: no occurrence would read it).
        """
        offset, kind, tries = item
        opts = self._opts if script is None else self._script_opts[script]
        name = kind.name
        refused = True  # every attempt refused by its validator: the match is no reading anywhere
        for shift, attempt, dropped in tries:
            key = (name, attempt) if script is None else (name, attempt, script)
            result = self._cache.get(key, _MISSING)
            if result is not _MISSING and not result:
                continue  # refused before: where it stands cannot matter (a wall of repeats is free)
            start = cand_start + offset + shift
            end = start + len(attempt)
            # not_a_fact reads a generic id a little differently (hyphenated words), the other
            # families alike: one answer for them all
            here = (start, end, name == "generic_id")
            out = where.get(here)
            if out is None:
                out = where[here] = (start and text[start - 1] in _DIALLED_OR_PRICED) or refs.overlaps(start, end) \
                    or not_a_fact(text, start, end, name) is not None
            if out:
                # a reference number is what its cue says; a year list, a version...: no format. A
                # value kept out _GATED_LIMIT times is validated all the same, once: a wall of one
                # repeated value then costs a cache look-up an occurrence, as before the gate
                if result is _MISSING:
                    times = self._gated.get(key)
                    if times is None:
                        self._gated.put(key, 1)
                    elif times + 1 < _GATED_LIMIT:
                        self._gated[key] = times + 1  # an int costs no bytes: the entry's size stays
                    else:
                        result = self._cache.put(key, kind.validate(attempt, opts))
                refused = refused and result is not _MISSING and not result
                continue
            if result is _MISSING:
                result = self._cache.put(key, kind.validate(attempt, opts))
                if not result:
                    continue
            options = result if isinstance(result, list) else [result]
            return offset + shift, len(attempt), kind, tuple(options), made_up(attempt), dropped
        return _REFUSED if refused else None

    def _validate(self, offset: int, value: str, kind: Kind, script: str | None = None) -> _Reading | None:
        """The first backoff attempt the kind's validator accepts, as (offset, length, ...)."""
        opts = self._opts if script is None else self._script_opts[script]
        for shift, attempt, dropped in _backoff(value):
            key = (kind.name, attempt) if script is None else (kind.name, attempt, script)
            result = self._cache.get(key, _MISSING)
            if result is _MISSING:
                result = self._cache.put(key, kind.validate(attempt, opts))
            if not result:
                continue
            options = result if isinstance(result, list) else [result]
            # dropped > 0: digits run on after the value, it is likely a piece of something longer
            return offset + shift, len(attempt), kind, tuple(options), made_up(attempt), dropped
        return None

    def score(self, text: str, start: int, end: int, kind: Kind, options: list[Validation],
              detector: str | None = None, read_context: bool = False, backoff: int = 0) -> Hit | None:
        """Pick the best reading of a validated value, score it with its context."""
        return self._score(text, start, end, kind, options, made_up(text[start:end]), detector, read_context,
                           script_near(text, start, end), backoff)

    def _score(self, text: str, start: int, end: int, kind: Kind, options: Sequence[Validation],
               placeholder: bool, detector: str | None, read_context: bool = False,
               script: str | None = None, backoff: int = 0) -> Hit | None:
        if options and options[-1].needs_context:  # readings that need their own words come last
            options = [v for v in options if not (v.needs_context and v.context)
                       or self.context.may_mention(text, start, end, v.context)]
            if not options:
                return None  # none of their words is near: nothing to score
        best: Hit | None = None
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        # Scripts written without spaces (CJK from U+2E80 on) run words into numbers: "电话号是1444-...".
        partial = (before.isalnum() and before < "\u2e80") or before in "+-@" or (after.isalnum() and after.isascii())
        # a number that goes on past a dot or comma ("v4.16.17.6" read from "16.17.6") is a piece
        partial = partial or (before in ".," and text[start - 2:start - 1].isdigit()) or (
            after in ".,-/" and text[end + 1:end + 2].isdigit())
        # ... and so is one right after an area code in parentheses ("736-5000" of "(123) 736-5000")
        partial = partial or (start >= 3 and before == " " and text[start - 2] == ")" and text[start - 3].isdigit())
        name = kind.name
        phrases = self._phrases_of(kind)
        ids = self._signal_ids.get(name) if self._signals is not None else None
        if ids is None:
            label = self._label(text, start, phrases)
            # signals of where the value sits, beside the partial flag (see factsep.detection.scoring)
            denied = self.context.denies(text, start, end, phrases.denial)
        else:
            label, denied = self._native_words(text, start, end, phrases, ids)
        # the digits of a code: "U73810264519023" read from its "7..."
        glued = before.isascii() and before.isalpha() and text[start].isdigit()
        # a host name a path goes on from: "abc@efg.com/wiki#cite" is a URL
        url_host = after == "/" and text[end - 1:end].isalpha() and _path_follows(text, end + 1)
        declared = self._declared.get(name)
        bias = kind_bias(name, kind.prior) if declared is kind else logit(kind.prior)
        tracing = self.trace is not None
        asked: set[str] | None = None  # words looked for and not found: a later reading may have others
        for i, v in enumerate(options):
            if asked is not None and v.needs_context:
                break
            requires = kind.requires_context or v.needs_context
            # a python-stdnum format with no structure of its own needs a word to be more than a guess
            unproven = not v.evidence and (name in _PROVE_KINDS or (v.subtype or "").startswith("stdnum.")) \
                and not _country_before(text, start, v.subtype)
            alien = script is not None and foreign(v.subtype, script)
            # signals as a plain tuple: it keys the caches below (a dataclass key hashes in Python)
            signals = (bias, v.checksum, v.validated, v.strength, 0, 0, placeholder, partial,
                       label, denied, glued, url_host, alien, backoff, unproven, name)
            if not (requires or read_context or unproven or label < 0 or tracing) \
                    and self._context_cannot_matter(name, signals):
                ctx = NO_CONTEXT
            else:
                ctx = self.context.read(text, start, end, kind.context + v.context, kind.negative)
            if ctx is NO_CONTEXT and (requires or asked is not None):
                continue  # ... or past a first reading that found no word: only a word of its own counts
            if requires and not (set(ctx.positive) & set(v.context) if v.needs_context and v.context else ctx.positive):
                continue  # a reading that needs context needs a word of its own, when it has any
            if ctx.positive or ctx.negative:
                signals = (bias, v.checksum, v.validated, v.strength, len(ctx.positive), len(ctx.negative),
                           placeholder, partial, label, denied, glued, url_host, alien, backoff, unproven, name)
            conf = self._confidence(name, signals)
            if self.trace is not None:
                guess = unproven and not ctx.positive
                counts = v.checksum and not (guess and _code_literal(text, start, end))
                self.trace.append(Traced(start, end, name, signals, guess, counts,
                                         _script_fit(name, v.subtype, script)))
            hit = Hit(start, end, kind, v, conf, detector or self._detector_name(kind),
                      context_read=ctx is not NO_CONTEXT or requires or read_context, signals=signals, context=ctx,
                      unproven=unproven and not ctx.positive, script_fit=_script_fit(name, v.subtype, script))
            if best is None or hit.confidence > best.confidence:
                best = hit
            if ctx is NO_CONTEXT:
                # the remaining readings share the same (empty) context, first is best -- unless one
                # has a word of its own not looked for yet ("PEID: ..." after an "DNI" reading)
                # (a reading that needs its words, listed last, stays out: "license" in a licence
                # text is no word of a driving licence's number)
                asked = (asked or set()) | set(v.context)
                if all(asked.issuperset(o.context) for o in options[i + 1:] if not o.needs_context):
                    break
        if best is None or best.confidence < self.config.emit_threshold:
            return None
        prefixed = _country_prefix(text, start, end, best.validation.subtype)
        return best if prefixed == start else replace(best, start=prefixed)

    def _unproven(self, conf: float, checksum: bool = True) -> float:
        """A reading without evidence, mapped into [review_low, UNPROVEN_CEILING): it waits for
        review, and rival readings keep their order. Without a checksum either (a WKN is any six
        characters), or with one but as a literal of code (``_code_literal``), it is no reading."""
        low = self.config.review_low
        if not checksum:
            return min(conf, low * 0.9)
        if conf < low:
            return conf
        return low + (min(UNPROVEN_CEILING, self.config.review_high) - low) * (conf - low) / (1.0 - low + 1e-9)

    def _reference_hits(self, refs: Sequence[Reference]) -> list[Hit]:
        """Reference numbers and commit ids as hits of their kind, scored by the cue that found them."""
        out: list[Hit] = []
        kinds = {k.name: k for k in self.kinds}
        for r in refs:
            kind = kinds.get(r.kind)
            if kind is None:
                continue
            if self.trace is not None:
                self.trace.append(Traced(r.start, r.end, kind.name, None, False, True, 0, r.signal))
            conf = self.calibration(kind.name, sigmoid(reference_logit(kind_bias(kind.name, kind.prior), r.signal)))
            if conf < self.config.emit_threshold:
                continue
            v = Validation(normalized=r.normalized.lower() if r.kind == "hex_digest" else r.normalized,
                           subtype=r.subtype, validated=True)
            out.append(Hit(r.start, r.end, kind, v, conf, f"{self._detector_name(kind)}+{r.signal}"))
        return out

    def _bits(self, kind: Kind, normalized: str) -> float:
        """A kind's bits of a value; pure, and values repeat (phone bits parse the number again)."""
        key = (kind.name, normalized)
        bits = self._bits_cache.get(key)
        if bits is None:
            bits = self._bits_cache.put(key, round(float(kind.bits(normalized)), 3))
        return bits

    def _detector_name(self, kind: Kind) -> str:
        name = self._detector_names.get(kind.name)
        if name is None:
            name = self._detector_names[kind.name] = f"{self.version}/{kind.name}"
        return name

    def _confidence(self, kind: str, signals: _SignalTuple) -> float:
        """Calibrated confidence of a signal set; few distinct sets occur, so each is computed once."""
        key = (kind, signals)
        conf = self._confidences.get(key)
        if conf is None:
            conf = self._confidences.put(key, self.calibration(kind, Signals(*signals).raw_score()))
        return conf

    def _context_cannot_matter(self, kind: str, signals: _SignalTuple) -> bool:
        """True when even a negative word would leave the value auto-accepted: skip reading context.

        Most values of strong formats (e-mail, UUID, valid cards) are decided by format alone, and
        reading context is the costliest step per candidate.
        """
        key = (kind, signals)
        cannot = self._cannot_matter.get(key)
        if cannot is None:
            worst = self.calibration(kind, sigmoid(Signals(*signals).raw_logit() + W_NEGATIVE))
            cannot = self._cannot_matter.put(key, worst >= self.config.review_high)
        return cannot

    def _phrases_of(self, kind: Kind) -> _Phrases:
        phrases = self._phrases.get(kind.name)
        if phrases is None:  # a kind outside the configuration, scored for a Presidio recognizer
            phrases = self._phrases[kind.name] = _Phrases.of(kind)
        return phrases

    @staticmethod
    def _label(text: str, start: int, phrases: _Phrases) -> int:
        """+1 when a context word of the kind labels the value ("Phone: ...", "VAT no. ..."), -1
        when a negative word does ("Fax: ..." for a tax id), else 0: a label names what follows."""
        if not start:
            return 0
        positive, negative = phrases.label, phrases.negative_label
        lo = max(start - _LABEL_CHARS, 0)
        if not _may_end_label(text, lo, start):
            return 0  # most values: the two searches below would fail
        if negative is not None and negative.search(text, lo, start):
            return -1
        if positive is not None and positive.search(text, lo, start):
            return 1
        return 0

    def _native_words(self, text: str, start: int, end: int, phrases: _Phrases,
                      ids: tuple[int, int, int]) -> tuple[int, bool]:
        """(label, denied) of a value by the core: what ``_label`` and ``ContextReader.denies``
        say, one call each, on ASCII text (anything else it hands back to them)."""
        view = self._view
        if view[0] is not text:
            view = self._view = (text, _native.numeral_text(text))
        doc = view[1]
        if doc is None:  # a str that is no UTF-8 (a lone surrogate)
            return self._label(text, start, phrases), self.context.denies(text, start, end, phrases.denial)
        label = self._signals.label(doc, start, ids[0], ids[1])
        if label == -2:
            label = self._label(text, start, phrases)
        if ids[2] < 0:
            return label, False
        denied = self._signals.denies(doc, start, end, ids[2])
        return label, (self.context.denies(text, start, end, phrases.denial) if denied < 0 else bool(denied))

    def _read_rivals_context(self, text: str, hits: list[Hit]) -> list[Hit]:
        """Read the skipped context of hits that overlap a hit of another kind: "call me at
        617-253-1000" is a phone number, however strong the tax-number reading is alone."""
        if len(hits) < 2 or all(h.context_read for h in hits):
            return hits
        rivals: set[int] = set()
        far: int | None = None  # the hit reaching furthest so far
        for i in sorted(range(len(hits)), key=lambda i: hits[i].start):
            if far is not None and hits[far].end > hits[i].start and hits[far].kind is not hits[i].kind:
                rivals.update((i, far))
            if far is None or hits[i].end > hits[far].end:
                far = i
        out = list(hits)
        for i in rivals:
            h = hits[i]
            if not h.context_read:
                again = self.score(text, h.start, h.end, h.kind, [h.validation], h.detector, read_context=True,
                                   backoff=h.signals[13] if h.signals else 0)
                out[i] = again if again is not None else h
        return out

    @staticmethod
    def _resolve(hits: list[Hit]) -> list[Hit]:
        """One span per region: the highest-ranked hit wins, overlapping ones are dropped."""
        chosen: list[Hit] = []
        starts: list[int] = []  # taken regions, disjoint and sorted by start
        ends: list[int] = []
        for h in sorted(hits, key=lambda h: h.rank, reverse=True):
            i = bisect.bisect_left(starts, h.end)  # regions starting before h ends
            if i and ends[i - 1] > h.start:  # the last of them reaches into h
                continue
            chosen.append(h)
            starts.insert(i, h.start)
            ends.insert(i, h.end)
        chosen.sort(key=lambda h: (h.start, h.end))
        return chosen

    def _spans(self, text: str, doc_id: str, hits: list[Hit]) -> list[Span]:
        if not hits:
            return []
        key = doc_key(text)
        spans = []
        for h in hits:
            v = h.validation
            confidence = h.confidence
            if h.unproven:  # a checksum alone, in a literal of code or data, is no reading (_code_literal)
                confidence = self._unproven(confidence, v.checksum and not _code_literal(text, h.start, h.end))
            spans.append(Span(
                span_id=make_span_id(key, h.start, h.end, h.kind.name),
                doc_id=doc_id,
                start=h.start,
                end=h.end,
                kind=h.kind.name,
                subtype=v.subtype,
                text=text[h.start:h.end],
                value_hash=make_value_hash(h.kind.name, v.normalized),
                confidence=round(confidence, 6),
                bits=self._bits(h.kind, v.normalized),
                validated=v.validated,
                detector=h.detector,
                decision=decide(confidence, self.config),
            ))
        return spans


#: Scripts that name the countries a number belongs to: in Chinese text a number is dialled in
#: China first, and a Costa Rican identity format is an unlikely reading of it.
SCRIPT_REGIONS: dict[str, tuple[str, ...]] = {"ja": ("JP",), "ko": ("KR",), "zh": ("CN", "HK", "TW", "MO", "SG")}
_SCRIPT_REACH = 12


def script_near(text: str, start: int, end: int) -> str | None:
    """"ja", "ko" or "zh" when Kana, Hangul or Han characters stand next to the value."""
    around = text[max(0, start - _SCRIPT_REACH):start] + text[end:end + _SCRIPT_REACH]
    if around.isascii():
        return None
    han = False
    for ch in around:
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF:
            return "ja"
        if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
            return "ko"
        han = han or 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF
    return "zh" if han else None


def foreign(subtype: str | None, script: str) -> bool:
    """A national format ("stdnum.cr.cr") of a country that does not write in ``script``.

    Phone regions are not judged so: a foreign line is written in its own plan's groups, which
    the phone kind already weighs ("(123) 736-5000" in a Chinese sentence is an American line)."""
    if not subtype or not subtype.startswith("stdnum."):
        return False
    parts = subtype.split(".")
    return len(parts) == 3 and len(parts[1]) == 2 and parts[1].upper() not in SCRIPT_REGIONS[script]


def _script_fit(kind: str, subtype: str | None, script: str | None) -> int:
    if script is None:
        return 0
    if kind == "phone_number":
        return 1 if subtype in SCRIPT_REGIONS[script] else 0
    return -1 if foreign(subtype, script) else 0


def _prefer_script_phones(hits: list[Hit]) -> list[Hit]:
    """Drop an unproven foreign format that overlaps a phone reading of the script's own country.

    Why: a bare mobile number beside Han text ("某会所：139...") is dialled in China; that one of
    ~190 foreign formats also passes its check digit on it is chance, and ranking the two by
    confidence alone made the choice a toss-up."""
    phones = [h for h in hits if h.script_fit > 0]
    if not phones:
        return hits
    return [h for h in hits if not (h.unproven and h.script_fit < 0
                                    and any(p.start < h.end and h.start < p.end for p in phones))]


def _prefer_evidence(hits: list[Hit]) -> list[Hit]:
    """Drop an unproven format reading that overlaps a reading with a context word of its own.

    Why: an unproven reading has only its check digit ("0800-89-1131" passes a Costa Rican
    format); a rival that its words name ("... in the UK" for a British phone) has evidence, and
    ranking the two by confidence alone let the check digit win."""
    named = [h for h in hits if h.context is not None and h.context.positive and not h.unproven]
    if not named:
        return hits
    return [h for h in hits if not (h.unproven and any(p.start < h.end and h.start < p.end and p.kind is not h.kind
                                                       for p in named))]


#: Kinds whose formats need evidence beyond one check digit besides the python-stdnum families.
_PROVE_KINDS = frozenset({"isbn", "issn"})
#: Marks right around a literal of code or data: a quoted string, an item of a list, a CSV field.
_LITERAL_LEFT = frozenset(",([{=")
_LITERAL_RIGHT = frozenset(",)]}")


def _code_literal(text: str, start: int, end: int) -> bool:
    """The value is a literal of code or data: quoted whole (``"000123457"``) or an item between
    delimiters (``[0, 7744773]``, ``AB,000123457,x``, ``f(n=000123457)``).

    Why: a format reading with only its checksum is a guess, and in a literal of code it is a test
    datum or a constant far more often than an identifier (the pending band of real source text,
    BENCHMARKS.md "eleventh session")."""
    left = text[start - 1] if start else ""
    right = text[end] if end < len(text) else ""
    if left in ("\"", "'") and right == left:
        return True
    if left == " " and start >= 2:
        left = text[start - 2]
    # a value in parentheses alone is prose as often as code: "fixed the crash (NNNNNN)"
    return left in _LITERAL_LEFT and right in _LITERAL_RIGHT and (left, right) != ("(", ")")


_COUNTRY_BEFORE = re.compile(r"\b([A-Z]{2})[ \-]?$")


_COUNTRY_WRITTEN = re.compile(r"(?<![^\W\d_])([A-Za-z]{2})[ \-]?$")


def _country_prefix(text: str, start: int, end: int, subtype: str | None) -> int:
    """Where a VAT number starts that is written with its country code in any case ("Bg 2004...",
    "lu 1998..."): the code is part of the number when the format takes it so, else ``start``."""
    if not subtype or not subtype.startswith("stdnum.") or start < 2:
        return start
    m = _COUNTRY_WRITTEN.search(text, max(0, start - 4), start)
    country = subtype.split(".")[1]
    if m is None or m.group(1).isupper() or m.group(1).lower() != country and country != "eu":
        return start  # capitals are the candidate's own prefix, read as written
    from factsep.kinds import stdnum_table

    module = stdnum_table.load(subtype.removeprefix("stdnum."))
    written = text[m.start():end]
    try:
        module.validate(written)  # type: ignore[union-attr]
    except Exception:
        return start
    return m.start()


def _country_before(text: str, start: int, subtype: str | None) -> bool:
    """A country code written before the value that its format belongs to ("CZ 25596641")."""
    if not subtype or not subtype.startswith("stdnum."):
        return False
    m = _COUNTRY_BEFORE.search(text, max(0, start - 4), start)
    if m is None:
        return False
    country = subtype.split(".")[1].rstrip("_").upper()
    return m.group(1) == country or (country == "EU" and m.group(1) not in ("ID", "NO", "OK", "TO"))


class _Regions:
    """Regions of a document (its reference numbers), asked whether a span overlaps one: a
    bisection, since a long document has thousands of both."""

    __slots__ = ("ends", "starts")

    def __init__(self, refs: Sequence[Reference]) -> None:
        ordered = sorted((r.start, r.end) for r in refs)
        self.starts = [s for s, _ in ordered]
        self.ends: list[int] = []  # the furthest end among the regions up to each one
        far = -1
        for _, e in ordered:
            far = max(far, e)
            self.ends.append(far)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, end)  # regions starting before the span ends
        return bool(i) and self.ends[i - 1] > start

    def covers(self, start: int, end: int) -> bool:
        """Whether one region holds the whole span."""
        i = bisect.bisect_right(self.starts, start)  # regions starting at or before the span
        return bool(i) and self.ends[i - 1] >= end


_NO_REGIONS = _Regions(())


def _overlaps_any(hit: Hit, refs: Sequence[Reference]) -> bool:
    return any(hit.start < r.end and r.start < hit.end for r in refs)


_LABEL_CHARS = 24
_PATH_PART = re.compile(r"[\w.~%#\-]+(?=[/#?\s]|$)")


def _path_follows(text: str, pos: int) -> bool:
    """A URL path segment at ``pos``: word characters up to the next "/", "#", "?" or space (an
    address after a slash, "a@x.com/b@y.com", is a list, not a path)."""
    return _PATH_PART.match(text, pos) is not None


def _may_end_label(text: str, lo: int, start: int) -> bool:
    """Whether ``text[lo:start]`` could end as a label pattern does: a letter or a period, then
    spaces with at most one ':' or '#'. Only an ASCII character can rule it out: a non-ASCII one
    may match a letter of a word when case is ignored."""
    i = start
    while i > lo and text[i - 1].isspace():
        i -= 1
    if i == lo:
        return False
    c = text[i - 1]
    if c.isalpha() or c == "." or not c.isascii():
        return True
    if c not in ":#":
        return False
    i -= 1
    while i > lo and text[i - 1].isspace():
        i -= 1
    c = text[i - 1] if i > lo else " "
    return c.isalpha() or c == "." or not c.isascii()


#: Context words too general to name a kind after a denial ("not a valid address" says nothing of IP).
_NOT_NAMES = frozenset({"address", "addr", "地址", "from", "contact", "write", "text", "id", "code", "number",
                        "key", "print", "request", "session", "answer", "office", "desk", "ring", "reach", "pay",
                        "sum"})


class _Phrases(NamedTuple):
    """A kind's word patterns read around a value: its label, a negative label, and its name
    after a denial ("... is not a phone number")."""

    label: re.Pattern[str] | None
    negative_label: re.Pattern[str] | None
    denial: re.Pattern[str] | None

    @classmethod
    def of(cls, kind: Kind) -> _Phrases:
        return cls(_label_pattern(kind.context), _label_pattern(kind.negative),
                   denial_pattern(tuple(w for w in kind.context if w not in _NOT_NAMES)))


#: What may follow a label word up to the value (the native core compiles the same source).
_LABEL_TAIL = r"\.?(?: ?(?:no|nr|number)\.?)?\s*[:#]?\s*$"


def _label_words(words: Sequence[str]) -> list[str]:
    """The words of ``words`` a label pattern holds."""
    return sorted({w for w in words if w.isalpha() and len(w) > 1}, key=len, reverse=True)


def _label_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    """Words written as a label just before a value: the word, then at most a period, a colon or
    number sign, "no."/"nr." and spaces."""
    alternatives = sorted({re.escape(w) for w in _label_words(words)}, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)}){_LABEL_TAIL}", re.IGNORECASE)


#: What the core's signals (native/src/signals.rs) take as given of the Python rules they mirror;
#: if one changes, the core is not used (tests/test_native_signals.py fails until it follows).
NATIVE_SIGNALS_ASSUME = {"label_chars": 24, "sentence_chars": 72, "denial_reach": 32,
                         "sentence_end": r"[.!?。！？]\s|[\n;。！？]"}


def _native_signals_hold() -> bool:
    """Whether the Python rules are still the ones the core's signals mirror."""
    return (_LABEL_CHARS, _context._SENTENCE_CHARS, _context._DENIAL_REACH, _context._SENTENCE_END.pattern) == tuple(
        NATIVE_SIGNALS_ASSUME.values())


_ASCII_CHARS = tuple(chr(i) for i in range(128))


@functools.lru_cache(maxsize=4096)
def _folds_to_ascii(ch: str) -> bool:
    """Whether Python's case-insensitive matching takes a character that is not ASCII for an ASCII
    one (the Kelvin sign for k, the long s, the dotless i): a word holding one can match ASCII text."""
    rx = re.compile(re.escape(ch), re.IGNORECASE)
    return any(rx.fullmatch(a) for a in _ASCII_CHARS)


def _ascii_only(words: Sequence[str]) -> list[str] | None:
    """The ASCII words of a list, when its other words cannot match ASCII text; else None."""
    if any(not w.isascii() and any(not c.isascii() and _folds_to_ascii(c) for c in w) for w in words):
        return None
    return [w for w in words if w.isascii()]


def _native_signals(kinds: Sequence[Kind]) -> tuple[Any, dict[str, tuple[int, int, int]]]:
    """The core's label and denial reader for ``kinds`` and each kind's list ids (label, negative
    label, denial; -1: no such pattern), or (None, {}) for the Python path: no core built,
    ``FACTSEP_SIGNALS_ENGINE=python``, or rules the core does not mirror."""
    if _native is None or not hasattr(_native, "ValueSignals") or not _native_signals_hold() \
            or os.environ.get("FACTSEP_SIGNALS_ENGINE", "auto") == "python":
        return None, {}
    denial: list[list[str]] = []
    label: list[list[str]] = []
    ids: dict[str, tuple[int, int, int]] = {}

    def add(lists: list[list[str]], words: list[str] | None) -> int | None:
        if words is None:
            return None
        lists.append(words)
        return len(lists) - 1

    for kind in kinds:
        pos_words, neg_words = _label_words(kind.context), _label_words(kind.negative)
        ascii_words, other = denial_words(tuple(w for w in kind.context if w not in _NOT_NAMES))
        pos = add(label, _ascii_only(pos_words)) if pos_words else -1
        neg = add(label, _ascii_only(neg_words)) if neg_words else -1
        den = add(denial, _ascii_only(ascii_words + other)) if ascii_words or other else -1
        if pos is None or neg is None or den is None:
            continue  # a word the core cannot read exactly: this kind keeps the Python path
        ids[kind.name] = (pos, neg, den)
    return _native.ValueSignals(_context._DENIAL.pattern, _LABEL_TAIL, denial, label), ids


def detector_version() -> str:
    """The detector's name and version, recorded with every span and shard marker."""
    from factsep import __version__

    return f"factsep-{__version__}"


_DEFAULT: Detector | None = None


def detect(text: str, config: DetectorConfig | None = None) -> list[Span]:
    """Spans of one text with the default configuration (the detector is built once and reused)."""
    global _DEFAULT
    if config is not None:
        return Detector(config).detect(text)
    if _DEFAULT is None:
        _DEFAULT = Detector()
    return _DEFAULT.detect(text)
