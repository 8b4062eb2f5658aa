"""Keys never trap: Esc leaves any box, a focused table keeps its arrows, every chapter has a
key, the help names every key as the keyboard does, and resuming returns to the step."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from engine.data.crawler import CrawlConfig
from screens.data import DataScreen, StoredRows
from screens.registry import CHAPTERS, find_chapter
from tui.app import TourApp
from tui.help import HelpScreen, KeyTable, collect_bindings, describe_key, key_table_lines

SIZE = (100, 32)


async def settle_data(pilot) -> None:
    from test_screen_data import settle

    await settle(pilot)


def small_crawl(monkeypatch) -> None:
    monkeypatch.setattr(DataScreen, "crawl_config",
                        staticmethod(lambda: CrawlConfig(max_pages=30, politeness=0.0)))


async def test_o_reaches_the_own_page_box_and_esc_leaves_it(workspace, monkeypatch):
    small_crawl(monkeypatch)
    app = TourApp(workspace, start=find_chapter("data"))
    async with app.run_test(size=SIZE) as pilot:
        await settle_data(pilot)
        await pilot.press("o")  # one key, not a row of Tabs
        await pilot.pause()
        box = app.screen.query_one("#own-page-input", Input)
        assert app.focused is box
        await pilot.press("x", "right", "space")  # a box keeps its own keys
        assert box.value == "x " and app.current == find_chapter("data")
        await pilot.press("escape")
        assert app.focused is None
        await pilot.press("right")  # and the tour's keys work again
        assert app.current == find_chapter("data") + 1


async def test_a_focused_table_keeps_its_arrows(workspace, monkeypatch):
    small_crawl(monkeypatch)
    app = TourApp(workspace, start=find_chapter("data"))
    async with app.run_test(size=SIZE) as pilot:
        await settle_data(pilot)
        screen = app.screen
        screen.step = screen.step_count - 1
        await settle_data(pilot)
        table = screen.query_one(StoredRows).query_one(DataTable)
        table.focus()
        await pilot.pause()
        for _ in range(3):
            await pilot.press("down")
        assert table.cursor_row == 3
        assert app.current == find_chapter("data")  # ↓ moved the cursor, not the tour
        await pilot.press("escape")
        assert app.focused is None


async def test_every_chapter_has_a_key(workspace):
    keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "minus"]
    assert len(CHAPTERS) <= len(keys)
    app = TourApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        for index in reversed(range(len(CHAPTERS))):
            await pilot.press(keys[index])
            assert app.current == index


def test_keys_are_named_as_the_keyboard_names_them():
    assert describe_key("ctrl+c,super+c") == "Ctrl+C / Cmd+C"
    assert describe_key("space,down") == "Space / ↓"
    assert describe_key("1,2,3,4,5,6,7,8,9,0,minus") == "1-9 / 0 / -"
    assert describe_key("left_square_bracket") == "["
    assert describe_key("shift+up,backspace") == "Shift+↑ / Backspace"


async def test_every_chapters_help_names_its_keys_as_the_keyboard_does(workspace, monkeypatch):
    """No Textual key name ("left_square_bracket", "shift+up") in any chapter's help."""
    small_crawl(monkeypatch)
    app = TourApp(workspace)
    raw = {}
    async with app.run_test(size=SIZE) as pilot:
        for index, chapter in enumerate(CHAPTERS):
            app.goto(index)
            await pilot.pause()
            for key, _does, _why in collect_bindings(app.screen):
                for name in describe_key(key).split(" / "):
                    if "_" in name or (len(name) > 1 and not name[0].isupper()
                                       and not name.split("-")[0].isdigit()):
                        raw.setdefault(chapter.slug, []).append(name)
        await app.workers.wait_for_complete()
    assert raw == {}


async def test_help_is_laid_out_once_per_width_and_again_when_the_terminal_narrows(workspace):
    """The keys are laid out as a table once for each chapter's keys and width (a room's
    viewers open the same help many times over); a terminal that narrows gets the narrow
    layout, with each key's "why" under its "does"."""
    key_table_lines.cache_clear()
    app = TourApp(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        first = app.screen.query_one(KeyTable).render()
        assert first.plain.splitlines()[0].split() == ["Key", "Does", "Why"]
        laid_out = key_table_lines.cache_info().misses
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query_one(KeyTable).render() is first
        assert key_table_lines.cache_info().misses == laid_out
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        narrow = app.screen.query_one(KeyTable).render().plain
        assert narrow.splitlines()[0].split() == ["Key", "Does"]
        assert max(len(line) for line in narrow.splitlines()) <= 60


async def test_help_reads_at_60_columns(workspace):
    app = TourApp(workspace)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        lines = [line.strip() for line in app.screen.query_one("#help-table")
                 .render_lines(app.screen.query_one("#help-table").region.reset_offset)
                 for line in [line.text]]
        words = [line for line in lines if line]
        assert any("Ctrl+C" in line for line in words)
        lone = [line for line in words if " " not in line]
        assert len(lone) < len(words) // 5, lone  # not a column of one word per line


async def test_resuming_returns_to_the_step(workspace):
    chapter = find_chapter("history")
    app = TourApp(workspace, start=chapter)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.step_count > 2
        while app.screen.step < 2:
            await pilot.press("space")
        await pilot.pause()
    state = workspace.read_state()
    assert state["chapter"] == CHAPTERS[chapter].slug and state["step"] == 2
    again = TourApp(workspace, start=chapter, step=state["step"])
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.screen.step == 2 and again.screen.header.step == 2
        assert len(again.screen.query("#step-2")) == 1


async def test_down_reads_on_in_every_chapter_and_space_too_where_it_has_no_other_job(
        workspace, monkeypatch):
    """↓ is "read on" in every chapter (with no box or table holding it: Esc gives it back);
    Space is the same, except in Sampling, where it samples a token (the keys bar and the
    help say so; in Tools both run the loop's next step, then read on)."""
    small_crawl(monkeypatch)
    app = TourApp(workspace)
    own_space = {"sampling": "sample_token"}
    async with app.run_test(size=SIZE) as pilot:
        for index, chapter in enumerate(CHAPTERS):
            app.goto(index)
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            bindings = app.screen.active_bindings
            assert bindings["down"].binding.action == "next_step", chapter.slug
            assert bindings["space"].binding.action == own_space.get(chapter.slug, "next_step")
            rows = collect_bindings(app.screen)  # the help says so, in its own words
            assert any("down" in key.split(",") and does == "Step" and why
                       for key, does, why in rows), (chapter.slug, rows)
        await app.workers.wait_for_complete()
