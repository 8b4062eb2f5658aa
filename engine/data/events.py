"""What the data stage reports while it runs. The screen and the CLI consume these.

Progress and counts are in the shared vocabulary (``engine.events``): a step's start is a
:class:`engine.events.Progress` with its label, and a kept row, a dropped page and a
fetched page each name what they count as (``tally``), for :class:`engine.events.StageState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.data.crawler import Fetched, Page, UrlChecked
from engine.events import Progress

__all__ = ["Dropped", "Extracted", "Fetched", "Finished", "Kept", "Page", "StepDone",
           "StepStarted", "Stored", "UrlChecked"]


@dataclass(frozen=True)
class StepStarted:
    step: str
    label: str

    @property
    def progress(self) -> Progress:  # how many pages a step will see is not known ahead
        return Progress(0, None, self.label)


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
    tally = ("dropped",)


@dataclass(frozen=True)
class Kept:
    row: dict
    tally = ("kept",)


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


@dataclass(frozen=True)
class Stored:
    """A run read back from the files it wrote (``engine.data.store.stored_run``), not crawled
    again: which dataset, and whether the crawl's funnel came with it."""

    file: str  # the dataset's file name
    source: str  # where it came from (Artifact.label)
    rows: int
    dropped: int
    funnel: bool  # funnel.json was there, from the same place as the dataset
