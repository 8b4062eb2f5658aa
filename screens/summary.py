"""The last chapter: six takeaways, what this viewer ran of them, and the next doors to open."""

from __future__ import annotations

import textwrap
from typing import ClassVar

from textual.content import Content

from screens.base import ChapterScreen
from screens.widgets.lookup import LookupPanel

# how each status reads on screen
STATUS_STYLE = {"ran here": "bold $success", "prepared": "bold $accent",
                "bundled": "$text-muted", "not run": "$text-muted",
                "broken": "bold $error"}


class WhatYouRan(LookupPanel):
    """Each stage of the pipeline: ran here, prepared or bundled, with its headline figure,
    read from the workspace's artifacts (not from what the screens remember)."""

    DEFAULT_CSS = """
    WhatYouRan {
        height: auto;
        padding: 0 1;
        margin: 0 0 1 0;
    }
    """
    WAITING = "Reading your workspace…"
    FAILED = "Could not read the workspace"

    def lookup(self):
        from engine.prepare.provenance import stage_lines

        return stage_lines(self.app.workspace)

    LEAD = 23  # the stage and status columns: a figure's next lines start below its first

    def show(self, lines) -> None:
        self.lines = list(lines)
        self.draw()

    def on_resize(self) -> None:
        if getattr(self, "lines", None) is not None:
            self.draw()

    def draw(self) -> None:
        """One row per stage; a figure too long for the pane wraps under itself."""
        width = max(20, (self.content_size.width or 76) - self.LEAD)
        rows = []
        for line in self.lines:
            figure = textwrap.wrap(line.figure, width) or [""]
            rows.append(Content.assemble(
                (f"{line.stage:<12}", "bold"), " ",
                (f"{line.status:<9}", STATUS_STYLE.get(line.status, "")), " ",
                ("\n" + " " * self.LEAD).join(figure)))
        self.update(Content("\n").join(rows))


class SummaryScreen(ChapterScreen):
    """The talk's closing, revealed a step at a time from the chapter's text."""

    WIDGETS: ClassVar[dict] = {"what_you_ran": WhatYouRan}
    MODEL_KINDS: ClassVar[tuple[str, ...]] = ("base", "chat")

    def model_changed(self, kind: str) -> None:
        for panel in self.query(WhatYouRan):
            panel.look()  # what ran and what is current, read again
