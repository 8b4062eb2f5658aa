"""Every key of the shell does what it says (Pilot tests)."""

from __future__ import annotations

import pytest

from screens.base import ChapterScreen
from screens.registry import CHAPTERS
from screens.widgets.tour_header import TourHeader
from tui.app import TourApp
from tui.help import HelpScreen

SIZE = (100, 32)
LAST = len(CHAPTERS) - 1


def where(app: TourApp) -> str:
    return app.screen.query_one(TourHeader).where


@pytest.mark.parametrize("key", ["right", "n", "pagedown"])
async def test_next_chapter_keys(workspace, key):
    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        assert where(app) == f"1/{len(CHAPTERS)} · {CHAPTERS[0].title}"
        await pilot.press(key)
        assert app.current == 1
        assert where(app) == f"2/{len(CHAPTERS)} · {CHAPTERS[1].title}"


@pytest.mark.parametrize("key", ["left", "p", "pageup"])
async def test_previous_chapter_keys(workspace, key):
    app = TourApp(workspace, start=LAST)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(key)
        assert app.current == LAST - 1


async def test_no_chapter_before_the_first_or_after_the_last(workspace):
    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("left")
        assert app.current == 0
        app.goto(LAST)
        await pilot.pause()
        await pilot.press("right")
        assert app.current == LAST


@pytest.mark.parametrize("key", ["space", "down"])
async def test_steps_inside_a_chapter_then_on_to_the_next(workspace, key):
    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ChapterScreen)
        steps = screen.step_count
        assert steps > 1
        for expected in range(1, steps):
            await pilot.press(key)
            await pilot.pause()
            # a long step pages down before the next one is revealed
            while screen.step != expected:
                await pilot.press(key)
                await pilot.pause()
            assert screen.header.step == expected
            assert len(screen.query(f"#step-{expected}")) == 1
        await pilot.press(key)
        await pilot.pause()
        while app.current == 0:
            await pilot.press(key)
            await pilot.pause()
        assert app.current == 1


async def test_up_goes_back_a_step(workspace):
    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("space")
        await pilot.pause()
        assert screen.step == 1
        await pilot.press("up")
        await pilot.pause()
        assert screen.step == 0
        assert len(screen.query("#step-1")) == 0


async def test_digits_jump_to_chapters(workspace):
    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        for number in range(min(len(CHAPTERS), 9), 0, -1):
            await pilot.press(str(number))
            assert app.current == number - 1


async def test_command_palette_goes_to_a_chapter(workspace, wait_until):
    from textual.command import CommandList

    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*f"go to {LAST + 1}")
        # The palette searches in a worker: wait for its first hit to be highlighted.
        await wait_until(
            pilot,
            lambda: app.screen.query(CommandList)
            and app.screen.query_one(CommandList).highlighted is not None,
            what="the palette's first hit",
        )
        await pilot.press("enter")
        await pilot.pause()
        assert app.current == LAST


async def test_help_lists_every_binding(workspace):
    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        chapter = app.screen
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {key for row in app.screen.rows for key in row[0].split(",")}
        expected = {b.key for b in TourApp.BINDINGS} | {b.key for b in type(chapter).BINDINGS}
        for keys in expected:
            for key in keys.split(","):
                assert key in listed, key
        tooltips = [row[2] for row in app.screen.rows]
        assert "Go on to the next chapter" in tooltips
        assert all(tooltips), app.screen.rows
        await pilot.press("escape")
        assert app.screen is chapter


def test_every_binding_has_an_id_and_a_tooltip():
    from screens.registry import CHAPTERS as chapters

    classes = [TourApp, HelpScreen] + [c.load() for c in chapters]
    for cls in classes:
        for binding in cls.BINDINGS:
            assert binding.id, (cls.__name__, binding.key)
            assert binding.tooltip, (cls.__name__, binding.key)


async def test_theme_toggles_and_is_remembered(workspace):
    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "textual-dark"
        await pilot.press("t")
        assert app.theme == "textual-light"
    assert workspace.read_state()["theme"] == "light"
    app = TourApp(workspace)
    async with app.run_test(size=SIZE):
        assert app.theme == "textual-light"


async def test_q_quits_and_the_place_is_remembered(workspace):
    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("right")
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert workspace.read_state()["chapter"] == CHAPTERS[1].slug


async def test_resume_notice_is_shown(workspace):
    app = TourApp(workspace, start=LAST, notice="Resuming at the end")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.current == LAST
        assert any("Resuming at the end" in str(n.message) for n in app._notifications)


async def test_welcome_finds_the_hardware_without_blocking_the_first_frame(workspace):
    from screens.welcome import HardwarePanel

    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        while screen.step < screen.step_count - 1:
            await pilot.press("space")
            await pilot.pause()
        panel = screen.query_one(HardwarePanel)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = str(panel.render())
        assert "cores" in text and "torch" in text


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_small_terminals_show_every_chapter_without_errors(workspace, size):
    app = TourApp(workspace)
    async with app.run_test(size=size) as pilot:
        for index in range(len(CHAPTERS)):
            app.goto(index)
            await pilot.pause()
            for _ in range(app.screen.step_count + 3):
                await pilot.press("space") if app.current == index else None
            await pilot.pause()
        assert app.return_code is None


@pytest.mark.parametrize("start", [0, 4])
async def test_the_first_chapter_is_the_apps_own_screen_and_is_kept(workspace, start):
    """Composed with the App (a screen pushed while the App mounts would have its first
    frame dropped), and kept like every chapter when the viewer moves on and back."""
    app = TourApp(workspace, start=start)
    async with app.run_test(size=SIZE) as pilot:
        first = app.screen
        assert app.screen_stack == [first]
        assert first.chapter is CHAPTERS[start]
        await pilot.press("right")
        await pilot.pause()
        assert app.screen is not first and app.screen_stack == [app.screen]
        await pilot.press("left")
        await pilot.pause()
        assert app.screen is first
        assert where(app) == f"{start + 1}/{len(CHAPTERS)} · {CHAPTERS[start].title}"
