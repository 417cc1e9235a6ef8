"""What a task shows against a real Label Studio server: every accepted span in its window (so
nobody marks one again, and a wrong one can be rejected), the words around each region, the right
document when two share an id; and what sync refuses (a task edited on the server, a label that is
no kind)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from review_support import Annotator, accept_all, project_tasks, region, scan_corpus, unique, write_corpus

import factsep
from factsep.config import DetectorConfig
from factsep.decisions import latest_decisions
from factsep.review import route, sync
from factsep.review.route import EVIDENCE_CHARS, build_tasks
from factsep.span import AUTO_ACCEPT, HUMAN_ACCEPT, HUMAN_ADDED, HUMAN_REJECT, Span, doc_key, make_span_id

#: One window with three facts; the least confident is left in doubt, the others auto-accepted.
MIXED = ("Ticket 7d3f2a10-4b6c-4e8a-9f1d-2c5b8e7a6d40 was filed; ring the desk at +1 415 555 0199 "
         "about it. The shelf copy, ISBN 978-0-306-40615-7, stays in the office.")


def _split_config(text: str) -> tuple[DetectorConfig, list[float]]:
    """Thresholds that leave the least confident span of ``text`` pending and accept the rest."""
    conf = sorted(s.confidence for s in factsep.detect(text))
    assert len(conf) == 3 and conf[0] < conf[1], conf
    return DetectorConfig(review_low=0.0, review_high=(conf[0] + conf[1]) / 2), conf


@pytest.fixture
def mixed_out(tmp_path: Path) -> Path:
    config, _ = _split_config(MIXED)
    return scan_corpus(write_corpus(tmp_path / "in", [{"id": "mixed", "text": MIXED}]), tmp_path / "out", config)


def _spans(out: Path) -> pl.DataFrame:
    return pl.read_parquet(str(out / "spans" / "part-*.parquet"))


def _only_task(label_studio, project_id: int) -> dict:
    (task,) = project_tasks(label_studio.client(), project_id)
    return task


def test_window_shows_auto_accepted_spans_and_sync_reads_what_was_left(label_studio, mixed_out: Path) -> None:
    spans = _spans(mixed_out)
    assert sorted(spans["decision"].to_list()).count(AUTO_ACCEPT) == 2
    res = route(mixed_out, budget=10, project=unique("context"))
    task = _only_task(label_studio, res.project_id)
    shown = {r["value"]["text"] for r in task["predictions"][0]["result"]}
    assert shown == set(spans["text"].to_list())  # the accepted ones too
    decisions = {s["span_id"]: s["decision"] for s in task["data"]["factsep"]["spans"]}
    assert sorted(decisions.values()).count(AUTO_ACCEPT) == 2
    Annotator.get(label_studio.client(), "keeper").annotate(task["id"], accept_all(task))
    sync(mixed_out, project=task_project(label_studio, res.project_id), calibrate=False)
    decided = latest_decisions(mixed_out)
    assert {sid: decided[sid].decision for sid in decisions} == dict.fromkeys(decisions, HUMAN_ACCEPT)


def task_project(label_studio, project_id: int) -> str:
    return label_studio.client().projects.get(project_id).title


def test_deleted_and_relabelled_auto_accepted_spans_are_rejected(label_studio, mixed_out: Path) -> None:
    res = route(mixed_out, budget=10, project=unique("context edit"))
    task = _only_task(label_studio, res.project_id)
    meta = task["data"]["factsep"]
    auto = [s for s in meta["spans"] if s["decision"] == AUTO_ACCEPT]
    pending = [s for s in meta["spans"] if s["decision"] != AUTO_ACCEPT]
    deleted, relabelled = auto
    new_kind = "generic_id" if relabelled["kind"] != "generic_id" else "secret"
    lo, window = meta["window_start"], task["data"]["text"]

    def mark(s: dict, kind: str) -> dict:
        a, b = s["start"] - lo, s["end"] - lo
        return region(a, b, window[a:b], kind)

    answer = [mark(s, s["kind"]) for s in pending] + [mark(relabelled, new_kind)]
    Annotator.get(label_studio.client(), "editor").annotate(task["id"], answer)
    sync(mixed_out, project=task_project(label_studio, res.project_id), calibrate=False)
    decided = latest_decisions(mixed_out)
    assert decided[pending[0]["span_id"]].decision == HUMAN_ACCEPT
    assert decided[deleted["span_id"]].decision == HUMAN_REJECT
    assert decided[deleted["span_id"]].start == deleted["start"]  # the place was judged empty
    assert decided[relabelled["span_id"]].decision == HUMAN_REJECT
    assert decided[relabelled["span_id"]].start is None  # only that reading is out
    dkey = meta["doc_key"]
    new_id = make_span_id(dkey, relabelled["start"], relabelled["end"], new_kind)
    assert decided[new_id].decision in (HUMAN_ADDED, HUMAN_ACCEPT)
    rows = pl.read_parquet(str(mixed_out / "dataset" / "part-*.parquet"))
    facts = {(f["kind"], f["start"]) for f in rows["random_facts"].to_list()[0]}
    assert (new_kind, relabelled["start"]) in facts and (relabelled["kind"], relabelled["start"]) not in facts
    assert (deleted["kind"], deleted["start"]) not in facts


# ---- windows keep the words that make a value a fact ---------------------------------------------

def _span(text: str, value: str, kind: str, decision: str = "pending_review", at: int = 0) -> Span:
    start = text.index(value, at)
    end = start + len(value)
    return Span(make_span_id(doc_key(text), start, end, kind), "d", start, end, kind, None, value,
                f"h-{value}", 0.5, 30.0, True, "test", decision=decision)


def _at_the_edge(context: int) -> str:
    """A document where a window of ``context`` around the phone number starts inside the SSN,
    so widening it to the nearest space makes it start right at the SSN, after its label."""
    head = "Their SSN 536-22-8714 "
    gap = head.index("536") + context + 5 - len(head)
    filler = ("the weather stayed calm " * 40)[: gap - 1] + " "
    return f"{head}{filler}+1 415 555 0199 at noon, {'and so on ' * 30}end."


@pytest.mark.parametrize("context", [40, 80, 160])
def test_every_region_keeps_its_own_context(context: int) -> None:
    """A neighbour at the window's edge gets the words before it (its label) into the window."""
    text = _at_the_edge(context)
    ssn = _span(text, "536-22-8714", "us_ssn", AUTO_ACCEPT)
    phone = _span(text, "+1 415 555 0199", "phone_number")
    (task,) = build_tasks([phone], {phone.span_id: text}, context, [ssn])
    meta, window = task["data"]["factsep"], task["data"]["text"]
    assert text[meta["window_start"] : meta["window_end"]] == window
    assert {s["span_id"] for s in meta["spans"]} == {ssn.span_id, phone.span_id}
    for s in meta["spans"]:
        before = s["start"] - meta["window_start"]
        after = meta["window_end"] - s["end"]
        assert before >= min(EVIDENCE_CHARS, context, s["start"]), (s["kind"], before)
        assert after >= min(EVIDENCE_CHARS, context, len(text) - s["end"]), (s["kind"], after)
    assert window.startswith("Their SSN 536-22-8714")


# ---- two documents with one id --------------------------------------------------------------------

TWINS = [
    {"id": "twin", "text": "Ring the front desk on +1 415 555 0199 before noon, please."},
    {"id": "twin", "text": "Order the manual, ISBN 978-0-306-40615-7, and write to ops@example.org."},
]


def test_documents_sharing_an_id_are_kept_apart(label_studio, tmp_path: Path) -> None:
    out = scan_corpus(write_corpus(tmp_path / "in", TWINS), tmp_path / "out")
    res = route(out, budget=20, project=unique("twins"))
    tasks = project_tasks(label_studio.client(), res.project_id)
    by_key = {doc_key(d["text"]): d["text"] for d in TWINS}
    assert {t["data"]["factsep"]["doc_key"] for t in tasks} == set(by_key)
    for t in tasks:
        meta = t["data"]["factsep"]
        text = by_key[meta["doc_key"]]
        assert text[meta["window_start"] : meta["window_end"]] == t["data"]["text"]
        for r in t["predictions"][0]["result"]:
            assert r["value"]["text"] == t["data"]["text"][r["value"]["start"] : r["value"]["end"]]
    # rejecting everything in the phone's document rejects the phone only
    phone_task = next(t for t in tasks if "+1 415" in t["data"]["text"])
    Annotator.get(label_studio.client(), "twin-checker").annotate(phone_task["id"], [])
    sync(out, project=task_project(label_studio, res.project_id), calibrate=False)
    decided = latest_decisions(out)
    spans = _spans(out)
    rejected = spans.filter(pl.col("span_id").is_in([k for k, d in decided.items() if d.decision == HUMAN_REJECT]))
    assert rejected["text"].to_list() == ["+1 415 555 0199"]


# ---- sync refuses what the server's copy cannot vouch for ----------------------------------------

def test_sync_refuses_edited_task_text_and_labels_that_are_no_kind(label_studio, mixed_out: Path) -> None:
    ls = label_studio.client()
    project = unique("tamper")
    res = route(mixed_out, budget=10, project=project)
    task = _only_task(label_studio, res.project_id)
    meta, window = task["data"]["factsep"], task["data"]["text"]
    pending = next(s for s in meta["spans"] if s["decision"] != AUTO_ACCEPT)
    a, b = pending["start"] - meta["window_start"], pending["end"] - meta["window_start"]
    # 1. a label that is no kind, on the real text: refused, nothing applied
    who = Annotator.get(ls, "tamperer")
    who.annotate(task["id"], [region(a, b, window[a:b], "not_a_kind")])
    first = sync(mixed_out, project=project, calibrate=False)
    assert first.annotations_quarantined == 1 and first.decisions_appended == 0
    # 2. the value replaced in the server's copy of the task, then accepted there
    forged = window[:a] + "9" * (b - a) + window[b:]
    ls.tasks.update(task["id"], data={**task["data"], "text": forged})
    who.annotate(task["id"], [region(a, b, forged[a:b], pending["kind"])])
    second = sync(mixed_out, project=project, calibrate=False)
    assert second.annotations_quarantined == 1 and second.decisions_appended == 0
    assert latest_decisions(mixed_out) == {}
    lines = (mixed_out / "quarantine" / "review.jsonl").read_text(encoding="utf-8").splitlines()
    assert any("not a kind" in line for line in lines) and any("differs from the document" in line for line in lines)
    tagged = pl.read_parquet(str(mixed_out / "dataset" / "part-*.parquet"))["tagged_text"].to_list()
    assert not any("not_a_kind" in t for t in tagged)
