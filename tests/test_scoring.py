"""The scoring model: named signals, one weight table, calibration on top, the fit's choice model."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import phonenumbers
import pytest
import tomllib

from factsep import Detector
from factsep.config import DetectorConfig
from factsep.detection import scoring
from factsep.detection.scoring import SIGNAL_NAMES, Signals

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import fit_weights  # noqa: E402


def _phone() -> str:
    example = phonenumbers.example_number_for_type("GB", phonenumbers.PhoneNumberType.MOBILE)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def test_every_signal_of_the_table_is_named_and_every_name_has_a_weight() -> None:
    with open(REPO / "factsep" / "detection" / "data" / "weights.toml", "rb") as fh:
        table = tomllib.load(fh)
    assert set(table["signals"]) == set(SIGNAL_NAMES)
    assert set(table["hand_set"]) - {"reference"} == set(SIGNAL_NAMES)
    assert set(table["reference"]) == set(table["hand_set"]["reference"])
    # every validator adjustment has its hand-set value, the centre of the fit's penalty
    for module, weights in table["hand_set_validator"].items():
        assert set(weights) == set(table["validator"][module])
    assert set(table["validator"]) - set(table["hand_set_validator"]) == {"presidio"}


def test_a_table_without_a_signal_weight_is_refused_with_its_name(tmp_path: Path) -> None:
    text = (REPO / "factsep" / "detection" / "data" / "weights.toml").read_text()
    broken = tmp_path / "weights.toml"
    broken.write_text(text.replace("\nglued_letter = ", "\nglued_lettre = ", 1))
    with pytest.raises(ValueError, match="glued_letter"):
        scoring.load_weights(broken)


def test_each_signal_is_a_separate_contribution_and_they_add_up() -> None:
    s = Signals(bias=0.4, checksum=True, validated=True, strength=-0.3, n_context=3, n_negative=1, made_up=True,
                partial=True, label=-1, denied=True, glued_letter=True, url_host=True, foreign_script=True, backoff=2)
    parts = dict(s.contributions())
    assert set(parts) == {"bias", "strength"} | set(SIGNAL_NAMES) - {"validator", "format_only", "unproven"}
    assert parts["context_extra"] == pytest.approx(2 * scoring.W_CONTEXT_EXTRA)
    assert parts["label"] == pytest.approx(-scoring.W_LABEL)
    assert parts["backoff"] == pytest.approx(2 * scoring.W_BACKOFF)
    assert sum(parts.values()) == pytest.approx(s.raw_logit())
    assert s.raw_score() == pytest.approx(1 / (1 + math.exp(-s.raw_logit())))
    # a format without a structure of its own is unproven until a context word stands near
    bare = Signals(bias=0.4, checksum=True, validated=True, strength=0.0, n_context=0, n_negative=0, no_evidence=True)
    assert bare.features()["unproven"] == 1.0
    assert Signals(**{**_fields(bare), "n_context": 1}).features()["unproven"] == 0.0


def _fields(s: Signals) -> dict[str, object]:
    return {name: getattr(s, name) for name in Signals.__slots__}


def test_the_explained_span_shows_its_label_and_context_words_as_signals() -> None:
    det = Detector()
    det.trace = []  # context is read even where it cannot change the decision
    number = _phone()
    text = f"If the office is closed, my mobile phone: {number}"
    [(span, hit)] = [(s, h) for s, h in det.detect_explained(text) if s.kind == "phone_number"]
    parts = dict(Signals(*hit.signals).contributions())
    assert {"bias", "context", "label"} <= set(parts)
    assert parts["label"] == pytest.approx(scoring.W_LABEL)
    assert sigmoid_of(parts) == pytest.approx(span.confidence, abs=1e-5)
    assert any(t.kind == "phone_number" and t.start == span.start for t in det.trace)


def sigmoid_of(parts: dict[str, float]) -> float:
    return 1 / (1 + math.exp(-sum(parts.values())))


def _run_with_table(table: Path, code: str) -> str:
    env = {**os.environ, "FACTSEP_WEIGHTS": str(table), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True).stdout.strip()


def test_the_detector_scores_with_the_table_it_is_given(tmp_path: Path) -> None:
    """A kind's bias in [bias] replaces logit(prior), for format readings and for references alike."""
    text = (REPO / "factsep" / "detection" / "data" / "weights.toml").read_text()
    table = tmp_path / "weights.toml"
    table.write_text(text.replace("[bias]\n", "[bias]\nphone_number = -4.0\ngeneric_id = 5.0\n", 1))
    code = ("from factsep import Detector\n"
            f"spans = Detector().detect('My mobile phone: {_phone()}. Closes: #4417203')\n"
            "print({s.kind: s.confidence for s in spans})")
    here = eval(_run_with_table(REPO / "factsep" / "detection" / "data" / "weights.toml", code))  # noqa: S307
    there = eval(_run_with_table(table, code))  # noqa: S307
    assert there["phone_number"] < here["phone_number"]
    assert there["generic_id"] > here["generic_id"]


def test_calibration_from_human_decisions_applies_on_top_of_the_table(tmp_path: Path) -> None:
    text = f"My mobile phone: {_phone()}"
    raw = next(s for s in Detector().detect(text) if s.kind == "phone_number")
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"kinds": {"phone_number": {"x": [0.0, 1.0], "y": [0.0, 0.5]}}}))
    detector = Detector(DetectorConfig(calibration_path=str(path)))
    calibrated, hit = next((s, h) for s, h in detector.detect_explained(text) if s.kind == "phone_number")
    assert calibrated.confidence == pytest.approx(Signals(*hit.signals).raw_score() * 0.5, abs=1e-5)
    assert raw.decision == "auto_accept" and calibrated.decision == "pending_review"


# ---- the fit (scripts/fit_weights.py) ------------------------------------------------------------

def _synthetic(n: int, w_true: dict[str, float], seed: int) -> list[fit_weights.Region]:
    """Regions of two rival readings drawn from the choice model itself."""
    rng = np.random.RandomState(seed)
    names = list(w_true)
    out = []
    for i in range(n):
        r = fit_weights.Region(source="synthetic", doc=str(i))
        rows = []
        for _ in range(2):
            row = {k: float(rng.randint(0, 2)) for k in names}
            rows.append(row)
            r.rows.append(row)
            r.offsets.append(0.0)
            r.blocked.append(False)
            r.ties.append(0.0)
        u = np.array([0.0] + [sum(w_true[k] * row[k] for k in names) for row in rows])
        p = np.exp(u - u.max())
        choice = rng.choice(3, p=p / p.sum())
        r.no_fact_right = choice == 0
        r.right = [choice == 1, choice == 2]
        out.append(r)
    return out


def test_the_choice_fit_recovers_the_weights_that_drew_the_choices() -> None:
    w_true = {"bias.a": -1.0, "context": 2.0, "negative": -1.5}
    regions = _synthetic(4000, w_true, seed=3)
    names = list(w_true)
    design = fit_weights.Design(regions, names)
    w = fit_weights.fit(design, np.zeros(len(names)), sigma=10.0)
    assert np.allclose(w, list(w_true.values()), atol=0.25)
    assert np.array_equal(w, fit_weights.fit(fit_weights.Design(regions, names), np.zeros(len(names)), 10.0))


def test_a_strong_penalty_keeps_the_centre() -> None:
    regions = _synthetic(300, {"context": 3.0}, seed=5)
    w = fit_weights.fit(fit_weights.Design(regions, ["context"]), np.array([0.5]), sigma=1e-3)
    assert w[0] == pytest.approx(0.5, abs=1e-3)


def test_replay_tags_the_best_ranked_rival_and_a_rule_rejected_one_tags_nothing() -> None:
    r = fit_weights.Region(source="s", doc="d", rows=[{"context": 1.0}, {"context": 0.0}], offsets=[0.0, -3.0],
                           blocked=[False, False], right=[False, True], no_fact_right=False, ties=[0.0, 0.0])
    design = fit_weights.Design([r], ["context"])
    assert fit_weights.replay(design, np.array([2.0]), 0.35)["s"][:3] == [0, 1, 1]  # the wrong rival wins
    assert fit_weights.replay(design, np.array([-2.0]), 0.35)["s"][:3] == [0, 0, 1]  # no rival reaches review_low
    blocked = fit_weights.Region(source="s", doc="d", rows=[{"context": 1.0}], offsets=[0.0], blocked=[True],
                                 right=[False], no_fact_right=True, ties=[0.0])
    assert fit_weights.replay(fit_weights.Design([blocked], ["context"]), np.array([5.0]), 0.35)["s"][:3] == [0, 0, 0]


def test_regions_of_documents_without_facts_weigh_more_and_cv_compares_with_hand_set() -> None:
    def region(doc: str, empty: bool) -> fit_weights.Region:
        return fit_weights.Region(source="s", doc=doc, rows=[{"context": 1.0}], offsets=[0.0], blocked=[False],
                                  right=[not empty], no_fact_right=empty, ties=[0.0], no_gold_doc=empty)

    design = fit_weights.Design([region("a", False), region("b", True)], ["context"], no_gold=3.0)
    assert design.weight.tolist() == [1.0, 3.0]
    # a fit that tags the empty document is worse than a table that tags nothing there
    tagged = fit_weights.replay(design, np.array([5.0]), 0.35)
    quiet = fit_weights.replay(design, np.array([-5.0]), 0.35)
    assert tagged["s"][3:] == [1, 1] and quiet["s"][3:] == [1, 0]
    assert fit_weights.worse_sets(tagged, quiet) == ["s"]
    assert fit_weights.worse_sets(quiet, quiet) == []


def test_regions_are_the_groups_of_overlapping_readings() -> None:
    from factsep.detection.detector import Traced

    def t(start: int, end: int, kind: str = "tax_id") -> Traced:
        return Traced(start, end, kind, None, False, True, 0)

    groups = fit_weights._regions_of([t(10, 20), t(0, 5), t(15, 30, "phone_number"), t(30, 31), t(3, 8)])
    assert [[(x.start, x.end) for x in g] for g in groups] == [[(0, 5), (3, 8)], [(10, 20), (15, 30)], [(30, 31)]]


def test_writing_a_fitted_table_replaces_only_the_fitted_sections(tmp_path: Path) -> None:
    with open(fit_weights.TABLE, "rb") as fh:
        table = tomllib.load(fh)
    out = tmp_path / "weights.toml"
    fit_weights.write_table(out, table, {"bias.tax_id": -0.5, "checksum": 2.5, "reference.cve_id": 3.5}, "a test")
    with open(out, "rb") as fh:
        written = tomllib.load(fh)
    assert written["meta"] == {"fitted_by": "a test"}
    assert written["bias"] == {"tax_id": -0.5}
    assert written["signals"] == {k: v for k, v in table["hand_set"].items() if k != "reference"} | {"checksum": 2.5}
    assert written["reference"] == {**table["hand_set"]["reference"], "cve_id": 3.5}
    for section in ("validator", "thresholds", "hand_set", "hand_set_validator"):
        assert written[section] == table[section]
    scoring.load_weights(out)  # the detector can read it


def test_a_fitted_table_puts_validator_and_per_kind_context_weights_in_place(tmp_path: Path) -> None:
    with open(fit_weights.TABLE, "rb") as fh:
        table = tomllib.load(fh)
    out = tmp_path / "weights.toml"
    fit_weights.write_table(out, table, {"validator.ids.ambiguity": -0.5, "validator.phones.plus": 1.1,
                                         "context.security_id": 0.7}, "a test")
    with open(out, "rb") as fh:
        written = tomllib.load(fh)
    assert written["context"] == {"security_id": 0.7}
    assert written["validator"]["ids"] == {**table["hand_set_validator"]["ids"], "ambiguity": -0.5}
    assert written["validator"]["phones"]["plus"] == 1.1
    assert written["validator"]["presidio"] == table["validator"]["presidio"]  # not a fitted module
    # the comments inside a validator section stay
    assert "# nats per letter pair" in out.read_text()
    # the hand-set table (no fit) gives the hand-set validator weights back
    fit_weights.write_table(out, table, None, "hand-set")
    with open(out, "rb") as fh:
        assert tomllib.load(fh)["validator"]["ids"] == table["hand_set_validator"]["ids"]


def test_a_traced_weight_remembers_which_adjustments_a_strength_sums() -> None:
    redundancy = scoring.Term(0.45, {"ids.redundancy": 1.0})
    ambiguity = scoring.Term(-0.35, {"ids.ambiguity": 1.0})
    strength = 0.0 + redundancy * -2.0 + ambiguity * math.log2(4) - 0.6 + (ambiguity if False else 0.0)
    assert float(strength) == pytest.approx(0.45 * -2.0 - 0.35 * 2 - 0.6)
    assert scoring.strength_terms(strength) == pytest.approx({"ids.redundancy": -2.0, "ids.ambiguity": 2.0})
    assert scoring.strength_terms(-(1.0 - redundancy)) == pytest.approx({"ids.redundancy": 1.0})
    assert scoring.strength_terms(0.7) == {}  # a plain number is a constant
    assert min(redundancy, 0.0) == 0.0 and redundancy > ambiguity  # comparisons see the float
    with pytest.raises(TypeError):
        _ = redundancy * ambiguity  # no linear term


def test_traced_detection_gives_each_reading_the_weights_its_strength_is_made_of() -> None:
    """With FACTSEP_TRACE_VALIDATORS=1 (as scripts/fit_weights.py runs), a phone number written
    with + and groups has the phones module's plus and groups adjustments in its strength, and the
    strength less its traced terms is a constant of the validator's code."""
    code = ("import os\nos.environ['FACTSEP_TRACE_VALIDATORS'] = '1'\n"
            "from factsep import Detector\n"
            "from factsep.detection.scoring import Signals, strength_terms, VALIDATOR_WEIGHTS\n"
            "d = Detector(); d.trace = []\n"
            f"d.detect('If the office is closed, my mobile phone: {_phone()}')\n"
            "s = next(Signals(*t.signals) for t in d.trace if t.kind == 'phone_number' and t.signals)\n"
            "terms = strength_terms(s.strength)\n"
            "rest = float(s.strength) - sum(v * VALIDATOR_WEIGHTS[k.split('.')[0]][k.split('.')[1]]"
            " for k, v in terms.items())\n"
            "print(sorted(terms), round(rest, 6), s.kind)")
    out = _run_with_table(REPO / "factsep" / "detection" / "data" / "weights.toml", code)
    terms, rest, kind = out.rsplit(" ", 2)
    assert {"phones.plus", "phones.groups"} <= set(eval(terms))  # noqa: S307
    assert float(rest) in (0.0, -0.6, -1.4) and kind == "phone_number"


def test_a_per_kind_context_weight_moves_only_that_kind_and_only_with_a_context_word(tmp_path: Path) -> None:
    text = (REPO / "factsep" / "detection" / "data" / "weights.toml").read_text()
    table = tmp_path / "weights.toml"
    table.write_text(text.replace("[context]\n", "[context]\nphone_number = -1.5\n", 1))
    code = ("from factsep import Detector\n"
            "d = Detector(); d.trace = []\n"  # context is read even where it cannot change the decision
            f"worded = d.detect_explained('If the office is closed, my mobile phone: {_phone()}')\n"
            f"bare = d.detect_explained('{_phone()}')\n"
            "print([(s.kind, round(s.confidence, 4)) for s, h in worded + bare])")
    here = eval(_run_with_table(REPO / "factsep" / "detection" / "data" / "weights.toml", code))  # noqa: S307
    there = eval(_run_with_table(table, code))  # noqa: S307
    assert here[0][0] == there[0][0] == "phone_number" and there[0][1] < here[0][1]
    assert there[-1] == here[-1]  # no context word: no change
    s = Signals(bias=0.0, checksum=False, validated=True, strength=0.0, n_context=1, n_negative=0,
                kind="a kind the table has no weight for")
    assert "context_kind" not in dict(s.contributions())


def test_signals_not_fitted_keep_their_weight_in_the_design() -> None:
    r = fit_weights.Region(source="s", doc="d", rows=[{"context": 1.0, "validator.ids.ambiguity": 2.0}],
                           offsets=[0.5], blocked=[False], right=[True], ties=[0.0])
    design = fit_weights.Design([r], ["context"], fixed={"validator.ids.ambiguity": -0.35})
    assert design.utilities(np.array([1.8]))[1] == pytest.approx(1.8 + 0.5 - 0.7)
    with pytest.raises(KeyError):
        fit_weights.Design([r], ["context"])  # a signal neither fitted nor fixed is an error


def test_a_fitted_table_worse_on_any_held_out_set_is_not_adoptable() -> None:
    hand = {"overall": {"P": 0.97, "R": 0.92, "F1": 0.946, "no_gold_tagged": 0.015},
            "faker-nl_NL": {"P": 1.0, "R": 1.0, "F1": 1.0, "no_gold_tagged": 0.0, "DOB": 1.0},
            "realtext-docs": {"auto_P": 0.97, "pending_P": 0.0, "probes": {"email_address": 1.0}}}
    assert fit_weights.adoptable(hand, hand) == []
    better = {**hand, "overall": {**hand["overall"], "F1": 0.95}}
    assert fit_weights.adoptable(hand, better) == []
    more_tagged = {**better, "overall": {**better["overall"], "no_gold_tagged": 0.017}}
    assert fit_weights.adoptable(hand, more_tagged) == ["overall no-gold tagged 0.017 > 0.015"]
    lost_dob = {**better, "faker-nl_NL": {**hand["faker-nl_NL"], "DOB": 0.9}}
    assert fit_weights.adoptable(hand, lost_dob) == ["faker-nl_NL DOB 0.9 < 1.0"]
    lost_probe = {**better, "realtext-docs": {**hand["realtext-docs"], "probes": {"email_address": 0.99}}}
    assert len(fit_weights.adoptable(hand, lost_probe)) == 1


def test_a_region_of_kinds_its_set_never_labels_is_no_evidence_of_no_fact() -> None:
    """A set that labels every date as a plain date cannot say that a date of birth is wrong."""
    labelled = {"s": {"phone_number", "email_address"}}

    def region(*kinds: str, right: bool = False) -> fit_weights.Region:
        return fit_weights.Region(source="s", doc="d", rows=[{f"bias.{k}": 1.0} for k in kinds],
                                  right=[right] * len(kinds))

    assert fit_weights.unlabelled(region("date_of_birth"), labelled)
    assert not fit_weights.unlabelled(region("date_of_birth", "phone_number"), labelled)  # a rival it labels
    assert not fit_weights.unlabelled(region("phone_number"), labelled)
    assert not fit_weights.unlabelled(fit_weights.Region(source="other", rows=[{"bias.x": 1.0}]), labelled)
