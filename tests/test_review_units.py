"""Review logic that needs no server: placement of offsets, selection, windows, calibration."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factsep.review.calibration import (
    Applied,
    BaseScores,
    compose,
    ece,
    fit_kinds,
    interpolate,
    invert,
    pav,
    strictly_increasing,
)
from factsep.review.offsets import Unplaceable, place
from factsep.review.route import select_spans, shape, window_bounds
from factsep.review.sync import resolve
from factsep.span import Span

TRICKY = st.sampled_from(
    ["😀", "👍🏽", "中", "文", "\r\n", "e\u0301", "👨\u200d👩\u200d👧", " ", "a", "7", "-"]
)
PARTS = st.lists(TRICKY, max_size=8)


@settings(max_examples=300, deadline=None)
@given(PARTS, st.lists(TRICKY, min_size=1, max_size=4), PARTS)
def test_place_finds_the_right_place_or_refuses(pre: list[str], mid: list[str], post: list[str]) -> None:
    """Whatever convention the offsets use, a region lands exactly where it was, or is refused."""
    before, value, after = "".join(pre), "".join(mid), "".join(post)
    window = before + value + after
    s, e = len(before), len(before) + len(value)
    u16 = (len(before.encode("utf-16-le")) // 2, len((before + value).encode("utf-16-le")) // 2)
    lf = (len(before.replace("\r\n", "\n")), len((before + value).replace("\r\n", "\n")))
    for start, end in ((s, e), u16, lf):
        try:
            p = place(window, start, end, value)
        except Unplaceable as exc:
            assert "places" in exc.reason or "times" in exc.reason  # ambiguous, never "missing"
            continue
        assert (p.start, p.end) == (s, e), (window, value, start, end, p)
    if not any(ord(c) > 0xFFFF for c in before) and "\r\n" not in before:
        assert place(window, s, e, value).start == s  # plain text: never refused


def test_place_never_guesses() -> None:
    window = "call 555 0199 or 555 0199"
    assert place(window, 5, 13, "555 0199").start == 5
    assert place(window, 17, 25, "555 0199").start == 17
    with pytest.raises(Unplaceable, match="2 times"):
        place(window, 3, 11, "555 0199")  # wrong offsets, two candidates: refuse
    with pytest.raises(Unplaceable, match="does not occur"):
        place(window, 5, 13, "555 0100")
    with pytest.raises(Unplaceable, match="no text"):
        place(window, 5, 13, None)
    # NFD in the document, NFC from the browser: refused, with the reason
    with pytest.raises(Unplaceable, match="normalization"):
        place("Cafe\u0301 555", 0, 4, "Caf\u00e9")
    assert place("x 555 0199", 0, 3, "555 0199").method == "search"  # unique: placed


def _span(i: int, conf: float, value: str, kind: str = "phone_number", bits: float = 30.0) -> Span:
    return Span(
        span_id=f"s{i}", doc_id=f"d{i}", start=0, end=len(value), kind=kind, subtype=None, text=value,
        value_hash=f"{kind}:{value}", confidence=conf, bits=bits, validated=True, detector="t",
    )


def test_select_most_uncertain_first_one_per_value_then_shape() -> None:
    spans = [
        _span(1, 0.50, "555-0101"),
        _span(2, 0.52, "555-0101"),  # same value: never both
        _span(3, 0.55, "555-0102"),  # same shape as 1: only after other shapes
        _span(4, 0.70, "ab12cd", kind="generic_id"),
        _span(5, 0.95, "(555) 0103"),
    ]
    assert [s.span_id for s in select_spans(spans, 3)] == ["s1", "s4", "s5"]
    assert [s.span_id for s in select_spans(spans, 10)] == ["s1", "s4", "s5", "s3"]
    # bits weigh in: at equal uncertainty, the value with more information goes first
    a, b = _span(6, 0.6, "x1", kind="secret", bits=120), _span(7, 0.6, "y", kind="vin", bits=10)
    assert select_spans([b, a], 1)[0].span_id == "s6"
    assert shape(spans[0]) == shape(spans[2]) != shape(spans[4])


def test_windows_do_not_split_crlf_or_combining_marks() -> None:
    text = "x" * 50 + "\r\n" + "e\u0301" * 3 + " value 12345 " + "y" * 50
    s = text.index("12345")
    for ctx in range(0, 30):
        lo, hi = window_bounds(text, s, s + 5, ctx)
        assert lo <= s and hi >= s + 5
        assert not (0 < lo < len(text) and text[lo - 1] == "\r" and text[lo] == "\n")
        assert text[lo] not in "\u0301" if lo < len(text) else True


def test_majority() -> None:
    assert resolve({"yes": [True, True, False]}) == "accept"
    assert resolve({"yes": [False, False, True]}) == "reject"
    assert resolve({"yes": [True, False]}) is None
    assert resolve({"yes": []}) is None


def test_pav_is_monotone_and_fits_steps() -> None:
    x = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    y = [0, 1, 0, 0, 1, 1, 0, 1]
    xs, ys = pav(x, y)
    assert xs == sorted(xs) and all(a <= b for a, b in zip(ys, ys[1:], strict=False))
    assert interpolate(xs, ys, 0.0) == ys[0] and interpolate(xs, ys, 1.0) == ys[-1]
    assert ece([0.9] * 10, [1] * 9 + [0]) == pytest.approx(0.0)
    assert ece([0.9] * 10, [0] * 10) == pytest.approx(0.9)


def _scored(i: int, conf: float, kind: str = "isbn") -> Span:
    return _span(i, conf, f"v{i}", kind=kind)


def _spread(n: int) -> list[float]:
    return [round(0.5 + 0.49 * i / max(1, n - 1), 4) for i in range(n)]


def test_calibration_corrects_the_bias_of_the_shown_sample() -> None:
    """Routing shows the doubtful stratum: a map fitted on the shown spans alone would pull the
    whole kind down. Averaged over every span of the kind, the clean stratum keeps its scores."""
    clean = [_scored(i, c) for i, c in enumerate(_spread(200))]  # "isbn~": right, 2 shown
    doubtful = [_scored(1000 + i, c) for i, c in enumerate(_spread(20))]  # "isbn~phone": wrong, 10 shown
    verdicts = {s.span_id: 1 for s in clean[-2:]} | {s.span_id: 0 for s in doubtful[-10:]}
    stratum = {s.span_id: "isbn~" for s in clean} | {s.span_id: "isbn~phone" for s in doubtful}
    maps, res = fit_kinds([*clean, *doubtful], verdicts, lambda s: stratum[s.span_id],
                          BaseScores(Applied({}, {}, own=False)))
    assert res.kinds["isbn"].n == 12 and res.kinds["isbn"].positives == 2
    xs, ys = maps["isbn"]
    assert interpolate(xs, ys, 0.95) > 0.8  # the shown share at 0.95 is 2 in 7
    assert all(a < b for a, b in zip(ys, ys[1:], strict=False))  # strictly increasing: invertible
    naive_x, naive_y = pav([0.95] * 2 + [0.95] * 10, [1, 1] + [0] * 10)
    assert interpolate(naive_x, naive_y, 0.95) < 0.2  # what the shown sample alone says


def test_overconfident_kind_is_pulled_down_and_calibration_error_falls() -> None:
    spans = [_scored(i, 0.5 + 0.49 * (i % 50) / 49) for i in range(200)]
    # true rate half the score: overconfident everywhere; people saw every fourth span
    verdicts = {s.span_id: int((i * 7919) % 100 < s.confidence * 50) for i, s in enumerate(spans) if i % 4 == 0}
    maps, res = fit_kinds(spans, verdicts, lambda s: "isbn~", BaseScores(Applied({}, {}, own=False)))
    assert res.kinds["isbn"].n == 50 and res.ece_after < 0.7 * res.ece_before
    # one log-odds shift per stratum: pulled down, though a shift cannot fit the slope (0.475)
    assert interpolate(*maps["isbn"], 0.95) < 0.88


@pytest.mark.parametrize("conf", [0.0, 0.12, 0.349, 0.5, 0.7499, 0.75, 0.93, 1.0])
def test_base_scores_take_the_own_map_back_and_keep_an_outside_one(conf: float) -> None:
    own = strictly_increasing(pav([0.3, 0.6, 0.9], [0.0, 1.0, 0.0]))  # flat before the floor slope
    outside = ([0.0, 0.5, 1.0], [0.0, 0.3, 1.0])
    raw = _scored(1, conf)
    mapped = raw.with_(confidence=interpolate(*own, conf))
    assert BaseScores(Applied({"isbn": own}, {}, own=True))(mapped) == pytest.approx(conf, abs=1e-6)
    # an outside calibration is the base itself: strata shift on top of it
    assert BaseScores(Applied({"isbn": outside}, {}, own=False))(mapped) == mapped.confidence
    # this OUT's map composed over an outside one: back to the outside calibration's score
    composed = compose(own, outside)
    scanned = raw.with_(confidence=interpolate(*composed, conf))
    back = BaseScores(Applied({"isbn": composed}, {"isbn": outside}, own=True))(scanned)
    assert back == pytest.approx(interpolate(*outside, conf), abs=2e-3)


def test_invert_flat_stretch_gives_its_middle() -> None:
    assert invert([0.4, 0.6], [0.2, 0.2], 0.2) == pytest.approx(0.5)
    assert invert([0.4, 0.6], [0.2, 0.5], 0.1) == pytest.approx(0.2)  # flat below its first knot
    assert invert([0.0, 1.0], [0.0, 1.0], 0.3) == pytest.approx(0.3)


def test_audit_sample_spreads_over_kinds_and_values() -> None:
    from factsep.review.route import select_audit

    spans = [_span(i, 0.9, f"v{i % 6}", kind="tax_id") for i in range(30)]
    spans += [_span(100 + i, 0.95, f"p{i}", kind="phone_number") for i in range(3)]
    picked = select_audit(spans, 8)
    assert len(picked) == 8
    assert sum(s.kind == "phone_number" for s in picked) == 3  # round-robin: the small kind is covered
    assert len({s.value_hash for s in picked}) == 8
    assert select_audit(spans, 8) == picked  # deterministic


# ---- label config: colours people can read, instructions for every action ------------------------

def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _over_white(hex_colour: str, alpha: float) -> str:
    """The colour Label Studio paints: the label colour at ``alpha`` over the white page."""
    return "#" + "".join(
        f"{round(alpha * int(hex_colour[i : i + 2], 16) + (1 - alpha) * 255):02x}" for i in (1, 3, 5)
    )


def test_label_colours_are_readable() -> None:
    """WCAG contrast of every label as Label Studio draws it (text regions at 30% over white,
    selected ones at 80%, label chips at full colour), for the catalogue and for a kind the
    palette does not know."""
    import re

    from factsep.review.labelconfig import colour, kind_names, label_config

    kinds = [*kind_names(), "some_future_kind"]
    colours = dict(re.findall(r'<Label value="([^"]+)" background="(#[0-9a-f]{6})"', label_config(kinds)))
    assert set(colours) == set(kinds)
    for kind, c in colours.items():
        assert c == colour(kind)
        best_text = max(_contrast(c, "#ffffff"), _contrast(c, "#000000"))
        assert best_text >= 4.5, (kind, c, best_text)  # chip text: WCAG AA
        assert _contrast(_over_white(c, 0.3), "#ffffff") >= 1.3, (kind, c)  # a region stands out
        assert _contrast(_over_white(c, 0.3), "#000000") >= 7.0, (kind, c)  # its text: WCAG AAA
        selected = _over_white(c, 0.8)
        assert max(_contrast(selected, "#ffffff"), _contrast(selected, "#000000")) >= 4.5, (kind, c)
    # the most routed kinds are told apart at a glance
    assert colours["tax_id"] != colours["national_id"] != colours["phone_number"]


def test_label_config_tells_annotators_every_action() -> None:
    from factsep.review.labelconfig import label_config

    text = label_config().lower()
    for action in ("accept", "reject", "relabel", "add", "skip", "accepted on its own"):
        assert action in text, action


def test_spans_shown_as_decided_by_people_are_rejected_when_deleted_and_left_when_kept() -> None:
    """A window shows spans people accepted before (``routed: false``): deleting one is a new
    rejection, keeping it records nothing (a human_added span must not turn into an accept)."""
    from factsep.review.sync import SyncResult, decide_task
    from factsep.span import HUMAN_ADDED, HUMAN_REJECT, doc_key, make_span_id

    text = "Mail ana.bell@example.com or ring +1 415 555 0132 today."
    key = doc_key(text)
    a, b = text.index("ana"), text.index(" or")
    p, q = text.index("+1"), text.index(" today")
    mail = make_span_id(key, a, b, "email_address")
    phone = make_span_id(key, p, q, "phone_number")
    meta = {"doc_id": "d", "doc_key": key, "window_start": 0, "window_end": len(text), "task_key": "k",
            "spans": [{"span_id": mail, "kind": "email_address", "start": a, "end": b, "routed": False,
                       "decision": HUMAN_ADDED},
                      {"span_id": phone, "kind": "phone_number", "start": p, "end": q, "routed": True,
                       "decision": "pending_review"}]}

    def task(result: list[dict]) -> dict:
        return {"id": 1, "data": {"text": text, "factsep": meta},
                "annotations": [{"id": 1, "completed_by": 7, "result": result}]}

    def reg(s: int, e: int, kind: str) -> dict:
        return {"from_name": "label", "to_name": "text", "type": "labels",
                "value": {"start": s, "end": e, "text": text[s:e], "labels": [kind]}}

    documents = {key: text}
    kept = decide_task(task([reg(a, b, "email_address"), reg(p, q, "phone_number")]), {}, SyncResult(), [],
                       documents)
    assert [(d.span_id, d.decision) for d in kept] == [(phone, "human_accept")]
    deleted = decide_task(task([]), {}, SyncResult(), [], documents)
    assert {d.span_id: d.decision for d in deleted} == {phone: HUMAN_REJECT, mail: HUMAN_REJECT}
    # the server's copy altered: nothing applied, all quarantined
    quarantined: list[dict] = []
    forged = {key: text.replace("0132", "0000")}
    assert decide_task(task([]), {}, SyncResult(), quarantined, forged) == []
    assert quarantined and "differs" in quarantined[0]["reason"]
