"""Write factsep/kinds/data/letter_bigrams.json: letter-pair counts of natural words.

Why: a code of capitals without digits (a BIC such as "AIRRHKHH") is told from a capitalised
word ("ABSOLUTE") by how little it reads like a word. The words are the place names of the
phonenumbers geocoder, which is installed with factsep: thousands of names in many languages,
offline and under the library's licence. Run again after upgrading phonenumbers; the output is
small (a few KB) and committed.

Usage: ``python scripts/make_letter_bigrams.py``
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import phonenumbers.geodata

OUT = Path(__file__).resolve().parents[1] / "factsep" / "kinds" / "data" / "letter_bigrams.json"
WORD = re.compile(r"[A-Za-z]{3,}")


def main() -> None:
    words: set[str] = set()
    for path in sorted(Path(phonenumbers.geodata.__file__).parent.glob("data*.py")):
        words.update(w.upper() for w in WORD.findall(path.read_text(encoding="utf-8")))
    pairs: Counter[str] = Counter()
    for word in words:
        padded = f"^{word}$"  # word starts and ends are pairs too
        pairs.update(a + b for a, b in zip(padded, padded[1:]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"source": f"phonenumbers {phonenumbers.__version__} geocoder place names",
                               "words": len(words), "pairs": dict(sorted(pairs.items()))}, indent=0) + "\n")
    print(f"{OUT}: {len(words)} words, {len(pairs)} letter pairs")


if __name__ == "__main__":
    main()
