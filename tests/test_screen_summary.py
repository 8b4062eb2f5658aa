"""The Summary says what this viewer ran, read from the workspace (Pilot)."""

from __future__ import annotations

import asyncio

from engine.model.versions import ModelVersions
from screens.registry import CHAPTERS, find_chapter
from screens.summary import WhatYouRan
from tui.app import TourApp


async def _lines(workspace) -> str:
    app = TourApp(workspace, start=find_chapter("summary"))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("space")
        widget = app.screen.query_one(WhatYouRan)
        for _ in range(100):  # the worker reads the artifacts after the frame
            text = str(widget.render())
            if "pretraining" in text:
                return text
            await asyncio.sleep(0.05)
        raise AssertionError(f"the Summary never listed the stages: {text!r}")


async def test_the_summary_lines_change_with_what_ran(workspace):
    assert CHAPTERS[find_chapter("summary")].slug == "summary"
    before = await _lines(workspace)
    assert "pretraining  not run" in before
    workspace.path("base").write_bytes(b"weights")
    ModelVersions(workspace).record("base", "pretrain", workspace.path("base"), steps=30)
    after = await _lines(workspace)
    assert "pretraining  ran here" in after and "30 steps" in after
