"""Generate samples/: a small, realistic, seeded corpus for the README, tests and benchmarks.

Support chats (JSONL), bibliographies (gzip JSONL), invoices (Parquet), server logs (JSONL in a
folder) and biographies (.txt), with random facts that pass their checksums (phone numbers valid
for their region, ISBN/ISSN/Luhn/IBAN check digits) mixed with many look-alikes (prices, versions,
page ranges, dates, order numbers), plus a few deliberately broken records for the quarantine.
Same seed, same bytes: ``python scripts/make_samples.py [--out samples] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import io
import json
import random
import shutil
import uuid
from pathlib import Path

import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
from faker import Faker
from stdnum import ean, iban, isbn, issn, luhn
from stdnum.iso7064 import mod_11_10

REGIONS = ("US", "GB", "DE", "FR", "ES", "NL")
#: The corpus's "today": dates are drawn relative to a fixed day, not the clock, so the same seed
#: writes the same bytes on any day (tests/test_scan_samples.py checks that it does).
TODAY = datetime.date(2026, 11, 28)


class Gen:
    """Values that pass their validators, and look-alikes that should not be taken for facts."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        Faker.seed(seed)
        self.fake = Faker(["en_US", "en_GB", "de_DE"])
        self.fake.seed_instance(seed)

    # random facts -------------------------------------------------------------------------------
    def phone(self) -> str:
        region = self.rng.choice(REGIONS)
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        n_digits = len(str(example.national_number))
        while True:
            national = str(example.national_number)[:2] + "".join(
                self.rng.choice("0123456789") for _ in range(n_digits - 2)
            )
            num = phonenumbers.parse(f"+{example.country_code}{national}")
            if phonenumbers.is_valid_number(num):
                fmt = self.rng.choice(
                    [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]
                )
                if region == "US" and self.rng.random() < 0.5:
                    fmt = phonenumbers.PhoneNumberFormat.NATIONAL
                return phonenumbers.format_number(num, fmt)

    def isbn13(self) -> str:
        body = "978" + "".join(self.rng.choice("0123456789") for _ in range(9))
        number = body + ean.calc_check_digit(body)
        try:
            return isbn.format(number)
        except Exception:  # noqa: BLE001 - outside the known ranges: plain digits
            return number

    def isbn10(self) -> str:
        return isbn.to_isbn10(isbn.compact(self.isbn13()))

    def issn(self) -> str:
        body = "".join(self.rng.choice("0123456789") for _ in range(7))
        return issn.format(body + issn.calc_check_digit(body))

    def card(self) -> str:
        prefix = self.rng.choice(["4", "51", "52", "37", "6011"])
        length = 15 if prefix == "37" else 16
        body = prefix + "".join(self.rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
        number = body + luhn.calc_check_digit(body)
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))

    def iban(self) -> str:
        while True:
            value = self.fake.iban()
            if iban.is_valid(value):
                return iban.format(value)

    def vat_de(self) -> str:
        body = str(self.rng.randint(1, 9)) + "".join(self.rng.choice("0123456789") for _ in range(7))
        return "DE" + body + mod_11_10.calc_check_digit(body)

    def ssn(self) -> str:
        area = self.rng.choice([n for n in range(1, 900) if n != 666])
        return f"{area:03d}-{self.rng.randint(1, 99):02d}-{self.rng.randint(1, 9999):04d}"

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ipv4(self) -> str:
        return ".".join(str(self.rng.randint(1, 254)) for _ in range(4))

    def ipv6(self) -> str:
        return ":".join(f"{self.rng.getrandbits(16):x}" for _ in range(8))

    def mac(self) -> str:
        return ":".join(f"{self.rng.getrandbits(8):02x}" for _ in range(6))

    def sha256(self) -> str:
        return hashlib.sha256(self.rng.getrandbits(64).to_bytes(8, "big")).hexdigest()

    def email(self) -> str:
        return self.fake.email()

    def dob(self) -> str:
        d = self.fake.date_between(TODAY.replace(year=TODAY.year - 91), TODAY.replace(year=TODAY.year - 20))
        return self.rng.choice([d.strftime("%d %B %Y"), d.strftime("%B %d, %Y"), d.isoformat(), d.strftime("%d/%m/%Y")])

    # look-alikes ---------------------------------------------------------------------------------
    def price(self) -> str:
        return self.rng.choice(["$", "€", "£"]) + f"{self.rng.randint(1, 4999):,}.{self.rng.randint(0, 99):02d}"

    def version(self) -> str:
        return f"v{self.rng.randint(0, 12)}.{self.rng.randint(0, 30)}.{self.rng.randint(0, 200)}"

    def pages(self) -> str:
        a = self.rng.randint(1, 900)
        return f"pp. {a}-{a + self.rng.randint(3, 40)}"

    def order(self) -> str:
        return self.rng.choice(["Order #", "order no. ", "INV-2024-", "TKT-", "ticket "]) + str(
            self.rng.randint(1000, 99999999)
        )

    def date(self) -> str:
        day = self.fake.date_between(TODAY.replace(year=TODAY.year - 5), TODAY)
        return day.strftime(self.rng.choice(["%Y-%m-%d", "%d %b %Y", "%m/%d/%Y"]))

    def bad_isbn(self) -> str:
        return "978" + "".join(self.rng.choice("0123456789") for _ in range(10))  # check digit right 1 in 10


def chats(g: Gen, n: int) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        agent, customer = g.fake.first_name(), g.fake.name()
        lines = [f"Agent ({agent}): Hi, thanks for contacting support. How can I help?"]
        pick = g.rng.random()
        if pick < 0.35:
            lines.append(f"Customer: My {g.order()} has not arrived. You can call me on {g.phone()}.")
        elif pick < 0.55:
            lines.append(f"Customer: Please send the receipt to {g.email()}, I paid {g.price()} on {g.date()}.")
        elif pick < 0.7:
            lines.append(f"Customer: The app {g.version()} crashes since {g.date()}. Ticket {g.order()}.")
        elif pick < 0.85:
            lines.append(f"Customer: I was charged twice on card {g.card()} for {g.price()}.")
        else:
            lines.append(f"Customer: I'm {customer}, my number changed to {g.phone()} and my email is {g.email()}.")
        lines.append(f"Agent ({agent}): Thank you, I have updated case {g.rng.randint(100000, 999999)}.")
        rows.append(
            {"id": f"chat-{i:04d}", "channel": g.rng.choice(["web", "email", "phone"]), "text": "\n".join(lines)}
        )
    return rows


def bibliography(g: Gen, n: int) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        entries = []
        for _ in range(g.rng.randint(2, 5)):
            author = g.fake.last_name() + ", " + g.fake.first_name()[0] + "."
            title = g.fake.catch_phrase()
            year = g.rng.randint(1950, 2024)
            kind = g.rng.random()
            if kind < 0.5:
                entries.append(f"{author} ({year}). {title}. {g.fake.company()}. ISBN {g.isbn13()}.")
            elif kind < 0.65:
                entries.append(f"{author} ({year}). {title}. ISBN {g.isbn10()}, {g.pages()}.")
            elif kind < 0.8:
                entries.append(
                    f"{author} ({year}). {title}. Journal of {g.fake.word().title()} Studies "
                    f"(ISSN {g.issn()}), vol. {g.rng.randint(1, 80)}, {g.pages()}."
                )
            else:
                entries.append(f"{author} ({year}). {title}. Catalogue no. {g.bad_isbn()}, {g.pages()}.")
        rows.append(
            {"id": f"bib-{i:04d}", "text": "References\n" + "\n".join(entries), "year": g.rng.randint(1990, 2024)}
        )
    return rows


def invoices(g: Gen, n: int) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        total = g.price()
        text = (
            f"INVOICE INV-2024-{i + 1:05d}\nDate: {g.date()}\nBill to: {g.fake.company()}, {g.fake.city()}\n"
            f"VAT ID: {g.vat_de()}\nItems: {g.rng.randint(1, 9)} x {g.fake.word()} at {g.price()}\nTotal: {total}\n"
        )
        if g.rng.random() < 0.5:
            text += f"Paid by card {g.card()} (exp {g.rng.randint(1, 12):02d}/{g.rng.randint(25, 31)}).\n"
        else:
            text += f"Please transfer to IBAN {g.iban()} within 30 days. Reference {g.order()}.\n"
        rows.append(
            {
                "invoice_no": i + 1,
                "customer": g.fake.company(),
                "amount": round(g.rng.uniform(5, 5000), 2),
                "text": text,
            }
        )
    return rows


def logs(g: Gen, n: int) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        lines = []
        for _ in range(g.rng.randint(3, 8)):
            ts = f"{g.date()}T{g.rng.randint(0, 23):02d}:{g.rng.randint(0, 59):02d}:{g.rng.randint(0, 59):02d}Z"
            kind = g.rng.random()
            if kind < 0.35:
                lines.append(
                    f"{ts} INFO request_id={g.uuid4()} client={g.ipv4()} GET /api/{g.version()}/items "
                    f"200 {g.rng.randint(2, 900)}ms"
                )
            elif kind < 0.5:
                lines.append(f"{ts} WARN client={g.ipv6()} retry 3/5 port {g.rng.randint(1024, 65535)}")
            elif kind < 0.65:
                lines.append(f"{ts} INFO deploy {g.version()} sha256={g.sha256()}")
            elif kind < 0.75:
                lines.append(f"{ts} DEBUG iface eth0 mac {g.mac()} mtu 1500")
            else:
                lines.append(
                    f"{ts} INFO build {g.rng.randint(1000, 9999)} took {g.rng.randint(1, 600)}s, "
                    f"{g.rng.randint(0, 100)}% cache hits"
                )
        rows.append({"id": f"log-{i:04d}", "host": f"web-{g.rng.randint(1, 12):02d}", "text": "\n".join(lines)})
    return rows


def bio(g: Gen) -> str:
    name = g.fake.name()
    city = g.fake.city()
    parts = [f"{name} was born on {g.dob()} in {city}."]
    parts.append(
        f"After studying {g.fake.job().lower()} they joined {g.fake.company()} in {g.rng.randint(1980, 2020)}."
    )
    if g.rng.random() < 0.4:
        parts.append(f"Date of birth: {g.dob()}; passport renewed on {g.date()}.")
    if g.rng.random() < 0.3:
        parts.append(f"Their SSN {g.ssn()} appeared in a leaked form.")
    parts.append(f"In {g.rng.randint(1990, 2023)} they published a book (ISBN {g.isbn13()}), {g.pages()}.")
    parts.append(f"They can be reached at {g.email()} or {g.phone()}.")
    return " ".join(parts) + "\n"


def write_jsonl(path: Path, rows: list[dict[str, object]], extra: list[bytes] = ()) -> None:  # type: ignore[assignment]
    buf = io.BytesIO()
    for i, row in enumerate(rows):
        buf.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
        if i == len(rows) // 2:
            for line in extra:
                buf.write(line + b"\n")
    data = buf.getvalue()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="samples")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    (out / "logs").mkdir(parents=True)
    (out / "bios").mkdir()
    g = Gen(args.seed)
    broken = [
        b'{"id": "chat-broken-1", "text": "Customer: my number is +44 20 7946',  # cut JSON
        b'{"id": "chat-broken-2", "text": null}',  # null text
        b'{"id": "chat-broken-3", "text": "caf\xe9 latin-1 bytes"}',  # not UTF-8
        b"",  # blank line: skipped and counted
    ]
    write_jsonl(out / "chats.jsonl", chats(g, 100), broken)
    write_jsonl(out / "bibliography.jsonl.gz", bibliography(g, 60), [b'{"id": "bib-broken", "text": 42}'])
    table = pa.Table.from_pylist(invoices(g, 60))
    pq.write_table(table, out / "invoices.parquet", compression="zstd", row_group_size=32)
    log_rows = logs(g, 80)
    write_jsonl(out / "logs" / "web-a.jsonl", log_rows[:40])
    write_jsonl(out / "logs" / "web-b.jsonl.gz", log_rows[40:])
    for i in range(24):
        (out / "bios" / f"bio-{i:02d}.txt").write_text(bio(g), encoding="utf-8")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out}/ ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
