"""The last chapter: six takeaways, what this viewer ran of them, and the next doors to open."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.content import Content
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from screens.base import ChapterScreen

# how each status reads on screen
STATUS_STYLE = {"ran here": "bold $success", "prepared": "bold $accent",
                "bundled": "$text-muted", "not run": "$text-muted"}


class WhatYouRan(Static):
    """Each stage of the pipeline: ran here, prepared or bundled, with its headline figure,
    read from the workspace's artifacts (not from what the screens remember)."""

    DEFAULT_CSS = """
    WhatYouRan {
        height: auto;
        padding: 0 1;
        margin: 0 0 1 0;
    }
    """

    def on_mount(self) -> None:
        self.update(Content.styled("Reading your workspace…", "$text-muted"))
        self.look()

    @work(thread=True, exclusive=True, group="provenance", exit_on_error=False)
    def look(self):
        from engine.prepare.provenance import stage_lines

        return stage_lines(self.app.workspace)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "provenance":
            return
        if event.state == WorkerState.SUCCESS:
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.update(Content.styled(f"Could not read the workspace: {event.worker.error}",
                                       "$error"))

    def show(self, lines) -> None:
        rows = []
        for line in lines:
            rows.append(Content.assemble(
                (f"{line.stage:<12}", "bold"), " ",
                (f"{line.status:<9}", STATUS_STYLE.get(line.status, "")), " ",
                line.figure))
        self.update(Content("\n").join(rows))


class SummaryScreen(ChapterScreen):
    """The talk's closing, revealed a step at a time from the chapter's text."""

    WIDGETS: ClassVar[dict] = {"what_you_ran": WhatYouRan}
