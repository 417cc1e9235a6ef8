"""Rewrite factsep/kinds/data/phone_tables.txt.gz from the installed phonenumbers metadata.

The generator lives in factsep.kinds.phone_tables (the library builds the tables itself when another
phonenumbers version is installed); this script refreshes the shipped copy after an upgrade:

    python scripts/gen_phone_tables.py            # rewrite the shipped file
    python scripts/gen_phone_tables.py --check    # exit 1 when the shipped file is stale
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factsep.kinds.phone_tables import SHIPPED, generate, shipped_text  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the shipped file differs")
    parser.add_argument("--out", type=Path, default=SHIPPED)
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        if not args.out.exists() or shipped_text(args.out) != text:
            print(f"{args.out} is stale for phonenumbers {phonenumbers.__version__}: "
                  "run python scripts/gen_phone_tables.py", file=sys.stderr)
            return 1
        return 0
    # mtime 0 and no file name: the same text gives the same bytes
    args.out.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {args.out} ({len(text)} chars, phonenumbers {phonenumbers.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
