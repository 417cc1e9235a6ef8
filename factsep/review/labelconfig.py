"""The Label Studio labeling config, generated from the kinds catalogue.

One ``<Label>`` per registered kind, so the labels annotators pick are exactly the kind names that
datasets and evaluations use. The generated text is kept in ``schemas/label_config.xml``; a test
checks the file matches the catalogue, and the server validates it when a project is created.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from xml.sax.saxutils import quoteattr

#: Names of the controls in the config; tasks, predictions and sync refer to them.
FROM_NAME = "label"
TO_NAME = "text"
TEXT_FIELD = "text"

#: The fixed kind names of DESIGN.md, used only if the catalogue cannot be imported.
DESIGN_KINDS = (
    "phone_number", "email_address", "ip_address", "mac_address", "credit_card", "iban",
    "bank_account", "us_ssn", "national_id", "tax_id", "isbn", "issn", "security_id", "uuid",
    "hex_digest", "secret", "crypto_address", "vin", "date_of_birth", "generic_id",
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "label_config.xml"


def kind_names() -> list[str]:
    """Registered kinds, sorted; the DESIGN list if the catalogue is not importable."""
    try:
        from factsep.kinds.base import registry

        names = sorted(registry())
    except Exception:  # catalogue missing or broken: the fixed names still agree with datasets
        names = []
    return names or sorted(DESIGN_KINDS)


def _colour(name: str) -> str:
    h = hashlib.blake2b(name.encode(), digest_size=3).digest()
    # keep colours light enough to read black text on
    return "#" + "".join(f"{128 + b // 2:02x}" for b in h)


def label_config(kinds: list[str] | None = None) -> str:
    """The labeling config XML for ``kinds`` (default: the catalogue)."""
    kinds = sorted(kinds) if kinds is not None else kind_names()
    labels = "\n".join(
        f"    <Label value={quoteattr(k)} background={quoteattr(_colour(k))}/>" for k in kinds
    )
    return (
        "<View>\n"
        '  <Header value="Keep a region if it is a random fact of that kind (a value that can only be'
        ' memorized), delete it if not, and mark any fact that was missed."/>\n'
        f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}">\n'
        f"{labels}\n"
        "  </Labels>\n"
        f'  <Text name="{TO_NAME}" value="${TEXT_FIELD}" granularity="symbol"/>\n'
        "</View>\n"
    )


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Regenerate ``schemas/label_config.xml`` (atomically) from the catalogue."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".xml.tmp")
    tmp.write_text(label_config(), encoding="utf-8")
    tmp.replace(path)
    return path


if __name__ == "__main__":  # python -m factsep.review.labelconfig
    print(write_schema())
