"""A panel whose content is looked up by a worker thread, after the first frame.

What it shows may need torch or the disk (the machine's hardware, the workspace's artifacts),
so the panel paints a line of its own at once and fills in when the worker is done, or says
what went wrong.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.content import Content
from textual.widgets import Static
from textual.worker import Worker, WorkerState


class LookupPanel(Static):
    """Subclasses say what to look up (:meth:`lookup`, in the worker) and how to show it
    (:meth:`show`, on the UI thread)."""

    WAITING: ClassVar[str] = "Looking…"
    FAILED: ClassVar[str] = "Could not look it up"

    def on_mount(self) -> None:
        self.update(Content.styled(self.WAITING, "$text-muted"))
        self._look()

    @work(thread=True, exclusive=True, group="lookup", exit_on_error=False)
    def _look(self) -> Any:
        return self.lookup()

    def lookup(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must say what it looks up")

    def show(self, result: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must say how it shows {result!r}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "lookup" or event.worker.node is not self:
            return
        if event.state == WorkerState.SUCCESS:
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.update(Content.styled(f"{self.FAILED}: {event.worker.error}", "$error"))
