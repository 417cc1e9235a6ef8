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


#: One colour per DESIGN kind, picked so that (WCAG 2 contrast, tested in tests/test_review_units.py)
#: the label chip reads with white or black text at 4.5:1 or more, the region highlight Label Studio
#: draws (the colour at 30% over the white page) stands out from the page, and a selected region
#: (80%) keeps its text readable. The most routed kinds get the most distinct hues.
PALETTE: dict[str, str] = {
    "tax_id": "#1f77b4", "national_id": "#d62728", "phone_number": "#2ca02c",
    "generic_id": "#9467bd", "date_of_birth": "#8c564b", "email_address": "#e6550d",
    "ip_address": "#006d77", "isbn": "#b5179e", "us_ssn": "#393b79", "bank_account": "#637939",
    "iban": "#8c6d31", "credit_card": "#843c39", "security_id": "#7b4173", "uuid": "#3182bd",
    "hex_digest": "#636363", "secret": "#c51b7d", "crypto_address": "#a6761d", "vin": "#4d9221",
    "issn": "#756bb1", "mac_address": "#1b9e77",
}


def colour(name: str) -> str:
    """The label colour of a kind: the palette's, else a hue from the name's hash at a lightness
    dark enough for the same contrast rules."""
    if name in PALETTE:
        return PALETTE[name]
    import colorsys

    hue = hashlib.blake2b(name.encode(), digest_size=2).digest()
    r, g, b = colorsys.hls_to_rgb(int.from_bytes(hue, "big") / 65536, 0.3, 0.7)
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


#: What annotators are told, one line each: the five things they can do with a window.
INSTRUCTIONS = (
    "Each highlighted region is a reading by factsep: a random fact (a value that can only be memorized:"
    " a phone number, an ID, an ISBN, a key, a date of birth...) of the kind on its label. The window shows"
    " every fact factsep found here, also those it accepted on its own, so check them all.",
    "ACCEPT: the value is a random fact of that kind - leave the region as it is.",
    "REJECT: not a random fact (a quantity, price, year, version, page, postal code, placeholder...)"
    " - delete the region.",
    "RELABEL: a random fact of another kind - select the region and click the right label.",
    "ADD: a random fact without a region - pick its kind, then select exactly its characters.",
    "SKIP: you cannot judge the window - press Skip; nothing in it is recorded."
    " Submit only when every region is right: a region left in place counts as accepted.",
)


def label_config(kinds: list[str] | None = None) -> str:
    """The labeling config XML for ``kinds`` (default: the catalogue)."""
    kinds = sorted(kinds) if kinds is not None else kind_names()
    labels = "\n".join(
        f"    <Label value={quoteattr(k)} background={quoteattr(colour(k))}/>" for k in kinds
    )
    header = "\n".join(f"  <Header value={quoteattr(line)} size=\"6\"/>" for line in INSTRUCTIONS)
    return (
        "<View>\n"
        f"{header}\n"
        f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}" choice="single">\n'
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
