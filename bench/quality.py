"""Detection quality: factsep against Presidio's AnalyzerEngine on the shared evaluation data.

Why: the detection engine is judged on labelled text from public projects; this script runs both
tools on the same documents and prints, side by side, strict and overlap precision/recall/F1 per
source and overall, recall per kind, and the share of documents without gold spans that got a tag.

Sources (``--eval-dir``, default ``<repo>/../shared/eval``):
- ``recognizers_text.jsonl`` and ``presidio_synth.jsonl``: labelled sentences as they are;
- ``stdnum_values.jsonl``: bare identifier values, put into sentences by a seeded generator with
  varied templates (some name the format or the kind, some have no context word at all), plus
  negative sentences with look-alikes (prices, versions, page ranges, dates, arithmetic, ...).

Scoring: a factsep prediction is any span whose decision is not auto_reject; a Presidio
prediction is any result whose entity maps to a factsep kind (``PRESIDIO_TO_KIND``; overlapping
mapped results keep the highest score). Entities that are no random facts (PERSON, LOCATION,
DATE_TIME, URL, NRP, ...) are ignored. A prediction overlapping a null-kind gold span (a name, a
URL, a plain date) counts neither right nor wrong. Strict = same start, end and kind; span = same
start and end, whatever the kind (the evaluation data's own definition of strict, in its README);
overlap = overlaps a gold span of the same kind.

Usage: ``python bench/quality.py [--eval-dir DIR] [--limit N] [--json] [--errors N --show-values]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
#: ``../shared/eval`` of the checkout, or of a parent folder (a git worktree sits one level deeper).
DEFAULT_EVAL = next((p / "shared" / "eval" for p in Path(__file__).resolve().parents[2:]
                     if (p / "shared" / "eval").is_dir()), Path(__file__).resolve().parents[2] / "shared" / "eval")
sys.path.insert(0, str(REPO))

TEXT_SETS = (("recognizers-text", "recognizers_text.jsonl"), ("presidio-synth", "presidio_synth.jsonl"))
STDNUM_SOURCE = "stdnum-sentences"


@dataclass(frozen=True)
class Gold:
    start: int
    end: int
    kind: str | None


@dataclass
class Doc:
    id: str
    source: str
    text: str
    gold: list[Gold]


@dataclass(frozen=True)
class Pred:
    start: int
    end: int
    kind: str


# ---- the stdnum sentences ------------------------------------------------------------------------

#: Natural phrases naming each kind, used as context when a format has no acronym (or by chance).
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "tax_id": ("tax number", "VAT number", "company registration number", "tax ID", "taxpayer number",
               "business number", "fiscal code"),
    "national_id": ("national ID", "personal number", "identity number", "ID card number",
                    "social insurance number", "citizen number"),
    "security_id": ("security identifier", "ISIN", "stock code", "share identifier", "bond identifier"),
    "bank_account": ("bank account", "account number", "bank code", "routing number", "BIC"),
    "generic_id": ("reference", "registration code", "identifier", "code"),
    "isbn": ("ISBN", "book", "edition"),
    "crypto_address": ("bitcoin address", "wallet", "BTC address"),
}

CONTEXT_TEMPLATES = (
    "{ctx}: {v}",
    "Our {ctx} is {v}.",
    "Please quote the {ctx} {v} on every invoice.",
    "The {ctx} {v} was checked by the clerk.",
    "{v} ({ctx})",
    "According to the form, the {ctx} reads {v} and nothing else.",
    "I wrote down {ctx} {v} yesterday.",
    "{ctx} - {v}",
    "Can you confirm that {v} is the right {ctx}?",
    "The letter lists {v} as its {ctx}.",
)

PLAIN_TEMPLATES = (
    "{v}",
    "See {v}.",
    "It says {v} on the second line.",
    "Then she typed {v} and pressed enter.",
    "We found {v} in the old folder.",
    "Entry: {v}",
    "{v} is what the scan shows.",
    "Copy {v} into the box below, then continue.",
    "The sheet had {v} written on it in pencil.",
    "He sent me {v} this morning.",
)


def _neg_price(r: random.Random) -> str:
    cur = r.choice(["$", "€", "£", "USD ", "EUR "])
    amount = f"{r.randint(1, 99_999):,}.{r.randint(0, 99):02d}"
    return r.choice([f"The total came to {cur}{amount} after discount.",
                     f"It costs {cur}{amount} per year.",
                     f"Price: {cur}{amount}"])


def _neg_version(r: random.Random) -> str:
    parts = [str(r.randint(0, 20)) for _ in range(r.choice([3, 4]))]
    v = ".".join(parts)
    return r.choice([f"Upgrade to version {v} before the release.", f"Built with v{v} of the toolkit.",
                     f"Release {v} fixes the crash.", f"The firmware {v} is stable."])


def _neg_pages(r: random.Random) -> str:
    a = r.randint(1, 1900)
    b = a + r.randint(1, 60)
    return r.choice([f"See pp. {a}-{b}.", f"It is discussed on pages {a}–{b}.", f"Chapter 3, pages {a}-{b}"])


def _neg_date(r: random.Random) -> str:
    y, m, d = r.randint(1950, 2030), r.randint(1, 12), r.randint(1, 28)
    return r.choice([f"The meeting is on {y}-{m:02d}-{d:02d}.", f"Updated {d:02d}/{m:02d}/{y}.",
                     f"Signed on {m}/{d}/{y} in Paris.", f"The period {y}-{y + r.randint(1, 9)} was calm."])


def _neg_arith(r: random.Random) -> str:
    a, b = r.randint(100, 99_999), r.randint(2, 9999)
    return r.choice([f"{a}*{b}={a * b}", f"{a} + {b} = {a + b}", f"We computed {a} x {b} = {a * b}.",
                     f"{a}/{b} is about {a / b:.4f}"])


def _neg_quantity(r: random.Random) -> str:
    n = r.randint(10_000, 99_999_999)
    return r.choice([f"The city has {n:,} inhabitants.", f"About {n:,} people attended.",
                     f"The file is {n} bytes long.", f"Coordinates {r.uniform(-90, 90):.6f}, "
                     f"{r.uniform(-180, 180):.6f}", f"At {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:"
                     f"{r.randint(0, 59):02d} the power failed."])


NEGATIVES = (_neg_price, _neg_version, _neg_pages, _neg_date, _neg_arith, _neg_quantity)


def _context_word(r: random.Random, module: str, kind: str | None) -> str:
    from factsep.kinds import stdnum_table

    acr = stdnum_table.acronyms(module) if stdnum_table.load(module) is not None else ()
    words = KIND_WORDS.get(kind or "", ("number",))
    if acr and r.random() < 0.5:
        return r.choice(acr).upper() if len(r.choice(acr)) <= 5 else r.choice(acr)
    return r.choice(words)


def stdnum_docs(path: Path, seed: int = 7, context_share: float = 0.5,
                negatives: int = 600) -> list[Doc]:
    """python-stdnum's values in generated sentences, and look-alike negative sentences."""
    r = random.Random(seed)
    docs: list[Doc] = []
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    for i, row in enumerate(rows):
        value, module, kind = row["value"], row["module"], row.get("kind")
        if r.random() < context_share:
            template = r.choice(CONTEXT_TEMPLATES)
            ctx = _context_word(r, module, kind)
        else:
            template, ctx = r.choice(PLAIN_TEMPLATES), ""
        head, _, tail = template.partition("{v}")
        head, tail = head.format(ctx=ctx), tail.format(ctx=ctx)
        text = head + value + tail
        docs.append(Doc(f"stdnum-{i}-{'ctx' if ctx else 'bare'}-{module}", STDNUM_SOURCE, text,
                        [Gold(len(head), len(head) + len(value), kind)]))
    for i in range(negatives):
        docs.append(Doc(f"stdnum-neg-{i}", STDNUM_SOURCE, NEGATIVES[i % len(NEGATIVES)](r), []))
    return docs


def load_docs(eval_dir: Path, seed: int = 7) -> list[Doc]:
    docs: list[Doc] = []
    for source, name in TEXT_SETS:
        path = eval_dir / name
        if not path.exists():
            print(f"warning: {path} missing, skipped", file=sys.stderr)
            continue
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                row = json.loads(line)
                docs.append(Doc(row["id"], source, row["text"],
                                [Gold(s["start"], s["end"], s.get("kind")) for s in row.get("spans", [])]))
    path = eval_dir / "stdnum_values.jsonl"
    if path.exists():
        docs.extend(stdnum_docs(path, seed))
    return docs


SPLIT_SEED = 12
HELD_OUT_SHARE = 0.5


def split_of(doc_id: str, seed: int = SPLIT_SEED) -> str:
    """"train" or "held-out", by a seeded hash of the document id: weights are fitted on the
    train half (scripts/fit_weights.py) and figures reported on the held-out half."""
    h = int(hashlib.sha256(f"{seed}|{doc_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "held-out" if h < HELD_OUT_SHARE else "train"


def take(docs: list[Doc], limit: int | None) -> list[Doc]:
    """At most ``limit`` documents per source, spread evenly over each source's documents."""
    if not limit:
        return docs
    by_source: dict[str, list[Doc]] = defaultdict(list)
    for d in docs:
        by_source[d.source].append(d)
    out: list[Doc] = []
    for items in by_source.values():
        step = max(len(items) / limit, 1.0)
        out.extend(items[int(i * step)] for i in range(min(limit, len(items))))
    return out


# ---- the two tools ---------------------------------------------------------------------------------

def run_factsep(docs: Sequence[Doc], batch: int = 256) -> list[list[Pred]]:
    from factsep import Detector

    det = Detector()
    out: list[list[Pred]] = []
    for i in range(0, len(docs), batch):
        chunk = docs[i:i + batch]
        for spans in det.detect_batch([d.text for d in chunk], [d.id for d in chunk]):
            out.append([Pred(s.start, s.end, s.kind) for s in spans if s.decision != "auto_reject"])
    return out


def run_presidio(docs: Sequence[Doc], threshold: float, cache_path: Path | None) -> list[list[Pred]]:
    """Presidio's predefined recognizers; results are cached by text hash when a path is given."""
    import presidio_analyzer

    from factsep.presidio import PRESIDIO_TO_KIND, analyzer

    cache: dict[str, list[list[Any]]] = {}
    tag = f"presidio-{presidio_analyzer.__version__ if hasattr(presidio_analyzer, '__version__') else ''}"
    if cache_path and cache_path.exists():
        data = json.loads(cache_path.read_text())
        if data.get("tag") == tag:
            cache = data["results"]
    engine = None
    out: list[list[Pred]] = []
    dirty = False
    for d in docs:
        key = hashlib.sha1(d.text.encode("utf-8", "surrogatepass")).hexdigest()
        if key not in cache:
            if engine is None:
                engine = analyzer()
            cache[key] = [[r.start, r.end, r.entity_type, r.score]
                          for r in engine.analyze(d.text, language="en")]
            dirty = True
        mapped = [(s, e, PRESIDIO_TO_KIND[t], sc) for s, e, t, sc in cache[key]
                  if t in PRESIDIO_TO_KIND and sc >= threshold]
        chosen: list[Pred] = []
        for s, e, k, _ in sorted(mapped, key=lambda x: (-x[3], x[0] - x[1])):
            if not any(s < p.end and p.start < e for p in chosen):
                chosen.append(Pred(s, e, k))
        out.append(sorted(chosen, key=lambda p: p.start))
    if cache_path and dirty:
        tmp = cache_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"tag": tag, "results": cache}))
        tmp.replace(cache_path)
    return out


# ---- scoring ---------------------------------------------------------------------------------------

@dataclass
class Tally:
    tp_strict: int = 0
    fp_strict: int = 0
    fn_strict: int = 0
    tp_span: int = 0
    fp_span: int = 0
    fn_span: int = 0
    tp_pred_overlap: int = 0
    fp_overlap: int = 0
    tp_gold_overlap: int = 0
    fn_overlap: int = 0
    empty_docs: int = 0
    empty_tagged: int = 0
    #: no-gold documents with a tag that overlaps no labelled span (a tag on a labelled name, URL or
    #: date counts neither right nor wrong in P/R; this share applies the same rule to documents)
    empty_wrong: int = 0
    docs: int = 0
    kind_gold: Counter = field(default_factory=Counter)
    kind_found: Counter = field(default_factory=Counter)
    errors: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("tp_strict", "fp_strict", "fn_strict", "tp_span", "fp_span", "fn_span",
                     "tp_pred_overlap", "fp_overlap", "tp_gold_overlap", "fn_overlap", "empty_docs",
                     "empty_tagged", "empty_wrong", "docs"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.kind_gold.update(other.kind_gold)
        self.kind_found.update(other.kind_found)
        self.errors.extend(other.errors)

    def figures(self) -> dict[str, float]:
        def prf(tp_p: int, fp: int, tp_g: int, fn: int) -> tuple[float, float, float]:
            p = tp_p / (tp_p + fp) if tp_p + fp else 1.0
            r = tp_g / (tp_g + fn) if tp_g + fn else 1.0
            return p, r, (2 * p * r / (p + r) if p + r else 0.0)

        sp, sr, sf = prf(self.tp_strict, self.fp_strict, self.tp_strict, self.fn_strict)
        op, orr, of = prf(self.tp_pred_overlap, self.fp_overlap, self.tp_gold_overlap, self.fn_overlap)
        _, _, span_f1 = prf(self.tp_span, self.fp_span, self.tp_span, self.fn_span)
        return {"docs": self.docs, "strict_p": sp, "strict_r": sr, "strict_f1": sf, "span_f1": span_f1, "overlap_p": op,
                "overlap_r": orr, "overlap_f1": of, "tp": self.tp_strict, "fp": self.fp_strict,
                "fn": self.fn_strict, "empty_docs": self.empty_docs,
                "empty_tagged_share": self.empty_tagged / self.empty_docs if self.empty_docs else 0.0,
                "empty_tagged": self.empty_tagged, "empty_wrong": self.empty_wrong,
                "empty_wrong_share": self.empty_wrong / self.empty_docs if self.empty_docs else 0.0}


def _overlaps(a: Pred | Gold, b: Pred | Gold) -> bool:
    return a.start < b.end and b.start < a.end


def score_doc(doc: Doc, preds: list[Pred], tally: Tally) -> None:
    tally.docs += 1
    real = [g for g in doc.gold if g.kind]
    nulls = [g for g in doc.gold if not g.kind]
    exact = {(g.start, g.end, g.kind) for g in real}
    bounds = {(g.start, g.end) for g in real}
    predicted = {(p.start, p.end) for p in preds}
    if not real:
        tally.empty_docs += 1
        tally.empty_tagged += bool(preds)
        tally.empty_wrong += any(not any(_overlaps(p, g) for g in nulls) for p in preds)
        for p in preds:  # listed by --errors: which tags put a document without random facts in the count
            tally.errors.append(("NOGOLD", p.kind, "null-span" if any(_overlaps(p, g) for g in nulls) else "-",
                                 f"{doc.id}|{p.start}:{p.end}"))
    for p in preds:
        if (p.start, p.end) in bounds:
            tally.tp_span += 1
        elif any(_overlaps(p, g) for g in real) or not any(_overlaps(p, g) for g in nulls):
            tally.fp_span += 1
        if (p.start, p.end, p.kind) in exact:
            tally.tp_strict += 1
        elif not any(_overlaps(p, g) for g in real) and any(_overlaps(p, g) for g in nulls):
            pass  # a name, URL or plain date: neither right nor wrong
        else:
            tally.fp_strict += 1
            overlapping = [g.kind for g in real if _overlaps(p, g)]
            tally.errors.append(("FP", p.kind, f"gold={overlapping or '-'}", f"{doc.id}|{p.start}:{p.end}"))
        same = [g for g in real if g.kind == p.kind and _overlaps(p, g)]
        if same:
            tally.tp_pred_overlap += 1
        elif not any(_overlaps(p, g) for g in nulls) or any(_overlaps(p, g) for g in real):
            tally.fp_overlap += 1
    tally.fn_span += len(bounds - predicted)
    for g in real:
        tally.kind_gold[g.kind] += 1
        found = any((p.start, p.end, p.kind) == (g.start, g.end, g.kind) for p in preds)
        if found:
            tally.kind_found[g.kind] += 1
        else:
            tally.fn_strict += 1
            got = [f"{p.kind}@{p.start - g.start:+d}/{p.end - g.end:+d}" for p in preds if _overlaps(p, g)]
            tally.errors.append(("FN", g.kind, f"got={got or '-'}", f"{doc.id}|{g.start}:{g.end}"))
        if any(p.kind == g.kind and _overlaps(p, g) for p in preds):
            tally.tp_gold_overlap += 1
        else:
            tally.fn_overlap += 1


MULTILINGUAL_PREFIX = "faker-"


def evaluate(docs: Sequence[Doc], preds: Sequence[list[Pred]]) -> dict[str, Tally]:
    """Tallies per source; "overall" sums the labelled sets, "multilingual" the Faker locales."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for doc, p in zip(docs, preds):
        score_doc(doc, p, tallies[doc.source])
    overall, multilingual = Tally(), Tally()
    for source, t in list(tallies.items()):
        (multilingual if source.startswith(MULTILINGUAL_PREFIX) else overall).add(t)
    tallies["overall"] = overall
    if multilingual.docs:
        tallies["multilingual"] = multilingual
    return dict(tallies)


# ---- output ----------------------------------------------------------------------------------------

def table(results: dict[str, dict[str, Tally]]) -> str:
    tools = list(results)
    first = next(iter(results.values()))
    sources = ([s for s in first if s not in ("overall", "multilingual") and not s.startswith(MULTILINGUAL_PREFIX)]
               + ["overall"])
    lines = ["| source | tool | docs | strict P | strict R | strict F1 | span F1 | overlap P | overlap R "
             "| overlap F1 | no-gold docs tagged | ... with a tag on no labelled span |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in sources:
        for t in tools:
            f = results[t][s].figures()
            lines.append(f"| {s} | {t} | {f['docs']} | {f['strict_p']:.3f} | {f['strict_r']:.3f} | "
                         f"**{f['strict_f1']:.3f}** | {f['span_f1']:.3f} | {f['overlap_p']:.3f} | "
                         f"{f['overlap_r']:.3f} | "
                         f"{f['overlap_f1']:.3f} | {f['empty_tagged_share']:.3f} ({f['empty_tagged']} of "
                         f"{f['empty_docs']}) | {f['empty_wrong_share']:.3f} ({f['empty_wrong']}) |")
    return "\n".join(lines)


def kind_table(results: dict[str, dict[str, Tally]]) -> str:
    tools = list(results)
    overall = {t: results[t]["overall"] for t in tools}
    kinds = sorted(overall[tools[0]].kind_gold, key=lambda k: -overall[tools[0]].kind_gold[k])
    lines = ["| kind | gold | " + " | ".join(f"{t} strict recall" for t in tools) + " |",
             "|---|---:|" + "---:|" * len(tools)]
    for k in kinds:
        n = overall[tools[0]].kind_gold[k]
        cells = " | ".join(f"{overall[t].kind_found[k] / n:.3f}" for t in tools)
        lines.append(f"| {k} | {n} | {cells} |")
    return "\n".join(lines)


def multilingual_table(results: dict[str, dict[str, Tally]]) -> str:
    """Per locale: strict P/R/F1 (with kind) and recall of dates of birth and phone numbers."""
    lines = ["| locale | tool | docs | strict P | strict R | strict F1 | DOB recall | phone recall "
             "| no-gold docs tagged |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    first = next(iter(results.values()))
    sources = sorted(s for s in first if s.startswith(MULTILINGUAL_PREFIX)) + ["multilingual"]
    for s in sources:
        for t, r in results.items():
            if s not in r:
                continue
            tl = r[s]
            f = tl.figures()

            def rec(kind: str, tl: Tally = tl) -> str:
                return f"{tl.kind_found[kind] / tl.kind_gold[kind]:.3f}" if tl.kind_gold[kind] else "-"

            lines.append(f"| {s.removeprefix(MULTILINGUAL_PREFIX)} | {t} | {f['docs']} | {f['strict_p']:.3f} | "
                         f"{f['strict_r']:.3f} | **{f['strict_f1']:.3f}** | {rec('date_of_birth')} | "
                         f"{rec('phone_number')} | {f['empty_tagged_share']:.3f} ({f['empty_docs']}) |")
    return "\n".join(lines)


def show_errors(docs: Sequence[Doc], tally: Tally, n: int, show_values: bool) -> None:
    by_id = {d.id: d for d in docs}
    groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for what, kind, note, where in tally.errors:
        groups[(what, kind)].append((note, where))
    for (what, kind), items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"\n## {what} {kind}: {len(items)}")
        for note, where in items[:n]:
            doc_id, _, offs = where.partition("|")
            s, e = (int(x) for x in offs.split(":"))
            text = by_id[doc_id].text
            if show_values:
                shown = f"{text[max(0, s - 40):s]}[[{text[s:e]}]]{text[e:e + 30]}".replace("\n", " ")
            else:
                shown = f"<{e - s} chars, sha1 {hashlib.sha1(text[s:e].encode()).hexdigest()[:10]}>"
            print(f"  {doc_id} {note} :: {shown}")


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    ap.add_argument("--limit", type=int, default=None, help="at most N documents per source")
    ap.add_argument("--seed", type=int, default=7, help="seed of the stdnum sentence generator")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--no-presidio", action="store_true", help="run factsep only")
    ap.add_argument("--presidio-threshold", type=float, default=0.0,
                    help="minimum Presidio score (default 0, Presidio's own default)")
    ap.add_argument("--presidio-cache", type=Path, default=None,
                    help="JSON file caching Presidio's results by text hash (speeds up re-runs)")
    ap.add_argument("--errors", type=int, default=0, help="print N factsep errors per (FP|FN|NOGOLD, kind); "
                    "NOGOLD: tags in documents without random facts")
    ap.add_argument("--show-values", action="store_true", help="show raw values in error lists")
    ap.add_argument("--source", default=None, help="only this source")
    ap.add_argument("--split", default="held-out", choices=("held-out", "train", "all"),
                    help="which half of every set (by a seeded hash of the document id)")
    ap.add_argument("--no-multilingual", action="store_true", help="skip the Faker sentences")
    ap.add_argument("--realtext", action="store_true", help="also run bench/realtext.py's report (slow)")
    args = ap.parse_args(list(argv) if argv is not None else None)

    docs = load_docs(args.eval_dir, args.seed)
    if not args.no_multilingual:
        from realtext_multilingual import docs as multilingual_docs

        docs += multilingual_docs(args.seed)
    if args.split != "all":
        docs = [d for d in docs if split_of(d.id) == args.split]
    docs = take(docs, args.limit)
    if args.source:
        docs = [d for d in docs if d.source == args.source]
    if not docs:
        print(f"no documents under {args.eval_dir}", file=sys.stderr)
        return 2
    results: dict[str, dict[str, Tally]] = {}
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    results["factsep"] = evaluate(docs, run_factsep(docs))
    timing["factsep"] = time.perf_counter() - t0
    if not args.no_presidio:
        t0 = time.perf_counter()
        results["presidio"] = evaluate(docs, run_presidio(docs, args.presidio_threshold, args.presidio_cache))
        timing["presidio"] = time.perf_counter() - t0
    if args.json:
        print(json.dumps({
            "eval_dir": str(args.eval_dir), "seed": args.seed, "limit": args.limit, "seconds": timing,
            "tools": {t: {s: {**tl.figures(), "kind_gold": dict(tl.kind_gold),
                              "kind_found": dict(tl.kind_found)} for s, tl in r.items()}
                      for t, r in results.items()},
        }, indent=2))
        return 0
    print(f"# Detection quality on {args.eval_dir} ({len(docs)} documents, seed {args.seed}, "
          f"split {args.split})\n")
    print(table(results))
    if "multilingual" in results["factsep"]:
        print("\nMultilingual sentences (bench/realtext_multilingual.py, Faker):\n")
        print(multilingual_table(results))
    print("\nStrict recall per kind, all sources:\n")
    print(kind_table(results))
    print("\nPresidio entities outside factsep's kinds (PERSON, LOCATION, DATE_TIME, URL, NRP, ...) are "
          "ignored: they are no random facts. A prediction overlapping a null-kind gold span counts "
          "neither right nor wrong.")
    print("Seconds: " + ", ".join(f"{t} {s:.1f}" for t, s in timing.items()))
    if args.errors:
        show_errors(docs, results["factsep"]["overall"], args.errors, args.show_values)
        if "multilingual" in results["factsep"]:
            show_errors(docs, results["factsep"]["multilingual"], args.errors, args.show_values)
    if args.realtext:
        import realtext

        rdocs = [d for d in realtext.build() if args.split == "all" or d.split == args.split]
        print("\nReal text (bench/realtext.py, judged precision and recall probes):\n")
        print(realtext.render(realtext.report(rdocs, realtext.run(rdocs), realtext.load_judged())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
