"""Every chapter with a model names the current one, and follows it when it changes (Pilot).

The workspace starts on the bundled models; then a new version becomes current (as when a
training stage finishes, or the viewer picks one with m) and the App posts ModelChanged. Each
chapter must load the new model and say so, without a key being pressed.
"""

from __future__ import annotations

import shutil

import pytest

from engine import workspace as workspaces
from engine.model.versions import ModelVersions
from screens.registry import find_chapter
from tui.app import TourApp

pytestmark = pytest.mark.bundled


def _text(widget) -> str:
    """What a widget shows: its content and its border's title and subtitle."""
    parts = [str(widget.render())]
    for title in (widget.border_title, widget.border_subtitle):
        if title:
            parts.append(str(title))
    return "\n".join(parts)


def _screen_text(screen) -> str:
    return "\n".join(_text(w) for w in screen.query("Static"))


# chapter -> (the kind of model it computes with, the widget that names it)
CHAPTERS = {
    "sampling": ("base", "#model-line"),
    "training": ("base", "#run-status"),
    "inside": ("base", "#model-line"),
    "conversations": ("chat", "#compare-chat"),
    "tools": ("chat", "#loop-model"),
    "preferences": ("chat", "NudgePanel"),
    "summary": ("base", "WhatYouRan"),
}
# what the label says before (the bundled model) and after (the new version)
BEFORE = {"summary": "pretraining  bundled"}
AFTER = {"summary": "pretraining  ran here"}


def _step_showing(screen, selector: str) -> int:
    """The step of the chapter whose text holds the widget (its {{ name }} line)."""
    names = {"#compare-chat": "base_vs_assistant", "#loop-model": "tool_loop",
             "NudgePanel": "nudge", "WhatYouRan": "what_you_ran"}
    name = names.get(selector)
    if name is None:
        return 0
    return next(i for i, section in enumerate(screen.sections) if "{{ " + name in section)


@pytest.mark.parametrize("slug", list(CHAPTERS))
async def test_the_model_label_follows_the_current_model(slug, workspace, wait_until):
    kind, selector = CHAPTERS[slug]
    bundled_file = f"{kind}.pt"
    app = TourApp(workspace, start=find_chapter(slug))
    app.animation_level = "none"
    async with app.run_test(size=(100, 32)) as pilot:
        screen = app.screen
        step = _step_showing(screen, selector)
        if step:
            screen.step = step
        before = BEFORE.get(slug, "bundled")

        def label() -> str:
            found = screen.query(selector)
            return _text(found.first()) if found else ""

        await wait_until(pilot, lambda: before in label() and (
            slug != "conversations" or bundled_file in label()),
            what=f"the bundled {kind} model named in {selector}")
        assert f"{kind}-001" not in label()

        # A new version becomes current (a finished stage, or the model picker).
        version = ModelVersions(workspace).record(
            kind, "pretrain" if kind == "base" else "sft",
            workspaces.BUNDLED_DIR / bundled_file, steps=7)
        assert ModelVersions(workspace).current(kind).id == version.id
        app.models_changed(kind)

        after = AFTER.get(slug, f"{kind}-001")
        await wait_until(pilot, lambda: after in label(),
                         what=f"{version.id} named in {selector}")
        assert "bundled with llm-tour" not in label() or slug == "summary"


async def test_a_stage_that_makes_a_model_tells_every_chapter(workspace, wait_until):
    """A chapter's stage (here: the Training chapter's run finishing) calls the App, which
    tells every chapter; a chapter opened before then relabels."""
    app = TourApp(workspace, start=find_chapter("inside"))
    app.animation_level = "none"
    async with app.run_test(size=(100, 32)) as pilot:
        inside = app.screen
        await wait_until(pilot, lambda: "bundled" in _text(inside.query_one("#model-line")),
                         what="the bundled model on the Inside chapter")
        app.goto(find_chapter("training"))
        await pilot.pause()
        training = app.screen
        shutil.copyfile(workspaces.BUNDLED_DIR / "base.pt", workspace.path("base"))
        ModelVersions(workspace).record("base", "pretrain", workspace.path("base"), steps=9)
        from engine.training.loop import TrainDone

        training.show_training_event(TrainDone(9, 1.0, 1.0, 1.0, 10.0, False,
                                               str(workspace.path("base"))))
        await wait_until(pilot, lambda: "base-001" in _text(inside.query_one("#model-line")),
                         what="the Inside chapter naming base-001")
