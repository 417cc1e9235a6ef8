"""Configuration: plain dataclasses with defaults, loadable from a TOML file.

Each part of factsep owns its section (``[detect]`` here, ``[scan]``, ``[review]`` in their modules);
:func:`load_section` fills any of them from a mapping, refusing unknown keys so typos are caught.
:meth:`Config.from_toml` checks every section when the file is read (an unknown section or key is a
:class:`ConfigError` naming the valid ones), so a typo fails at once, not when route or sync runs.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from factsep.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

T = TypeVar("T")

#: Phone regions tried, in order, for numbers written without a leading "+".
DEFAULT_PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "PT", "CN", "JP", "IN", "AU", "CA")


@dataclass(frozen=True)
class DetectorConfig:
    """How spans are found and decided.

    Confidence in ``[review_low, review_high)`` means pending_review; above is auto_accept, below
    auto_reject. Candidates under ``emit_threshold`` are not reported at all.
    """

    review_low: float = 0.35
    review_high: float = 0.75
    emit_threshold: float = 0.10
    random_bits_threshold: float = 12.0
    context_window: int = 48
    spacy_model: str = "blank:en"
    kinds: tuple[str, ...] | None = None
    phone_regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS
    calibration_path: str | None = None
    engine: str = "auto"  # candidate engine: auto (native when built, else re2), native, re2 or re
    max_candidate_chars: int = 128

    def __post_init__(self) -> None:
        if not 0.0 <= self.review_low <= self.review_high <= 1.0:
            raise ValueError(
                f"need 0 <= review_low <= review_high <= 1, got {self.review_low} and {self.review_high}"
            )
        if self.engine not in ("auto", "native", "re2", "re"):
            raise ValueError(f"engine must be auto, native, re2 or re, not {self.engine!r}")


@dataclass(frozen=True)
class TagConfig:
    """How accepted spans are marked in ``tagged_text``. ``{kind}``, ``{bits}``, ``{subtype}`` expand.

    ``escape`` is the character that escapes tag syntax already in the text, so tags cannot be
    forged (see factsep/tags.py); ``""`` turns escaping off.
    """

    open: str = "<rf:{kind}>"
    close: str = "</rf:{kind}>"
    escape: str = "\\"

    def __post_init__(self) -> None:
        from factsep.tags import check_tags

        check_tags(self.open, self.close, self.escape)


class ConfigError(UsageError, ValueError):
    """A configuration file or section that cannot be used; the message says what is valid."""


#: Every section a factsep TOML file may hold and the dataclass that checks it ("module:Class",
#: imported only when the section is present, so reading a config stays light).
SECTIONS: dict[str, str] = {
    "detect": "factsep.config:DetectorConfig",
    "tags": "factsep.config:TagConfig",
    "scan": "factsep.scan:ScanConfig",
    "review": "factsep.review.config:ReviewConfig",
}


def section_class(name: str) -> type[Any]:
    """The dataclass of section ``name`` (see :data:`SECTIONS`)."""
    module, _, attr = SECTIONS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def load_section(cls: type[T], data: dict[str, Any] | None, section: str | None = None) -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys are an error that names the valid ones."""
    where = f"[{section}]" if section else cls.__name__
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{where} must be a table of options, not {type(data).__name__}")
    data = dict(data or {})
    names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(f"unknown {where} option(s) {unknown}; valid: {sorted(names)}")
    for key, value in list(data.items()):
        if isinstance(value, list):
            data[key] = tuple(value)
    try:
        return cls(**data)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad {where} option: {exc}") from exc


def read_toml(path: str | Path) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class Config:
    """The whole configuration; sections other than detect and tags are kept raw for their owners."""

    detect: DetectorConfig = field(default_factory=DetectorConfig)
    tags: TagConfig = field(default_factory=TagConfig)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_toml(cls, path: str | Path | None) -> Config:
        """Read and check a factsep TOML file: every section and key, so typos fail here."""
        if path is None:
            return cls()
        try:
            raw = read_toml(path)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "config") -> Config:
        """The configuration of a parsed TOML mapping; unknown sections or keys are a ConfigError."""
        raw = dict(raw)
        unknown = sorted(set(raw) - set(SECTIONS))
        if unknown:
            names = ", ".join(f"[{u}]" for u in unknown)
            valid = ", ".join(f"[{v}]" for v in SECTIONS)
            raise ConfigError(f"{source}: unknown section(s) {names}; valid sections: {valid}")
        for name in ("scan", "review"):  # owned elsewhere, kept raw, checked now
            if name in raw:
                try:
                    load_section(section_class(name), raw[name], name)
                except ConfigError as exc:
                    raise ConfigError(f"{source}: {exc}") from exc
        try:
            detect = load_section(DetectorConfig, raw.pop("detect", None), "detect")
            tags = load_section(TagConfig, raw.pop("tags", None), "tags")
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from exc
        return cls(detect=detect, tags=tags, sections=raw)
