"""What the data stage reports while it runs. The screen and the CLI consume these."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.data.crawler import Fetched, Page, UrlChecked

__all__ = ["Dropped", "Extracted", "Fetched", "Finished", "Kept", "Page", "StepDone",
           "StepStarted", "UrlChecked"]


@dataclass(frozen=True)
class StepStarted:
    step: str
    label: str


@dataclass(frozen=True)
class Extracted:
    """A page's raw HTML and the text trafilatura kept from it."""

    url: str
    title: str
    source: str
    html: str
    text: str


@dataclass(frozen=True)
class Dropped:
    url: str
    step: str
    reason: str
    detail: str
    text: str = ""  # the text as it reached the step, for the screen's examples


@dataclass(frozen=True)
class Kept:
    row: dict


@dataclass(frozen=True)
class StepDone:
    step: str
    kept: int
    dropped: int


@dataclass(frozen=True)
class Finished:
    funnel: list[dict]
    rows: int
    dropped: int
    elapsed: float
    paths: dict[str, str] = field(default_factory=dict)
