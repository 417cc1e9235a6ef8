"""Review loop against a real Label Studio server: route, sync, offsets, majority, re-scan."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from review_support import (
    DOCS,
    Annotator,
    accept_all,
    copy_out,
    project_tasks,
    region,
    scan_corpus,
    unique,
    write_corpus,
)

import factsep
from factsep.decisions import latest_decisions
from factsep.review import ReviewError, label_config, route, sync
from factsep.review.labelconfig import SCHEMA_PATH, kind_names
from factsep.review.ledger import RoutingLedger
from factsep.review.versions import scan_model_version
from factsep.span import HUMAN_ACCEPT, HUMAN_ADDED, HUMAN_REJECT, PENDING_REVIEW, doc_key


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scan of DOCS (everything pending review), copied by each test that changes it."""
    root = tmp_path_factory.mktemp("review_corpus")
    return scan_corpus(write_corpus(root), root / "out")


@pytest.fixture
def out(scanned: Path, tmp_path: Path) -> Path:
    return copy_out(scanned, tmp_path / "out")


def spans_frame(out: Path) -> pl.DataFrame:
    return pl.read_parquet(str(out / "spans" / "part-*.parquet"))


def text_of(doc_id: str) -> str:
    return next(d["text"] for d in DOCS if d["id"] == doc_id)


# ---- label config -------------------------------------------------------------------------------

def test_label_config_file_matches_catalogue() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == label_config()
    assert set(kind_names()) >= {"phone_number", "isbn", "email_address", "credit_card"}


def test_server_validates_label_config(label_studio) -> None:
    from factsep.review.client import ReviewClient

    client = ReviewClient(label_studio.url, label_studio.api_key)
    pid = client.ensure_project(unique("config check"), label_config())
    assert client.ensure_project(client.sdk.projects.get(pid).title, label_config()) == pid
    with pytest.raises(ReviewError, match="refused"):
        client.ensure_project(unique("broken config"), "<View><Labels name='l' toName='nowhere'/></View>")


# ---- route --------------------------------------------------------------------------------------

def test_route_twice_creates_no_duplicates(label_studio, out: Path) -> None:
    project = unique("route twice")
    first = route(out, budget=50, project=project)
    assert first.tasks_created > 0 and first.project_id is not None
    # one per repeated value: the phone number in "emoji" and "repeat" is routed once
    routed = RoutingLedger(out).routed_span_ids(first.target)
    frame = spans_frame(out).filter(pl.col("span_id").is_in(sorted(routed)))
    assert frame["value_hash"].n_unique() == frame.height == first.selected
    second = route(out, budget=50, project=project)
    assert second.tasks_created == 0
    tasks = project_tasks(label_studio.client(), first.project_id)
    assert len(tasks) == first.tasks_created
    keys = [t["data"]["factsep"]["task_key"] for t in tasks]
    assert len(set(keys)) == len(keys)
    # predictions carry the factsep version and the span's confidence
    conf = dict(zip(spans_frame(out)["span_id"], spans_frame(out)["confidence"], strict=True))
    for t in tasks:
        (pred,) = t["predictions"]
        assert pred["model_version"] == scan_model_version(out) == f"factsep-{factsep.__version__}+cal.none"
        for r, s in zip(pred["result"], t["data"]["factsep"]["spans"], strict=True):
            assert r["score"] == pytest.approx(conf[s["span_id"]], abs=1e-4)
            window = t["data"]["text"]
            assert window[r["value"]["start"] : r["value"]["end"]] == r["value"]["text"]


def test_route_budget_caps_open_spans(label_studio, out: Path) -> None:
    project = unique("budget")
    first = route(out, budget=2, project=project)
    assert first.selected == 2
    assert route(out, budget=2, project=project).selected == 0  # still open: nothing more
    third = route(out, budget=4, project=project)
    assert third.selected == 2
    routed = RoutingLedger(out).routed_span_ids(third.target)
    assert len(routed) == 4


def test_route_without_server_writes_import_file(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    res = route(out, budget=50)
    assert res.tasks_file == str(out / "review" / "tasks.json")
    tasks = json.loads(Path(res.tasks_file).read_text(encoding="utf-8"))
    assert len(tasks) == res.tasks_created > 0
    for t in tasks:
        assert set(t) == {"data", "predictions"} and "text" in t["data"]
        assert t["predictions"][0]["result"][0]["from_name"] == "label"
    again = route(out, budget=50)
    assert again.tasks_created == 0
    assert len(json.loads(Path(res.tasks_file).read_text(encoding="utf-8"))) == len(tasks)


# ---- sync ---------------------------------------------------------------------------------------

def test_sync_accepts_offsets_round_trip_and_rewrites_dataset(label_studio, out: Path) -> None:
    project = unique("sync offsets")
    r = route(out, budget=50, project=project)
    ls = label_studio.client()
    oracle = Annotator.get(ls, "oracle")
    tasks = project_tasks(ls, r.project_id)
    for t in tasks:
        oracle.annotate(t["id"], accept_all(t))
    res = sync(out, project=project)
    assert res.rejected == 0 and res.annotations_quarantined == 0
    # the phone number repeated in "repeat" was not routed; it takes the verdict on its value
    assert res.propagated == 1 and res.accepted == r.selected + 1
    decided = latest_decisions(out)
    frame = spans_frame(out)
    for row in frame.iter_rows(named=True):
        if row["span_id"] in decided:
            assert row["decision"] == HUMAN_ACCEPT
            assert text_of(row["doc_id"])[row["start"] : row["end"]] == row["text"]
    # every tricky document had its span accepted at the right place
    accepted_docs = set(frame.filter(pl.col("decision") == HUMAN_ACCEPT)["doc_id"])
    assert {"emoji", "cjk", "crlf", "combining", "zwj", "repeat"} <= accepted_docs
    # the dataset shows the decisions
    ds = pl.read_parquet(str(out / "dataset" / "part-*.parquet"))
    facts = [f for row in ds["random_facts"].to_list() for f in (row or [])]
    assert sum(f["decision"] == HUMAN_ACCEPT for f in facts) == res.accepted
    # syncing again appends nothing
    again = sync(out, project=project)
    assert again.decisions_appended == 0
    assert len(latest_decisions(out)) == len(decided)


def test_sync_places_utf16_and_crlf_offsets_and_quarantines_the_rest(label_studio, out: Path) -> None:
    project = unique("sync placement")
    r = route(out, budget=50, project=project)
    ls = label_studio.client()
    who = Annotator.get(ls, "oracle")
    by_doc = {t["data"]["doc_id"]: t for t in project_tasks(ls, r.project_id)}
    # emoji: JavaScript-style offsets (each astral emoji counts two, the skin tone too)
    t = by_doc["emoji"]
    w = t["data"]["text"]
    value = "+1 415 555 0132"
    cp = w.index(value)
    u16 = len(w[:cp].encode("utf-16-le")) // 2
    assert u16 != cp
    who.annotate(t["id"], [region(u16, u16 + len(value), value, "phone_number")])
    # crlf: offsets counted with CRLF as one character
    t = by_doc["crlf"]
    w = t["data"]["text"]
    value = "978-0-306-40615-7"
    cp = w.index(value)
    lf = len(w[:cp].replace("\r\n", "\n"))
    assert lf != cp
    who.annotate(t["id"], [region(lf, lf + len(value), value, "isbn")])
    # combining: the text does not match the document at all -> quarantined, not counted
    t = by_doc["combining"]
    who.annotate(t["id"], [region(0, 5, "Café!", "credit_card")])
    res = sync(out, project=project)
    assert res.placements.get("utf16") == 1 and res.placements.get("crlf") == 1
    assert res.annotations_quarantined == 1 and res.accepted - res.propagated == 2
    q = [json.loads(x) for x in (out / "quarantine" / "review.jsonl").read_text().splitlines()]
    assert q[0]["doc_id"] == "combining" and "does not occur" in q[0]["reason"]
    decided = {d.decision for d in latest_decisions(out).values()}
    assert decided == {HUMAN_ACCEPT}


def test_majority_tie_cancelled_and_added_spans(label_studio, out: Path) -> None:
    project = unique("majority")
    r = route(out, budget=50, project=project)
    ls = label_studio.client()
    a, b, c = (Annotator.get(ls, n) for n in ("ann-a", "ann-b", "ann-c"))
    by_doc = {t["data"]["doc_id"]: t for t in project_tasks(ls, r.project_id)}
    # plain: two spans. a and b keep both, c deletes the phone -> phone accepted 2:1.
    # a and c delete the e-mail, b keeps it -> rejected 2:1.
    t = by_doc["plain"]
    phone, mail = accept_all(t)
    a.annotate(t["id"], [phone])
    b.annotate(t["id"], [phone, mail])
    c.annotate(t["id"], [])
    # cjk: one keeps, one deletes -> tie, stays pending; a cancelled annotation does not count.
    t = by_doc["cjk"]
    a.annotate(t["id"], accept_all(t))
    b.annotate(t["id"], [])
    c.annotate(t["id"], accept_all(t), cancelled=True)
    # zwj: the annotator keeps the e-mail and marks a fact the detector missed (after a ZWJ emoji)
    t = by_doc["zwj"]
    w = t["data"]["text"]
    missed = "👨\u200d👩\u200d👧"  # not a random fact, but the annotator says so; we test placement
    s = w.index(missed)
    a.annotate(t["id"], [*accept_all(t), region(s, s + len(missed), missed, "generic_id")])
    res = sync(out, project=project)
    decisions = latest_decisions(out)
    frame = spans_frame(out)
    rows = frame.filter(pl.col("doc_id") == "plain").iter_rows(named=True)
    plain = {row["kind"]: row["decision"] for row in rows}
    assert plain == {"phone_number": HUMAN_ACCEPT, "email_address": HUMAN_REJECT}
    assert frame.filter(pl.col("doc_id") == "cjk")["decision"].to_list() == [PENDING_REVIEW]
    assert res.ties >= 1 and res.annotations_ignored >= 1
    added = [d for d in decisions.values() if d.decision == HUMAN_ADDED]
    assert len(added) == 1
    span = added[0].span
    assert span is not None and span["doc_id"] == "zwj"
    assert text_of("zwj")[span["start"] : span["end"]] == missed
    assert added[0].doc_key == doc_key(text_of("zwj"))
    # the added span is in the rewritten span and dataset parts
    zwj = frame.filter(pl.col("doc_id") == "zwj")
    assert HUMAN_ADDED in zwj["decision"].to_list()


def test_decisions_survive_a_rescan(label_studio, out: Path, tmp_path: Path) -> None:
    project = unique("rescan")
    r = route(out, budget=50, project=project)
    ls = label_studio.client()
    a = Annotator.get(ls, "oracle")
    by_doc = {t["data"]["doc_id"]: t for t in project_tasks(ls, r.project_id)}
    a.annotate(by_doc["crlf"]["id"], accept_all(by_doc["crlf"]))
    a.annotate(by_doc["cjk"]["id"], [])
    sync(out, project=project)
    # the same corpus, moved and re-scanned into a new folder that keeps the decisions ledger
    moved = write_corpus(tmp_path / "moved", name="renamed.jsonl")
    fresh = tmp_path / "fresh"
    (fresh / "state").mkdir(parents=True)
    (fresh / "state" / "decisions.jsonl").write_bytes((out / "state" / "decisions.jsonl").read_bytes())
    scan_corpus(moved, fresh)
    decided = {row["doc_id"]: row["decision"] for row in spans_frame(fresh).iter_rows(named=True)
               if row["doc_id"] in ("crlf", "cjk")}
    assert decided == {"crlf": HUMAN_ACCEPT, "cjk": HUMAN_REJECT}


def test_sync_without_project_is_a_clear_error(label_studio, out: Path) -> None:
    with pytest.raises(ReviewError, match="no Label Studio project"):
        sync(out, project=unique("never routed"))


def test_audit_routes_rejected_spans_of_documents_without_ids(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Every span auto-rejected, no id column: documents are still found (by span id) and audited."""
    from factsep.config import DetectorConfig
    from factsep.review import ReviewConfig

    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    corpus = write_corpus(tmp_path, [{"text": d["text"]} for d in DOCS])
    out = scan_corpus(corpus, tmp_path / "out", DetectorConfig(review_low=1.0, review_high=1.0))
    frame = spans_frame(out)
    assert set(frame["decision"]) == {"auto_reject"}
    res = route(out, budget=100, config=ReviewConfig(audit_share=1.0))
    assert res.selected == frame["value_hash"].n_unique()
    tasks = json.loads((out / "review" / "tasks.json").read_text(encoding="utf-8"))
    for t in tasks:
        for r, s in zip(t["predictions"][0]["result"], t["data"]["factsep"]["spans"], strict=True):
            row = frame.filter(pl.col("span_id") == s["span_id"]).row(0, named=True)
            assert r["value"]["text"] == row["text"]
