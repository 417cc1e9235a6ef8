"""Real text this machine ships, as an evaluation set: judged precision and recall probes.

Why: factsep is meant for real corpora, and sentences written to contain identifiers say little
about text nobody wrote for us. Four genres are read from the machine's own files, chosen by a
seeded shuffle until each holds ``--mb`` megabytes (default 1.2), every file one document, and
split into train and held-out by a seeded hash of its path (so no file is in both):

- ``changelog``: Debian package changelogs, ``/usr/share/doc/*/changelog.Debian.gz``
- ``copyright``: Debian copyright files, ``/usr/share/doc/*/copyright``
- ``source``: Python source of the installed packages (site-packages ``*.py``)
- ``docs``: README and NEWS files under ``/usr/share/doc``

Precision comes from hand judgements (``bench/realtext_judged.jsonl``, one JSON object a line,
keyed by genre, file, offset and a hash of the value, so they survive re-runs and carry no raw
value): ``{"genre", "file", "start", "vhash", "truth", "note"}``, ``truth`` the kind the span is by
``bench/LABELLING.md``, or null when it is no random fact (or its boundaries are wrong). Recall
comes from *probes*: values found by patterns of their own (e-mail addresses, UUIDs, full and
abbreviated commit hashes in commit context), each of which should be found with its kind.

Usage::

    python bench/realtext.py report [--split held-out|train|all] [--json]
    python bench/realtext.py sample --genre changelog --decision auto_accept --n 40   # to judge
    python bench/realtext.py unjudged --n 60     # spans of the current detector not judged yet
    python bench/realtext.py report --sample fresh   # the second sample (read for the seventh session's rules)
    python bench/realtext.py report --sample fresh2  # the third sample (read for the eighth session's rules)
    python bench/realtext.py report --sample fresh3  # the fourth sample: the held-out
    python bench/realtext.py report --sample fresh3 --tree /tmp/b31dc4b  # another checkout's detector
    python bench/realtext.py report --sample fresh4  # the fifth, 4 MB a genre: training text
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

JUDGED = Path(__file__).with_name("realtext_judged.jsonl")
GENRES = ("changelog", "copyright", "source", "docs")
SEED = 12
#: The second sample ("fresh"): files ranked by another seed, none of which is in the first sample.
#: The detector's rules were written while reading the first sample (both halves); the fresh one was
#: judged as the detector tagged it, before any rule was changed for it, so it is the honest
#: held-out. Every judgement says which sample it belongs to (``"sample"``, "first" when absent).
FRESH_SEED = 2026
#: The third sample ("fresh2", seventh session): another seed, no file of the first two samples. It
#: was judged as the detector of that session's start tagged it, before its rules were changed, so it
#: is the held-out from then on; the fresh sample, read while writing those rules, is no longer one.
FRESH2_SEED = 77
#: The fourth sample ("fresh3", eighth session): another seed, drawn as fresh2 was (no file of the
#: earlier samples, no file holding their text under another name, no file with an earlier sample's
#: judgement). Judged whole as the detector of that session's start (b31dc4b) tagged it, before its
#: rules were changed: the held-out from then on; fresh2, read while writing those rules, is not.
FRESH3_SEED = 4219
#: The fifth sample ("fresh4", eleventh session): drawn as fresh3 was, from files in none of the four
#: earlier samples, and larger (``SAMPLE_MB``): the pending-review band holds ~5 spans per MB of real
#: text, too few in 1.2 MB to say what they are. A training sample: read to write rules, while fresh3
#: stays the held-out.
FRESH4_SEED = 9031
SAMPLES = ("first", "fresh", "fresh2", "fresh3", "fresh4")
_SAMPLE_SEEDS = {"fresh": FRESH_SEED, "fresh2": FRESH2_SEED, "fresh3": FRESH3_SEED, "fresh4": FRESH4_SEED}
#: Megabytes per genre of a sample drawn at its own size, whatever ``--mb`` says (the draw, and so
#: the judgements keyed by its files, must not depend on a flag).
SAMPLE_MB = {"fresh4": 4.0}
#: Megabytes per genre of the other samples (the size their judgements were drawn at).
DEFAULT_MB = 1.2
MAX_FILE_CHARS = 60_000
HELD_OUT_SHARE = 0.5


@dataclass(frozen=True)
class RealDoc:
    genre: str
    file: str
    text: str
    split: str


def _site_packages() -> Path:
    import sysconfig

    return Path(sysconfig.get_paths()["purelib"])


#: Samples whose copyright and docs genres also read the installed Python packages' metadata: the
#: machine's copyright files and README/NEWS files hold about 3.2 and 3.6 MB of distinct text, and
#: the first three samples took nearly all of it (a fourth draw found 0.16 and 0.01 MB new), so
#: fresh3 adds text of the same genres nobody read yet: licence files shipped in ``*.dist-info``
#: (copyright) and the package descriptions of ``METADATA``/``PKG-INFO`` (a README as shipped: docs).
WIDER_POOL = frozenset({"fresh3", "fresh4"})


def _metadata_files(genre: str) -> list[Path]:
    sp = _site_packages()
    if genre == "copyright":
        names = ("LICENSE*", "LICENCE*", "COPYING*", "NOTICE*", "AUTHORS*", "licenses/**/*")
        return sorted({p for n in names for p in sp.glob(f"*.dist-info/{n}") if p.is_file()})
    if genre == "docs":
        return sorted({*sp.glob("*.dist-info/METADATA"), *sp.glob("*.egg-info/PKG-INFO")})
    return []


def _files(genre: str, sample: str = "first") -> list[Path]:
    if sample in WIDER_POOL:
        return sorted({*_files(genre), *_metadata_files(genre)})
    doc = Path("/usr/share/doc")
    if genre == "changelog":
        return sorted(doc.glob("*/changelog.Debian.gz"))
    if genre == "copyright":
        return sorted(doc.glob("*/copyright"))
    if genre == "source":
        # tests and vendored copies are still source; generated tables are skipped by size below
        return sorted(p for p in _site_packages().rglob("*.py") if "__pycache__" not in p.parts)
    if genre == "docs":
        names = ("README*", "NEWS*")
        return sorted({p for n in names for p in doc.glob(f"*/{n}") if p.is_file()})
    raise ValueError(f"unknown genre {genre!r}; known: {', '.join(GENRES)}")


def _read(path: Path) -> str | None:
    try:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    if b"\x00" in data[:4096]:
        return None  # binary
    text = data.decode("utf-8", "replace")
    if len(text) > MAX_FILE_CHARS:  # a long file is cut at a line break: more files, more variety
        cut = text.rfind("\n", 0, MAX_FILE_CHARS)
        text = text[: cut + 1 if cut > 0 else MAX_FILE_CHARS]
    return text


def file_id(genre: str, path: Path) -> str:
    """A path that names the same file on another machine: site-packages relative (source, and the
    package metadata of a wider pool)."""
    if genre == "source" or path.is_relative_to(_site_packages()):
        return "site-packages/" + str(path.relative_to(_site_packages()))
    return str(path)


def split_of(name: str, seed: int = SEED) -> str:
    h = int(hashlib.sha256(f"{seed}|{name}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "held-out" if h < HELD_OUT_SHARE else "train"


def _rank(genre: str, path: Path, seed: int) -> bytes:
    """A file's place in the seeded order (salted apart from the split's hash)."""
    return hashlib.sha256(f"order|{seed}|{file_id(genre, path)}".encode()).digest()


def build(genres: Sequence[str] = GENRES, mb: float = DEFAULT_MB, seed: int = SEED,
          sample: str = "first") -> list[RealDoc]:
    """The corpus: per genre, files in a seeded order until ``mb`` megabytes of text.

    ``sample="fresh"`` draws, by ``FRESH_SEED``, files that are not in the first sample (built with
    ``seed``); ``sample="fresh2"`` draws by ``FRESH2_SEED`` files in neither earlier sample, and
    ``sample="fresh3"`` by ``FRESH3_SEED`` files in none of the three. All files of a later sample
    are held-out (split = the sample's name)."""
    if sample not in SAMPLES:
        raise ValueError(f"unknown sample {sample!r}; known: {', '.join(SAMPLES)}")
    mb = SAMPLE_MB.get(sample, mb)
    out: list[RealDoc] = []
    for genre in genres:
        exclude: set[str] = set()
        seen: set[str] = set()
        order_seed = seed
        if sample != "first":
            earlier = [d for s in SAMPLES[: SAMPLES.index(sample)]
                       for d in build((genre,), DEFAULT_MB if sample in SAMPLE_MB else mb, seed, s)]
            exclude = {d.file for d in earlier}
            if sample != "fresh":  # fresh keeps its draw (its judgements are keyed by file)
                # files judged in an earlier sample's draw (the first sample's order changed once)
                exclude |= {f for (g, f, _, _), row in load_judged().items()
                            if g == genre and row.get("sample", "first") in SAMPLES[: SAMPLES.index(sample)]}
                # a file whose text an earlier sample holds under another name (the same licence,
                # the same NEWS in two packages) is no new text either
                seen = {hashlib.sha1(d.text.encode()).hexdigest() for d in earlier}
            order_seed = _SAMPLE_SEEDS[sample]
        # ranked by a seeded hash of the file's name: a package installed later takes its own place
        # in the order and leaves the others' where they were
        files = sorted(_files(genre, sample), key=lambda p: _rank(genre, p, order_seed))
        size = 0
        for path in files:
            if file_id(genre, path) in exclude:
                continue
            if size >= mb * 1_000_000:
                break
            text = _read(path)
            if not text or len(text) < 200:
                continue
            digest = hashlib.sha1(text.encode()).hexdigest()
            if digest in seen:  # copyright files repeat licences word for word
                continue
            seen.add(digest)
            name = file_id(genre, path)
            out.append(RealDoc(genre, name, text, sample if sample != "first" else split_of(name, seed)))
            size += len(text.encode())
    return out


def value_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def key(genre: str, file: str, start: int, value: str) -> tuple[str, str, int, str]:
    return (genre, file, start, value_hash(value))


# ---- judgements and probes ---------------------------------------------------------------------

def load_judged(path: Path = JUDGED) -> dict[tuple[str, str, int, str], dict[str, Any]]:
    out: dict[tuple[str, str, int, str], dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                out[(row["genre"], row["file"], row["start"], row["vhash"])] = row
    return out


_EMAIL = re.compile(r"(?<![\w.%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9\-]+"
                    r"(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
#: Commit ids where git puts them: after a commit word ("upstream commit 3d7a2d78", "commitdiff;h=..."),
#: gbp's "* [2322fe2] subject", a "git log --oneline" line ("    a940bf9 subject"), and after a git
#: snapshot date in a version ("+git20210903+057cd650a4ed", "++20210924122635+4a57f5d1e1c5").
_COMMITS = tuple(re.compile(p, re.M) for p in (
    r"(?i:\b(?:commits?|cherry-pick(?:ed)?(?: from)?|reverts?|revision|rev|changeset|h=|raw-rev/|/commit/)"
    r"[\s:#=(]{0,3}(?:(?:upstream|commit|of|from) ){0,2}?)\b([0-9a-f]{7,40})\b",
    r"^\s*\* \[([0-9a-f]{7,12})\] ",
    r"^ {2,8}([0-9a-f]{7,12}) [A-Za-z]",
    r"(?:\+git\d{8}|\d{14})\+([0-9a-f]{7,12})\b",
    r"\b([0-9a-f]{40})\b",  # a full SHA-1 anywhere
))
_PLACEHOLDER = re.compile(r"example\.(?:com|org|net)|@(?:localhost|domain|host)\b|\bfoo@|\buser@", re.I)


@dataclass(frozen=True)
class Probe:
    kind: str
    start: int
    end: int
    subtype: str


def probes(doc: RealDoc) -> list[Probe]:
    """Values that are random facts by their own pattern: recall is how many of them are found."""
    out: list[Probe] = []
    for m in _EMAIL.finditer(doc.text):
        if not _PLACEHOLDER.search(m.group()) and "." in m.group().split("@")[1]:
            out.append(Probe("email_address", m.start(), m.end(), "email"))
    for m in _UUID.finditer(doc.text):
        v = m.group().lower().replace("-", "")
        if len(set(v)) > 4:
            out.append(Probe("uuid", m.start(), m.end(), "uuid"))
    seen: set[int] = set()
    for rx in _COMMITS:
        for m in rx.finditer(doc.text):
            v = m.group(1)
            if m.start(1) in seen or not (any(c.isdigit() for c in v) and any(c.isalpha() for c in v)):
                continue
            seen.add(m.start(1))
            sub = "full" if len(v) in (40, 64) else "abbreviated"
            out.append(Probe("hex_digest", m.start(1), m.end(1), sub))
    return out


# ---- running ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tagged:
    doc: RealDoc
    start: int
    end: int
    kind: str
    subtype: str | None
    decision: str
    confidence: float
    detector: str

    @property
    def value(self) -> str:
        return self.doc.text[self.start:self.end]

    @property
    def key(self) -> tuple[str, str, int, str]:
        return key(self.doc.genre, self.doc.file, self.start, self.value)


def run(docs: Sequence[RealDoc], detector: Any = None) -> list[Tagged]:
    from factsep import Detector

    det = detector or Detector()
    out: list[Tagged] = []
    for d in docs:
        for s in det.detect(d.text, d.file):
            if s.decision == "auto_reject":
                continue
            out.append(Tagged(d, s.start, s.end, s.kind, s.subtype, s.decision, s.confidence, s.detector))
    return out


def report(docs: Sequence[RealDoc], tagged: Sequence[Tagged],
           judged: dict[tuple[str, str, int, str], dict[str, Any]]) -> dict[str, Any]:
    """Per genre: precision of auto-accepted (without e-mail) and pending spans, estimated per
    stratum (kind and decision) from the judged spans in it and weighted by the stratum's size;
    the share of spans in strata with no judgement (``unjudged_share``); probe recall."""
    result: dict[str, Any] = {}
    by_genre: dict[str, list[Tagged]] = defaultdict(list)
    for t in tagged:
        by_genre[t.doc.genre].append(t)
    for genre in sorted({d.genre for d in docs}):
        gdocs = [d for d in docs if d.genre == genre]
        rows: dict[str, Any] = {"files": len(gdocs), "mb": round(sum(len(d.text.encode()) for d in gdocs) / 1e6, 2)}
        strata: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for t in by_genre[genre]:
            j = judged.get(t.key)
            verdict = "unjudged" if j is None else ("ok" if j["truth"] == t.kind else "wrong")
            decision = "auto_accept" if t.decision == "auto_accept" else "pending"
            family = (t.subtype or "").split(".")[0] if t.kind in ("generic_id", "hex_digest") else ""
            strata[(f"{t.kind}/{family}" if family else t.kind, decision)][verdict] += 1
        for group, keep in (("auto_accept_no_email", lambda k, d: d == "auto_accept" and k != "email_address"),
                            ("auto_accept_references", lambda k, d: d == "auto_accept" and k.endswith(
                                ("/reference", "/commit"))),
                            ("auto_accept", lambda k, d: d == "auto_accept"),
                            ("pending", lambda k, d: d == "pending")):
            rows[group] = _estimate({s: c for s, c in strata.items() if keep(*s)})
        rows["strata"] = {f"{k}/{d}": {"n": sum(c.values()), "judged": c["ok"] + c["wrong"], "ok": c["ok"]}
                          for (k, d), c in sorted(strata.items())}
        # recall probes: a probe is found by a span of its kind overlapping it, not auto-rejected
        found: dict[str, Counter] = defaultdict(Counter)
        spans = defaultdict(list)
        for t in by_genre[genre]:
            spans[t.doc.file].append(t)
        for d in gdocs:
            for p in probes(d):
                hit = any(t.kind == p.kind and t.start < p.end and p.start < t.end for t in spans[d.file])
                cls = p.kind if p.kind != "hex_digest" else f"commit_{p.subtype}"
                found[cls]["n"] += 1
                found[cls]["found"] += hit
        rows["probes"] = {cls: {"n": c["n"], "recall": round(c["found"] / c["n"], 3)} for cls, c in found.items()}
        result[genre] = rows
    return result


def _estimate(strata: dict[tuple[str, str], Counter]) -> dict[str, Any]:
    """Stratified precision: each stratum's judged precision weighted by its size."""
    n = sum(sum(c.values()) for c in strata.values())
    covered = weighted = 0.0
    judged = 0
    for c in strata.values():
        size, j = sum(c.values()), c["ok"] + c["wrong"]
        judged += j
        if j:
            covered += size
            weighted += size * c["ok"] / j
    return {"n": n, "judged": judged, "precision": round(weighted / covered, 3) if covered else None,
            "unjudged_share": round(1 - covered / n, 3) if n else 0.0}


def _context(t: Tagged, width: int = 70) -> str:
    text = t.doc.text
    s = f"{text[max(0, t.start - width):t.start]}[[{t.value}]]{text[t.end:t.end + width // 2]}"
    return s.replace("\n", "⏎")


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=("report", "sample", "unjudged", "stats"))
    ap.add_argument("--split", default="held-out", choices=("held-out", "train", "all"),
                    help="half of the first sample (the fresh sample is held-out as a whole)")
    ap.add_argument("--sample", default="first", choices=SAMPLES,
                    help="first: the sample the rules were written on; fresh: the second sample (judged before "
                         "the sixth session's rules, read for the seventh's); fresh2: the third (read for the "
                         "eighth's); fresh3: the fourth, held-out; fresh4: the fifth (4 MB a genre, read for the "
                         "eleventh session's rules)")
    ap.add_argument("--genre", default=None)
    ap.add_argument("--decision", default=None, help="auto_accept or pending_review")
    ap.add_argument("--kind", default=None)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--mb", type=float, default=DEFAULT_MB)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--tree", default=None, type=Path,
                    help="run the detector of another checkout (a frozen commit: the 'before' of a held-out) on "
                         "the files this script draws, judged by this script's judgements")
    args = ap.parse_args(list(argv) if argv is not None else None)
    if args.tree:
        _use_tree(args.tree)
    docs = build(mb=args.mb, seed=args.seed, sample=args.sample)
    if args.split != "all" and args.sample == "first":
        docs = [d for d in docs if d.split == args.split]
    if args.genre:
        docs = [d for d in docs if d.genre == args.genre]
    if args.command == "stats":
        c = Counter((d.genre, d.split) for d in docs)
        size = Counter()
        for d in docs:
            size[(d.genre, d.split)] += len(d.text.encode())
        for k in sorted(c):
            print(k, c[k], "files", round(size[k] / 1e6, 2), "MB")
        return 0
    tagged = run(docs)
    judged = load_judged()
    if args.command == "report":
        rep = report(docs, tagged, judged)
        if args.json:
            print(json.dumps(rep, indent=2))
        else:
            print(render(rep))
        return 0
    pool = [t for t in tagged if (args.decision is None or t.decision == args.decision)
            and (args.kind is None or t.kind == args.kind)
            and (args.command == "sample" or t.key not in judged)]
    random.Random(args.seed).shuffle(pool)
    for t in pool[: args.n]:
        print(json.dumps({"sample": args.sample, "genre": t.doc.genre, "file": t.doc.file,
                          "start": t.start, "vhash": value_hash(t.value),
                          "kind": t.kind, "sub": t.subtype, "dec": t.decision[:4], "conf": round(t.confidence, 2),
                          "ctx": _context(t)}, ensure_ascii=False))
    return 0


def _use_tree(tree: Path) -> None:
    """Import ``factsep`` from ``tree`` instead of this checkout: the sample's files and judgements
    stay this script's, the detection is the other tree's (a held-out is judged as a commit tagged it)."""
    tree = tree.resolve()
    if "factsep" in sys.modules:
        raise RuntimeError("factsep is already imported; --tree must come first")
    sys.path[:] = [str(tree)] + [p for p in sys.path if Path(p or ".").resolve() != REPO]
    import factsep

    if not Path(factsep.__file__).resolve().is_relative_to(tree):
        raise RuntimeError(f"factsep came from {factsep.__file__}, not {tree}")


def render(rep: dict[str, Any]) -> str:
    lines = ["| genre | files | MB | auto-accepted P (no e-mail) | judged/n (unjudged strata) | pending P "
             "| judged/n (unjudged strata) | probe recall |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for genre, rows in rep.items():
        a, p = rows["auto_accept_no_email"], rows["pending"]
        pr = ", ".join(f"{k} {v['recall']:.2f} ({v['n']})" for k, v in sorted(rows["probes"].items()))

        def fmt(x: float | None) -> str:
            return "-" if x is None else f"{x:.3f}"

        lines.append(f"| {genre} | {rows['files']} | {rows['mb']} | {fmt(a['precision'])} | {a['judged']}/{a['n']} "
                     f"({a['unjudged_share']:.0%}) | {fmt(p['precision'])} | {p['judged']}/{p['n']} "
                     f"({p['unjudged_share']:.0%}) | {pr} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
