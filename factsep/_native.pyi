"""Types of the Rust extension built from native/ (see factsep.detection.candidates)."""

from collections.abc import Sequence

__version__: str

class CoverScanner:
    """The cover pattern compiled once (leftmost-longest, like RE2 with longest_match)."""

    def __init__(self, pattern: str, slice: int, max_chars: int) -> None: ...
    def scan(self, texts: Sequence[str | bytes], threads: int = 0) -> tuple[bytes, bytes, bytes, int]:
        """(doc, start, end, count): native int32 buffers of code point offsets; threads 0 = all cores."""
        ...

class ContextAutomaton:
    """The kinds' context words in one Aho-Corasick automaton (see factsep.detection.context.NativeWords)."""

    def __init__(self, patterns: list[str], prefilter: list[list[int]], groups: list[list[list[int]]]) -> None: ...
    def window(self, left: str, right: str) -> tuple[list[int], list[int], bool] | None:
        """(word ids past the prefilter, run offsets as start, end pairs, a phrase possible) of the
        window left + " \x00 " + right; None when it is not ASCII."""
        ...

def check(name: str, values: Sequence[str | bytes], threads: int = 0) -> bytes:
    """One signed byte a value: luhn, iban_mod97, isbn, issn, hex, email, bitcoin, base58check give 1/0;
    uuid_version the version, -1 (no canonical UUID) or -2 (variant not RFC 4122); ip_version 4, 6 or 0;
    bech32 1 (bech32), 2 (bech32m) or 0."""
    ...

#: (status, country_code, nsn, extension, valid, possible, region, number_type, national, international)
PhoneVerdict = tuple[int, int | None, str | None, str | None, bool | None, bool | None, str | None, int | None,
                     str | None, str | None]

class PhoneTables:
    """phonenumbers' parse and checks from tables generated from its metadata (native/src/phone.rs)."""

    version: str
    def __init__(self, text: str) -> None: ...
    def verdict(self, text: str, region: str | None, formats: bool = True) -> PhoneVerdict:
        """status 0 parsed, 1 parse raises, 2 deferred (ask phonenumbers); formats of valid numbers only."""
        ...
    def verdicts(self, texts: Sequence[str], regions: Sequence[str | None], formats: bool = True,
                 threads: int = 0) -> list[PhoneVerdict]:
        """verdict of each pair, the GIL released; threads 0 = all cores."""
        ...

class ValueSignals:
    """A value's label and denial words, as Detector._label and ContextReader.denies read them, on
    ASCII text (native/src/signals.rs); the answers to "ask the Python path" are -2 and -1."""

    def __init__(self, cues: str, tail: str, denial: list[list[str]], label: list[list[str]]) -> None: ...
    def label(self, doc: NumeralText, start: int, positive: int, negative: int) -> int:
        """1, -1 or 0; -2: ask the Python path. A list index below 0 is no list."""
        ...
    def denies(self, doc: NumeralText, start: int, end: int, list: int) -> int:
        """1 or 0; -1: ask the Python path."""
        ...

class NumeralText:
    """A document as numerals.not_a_fact reads it (its UTF-8 and a code point index)."""

    def not_a_fact(self, start: int, end: int, kind: str) -> int: ...

def numeral_text(text: str) -> NumeralText | None: ...
def numeral_references(text: str) -> list[tuple[int, int, int]] | None: ...

def _panic_for_test() -> None: ...
