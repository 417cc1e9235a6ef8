"""The ``[review]`` settings and the key of factsep's own fields in a Label Studio task.

Why a module of their own: route, sync and calibration all need them, and when they lived in
route.py, sync imported route and route imported sync (a circle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_PROJECT = "factsep review"
META = "factsep"  # key of the task data that holds factsep's own fields


@dataclass(frozen=True)
class ReviewConfig:
    """The ``[review]`` section."""

    budget: int = 200
    project: str = DEFAULT_PROJECT
    context_chars: int = 160
    batch_size: int = 200
    annotators_per_task: int = 1
    text_field: str | None = None
    #: Share of the budget spent auditing automatic decisions (a sample across kinds), so that
    #: calibration sees the whole score range and systematic detector errors come to light.
    audit_share: float = 0.0
    #: Apply a reviewed span's verdict to the pending spans with the same kind and normalized value
    #: (routing sends one per value, so the others would otherwise never be decided).
    propagate: bool = True
    #: Propagation also reverses automatic decisions of the same kind and value.
    propagate_auto: bool = True
    #: After sync, learn per stratum (kind and its likely other reading) how far people's verdicts
    #: move the detector's confidence, and re-decide that stratum's undecided spans in this run.
    infer: bool = True
    #: "uncertainty": pending spans, most uncertain first (plus ``audit_share``). "value": any
    #: span no human decided, ranked by the expected value of a look (see ``select_by_value``), and
    #: every other undecided span in a task's window is shown too (the annotator reads it anyway).
    strategy: str = "uncertainty"

    def __post_init__(self) -> None:
        if self.strategy not in ("uncertainty", "value"):
            raise ValueError(f"strategy is 'uncertainty' or 'value', not {self.strategy!r}")
        if self.budget < 0 or self.annotators_per_task < 1 or not 0.0 <= self.audit_share <= 1.0:
            raise ValueError("need budget >= 0, annotators_per_task >= 1 and 0 <= audit_share <= 1")


def review_config(config: Any = None) -> ReviewConfig:
    """A ReviewConfig from itself, a factsep ``Config`` (its ``[review]`` section), a dict or None."""
    if config is None:
        return ReviewConfig()
    if isinstance(config, ReviewConfig):
        return config
    from factsep.config import Config, load_section

    if isinstance(config, Config):
        return load_section(ReviewConfig, config.sections.get("review"))
    if isinstance(config, dict):
        return load_section(ReviewConfig, config)
    raise TypeError(f"cannot read review settings from {type(config).__name__}")
