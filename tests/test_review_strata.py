"""Value-of-a-look routing, strata inference and propagation to automatic decisions, against a
real Label Studio server."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from review_support import Annotator, accept_all, project_tasks, scan_corpus, unique, write_corpus

from factsep.config import DetectorConfig
from factsep.decisions import DecisionIndex, latest_decisions
from factsep.review import ReviewConfig, route, sync
from factsep.review.strata import fit_offset, inferred_path, sigmoid
from factsep.scan import finalize
from factsep.span import AUTO_ACCEPT, HUMAN_REJECT, PENDING_REVIEW, Span, doc_key

VALUE = ReviewConfig(strategy="value")
#: Ten documents, each with its own e-mail address (auto-accepted by format alone).
EMAILS = [{"id": f"m{i}", "text": f"Write to user{i}.box@mail{i}.example.com for details."} for i in range(10)]


def spans_frame(out: Path) -> pl.DataFrame:
    return pl.read_parquet(str(out / "spans" / "part-*.parquet"))


@pytest.fixture
def emails(tmp_path: Path) -> Path:
    out = scan_corpus(write_corpus(tmp_path, EMAILS), tmp_path / "out", DetectorConfig())
    frame = spans_frame(out)
    assert frame.height == 10 and set(frame["decision"]) == {AUTO_ACCEPT}
    return out


# ---- units --------------------------------------------------------------------------------------

def test_fit_offset_moves_with_evidence_and_is_shrunk() -> None:
    assert fit_offset([]) == 0.0
    one = fit_offset([(0.99, 0)])
    three = fit_offset([(0.99, 0)] * 3)
    assert three < one < 0  # rejections of confident spans pull the stratum down, more with more
    assert -6 < three < -4 and -4 < one < -2
    assert sigmoid(4.6 + three) < 0.75  # three of them demote a 0.99 stratum below auto-accept
    assert 0 < fit_offset([(0.6, 1)] * 5)  # accepted mid-range spans pull it up
    assert abs(fit_offset([(0.9, 1), (0.9, 0)])) < 1.5  # mixed evidence: a small shift


def test_decision_index_human_wins_over_inferred() -> None:
    from factsep.decisions import Decision

    span = Span("s1", "d", 0, 3, "phone_number", None, "123", "h", 0.9, 10.0, True, "t",
                decision=AUTO_ACCEPT)
    other = span.with_(span_id="s2", start=5, end=8)
    index = DecisionIndex({"s1": Decision("s1", HUMAN_REJECT, "k")}, {"s1": AUTO_ACCEPT, "s2": PENDING_REVIEW})
    assert len(index) == 2
    got = {s.span_id: s.decision for s in index.apply([span, other], "k")}
    assert got == {"s1": HUMAN_REJECT, "s2": PENDING_REVIEW}


# ---- against the server -------------------------------------------------------------------------

def _annotate(label_studio, project_id: int, keep: bool) -> int:
    ls = label_studio.client()
    oracle = Annotator.get(ls, "oracle")
    tasks = project_tasks(ls, project_id)
    for t in tasks:
        oracle.annotate(t["id"], accept_all(t) if keep else [])
    return len(tasks)


def test_rejected_sample_demotes_its_stratum_in_the_same_run(label_studio, emails: Path) -> None:
    project = unique("strata")
    r = route(emails, budget=3, project=project, config=VALUE)
    assert r.selected == 3
    assert _annotate(label_studio, r.project_id, keep=False) == 3
    res = sync(emails, project=project, config=VALUE)
    assert res.rejected == 3 and res.propagated == 0
    frame = spans_frame(emails)
    decided = latest_decisions(emails)
    undecided = frame.filter(~pl.col("span_id").is_in(list(decided)))
    assert undecided.height == 7
    # nobody looked at these seven, but their stratum was rejected three times out of three
    assert AUTO_ACCEPT not in set(undecided["decision"])
    assert sum(res.inferred.values()) == 7
    (stratum,) = res.strata
    assert stratum.startswith("email_address~") and res.strata[stratum]["n"] == 3
    # the dataset shows it, and syncing again changes nothing
    ds = pl.read_parquet(str(emails / "dataset" / "part-*.parquet"))
    facts = [f for row in ds["random_facts"].to_list() for f in (row or [])]
    assert not any(f["decision"] == AUTO_ACCEPT for f in facts)
    before = json.loads(inferred_path(emails).read_text(encoding="utf-8"))
    again = sync(emails, project=project, config=VALUE)
    assert again.decisions_appended == 0
    assert json.loads(inferred_path(emails).read_text(encoding="utf-8"))["decisions"] == before["decisions"]


def test_sync_names_what_it_re_decided_and_no_infer_undoes_it(label_studio, emails: Path) -> None:
    """Three rejections re-decide seven unseen spans: the summary names each (kind, value hash,
    document, stratum, why, never the value), says how to undo it, and ``--no-infer`` does."""
    import typer
    from typer.testing import CliRunner

    from factsep.cli import review as review_cli

    app = typer.Typer()
    review_cli.register(app)
    project = unique("strata summary")
    r = route(emails, budget=3, project=project, config=VALUE)
    _annotate(label_studio, r.project_id, keep=False)
    res = sync(emails, project=project, config=VALUE, calibrate=False)
    frame = spans_frame(emails)
    unseen = frame.filter(~pl.col("span_id").is_in(list(latest_decisions(emails))))
    assert {d["span_id"] for d in res.redecided} == set(unseen["span_id"]) and len(res.redecided) == 7
    values = set(frame["text"].to_list())
    for d in res.redecided:
        assert d["before"] == AUTO_ACCEPT and d["after"] != AUTO_ACCEPT and d["kind"] == "email_address"
        assert d["stratum"].startswith("email_address~") and "accepted 0 of 3" in d["why"]
        assert d["doc_id"].startswith("m") and not any(v in json.dumps(d) for v in values)
    summary = json.loads((emails / "state" / "last_sync.json").read_text(encoding="utf-8"))
    assert len(summary["redecided"]) == 7 and "--no-infer" in summary["undo"]
    # the CLI says the same (the second sync re-decides nothing new: the parts hold it)
    again = CliRunner().invoke(app, ["sync", str(emails), "--project", project, "--no-calibrate"])
    assert again.exit_code == 0 and "re-decided" not in again.output
    undo = CliRunner().invoke(app, ["sync", str(emails), "--project", project, "--no-infer", "--no-calibrate"])
    assert undo.exit_code == 0, undo.output
    assert not inferred_path(emails).exists()
    restored = spans_frame(emails).filter(pl.col("span_id").is_in(unseen["span_id"].to_list()))
    assert set(restored["decision"]) == {AUTO_ACCEPT}


def test_sync_cli_prints_the_re_decided_spans(label_studio, emails: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from factsep.cli import review as review_cli

    app = typer.Typer()
    review_cli.register(app)
    project = unique("strata cli")
    r = route(emails, budget=3, project=project, config=VALUE)
    _annotate(label_studio, r.project_id, keep=False)
    res = CliRunner().invoke(app, ["sync", str(emails), "--project", project, "--no-calibrate",
                                   "--config", str(_value_toml(emails.parent))])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "re-decided 7 span(s)" in text and "email_address~" in text and "--no-infer" in text
    hashes = spans_frame(emails)["value_hash"].to_list()
    assert sum(h[:12] in text for h in hashes) >= 7


def _value_toml(folder: Path) -> Path:
    path = folder / "factsep.toml"
    path.write_text('[review]\nstrategy = "value"\n', encoding="utf-8")
    return path


def test_accepted_sample_keeps_its_stratum(label_studio, emails: Path) -> None:
    project = unique("strata keep")
    r = route(emails, budget=3, project=project, config=VALUE)
    _annotate(label_studio, r.project_id, keep=True)
    res = sync(emails, project=project, config=VALUE)
    assert res.accepted == 3 and not res.inferred
    assert set(spans_frame(emails)["decision"]) == {AUTO_ACCEPT, "human_accept"}


def test_without_inference_nothing_else_moves(label_studio, emails: Path) -> None:
    project = unique("strata off")
    cfg = ReviewConfig(strategy="value", infer=False)
    r = route(emails, budget=3, project=project, config=cfg)
    _annotate(label_studio, r.project_id, keep=False)
    sync(emails, project=project, config=cfg)
    frame = spans_frame(emails)
    assert frame.filter(pl.col("decision") == AUTO_ACCEPT).height == 7
    assert not inferred_path(emails).exists()


def test_value_routing_shows_window_neighbours_and_repeats_go_first(label_studio, tmp_path: Path) -> None:
    docs = [
        {"id": "pair", "text": "Mail ann.lee@corp.example.org or bob.ray@corp.example.org today."},
        {"id": "r1", "text": "Contact zed.kim@shop.example.net about the order."},
        {"id": "r2", "text": "Again, zed.kim@shop.example.net answers all questions."},
    ]
    out = scan_corpus(write_corpus(tmp_path, docs), tmp_path / "out", DetectorConfig())
    assert set(spans_frame(out)["decision"]) == {AUTO_ACCEPT}
    project = unique("neighbours")
    # budget 1: the repeated value first (one look settles two spans), and only one span shown
    first = route(out, budget=1, project=project, config=VALUE)
    assert first.selected == 1 and first.tasks_created == 1
    ls = label_studio.client()
    (task,) = project_tasks(ls, first.project_id)
    assert task["data"]["doc_id"] in {"r1", "r2"}
    Annotator.get(ls, "oracle").annotate(task["id"], [])
    res = sync(out, project=project, config=VALUE)
    # the rejection reaches the unseen auto-accepted repeat (source same_value)
    assert res.rejected == 2 and res.propagated == 1
    sources = {d.source for d in latest_decisions(out).values()}
    assert sources == {"label_studio", "label_studio:same_value"}
    # budget 2 more: the two-span document is one task with both spans shown and asked about
    second = route(out, budget=2, project=project, config=VALUE)
    assert second.selected == 2 and second.tasks_created == 1
    pair = next(t for t in project_tasks(ls, first.project_id) if t["data"]["doc_id"] == "pair")
    assert len(pair["predictions"][0]["result"]) == 2
    Annotator.get(ls, "oracle").annotate(pair["id"], accept_all(pair)[:1])
    res = sync(out, project=project, config=VALUE)
    assert res.accepted == 1 and res.rejected == 1


def test_infer_relabels_demoted_siblings_as_the_other_reading(tmp_path: Path) -> None:
    """Ten tax-id readings rejected and marked as phone numbers in place: the three unseen siblings
    of the stratum are read as phone numbers too; with no relabels they are only demoted."""
    from factsep.decisions import inferred_spans
    from factsep.review.strata import infer
    from factsep.span import make_span_id

    texts = {f"d{i}": f"call 516 466 6{i:02d} now" for i in range(13)}
    spans = [
        Span(make_span_id(doc_key(t), 5, 16, "tax_id"), d, 5, 16, "tax_id", None, t[5:16], f"v{d}", 0.95,
             30.0, True, "t", decision=AUTO_ACCEPT)
        for d, t in texts.items()
    ]
    shown = {s.span_id: (0.95, 0) for s in spans[:10]}

    def stratify(s: Span) -> str:
        return f"{s.kind}~phone_number"

    def documents(wanted) -> dict[str, str]:
        return {s.doc_id: texts[s.doc_id] for s in wanted}

    (tmp_path / "state").mkdir()
    plain = infer(tmp_path, spans, shown, set(shown), stratify, documents=documents)  # type: ignore[arg-type]
    assert not plain.added and set(plain.decisions.values()) <= {PENDING_REVIEW, "auto_reject"}
    res = infer(tmp_path, spans, shown, set(shown), stratify, relabelled=set(shown),  # type: ignore[arg-type]
                documents=documents)
    assert res.strata["tax_id~phone_number"].relabelled == 10
    assert len(res.added) == 3 and set(res.decisions.values()) == {"auto_reject"}
    added = inferred_spans(tmp_path)
    assert {a["span"]["kind"] for a in added} == {"phone_number"}
    assert {(a["span"]["doc_id"], a["span"]["start"], a["span"]["end"]) for a in added} == {
        (f"d{i}", 5, 16) for i in range(10, 13)}
    # applied under the ledger: the relabel shows beside its demoted original
    index = DecisionIndex.load(tmp_path)
    d3 = index.apply([spans[10]], doc_key(texts["d10"]))
    assert [(s.kind, s.decision) for s in d3] == [("tax_id", "auto_reject"), ("phone_number", AUTO_ACCEPT)]


def test_route_restores_predictions_the_server_lost(label_studio, emails: Path) -> None:
    """A task stored without its pre-annotation (seen with Label Studio 1.23 under concurrent
    imports) gets it back; here the loss is made with the server's own delete."""
    from factsep.review.client import ReviewClient

    project = unique("lost predictions")
    r = route(emails, budget=2, project=project, config=VALUE)
    ls = label_studio.client()
    tasks = project_tasks(ls, r.project_id)
    assert len(tasks) == 2 and all(len(t["predictions"]) == 1 for t in tasks)
    victim = tasks[0]
    ls.predictions.delete(victim["predictions"][0]["id"])
    assert not next(t for t in project_tasks(ls, r.project_id) if t["id"] == victim["id"])["predictions"]
    client = ReviewClient(label_studio.url, label_studio.api_key)
    wanted = {t["id"]: t["predictions"][0] for t in tasks}
    assert client.restore_predictions(r.project_id, wanted) == 1
    assert client.restore_predictions(r.project_id, wanted) == 0
    again = next(t for t in project_tasks(ls, r.project_id) if t["id"] == victim["id"])
    assert again["predictions"][0]["result"] == victim["predictions"][0]["result"]


def test_added_fact_is_carried_to_its_other_occurrences(label_studio, tmp_path: Path) -> None:
    """A fact people marked where detection found nothing is added wherever its exact text stands
    as a whole token (not inside a longer one), with source label_studio:same_text."""
    from review_support import region

    docs = [
        {"id": "seen", "text": "Mail kim.lee@corp.example.org, badge QZ-TRV-WWXK today."},
        {"id": "again", "text": "The badge QZ-TRV-WWXK opens door 4."},
        {"id": "longer", "text": "Code QZ-TRV-WWXKB is another one."},
        {"id": "twice", "text": "QZ-TRV-WWXK and QZ-TRV-WWXK."},
    ]
    out = scan_corpus(write_corpus(tmp_path, docs), tmp_path / "out", DetectorConfig())
    project = unique("same text")
    r = route(out, budget=1, project=project, config=VALUE)
    ls = label_studio.client()
    (task,) = project_tasks(ls, r.project_id)
    window, lo = task["data"]["text"], task["data"]["factsep"]["window_start"]
    code = "QZ-TRV-WWXK"
    a = docs[0]["text"].index(code) - lo
    answer = [*accept_all(task), region(a, a + len(code), code, "generic_id")]
    assert window[a : a + len(code)] == code
    Annotator.get(ls, "oracle").annotate(task["id"], answer)
    res = sync(out, project=project, config=VALUE)
    assert res.added == 4 and res.propagated == 3
    frame = spans_frame(out).filter(pl.col("decision") == "human_added")
    places = sorted(zip(frame["doc_id"], frame["start"], frame["end"], strict=True))
    assert places == [("again", 10, 21), ("seen", 37, 48), ("twice", 0, 11), ("twice", 16, 27)]
    sources = sorted(d.source for d in latest_decisions(out).values() if d.decision == "human_added")
    assert sources == ["label_studio", *["label_studio:same_text"] * 3]
    assert sync(out, project=project, config=VALUE).decisions_appended == 0


def test_a_judged_place_covers_other_readings_after_a_rescan() -> None:
    """People rejected a tax-id reading (and marked nothing there) or kept a phone number: a later
    scan that reads the same place as another kind does not bring it back."""
    from factsep.decisions import Decision

    def span(sid: str, kind: str, start: int, end: int) -> Span:
        return Span(sid, "d", start, end, kind, None, "x" * (end - start), sid, 0.9, 20.0, True, "t",
                    decision=AUTO_ACCEPT)

    index = DecisionIndex({
        "t1": Decision("t1", HUMAN_REJECT, "k", start=0, end=11, kind="tax_id"),
        "p1": Decision("p1", "human_accept", "k", start=20, end=31, kind="phone_number"),
        "old": Decision("old", HUMAN_REJECT, "k"),  # a record from before places were kept
    })
    rescanned = [span("n1", "national_id", 0, 11), span("p1", "phone_number", 20, 31),
                 span("i2", "isbn", 20, 31), span("n3", "national_id", 0, 12), span("x", "tax_id", 40, 50)]
    got = {s.span_id: s.decision for s in index.apply(rescanned, "k")}
    assert got == {"n1": HUMAN_REJECT, "p1": "human_accept", "i2": HUMAN_REJECT, "n3": AUTO_ACCEPT,
                   "x": AUTO_ACCEPT}
    assert {s.span_id: s.decision for s in index.apply(rescanned, "other doc")}["n1"] == AUTO_ACCEPT


def test_a_held_place_is_not_auto_accepted_as_another_kind() -> None:
    """Review demoted a tax-id reading (inferred, no person looked): a later scan that reads the
    same place as a phone number leaves it for people, not auto-accepted; a relabel review
    inferred there, and other places, keep their decision."""
    def span(sid: str, kind: str, start: int, end: int) -> Span:
        return Span(sid, "d", start, end, kind, None, "x" * (end - start), sid, 0.9, 20.0, True, "t",
                    decision=AUTO_ACCEPT)

    held = {"k": {(0, 11): "tax_id", (20, 31): "tax_id"}}
    relabel = {"doc_key": "k", "span": {**span("r1", "phone_number", 20, 31).to_dict(), "decision": AUTO_ACCEPT}}
    index = DecisionIndex({}, {}, [relabel], held)
    assert len(index)
    rescanned = [span("p1", "phone_number", 0, 11), span("t1", "tax_id", 0, 11), span("r1", "phone_number", 20, 31),
                 span("p2", "phone_number", 40, 51)]
    got = {s.span_id: s.decision for s in index.apply(rescanned, "k")}
    assert got == {"p1": PENDING_REVIEW, "t1": AUTO_ACCEPT, "r1": AUTO_ACCEPT, "p2": AUTO_ACCEPT}
    assert {s.span_id: s.decision for s in index.apply(rescanned, "other doc")}["p1"] == AUTO_ACCEPT


def test_boundary_correction_is_not_a_verdict_on_the_value(label_studio, tmp_path: Path) -> None:
    """People rejected a span and marked a longer one over it: the short value is not
    rejected where it stands alone elsewhere; where the longer text recurs, it replaces the same
    cut there too."""
    from review_support import region

    # (a card number people mark with its "(visa)": a cut detection will not make on its own)
    docs = [
        {"id": "seen", "text": "Mail ann.ray@corp.example.org or use card 4111 1111 1111 1111 (visa) today."},
        {"id": "alone", "text": "Card 4111 1111 1111 1111 on file."},
        {"id": "long", "text": "Desk card 4111 1111 1111 1111 (visa) works."},
    ]
    out = scan_corpus(write_corpus(tmp_path, docs), tmp_path / "out", DetectorConfig())
    frame = spans_frame(out)
    cards = frame.filter(pl.col("kind") == "credit_card")
    assert cards.height == 3 and cards["value_hash"].n_unique() == 1
    project = unique("boundary")
    r = route(out, budget=50, project=project, config=VALUE)
    ls = label_studio.client()
    task = next(t for t in project_tasks(ls, r.project_id) if t["data"]["doc_id"] == "seen")
    lo = task["data"]["factsep"]["window_start"]
    text = docs[0]["text"]
    a, b = text.index("4111"), text.index(" today")
    keep = [x for x in accept_all(task) if x["value"]["labels"] == ["email_address"]]
    # only this task is answered
    Annotator.get(ls, "oracle").annotate(task["id"], [*keep, region(a - lo, b - lo, text[a:b], "credit_card")])
    # (inference off: one rejection would also demote the stratum's unseen spans)
    res = sync(out, project=project, config=ReviewConfig(strategy="value", infer=False), calibrate=False)
    assert res.rejected == 2 and res.added == 2 and res.propagated == 2
    by_doc = {row["doc_id"]: row for row in spans_frame(out).filter(pl.col("kind") == "credit_card")
              .filter(pl.col("decision") != HUMAN_REJECT).iter_rows(named=True)}
    assert by_doc["alone"]["decision"] == AUTO_ACCEPT  # the value itself was not judged
    assert by_doc["long"]["decision"] == "human_added" and by_doc["long"]["end"] - by_doc["long"]["start"] == b - a


def test_select_by_value_spreads_over_strata_and_respects_cost() -> None:
    from factsep.review.route import select_by_value, window_cost

    def span(sid: str, kind: str, conf: float, value: str, doc: str = "", start: int = 0) -> Span:
        return Span(sid, doc or sid, start, start + 8, kind, None, "12345678", value, conf, 20.0, True, "t",
                    decision=AUTO_ACCEPT if conf >= 0.75 else PENDING_REVIEW)

    big = [span(f"p{i}", "phone_number", 0.6, f"pv{i}") for i in range(20)]
    small = [span(f"t{i}", "tax_id", 0.8, f"tv{i}") for i in range(3)]

    def stratify(s: Span) -> str:
        return f"{s.kind}~"

    args = dict(stratify=stratify, shifts={}, looks={}, copies={}, cost={}, thresholds_=(0.35, 0.75))
    # the big uncertain stratum first; as its looks pile up, the small one gets its turn
    picked = select_by_value([*big, *small], 10, **args)  # type: ignore[arg-type]
    kinds = [s.kind for s in picked]
    assert len(picked) == 10 and kinds[0] == "phone_number" and "tax_id" in kinds
    assert kinds.count("phone_number") >= 7
    assert "tax_id" not in [s.kind for s in select_by_value([*big, *small], 3, **args)]  # type: ignore[arg-type]
    # a value with copies goes first; one span per value
    twin = span("p0b", "phone_number", 0.6, "pv0")
    first = select_by_value([*big, twin], 2, **{**args, "copies": {"pv0": 2}})  # type: ignore[arg-type]
    assert first[0].value_hash == "pv0" and len({s.value_hash for s in first}) == 2
    # a window showing three spans costs three
    crowd = [span(f"c{i}", "phone_number", 0.6, f"cv{i}", doc="d", start=10 * i) for i in range(3)]
    cost = window_cost(crowd, context=40)
    assert cost["c1"] == 3
    assert len(select_by_value(crowd, 2, **{**args, "cost": cost})) == 1  # type: ignore[arg-type]


# ---- a re-scan with the fitted calibration, then a sync ------------------------------------------

#: Two strata of phone numbers, all values distinct: 12 read also as tax ids ("a"), 30 not ("b").
TWO_STRATA = [
    *({"id": f"a{i}", "text": f"Her number is 541-754-30{10 + i * 7:02d}, call after six."} for i in range(12)),
    *({"id": f"b{i}", "text": f"Contato: (21) 99620{5563 + i * 37:04d} para suporte."} for i in range(30)),
]


def _decisions(out: Path) -> dict[str, str]:
    return dict(zip(spans_frame(out)["span_id"], spans_frame(out)["decision"], strict=True))


def test_rescan_with_the_calibration_then_sync_keeps_the_run_decisions(label_studio, tmp_path: Path) -> None:
    """People reject every "a" number they see and accept two "b" numbers: the "a" stratum is
    demoted, the "b" one kept. The kind's calibration must not carry the rejections to the "b"
    numbers nobody saw, and after a re-scan with it, sync must decide every span as before."""
    corpus = write_corpus(tmp_path, TWO_STRATA)
    out = scan_corpus(corpus, tmp_path / "out", DetectorConfig())
    assert set(spans_frame(out)["decision"]) == {AUTO_ACCEPT}
    project = unique("rescan strata")
    r = route(out, budget=len(TWO_STRATA), project=project, config=VALUE)
    ls = label_studio.client()
    oracle = Annotator.get(ls, "oracle")
    shown_b = 0
    for t in project_tasks(ls, r.project_id):
        if t["data"]["doc_id"].startswith("a"):
            oracle.annotate(t["id"], [])
        elif shown_b < 2:  # the other "b" tasks stay unanswered: those spans stay undecided
            oracle.annotate(t["id"], accept_all(t))
            shown_b += 1
    res = sync(out, project=project, config=VALUE)
    assert res.rejected == 12 and res.accepted == 2 and res.calibration["kinds"]["phone_number"]["n"] == 14
    in_run = _decisions(out)
    unseen_b = {sid for sid, d in in_run.items() if d == AUTO_ACCEPT}
    assert len(unseen_b) == 28  # the "b" stratum stays accepted in the run

    again = tmp_path / "again"  # the next run: same corpus and state, the fitted calibration applied
    (again / "state").mkdir(parents=True)
    for name in ("decisions.jsonl", "calibration.json", "inferred.json", "routing.jsonl"):
        (again / "state" / name).write_bytes((out / "state" / name).read_bytes())
    scan_corpus(corpus, again, DetectorConfig(calibration_path=str(again / "state" / "calibration.json")))
    assert json.loads((again / "state" / "run.json").read_text(encoding="utf-8"))["calibration"]
    sync(again, project=project, config=VALUE)
    assert _decisions(again) == in_run
    # finalize run alone after a sync refitted the file keeps the calibration the scan applied
    run_json = again / "state" / "run.json"
    applied = json.loads(run_json.read_text(encoding="utf-8"))["calibration"]
    refitted = {"version": 1, "kinds": {"phone_number": {"x": [0.0, 1.0], "y": [0.0, 0.5], "n": 1}}}
    (again / "state" / "calibration.json").write_text(json.dumps(refitted), encoding="utf-8")
    finalize(str(again))
    assert json.loads(run_json.read_text(encoding="utf-8"))["calibration"] == applied
    sync(again, project=project, config=VALUE, calibrate=False)
    assert _decisions(again) == in_run
    # and the calibration learnt here keeps the unseen "b" numbers (no biased sample in the map)
    cal = json.loads((out / "state" / "calibration.json").read_text(encoding="utf-8"))["kinds"]["phone_number"]
    b_raw = spans_frame(out).filter(pl.col("span_id").is_in(list(unseen_b)))["confidence"][0]
    from factsep.review.calibration import interpolate

    assert interpolate(cal["x"], cal["y"], b_raw) > 0.5


#: Ten German VAT numbers (auto-accepted at 0.99), and ten build dates the detector reads as tax
#: ids below its emit threshold (not reported at all).
VAT_AND_BUILDS = [
    *({"id": f"v{i}", "text": f"VAT number DE{v}."} for i, v in enumerate(
        ("136695909", "136695917", "136695925", "136695933", "136695941", "136695950", "136695968",
         "136695976", "136695984", "136695992"))),
    *({"id": f"b{d}", "text": f"Build 202401{d} finished."} for d in (12, 13, 14, 15, 16, 21, 24, 26, 28, 29)),
]


def _accepted_places(out: Path) -> set[tuple[str, int, int, str]]:
    from factsep.span import ACCEPTED

    frame = spans_frame(out).filter(pl.col("decision").is_in(sorted(ACCEPTED)))
    return set(frame.select("doc_id", "start", "end", "kind").iter_rows())


def test_rescan_before_its_sync_accepts_nothing_the_run_did_not(label_studio, tmp_path: Path) -> None:
    """People accept every tax id they see, all scored 0.99. The fitted map must not carry that
    to raw scores no span of the kind had: a re-scan with it, before any sync, accepts nothing
    the run did not (the flat-ended map read the build dates as tax ids at 0.94)."""
    corpus = write_corpus(tmp_path, VAT_AND_BUILDS)
    out = scan_corpus(corpus, tmp_path / "out", DetectorConfig())
    assert spans_frame(out).height == 10
    project = unique("rescan held")
    r = route(out, budget=10, project=project, config=VALUE)
    ls = label_studio.client()
    oracle = Annotator.get(ls, "oracle")
    for t in project_tasks(ls, r.project_id):
        oracle.annotate(t["id"], accept_all(t))
    res = sync(out, project=project, config=VALUE)
    assert res.accepted == 10 and res.calibration["kinds"]["tax_id"]["n"] == 10
    in_run = _accepted_places(out)

    again = tmp_path / "again"
    (again / "state").mkdir(parents=True)
    for name in ("decisions.jsonl", "calibration.json", "inferred.json", "routing.jsonl"):
        (again / "state" / name).write_bytes((out / "state" / name).read_bytes())
    scan_corpus(corpus, again, DetectorConfig(calibration_path=str(again / "state" / "calibration.json")))
    assert _accepted_places(again) <= in_run
    assert not spans_frame(again).filter(pl.col("doc_id").str.starts_with("b")).height


def test_a_large_confident_stratum_nobody_looked_at_gets_a_look() -> None:
    """Thirty spans auto-accepted at 0.95 in a stratum without verdicts may hold several false
    facts (its shift is unknown): the first look goes there, not to the three pending spans at
    0.6. Once the stratum's shift is known (stderr 0) the pending spans come first again."""
    from factsep.review.route import expected_loss_over_shift, select_by_value
    from factsep.review.strata import logit

    assert expected_loss_over_shift(logit(0.95), 0.0, 0.35, 0.75) == pytest.approx(0.05)
    assert expected_loss_over_shift(logit(0.95), 2.0, 0.35, 0.75) > 0.12
    assert expected_loss_over_shift(logit(0.6), 2.0, 0.35, 0.75) < 0.6  # pending: a miss costs less

    def span(sid: str, kind: str, conf: float) -> Span:
        return Span(sid, sid, 0, 8, kind, None, "12345678", f"v{sid}", conf, 20.0, True, "t",
                    decision=AUTO_ACCEPT if conf >= 0.75 else PENDING_REVIEW)

    sure = [span(f"n{i}", "national_id", 0.95) for i in range(30)]
    doubt = [span(f"p{i}", "phone_number", 0.6) for i in range(3)]

    def stratify(s: Span) -> str:
        return f"{s.kind}~phone_number" if s.kind == "national_id" else f"{s.kind}~"

    args = dict(stratify=stratify, shifts={}, looks={}, copies={}, cost={}, thresholds_=(0.35, 0.75))
    first = select_by_value([*sure, *doubt], 1, **args)  # type: ignore[arg-type]
    assert first[0].kind == "national_id"
    known = {"national_id~phone_number": 0.0, "phone_number~": 0.0}
    first = select_by_value([*sure, *doubt], 1, **args, stderr=known)  # type: ignore[arg-type]
    assert first[0].kind == "phone_number"
