"""Fault corpus, keys: nothing a viewer presses ends the tour with a traceback.

The palette's PageUp/PageDown, Ctrl+C with and without a stage running, 200 fast keys
on a small terminal, and what an unexpected error leaves behind: a non-zero status, the
traceback in the workspace's errors.log and one line that says where.
"""

from __future__ import annotations

import random

import pytest
from textual.command import CommandList, CommandPalette
from textual.screen import Screen
from textual.widgets import Static

from tui.app import TourApp, TourCommandPalette

SMALL = (60, 20)


async def test_fault_palette_pages_through_its_list(workspace):
    app = TourApp(workspace)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, TourCommandPalette)
        commands = app.screen.query_one(CommandList)
        assert commands.option_count > 1
        await pilot.press("down")
        start = commands.highlighted
        await pilot.press("pagedown")
        assert commands.highlighted > start
        await pilot.press("pagedown", "pagedown", "pageup", "pageup", "pageup", "pageup")
        assert commands.highlighted == 0
        assert CommandPalette.is_open(app)
    assert app.failure is None and not app.return_code


@pytest.mark.parametrize("key", ["pagedown", "pageup"])
async def test_fault_palette_page_key_before_its_list_is_drawn(workspace, key):
    """The moment between a batch of results and the next frame: the list has options
    and a highlight but no lines yet. Textual 8.2.8 raised KeyError: 0 here."""
    app = TourApp(workspace, presenting=True)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("g")
        await pilot.pause()
        palette = app.screen
        commands = palette.query_one(CommandList)
        commands._line_cache.clear()  # what a fresh batch leaves before the list is laid out
        commands.styles.display = "none"
        await pilot.pause()
        assert commands.highlighted is not None
        assert not commands.scrollable_content_region  # no size: no lines can be laid out
        await pilot.press(key)
        commands.styles.display = "block"
        await pilot.pause()
        await pilot.press(key)
        assert CommandPalette.is_open(app)
    assert app.failure is None and not app.return_code


async def test_fault_two_hundred_fast_keys_on_a_small_terminal(workspace):
    """200 keys into the palette in a seeded random order: paging, moving, typing and
    rubbing out, so results arrive while the list is paged (the chapters' own keys are
    in the chapters' tests)."""
    keys = ["pagedown", "pageup", "down", "up", "home", "end", "g", "o", "t", "z",
            "backspace", "space", "tab"]
    chooser = random.Random(18)
    app = TourApp(workspace)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("g")
        await pilot.press(*(chooser.choice(keys) for _ in range(200)))
        assert CommandPalette.is_open(app)
        await pilot.press("escape", "escape")
        for worker in list(app.workers):
            worker.cancel()
        await app.workers.wait_for_complete()
    assert app.failure is None


async def test_fault_ctrl_c_with_nothing_running_quits_and_says_so(workspace, monkeypatch):
    said_on_exit = []  # what the tour prints on the terminal as it leaves
    monkeypatch.setattr(TourApp, "_print_error_renderables",
                        lambda self: said_on_exit.extend(self._exit_renderables))
    app = TourApp(workspace)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 0 and app.failure is None
    assert not app.is_running
    assert [str(said) for said in said_on_exit] == [
        "Stopped with Ctrl+C. Run llm-tour again to carry on where you were."]


async def test_fault_ctrl_c_stops_the_running_stage_first(workspace):
    import threading

    from textual import work

    release = threading.Event()

    class Busy(Screen):
        stopped = False

        def action_stop(self) -> None:
            self.stopped = True

        @work(thread=True, exclusive=True, group="busy", exit_on_error=False)
        def run_stage(self) -> None:
            release.wait(10)

    app = TourApp(workspace)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        screen = Busy()
        await app.push_screen(screen)
        worker = screen.run_stage()
        await pilot.pause()
        assert app.running_workers() == [worker]
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert screen.stopped and worker.is_cancelled
        assert app.is_running  # a stage was stopped; the tour goes on
        release.set()
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+c")  # nothing runs now: leave
        await pilot.pause()
    assert not app.is_running and app.failure is None


class _Broken(Static):
    def on_click(self) -> None:
        raise RuntimeError("a handler that fails")


async def test_fault_an_unexpected_error_is_logged_and_not_status_zero(workspace):
    app = TourApp(workspace)
    with pytest.raises(RuntimeError):  # run_test raises what ended the app, once handled
        async with app.run_test(size=SMALL) as pilot:
            await pilot.pause()
            await app.screen.mount(_Broken("boom", id="broken"))
            await pilot.pause()
            await pilot.click("#broken")
            await pilot.pause()
    log = workspace.path("errors.log")
    assert "RuntimeError: a handler that fails" in log.read_text("utf-8")
    assert isinstance(app.failure, RuntimeError) and app.return_code == 1
    assert app.error_log == log


def test_fault_failure_line_names_the_log(workspace):
    from tui.cli import _failure_line

    line = _failure_line(RuntimeError("x\x1b[2J"), workspace.path("errors.log"), workspace)
    assert str(workspace.path("errors.log")) in line and "\x1b" not in line
    assert "\n" not in line


def test_fault_headless_unexpected_error_ends_with_status_one(workspace, monkeypatch, capsys):
    import tui.commands.votes as votes_command
    from tui.cli import main

    def explode(store, console):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(votes_command, "_print_votes", explode)
    with pytest.raises(SystemExit) as ended:
        main(["--workdir", str(workspace.root), "votes"])
    assert ended.value.code == 1
    err = capsys.readouterr().err
    log = workspace.path("errors.log")
    assert str(log) in err and len(err.strip().splitlines()) == 1
    assert "RuntimeError: something nobody expected" in log.read_text("utf-8")


def test_fault_headless_click_errors_keep_their_status(workspace, capsys):
    from tui.cli import main

    with pytest.raises(SystemExit) as ended:
        main(["--workdir", str(workspace.root), "prepare", "data", "--add-page",
              str(workspace.root / "missing.html")])
    assert ended.value.code == 1
    assert "missing.html" in capsys.readouterr().err
    assert not workspace.path("errors.log").exists()  # an expected error is not a traceback


BROKEN_TOUR = """
import sys
from tui import cli
from tui.app import TourApp

run = TourApp.run
TourApp.run = lambda self, *a, **k: run(self, *a, **{**k, "headless": True})


def on_ready(self):
    raise RuntimeError("a chapter that fails \\x1b[2J")


TourApp.on_ready = on_ready
cli.main(["--workdir", sys.argv[1]])
"""


def test_fault_the_tour_ends_on_an_error_with_one_line_and_status_one(workspace):
    """The real command, as a process: status 1, the traceback in errors.log, and on the
    terminal one line that says where (not a screenful of traceback)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", BROKEN_TOUR, str(workspace.root)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    log = workspace.path("errors.log")
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [(
        "llm-tour stopped on an unexpected error (RuntimeError: a chapter that fails "
        f"\u241b[2J); the traceback is in {log}.")], done.stderr  # ESC shown, not sent
    assert "Traceback" in log.read_text("utf-8") and "a chapter that fails" in \
        log.read_text("utf-8")


@pytest.mark.parametrize("slug", ["sampling", "inside", "conversations", "tools"])
async def test_fault_keys_typed_straight_after_the_key_that_opens_a_box_land_in_it(workspace,
                                                                                   slug):
    """A viewer types "e" and their text in one go (one read from the terminal): every key
    after "e" is a letter in the box, "q" and "e" included, none is lost or taken as a key of
    the chapter."""
    from textual import events

    from screens.registry import CHAPTERS
    from screens.widgets.prompt_box import PromptBox

    start = next(i for i, chapter in enumerate(CHAPTERS) if chapter.slug == slug)
    app = TourApp(workspace, start=start)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        for key in ("e", "x", "q", "e"):  # all queued before the first is handled
            app.post_message(events.Key(key, key))
        await pilot.pause()
        box = app.screen.query_one(PromptBox)
        assert app.screen.focused is box
        assert box.value == "xqe"
        await pilot.press("escape", "e")  # closed, the key opens it again
        assert app.screen.focused is app.screen.query_one(PromptBox)
    assert app.failure is None and not app.return_code
