"""The last chapter: six takeaways and the next doors to open."""

from __future__ import annotations

from screens.base import ChapterScreen


class SummaryScreen(ChapterScreen):
    """The talk's closing, revealed a step at a time from the chapter's text."""
