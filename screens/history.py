"""Chapter: from "Attention Is All You Need" to GPT-3, and what a base model is."""

from __future__ import annotations

from screens.base import ChapterScreen


class HistoryScreen(ChapterScreen):
    """The timeline, revealed a step at a time from the chapter's text."""
