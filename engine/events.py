"""The words every long stage uses to say how far it is, and the one reducer over them.

Each stage yields its own small events (a training step, a learned merge, a kept row...).
Those that mark progress carry a :class:`Progress` as their ``progress``; those that count
toward a stage's figures name what they count as in ``tally`` ("kept", "dropped",
"fetched"). :class:`StageState` folds any stage's events into what a progress bar and a
chapter show (how far, the counts, the last and best validation loss), so the CLI and the
screens read the same figures instead of each counting again.

Nothing here imports torch or a stage: the vocabulary is plain data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    """How far a stage is: ``done`` of ``total`` (None when the total is not known ahead,
    as in a crawl), and a few words on what it is doing."""

    done: float
    total: float | None
    label: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))


def progress_of(event: object) -> Progress | None:
    """The progress an event reports, if it is one that reports progress."""
    value = getattr(event, "progress", None)
    return value if isinstance(value, Progress) else None


@dataclass
class StageState:
    """A running stage as the CLI and the chapters show it, reduced from its events."""

    progress: Progress | None = None
    counts: Counter[str] = field(default_factory=Counter)
    loss: float | None = None  # the last training loss reported
    val_loss: float | None = None  # the last validation loss
    best_val_loss: float | None = None  # the lowest validation loss so far
    events: int = 0

    def update(self, event: object) -> StageState:
        """Fold one event in; returns ``self`` so a loop can read the state it just made."""
        self.events += 1
        progress = progress_of(event)
        if progress is not None:
            if not progress.label and self.progress is not None:
                progress = Progress(progress.done, progress.total, self.progress.label)
            self.progress = progress
        for name in getattr(event, "tally", ()):
            self.counts[name] += 1
        loss = getattr(event, "loss", None)
        if isinstance(loss, float):
            self.loss = loss
        val = getattr(event, "val_loss", None)
        if isinstance(val, float):
            self.val_loss = val
            self.best_val_loss = val if self.best_val_loss is None else min(self.best_val_loss,
                                                                              val)
        return self

    @property
    def label(self) -> str:
        return self.progress.label if self.progress is not None else ""
