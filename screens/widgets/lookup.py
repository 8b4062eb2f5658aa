"""A panel whose content is looked up by a worker thread, after the first frame.

What it shows may need torch or the disk (the machine's hardware, the workspace's artifacts),
so the panel paints a line of its own at once and fills in when its chapter's stage runner
(screens.base.ChapterScreen.run_stage) is done, or says what went wrong.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.content import Content
from textual.widgets import Static


class LookupPanel(Static):
    """Subclasses say what to look up (:meth:`lookup`, in the worker) and how to show it
    (:meth:`show`, on the UI thread)."""

    WAITING: ClassVar[str] = "Looking…"
    FAILED: ClassVar[str] = "Could not look it up"

    def on_mount(self) -> None:
        self.update(Content.styled(self.WAITING, "$text-muted"))
        self.look()

    def look(self) -> None:
        """Look it up (again) in the chapter's stage runner; the panel fills in when done."""
        def failed(error: BaseException) -> None:
            self.update(Content.styled(f"{self.FAILED}: {error}", "$error"))

        self.screen.run_stage(lambda: [self.lookup()], f"lookup-{id(self)}",
                              on_event=self.show, on_error=failed)

    def lookup(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must say what it looks up")

    def show(self, result: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must say how it shows {result!r}")
