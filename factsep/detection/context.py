"""Context words around a candidate, read through a spaCy pipeline with lemmas.

Only a window around each candidate is read, never the whole document. A regular expression over
the lower-cased window first checks whether any context word could be there at all; only then is
the window tokenized with spaCy and its lemmas compared, so cost follows candidates with context.

The default pipeline is ``spacy.blank("en")``, which has no lemmatizer: every lemma is empty, and
context matching on lemmas (ours, and Presidio's context enhancer) silently does nothing. The
``factsep_lemmas`` component fills ``token.lemma_`` with a rule lemma (lower case, common English
inflections removed), so context works offline. A model named in the configuration (for example
``en_core_web_sm``) keeps its own lemmatizer.

With the Rust core built (``factsep._native``), the blank pipeline's prefilter runs as one
Aho-Corasick automaton over all the kinds' declared words, and only the runs of a window that hold
a word are tokenized (:class:`NativeWords`); the Python prefilter stays the reference, used for
windows that are not ASCII and for a named model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

try:  # the Rust core, built by maturin (pip install -e .)
    from factsep import _native
except ImportError:  # not built: the regex prefilter does the work
    _native = None
if _native is not None and not hasattr(_native, "ContextAutomaton"):  # a build older than context.rs
    _native = None

_SUFFIXES = (("ies", "y"), ("sses", "ss"), ("ses", "s"), ("s", ""))


def rule_lemma(word: str) -> str:
    """A small English lemma: lower case, plural and possessive endings removed."""
    w = word.lower()
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 3 and not w.endswith(("ss", "us", "is")):
        for suffix, repl in _SUFFIXES:
            if w.endswith(suffix):
                return w[: -len(suffix)] + repl
    return w


@Language.component("factsep_lemmas")
def factsep_lemmas(doc: Doc) -> Doc:
    for token in doc:
        if not token.lemma_:
            token.lemma_ = rule_lemma(token.text)
    return doc


@contextmanager
def _without_entry_point_factories() -> Iterator[None]:
    """Build a blank pipeline without importing other packages' spaCy factories.

    Why: ``spacy.Language()`` imports every package that declares a pipeline factory as an entry
    point; Presidio declares its Hugging Face pipe, which imports transformers when it is installed
    (about 5 s in every process that detects). A blank pipeline plus ``factsep_lemmas`` needs none
    of them; a named model is loaded as usual, entry points included.
    """
    registry = getattr(spacy.util.registry, "_entry_point_factories", None)
    if registry is None or not hasattr(registry, "entry_points"):
        yield
        return
    saved = registry.entry_points
    registry.entry_points = False
    try:
        yield
    finally:
        registry.entry_points = saved


@lru_cache(maxsize=4)
def load_pipeline(name: str = "blank:en") -> Language:
    """``blank:LANG`` for a blank pipeline, or the name of an installed spaCy model."""
    if name.startswith("blank:"):
        with _without_entry_point_factories():
            nlp = spacy.blank(name.split(":", 1)[1])
    else:
        try:
            nlp = spacy.load(name)
        except OSError as exc:
            raise RuntimeError(
                f"spaCy model {name!r} is not installed; install it (pip install {name}) "
                "or use the default spacy_model = 'blank:en'"
            ) from exc
    if "factsep_lemmas" not in nlp.pipe_names:
        nlp.add_pipe("factsep_lemmas", last=True)
    return nlp


#: A word list split for matching: single words, phrases, words of scripts without spaces, and each
#: word's position (None when a word repeats).
_Split = tuple[frozenset[str], tuple[str, ...], tuple[str, ...], "dict[str, int] | None"]


@dataclass(frozen=True)
class ContextHit:
    positive: tuple[str, ...]
    negative: tuple[str, ...]


NO_CONTEXT = ContextHit((), ())


class ContextReader:
    """Finds a kind's context and negative words in the window around a candidate.

    Two steps per window:

    1. *Could any of the kind's words be there?* A regex: a word starting after a non-word
       character or a digit, case ignored. On an ASCII window (nearly all) it runs without case
       folding over the lower-cased window, which gives the same answer several times faster.
    2. *Which words are there?* The window is tokenized with the spaCy tokenizer and lemmatized. The
       tokenizer reads each run of non-space characters on its own, so each run is tokenized once and
       cached, and a window's tokens are its runs' tokens: a window costs a dictionary look-up per
       run, not a spaCy Doc. A pipeline with a model (its lemmas depend on the sentence) still reads
       each window as one Doc.
    """

    def __init__(self, spacy_model: str = "blank:en", window: int = 48, native: bool | None = None) -> None:
        """``native``: None uses the Rust automaton when it is built (blank pipelines only), False
        never (the reference path), True requires it."""
        self.nlp = load_pipeline(spacy_model)
        self.window = window
        self._rule_only = spacy_model.startswith("blank:")
        if native and (_native is None or not self._rule_only):
            raise RuntimeError("native context matching needs factsep._native (build native/) and a blank: "
                               "spaCy pipeline")
        self.native: NativeWords | None = (
            NativeWords(declared_words()) if native is not False and _native is not None and self._rule_only
            else None)
        self._native_window: str | None = None
        self._native_gen = 0
        self._native_hits: tuple[list[int], list[int], bool] | None = None
        self._sparse: dict[str, tuple[set[str], list[str], str]] = {}
        self._lemma_cache: dict[str, str] = {}
        self._runs: dict[str, tuple[str, ...]] = {}
        self._windows: dict[str, tuple[set[str], list[str], str]] = {}
        self._splits: dict[tuple[str, ...], _Split] = {}
        self._prefilters = _PREFILTERS  # compiled once per process: there is one per word list
        self._last_window: str | None = None
        self._last_lower: str | None = None
        self._last_text: str | None = None
        self._last_span = (-1, -1)
        self._last_left = ""
        self._last_window_text = ""
        self._cue_span: tuple[str | None, int, int] = (None, -1, -1)
        self._cues: tuple[str, tuple[int, ...]] = ("", ())

    # -- step 1: could a word be there? ----------------------------------------------------------

    def _prefilter(self, words: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
        """A word of ``words`` starting after a non-word character or a digit (as a prefix, case
        ignored), or a word of a script without spaces anywhere: (for any text, for lower-cased
        ASCII text). The second is the same test without case folding, several times faster."""
        rx = self._prefilters.get(words)
        if rx is None:
            alts = sorted((re.escape(w) for w in words), key=len, reverse=True)
            cjk = "|".join(re.escape(w) for w in words if not w.isascii() and w.isalpha())
            folded = re.compile(rf"(?:^|(?<=[^\w])|(?<=\d))(?:{'|'.join(alts)})" + (f"|{cjk}" if cjk else ""),
                                re.IGNORECASE)
            ascii_alts = "|".join(w.lower() for w in alts if w.isascii())
            lowered = re.compile(rf"(?:^|(?<=[^\w])|(?<=\d))(?:{ascii_alts})" if ascii_alts else r"(?!)")
            # a letter such as the dotless i or the Kelvin sign matches ASCII text when case is ignored
            if any(not ch.isascii() and any(c.isascii() for c in ch.lower() + ch.upper() + ch.casefold())
                   for w in words for ch in w):
                lowered = None
            rx = self._prefilters[words] = (folded, lowered)
        return rx

    def _could_match(self, window: str, words: tuple[str, ...]) -> bool:
        folded, lowered = self._prefilter(words)
        if window is not self._last_window:  # the kinds of one value ask about the same window in turn
            self._last_window = window
            self._last_lower = window.lower() if window.isascii() else None
        if lowered is not None and self._last_lower is not None:  # ASCII: what IGNORECASE does
            return lowered.search(self._last_lower) is not None
        return folded.search(window) is not None

    # -- step 2: tokens and lemmas ------------------------------------------------------------------

    def _run_lemmas(self, run: str) -> tuple[str, ...]:
        """Lemmas (then lower case forms that differ) of the tokens of one run of non-space text."""
        cached = self._runs.get(run)
        while cached is None:  # (None again only if the cache was cleared meanwhile)
            self._tokenize_runs((run,))
            cached = self._runs.get(run)
        return cached

    def _tokenize_runs(self, runs: Iterable[str]) -> None:
        """Tokenize the runs not cached yet, all in one spaCy memory zone (a zone costs about as
        much as tokenizing a short run), and cache their lemmas."""
        new = [run for run in dict.fromkeys(runs) if run not in self._runs]
        if not new:
            return
        with self._zone():
            lowered = [[token.lower_ for token in self.nlp.tokenizer(run)] for run in new]
        for run, lowers in zip(new, lowered):
            out: list[str] = []
            for lower in lowers:
                out.extend(self._token_lemmas(lower))
            if len(self._runs) >= 65_536:
                self._runs.clear()
            self._runs[run] = tuple(out)

    def _token_lemmas(self, lower: str) -> tuple[str, ...]:
        lemma = self._lemma_cache.get(lower)
        if lemma is None:
            if len(self._lemma_cache) >= 65_536:
                self._lemma_cache.clear()
            lemma = self._lemma_cache[lower] = rule_lemma(lower)
        forms = (lemma,) if lemma == lower else (lemma, lower)
        # a word glued to a hyphen or slash that spaCy leaves on it ("966-Fax" -> "-fax"): the word
        bare = lower.strip(_GLUE)
        if bare != lower and bare.isalpha():
            forms += self._token_lemmas(bare)
        return forms

    def _lemmas(self, window: str) -> list[str]:
        """Lower-cased lemmas of a window: spaCy tokens, lemmas from the pipeline or the rule."""
        if self._rule_only:
            # Blank pipeline: the tokenizer alone, and the same rule lemma factsep_lemmas applies.
            # The tokenizer splits at white space first: a space after a token belongs to it, any
            # other white space (and all of it at the start) is a token of its own.
            out: list[str] = []
            for run in _RUNS.findall(window):
                if run[0].isspace():
                    if out and run[0] == " ":
                        run = run[1:]
                    if run:
                        out.extend(self._token_lemmas(run.lower()))
                else:
                    out.extend(self._run_lemmas(run))
            return out
        with self._zone():
            doc = self.nlp(window)
            return [t.lemma_.lower() or t.lower_ for t in doc] + [t.lower_ for t in doc]

    def _zone(self) -> AbstractContextManager[Any]:
        """A spaCy memory zone around one tokenization, so the vocabulary does not keep its words.

        Without it every new token of the corpus stays in the pipeline's StringStore and lexeme
        table, and the tokenizer caches every new run: memory grows with the corpus (issue 17: 13).
        Only Python strings leave the zone. Zones cannot nest, and the pipeline is shared (one per
        model per process, also with the Presidio adapter): inside a zone someone else opened,
        the words are that zone's to free.
        """
        if self.nlp.vocab.in_memory_zone:
            return nullcontext()
        return self.nlp.memory_zone()

    def _window(self, window: str, left: str) -> tuple[set[str], list[str], str]:
        """Lemmas of one window, tokenized once however many kinds ask about it."""
        cached = self._windows.get(window)
        if cached is not None:
            return cached
        # spaCy cannot encode lone surrogates (from broken input); they carry no context anyway.
        clean = window.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
        lemmas = self._lemmas(clean)
        lemma_set = set(lemmas)
        # A symbol or word glued to the value ("$1234", "v1.2.3.4", "ISBN:978...") counts too.
        lemma_set.add(left[-1:].lower())
        lemma_set.add(left.rstrip(": #")[-4:].lower())
        # Words of scripts written without spaces (电话) are matched as substrings of ``low``.
        result = (lemma_set, lemmas, clean.lower())
        if len(self._windows) >= 4096:
            self._windows.clear()
        self._windows[window] = result
        return result

    # -- the native path: one automaton, only the runs that hold a word ------------------------------

    def _hits(self, left: str, window: str) -> tuple[list[int], list[int], bool] | None:
        """The automaton's answer for one window (None: not ASCII, use the reference path)."""
        assert self.native is not None
        if self.native.rebuilds != self._native_gen:  # new words: earlier answers are stale
            self._native_gen = self.native.rebuilds
            self._native_window = None
            self._sparse.clear()
        if window is not self._native_window:
            self._native_window = window
            self._native_hits = self.native.window(left, window[len(left) + 3:])
        return self._native_hits

    def _sparse_window(self, window: str, left: str,
                       hits: tuple[list[int], list[int], bool]) -> tuple[set[str], list[str], str]:
        """``_window``'s answer from the runs that can hold a word: a run without one (nor an
        ``ies`` form of one, nor a piece of a phrase whose pieces all occur) has no token whose
        lemma or lower case form is a word, so it stands as one placeholder form (it only keeps
        phrases from matching across it) and is not tokenized. Exact on ASCII windows."""
        cached = self._sparse.get(window)
        if cached is not None:
            return cached
        _, runs, phrase = hits
        clean = window.replace("\x00", " ")
        pieces = [clean[runs[i]:runs[i + 1]] for i in range(0, len(runs), 2)]
        self._tokenize_runs(pieces)
        if phrase:  # the whole lemma sequence, with placeholders: phrases match on its join
            relevant = set(runs[::2])
            lemmas: list[str] = []
            for m in _RUNS.finditer(clean):
                run = m.group()
                if run[0].isspace():
                    if lemmas and run[0] == " ":
                        run = run[1:]
                    if run:
                        lemmas.extend(self._token_lemmas(run.lower()))
                elif m.start() in relevant:
                    lemmas.extend(self._run_lemmas(run))
                else:
                    lemmas.append(_PLACEHOLDER)
            lemma_set = set(lemmas)
            lemma_set.discard(_PLACEHOLDER)
        else:  # no phrase can match: the forms of the relevant runs are all that counts
            lemmas = []
            lemma_set = set()
            for run in pieces:
                lemma_set.update(self._run_lemmas(run))
        lemma_set.add(left[-1:].lower())
        lemma_set.add(left.rstrip(": #")[-4:].lower())
        result = (lemma_set, lemmas, clean.lower())
        if len(self._sparse) >= 4096:
            self._sparse.clear()
        self._sparse[window] = result
        return result

    def _window_of(self, text: str, start: int, end: int) -> tuple[str, str]:
        """(text left of the value, the whole window), kept for the value's other readings."""
        if text is self._last_text and start == self._last_span[0] and end == self._last_span[1]:
            return self._last_left, self._last_window_text
        left = _own_paragraph(text[max(0, start - self.window): start])
        window = f"{left} \x00 {_own_item(text[end: end + self.window // 2])}"
        self._last_text, self._last_span, self._last_left, self._last_window_text = text, (start, end), left, window
        return left, window

    def may_mention(self, text: str, start: int, end: int, words: tuple[str, ...]) -> bool:
        """False when no word of ``words`` can be in the value's window (the prefilter alone):
        a reading that needs its own words is dropped before the window is tokenized."""
        left, window = self._window_of(text, start, end)
        ids = self.native.ids_of(words) if self.native is not None else None
        if ids is not None:
            hits = self._hits(left, window)
            if hits is not None:
                return not ids.isdisjoint(hits[0])
        return self._could_match(window, words)

    def read(self, text: str, start: int, end: int, positive: Iterable[str],
             negative: Iterable[str]) -> ContextHit:
        pos = tuple(positive)
        neg = tuple(negative)
        left, window = self._window_of(text, start, end)
        ids = self.native.ids_of(pos + neg) if self.native is not None else None
        hits = self._hits(left, window) if ids is not None else None
        if ids is not None and hits is not None:
            if ids.isdisjoint(hits[0]):
                return NO_CONTEXT
            lemma_set, lemmas, low = self._sparse_window(window, left, hits)
        else:
            if not self._could_match(window, pos + neg):
                return NO_CONTEXT
            lemma_set, lemmas, low = self._window(window, left)
        positive = self._match(pos, lemma_set, lemmas, low)
        negative = self._match(neg, lemma_set, lemmas, low)
        if negative and positive:
            # "v" (a version) is a word of the matched "v-number" (a Faroese tax number): the longer
            # name says what the short one means here.
            inside = {t for w in positive if not w.isalnum() for t in _PHRASE_TOKENS.split(w) if t}
            negative = tuple(w for w in negative if w not in inside)
        return ContextHit(positive=positive, negative=negative)

    def denies(self, text: str, start: int, end: int, words: re.Pattern[str] | None) -> bool:
        """True when the value's sentence denies the kind: "X doesn't look like a phone number",
        "X is an invalid email address", "X看起来不像电话号". A denial before the kind's word, not a
        negated verb ("don't call my phone"), and within the value's sentence. The sentence and its
        denials are found once per value, however many kinds ask."""
        if words is None:
            return False
        if self._cue_span[0] is not text or self._cue_span[1:] != (start, end):
            self._cue_span = (text, start, end)
            self._cues = _denial_cues(text, start, end)
        sentence, cue_ends = self._cues
        return any(words.search(sentence, c, c + _DENIAL_REACH) for c in cue_ends)

    def _match(self, words: tuple[str, ...], lemma_set: set[str], lemmas: list[str], low: str) -> tuple[str, ...]:
        """Words present: single words by set intersection; phrases and CJK words by substring."""
        split = self._splits.get(words)
        if split is None:
            simple = frozenset(w for w in words if " " not in w and (w.isascii() or not w.isalpha()))
            # spaCy splits a hyphen between letters ("v-number" -> v, -, number): match such a
            # word as the phrase its tokens form, besides as one token ("isbn-10" stays whole)
            phrases = tuple(w for w in words if " " in w) + tuple(
                w.replace("-", " - ") for w in words if " " not in w and _LETTER_HYPHEN.search(w))
            unspaced = tuple(w for w in words if " " not in w and not w.isascii() and w.isalpha())
            order = {w: i for i, w in enumerate(words)} if len(set(words)) == len(words) else None
            split = self._splits[words] = (simple, phrases, unspaced, order)
        simple, phrases, unspaced, order = split
        found = simple & lemma_set
        # unspaced words are not ASCII: an ASCII window has none
        hits = [w for w in unspaced if w in low or w in lemma_set] if unspaced and not low.isascii() else []
        if phrases:
            joined = " ".join(lemmas)
            hits = [w.replace(" - ", "-") if " - " in w else w for w in phrases if w in joined] + hits
        if not hits:
            if not found:
                return ()
            if len(found) == 1 and order is not None:  # the common case: one word, no need to order
                return tuple(found)
        if order is not None:
            return tuple(sorted(found.union(hits), key=order.__getitem__))
        return tuple(w for w in words if w in found or w in hits)


_RUNS = re.compile(r"\S+|\s+")
#: A blank line: the end of a paragraph, a changelog entry or a record.
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
#: Where the next item begins: a blank line, or a line starting with a bullet.
_NEXT_ITEM = re.compile(r"\n[ \t]*(?:\n|[-*+\u2022][ \t])")
#: A run that names a file or directory: "examples/demo.c", "/usr/share/doc/", "debian/patches/x",
#: "ncurses-examples/" (a slash, and a leading slash, a file extension, a trailing slash or a second
#: slash). "Tel/Fax" and "and/or" are words joined by a slash, not paths.
_PATH_RUN = re.compile(r"(?<!\S)[(\[<'\"]?(?:[/~.]\S*/\S*|[\w.\-]+/[\w.\-]*/\S*|\S*/[\w\-]*\.[A-Za-z]\w{0,4}"
                       r"|[\w.\-]+/(?=[\s)\]>'\".,;:]|$))\S*")


def _own_paragraph(left: str) -> str:
    """The left window from the last blank line on, paths blanked out.

    Why: a word describes the values of its own paragraph; "example" in the entry above a
    changelog trailer says nothing about the maintainer's address below it. And a directory or
    file name ("examples/demo.c", "/usr/lib/foo-examples/") is no word of the sentence."""
    ends = [m.end() for m in _BLANK_LINE.finditer(left)]
    if ends:
        left = left[ends[-1]:]
    return _blank_paths(left) if "/" in left else left


def _own_item(right: str) -> str:
    """The right window up to a blank line or the next item of a list, paths blanked out: a
    word of the next bullet ("  * Fixed the example") is about that item, not this value."""
    cut = _NEXT_ITEM.search(right)
    if cut is not None:
        right = right[:cut.start()]
    return _blank_paths(right) if "/" in right else right


def _blank_paths(part: str) -> str:
    return _PATH_RUN.sub(lambda m: " " * len(m.group()), part)
#: The form a run without context words stands as in a window's lemma sequence (never a word).
_PLACEHOLDER = "\x01"
_GLUE = "-/\\_"
_LETTER_HYPHEN = re.compile(r"[^\W\d_]-[^\W\d_]")
_PHRASE_TOKENS = re.compile(r"[\s\-]+")
#: Prefilter regexes by word list (see ContextReader._prefilter), shared by every reader.
_PREFILTERS: dict[tuple[str, ...], tuple[re.Pattern[str], re.Pattern[str] | None]] = {}

#: Words that deny what follows them ("is not a", "doesn't look like", "invalid", "不像"): a kind's
#: word right after one says what the value is not.
_DENIAL = re.compile(
    r"(?:\b(?:is|are|was|were|s)(?: not|n't)|\bdo(?:es)?(?: not|n't) (?:look|seem|appear)(?: like)?|"
    r"\bnot (?:an?|valid|real)\b|\binvalid\b|\bwrong\b|\bfake\b|\bbogus\b|"
    r"\bn[ãa]o (?:é|e|s[ãa]o|parece)|\bno (?:es|son|parece)\b|\bn'est pas|\bne sont pas|"
    r"\bist kein|\bsind keine|不是|不像|并非|非|错误|无效)",
    re.IGNORECASE)


def _ascii_twin(pattern: re.Pattern[str]) -> Any | None:
    """The pattern in RE2, for ASCII text only: there RE2's case folding and word boundaries are
    Python's, and RE2 does not try every alternative at every position (15x faster on a
    sentence). None when RE2 lacks the syntax or the flags differ."""
    if pattern.flags != re.IGNORECASE | re.UNICODE:
        return None
    try:
        import re2

        return re2.compile("(?i)" + pattern.pattern)
    except Exception:  # not installed, or syntax RE2 lacks (look-around, back-references)
        return None


_DENIAL_ASCII = _ascii_twin(_DENIAL)
#: How far a denied kind's word may follow the denial, and how far the sentence around a value
#: is read for one.
_DENIAL_REACH = 32
_SENTENCE_CHARS = 72
_SENTENCE_END = re.compile(r"[.!?。！？]\s|[\n;。！？]")


def denial_words(words: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The words of ``words`` a denial pattern holds: (ASCII words, matched as whole words; words
    of other scripts, matched as substrings). The native core reads the same lists."""
    ascii_words = sorted({w for w in words if w.isascii() and len(w) > 1 and w[0].isalpha()}, key=len, reverse=True)
    other = sorted({w for w in words if not w.isascii() and w.isalpha()}, key=len, reverse=True)
    return ascii_words, other


def denial_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """A kind's words as they follow a denial: a whole word (or its plural) in ASCII, a substring
    in scripts written without spaces."""
    ascii_raw, other_raw = denial_words(words)
    ascii_words = sorted({re.escape(w) for w in ascii_raw}, key=len, reverse=True)
    other = sorted({re.escape(w) for w in other_raw}, key=len, reverse=True)
    # ASCII boundaries: a word run into CJK text ("错误的IPV6地址") still stands on its own
    alternatives = ([rf"(?<![A-Za-z0-9_])(?:{'|'.join(ascii_words)})(?:e?s)?(?![A-Za-z0-9_])"]
                    if ascii_words else []) + other
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


def _denial_cues(text: str, start: int, end: int) -> tuple[str, tuple[int, ...]]:
    """The sentence around ``text[start:end]`` (the value left out) and where its denials end."""
    lo = max(start - _SENTENCE_CHARS, 0)
    hi = min(end + _SENTENCE_CHARS, len(text))
    left = text[lo:start]
    cut = max((m.end() for m in _SENTENCE_END.finditer(left)), default=0)
    right = text[end:hi]
    stop = _SENTENCE_END.search(right)
    sentence = left[cut:] + " " + (right[:stop.start()] if stop else right)
    cues = _DENIAL_ASCII if _DENIAL_ASCII is not None and sentence.isascii() else _DENIAL
    return sentence, tuple(cue.end() for cue in cues.finditer(sentence))


def declared_words() -> tuple[str, ...]:
    """Every context word the catalogue declares: the kinds' context and negative words and the
    python-stdnum formats' acronyms (subtype context). Read from the declarations themselves, so
    the automaton never holds a copy that could drift; a word a validator hands over later is
    added then (:meth:`NativeWords.ids_of`)."""
    from factsep.kinds import ids, stdnum_table
    from factsep.kinds.base import registry

    words: list[str] = []
    for kind in registry().values():
        words.extend(kind.context)
        words.extend(kind.negative)
    words.extend(sorted(stdnum_table.prefix_words()))
    words.extend(ids.DRIVING_LICENCE_WORDS)
    return tuple(dict.fromkeys(words))


_OTHER_SPACE = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _native_safe(word: str) -> bool:
    """Whether the automaton reproduces the reference for this word: no white space but single
    inner spaces, and no letter whose case forms are ASCII (the dotless i, the Kelvin sign: the
    reference's case-folding regex matches them in ASCII text)."""
    if not word or word != word.strip() or "  " in word:
        return False
    if word.isascii():  # nearly all: only white space other than a space can spoil them
        return not any(c in word for c in _OTHER_SPACE)
    if any(c.isspace() and c != " " for c in word):
        return False
    return not any(not ch.isascii() and any(c.isascii() for c in ch.lower() + ch.upper() + ch.casefold())
                   for ch in word)


class NativeWords:
    """The context words of every kind in one ``factsep._native.ContextAutomaton``.

    Each word has an id. The automaton gets three things, all derived here from the words:
    patterns (a word as the prefilter reads it, lower case; the pieces a lemma can be matched
    from: a word, its ``ies`` form when it ends in ``y``, and the pieces of a phrase), which
    words each pattern is the prefilter of, and groups (a word or phrase: its pieces, each with
    its alternative patterns). A word list is a frozenset of ids; ``None`` for a list holding a
    word the automaton cannot match exactly (:func:`_native_safe`), which then takes the
    reference path.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.ids: dict[str, int] = {}
        self._lists: dict[tuple[str, ...], frozenset[int] | None] = {}
        #: how often a word list brought words the declarations did not (the automaton is rebuilt)
        self.rebuilds = 0
        self._add(words)
        self._build()

    def _add(self, words: Iterable[str]) -> None:
        for w in words:
            self.ids.setdefault(w, len(self.ids))

    def _build(self) -> None:
        assert _native is not None
        patterns: dict[str, int] = {}
        prefilter: list[list[int]] = []

        def pattern(text: str) -> int:
            key = text.lower() if text.isascii() else text
            p = patterns.get(key)
            if p is None:
                p = patterns[key] = len(patterns)
                prefilter.append([])
            return p

        def piece(text: str) -> list[int]:
            alts = [pattern(text)]
            if text.lower().endswith("y"):
                alts.append(pattern(text.lower()[:-1] + "ies"))
            return alts

        groups: list[list[list[int]]] = []
        for word, i in self.ids.items():
            if not _native_safe(word):
                continue
            prefilter[pattern(word)].append(i)
            if " " not in word:
                groups.append([piece(word)])
                if _LETTER_HYPHEN.search(word):
                    groups.append([piece(t) for t in word.replace("-", " - ").split(" ")])
            else:
                groups.append([piece(t) for t in word.split(" ")])
        self.automaton = _native.ContextAutomaton(list(patterns), prefilter, groups)

    def ids_of(self, words: tuple[str, ...]) -> frozenset[int] | None:
        """The ids of a word list (None: the list needs the reference path)."""
        try:
            return self._lists[words]
        except KeyError:
            pass
        new = [w for w in words if w not in self.ids]
        if new:
            self._add(new)
            self._build()
            self.rebuilds += 1
        ids = frozenset(self.ids[w] for w in words) if all(map(_native_safe, words)) else None
        self._lists[words] = ids
        return ids

    def window(self, left: str, right: str) -> tuple[list[int], list[int], bool] | None:
        """(word ids past the prefilter, run offsets as start, end pairs, a phrase possible), or
        None when the window is not ASCII."""
        return self.automaton.window(left, right)
