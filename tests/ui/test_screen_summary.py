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


async def _wait_for(pilot, condition, what: str, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_the_model_picker_switches_the_current_model_and_tells_every_chapter(workspace):
    from textual.widgets import OptionList

    from tui.models import ModelPicker

    versions = ModelVersions(workspace)
    workspace.path("chat").write_bytes(b"one")
    first = versions.record("chat", "sft", workspace.path("chat"), steps=300)
    workspace.path("chat").write_bytes(b"two")
    versions.record("chat", "nudge", workspace.path("chat"), steps=310)

    app = TourApp(workspace)
    told: list[tuple[str, ...]] = []
    async with app.run_test(size=(100, 32)) as pilot:
        tell = app.models_changed
        app.models_changed = lambda *kinds: (told.append(kinds), tell(*kinds))
        await pilot.press("m")
        await _wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), "the picker")
        options = app.screen.query_one(OptionList)
        await _wait_for(pilot, lambda: options.option_count > 1, "the versions")
        options.highlighted = options.get_option_index(first.id)
        await pilot.press("enter")
        await _wait_for(pilot, lambda: not isinstance(app.screen, ModelPicker), "the close")
        assert versions.current("chat").id == first.id
        assert told == [("chat",)]


async def test_reset_from_the_palette_says_what_goes_and_asks(workspace):
    from tui.models import ResetScreen

    workspace.path("base").write_bytes(b"built")
    app = TourApp(workspace)
    async with app.run_test(size=(100, 32)) as pilot:
        app.action_reset_workspace()
        await _wait_for(pilot, lambda: isinstance(app.screen, ResetScreen), "the question")
        assert "remove base.pt" in "\n".join(app.screen.lines)
        await pilot.press("escape")
        await pilot.pause()
        assert workspace.path("base").exists()
        app.action_reset_workspace()
        await _wait_for(pilot, lambda: isinstance(app.screen, ResetScreen), "the question")
        await pilot.press("y")
        await _wait_for(pilot, lambda: not workspace.path("base").exists(), "the reset")


async def test_the_model_picker_shows_each_versions_figures_or_how_to_measure_it(workspace):
    from textual.widgets import OptionList

    from tui.models import ModelPicker

    versions = ModelVersions(workspace)
    workspace.path("chat").write_bytes(b"one")
    first = versions.record("chat", "sft", workspace.path("chat"), steps=300)
    workspace.path("chat").write_bytes(b"two")
    second = versions.record("chat", "nudge", workspace.path("chat"), steps=310)
    versions.set_figures(first.id, {"eval": {
        "right": 7, "total": 10, "categories": [["weather", 3, 4], ["small talk", 4, 6]],
        "per_category": None, "command": "llm-tour eval"}})
    versions.begin_run("base")  # a run's base.pt that no version keeps yet
    workspace.path("base").write_bytes(b"half trained")

    app = TourApp(workspace)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("m")
        await _wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), "the picker")
        options = app.screen.query_one(OptionList)
        await _wait_for(pilot, lambda: options.option_count > 3, "the versions")

        def prompt(version_id: str) -> str:
            return str(options.get_option(version_id).prompt)

        assert "7 of 10 whole turns right (70%): weather 75%, small talk 67% · llm-tour eval" \
            in prompt(first.id)
        assert f"not measured yet: llm-tour eval --version {second.id}" in prompt(second.id)
        assert "kept as no version yet" in prompt("working-base")
        assert prompt(second.id).startswith("* ")  # the current one
        assert not prompt("working-base").startswith("* ")  # offered, not imposed
