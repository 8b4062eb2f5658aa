"""What the narrative chapters look like, at the two sizes the tour is made for."""

from __future__ import annotations

import pytest

from screens.registry import find_chapter
from tui.app import TourApp

from sizes import SIZE_IDS, SIZES


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("slug,steps", [("welcome", 0), ("welcome", 2), ("history", 0),
                                        ("history", 3), ("summary", 1)])
def test_narrative_chapter(snap_compare, workspace, size, slug, steps):
    app = TourApp(workspace, start=find_chapter(slug))

    async def run_before(pilot) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        screen.step = steps
        for _ in range(3):  # the new step mounts, then scrolls into view
            await pilot.pause()
        if steps:  # where it scrolled to by now depends on timing: pin it, as a step does
            screen.query_one(f"#step-{steps}").scroll_visible(top=True, animate=False)
            await pilot.pause()
            await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
