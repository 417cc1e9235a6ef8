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

def _panic_for_test() -> None: ...
