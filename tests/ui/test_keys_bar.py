"""The keys bar fits its line at every size: keys give way (the tour's first, then the
chapter's own from the last) instead of being cut at the edge, and ``?`` always stays."""

from __future__ import annotations

import pytest
from sizes import SIZE_IDS, SIZES
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from engine.data.crawler import CrawlConfig
from screens.data import DataScreen
from screens.registry import CHAPTERS, find_chapter
from screens.widgets.keys_bar import BarKey, KeysBar, bar_width, fit_keys
from tui.app import TourApp


def key(key: str, description: str, ident: str) -> BarKey:
    return BarKey(Binding(key, ident, description, id=ident), key, True, "")


CHAPTER_KEYS = [key("space", "Step", "next_step"), key("c", "Conversation", "c"),
                key("e", "Ask", "e"), key("s", "Fine-tune", "s"), key("i", "IDs", "i")]
TOUR_KEYS = [key("→", "Next", "next_chapter"), key("←", "Back", "prev_chapter"),
             key("g", "Go to", "goto_chapter"), key("?", "Keys", "help"),
             key("q", "Quit", "quit")]


def names(keys: list[BarKey]) -> list[str]:
    return [k.binding.description for k in keys]


def test_every_key_is_shown_where_there_is_room():
    keys = CHAPTER_KEYS + TOUR_KEYS
    shown, gone = fit_keys(keys, bar_width(keys))
    assert shown == keys and gone == []


def test_the_tour_keys_give_way_first_then_the_chapters_own_from_the_last():
    keys = CHAPTER_KEYS + TOUR_KEYS
    shown, gone = fit_keys(keys, 80)
    assert names(gone) == ["Back", "Go to"]  # in the bar's order
    assert names(shown) == ["Step", "Conversation", "Ask", "Fine-tune", "IDs", "Next", "Keys",
                            "Quit"]
    shown, gone = fit_keys(keys, 60)
    assert names(shown) == ["Step", "Conversation", "Ask", "Fine-tune", "IDs", "Keys"]
    assert names(gone) == ["Next", "Back", "Go to", "Quit"]
    # with room for the help key's longer label ("All keys") once something gave way
    assert bar_width(shown) + len("All keys") - len("Keys") == 60
    shown, gone = fit_keys(keys, 50)
    assert names(shown) == ["Step", "Conversation", "Ask", "Keys"]


def test_the_help_key_stays_however_narrow():
    shown, gone = fit_keys(CHAPTER_KEYS + TOUR_KEYS, 5)
    assert names(shown) == ["Keys"] and len(gone) == 9


def bar_problems(app: TourApp) -> list[str]:
    """What is wrong with the keys bar on screen: a key cut or off the line, a line longer
    than the terminal (something to scroll to), or no way to the help."""
    bar = app.screen.query_one(Footer)
    width = app.size.width
    problems = []
    keys = list(bar.query(FooterKey))
    for footer_key in keys:
        region = footer_key.region
        label = f"{footer_key.key_display} {footer_key.description}"
        if region.right > width or region.width < footer_key.outer_size.width or not region:
            problems.append(f"{label!r} cut at {region}")
    if bar.virtual_size.width > width:
        problems.append(f"the bar is {bar.virtual_size.width} cells wide")
    if not any(k.key == "question_mark" for k in keys):
        problems.append("no ? in the bar")
    return problems


@pytest.fixture
def quiet_chapters(monkeypatch):
    """The chapters open without a long crawl; the bar is what is looked at."""
    monkeypatch.setattr(DataScreen, "crawl_config",
                        staticmethod(lambda: CrawlConfig(max_pages=5, politeness=0.0)))


async def bars_at(workspace, size: tuple[int, int], settle) -> dict[str, list[str]]:
    app = TourApp(workspace)
    found = {}
    async with app.run_test(size=size) as pilot:
        for index, chapter in enumerate(CHAPTERS):
            app.goto(index)
            for _ in range(4):  # the chapter mounts, its bindings settle, the bar recomposes
                await pilot.pause()
            found[chapter.slug] = bar_problems(app)
        await settle(pilot)
    return found


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_no_chapter_keys_bar_overflows(workspace, quiet_chapters, settle, size):
    found = await bars_at(workspace, size, settle)
    assert {slug: problems for slug, problems in found.items() if problems} == {}


async def test_the_check_sees_a_bar_that_overflows(workspace, quiet_chapters, settle,
                                                   monkeypatch):
    """Textual's own Footer, with every key of the Sampling chapter, is cut at 60 columns."""
    monkeypatch.setattr("screens.base.KeysBar", lambda: Footer(compact=True))
    app = TourApp(workspace, start=find_chapter("sampling"))
    async with app.run_test(size=(60, 20)) as pilot:
        for _ in range(4):
            await pilot.pause()
        assert bar_problems(app)
        await settle(pilot)


async def test_the_bar_fits_again_after_a_resize(workspace, settle):
    app = TourApp(workspace, start=find_chapter("sampling"))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeysBar)
        await pilot.resize_terminal(60, 20)
        for _ in range(4):
            await pilot.pause()
        assert bar_problems(app) == []
        shown = [k.description for k in bar.query(FooterKey)]
        assert "All keys" in shown and "Quit" not in shown and bar.gave_way
        await pilot.resize_terminal(100, 32)
        for _ in range(4):
            await pilot.pause()
        shown = [k.description for k in bar.query(FooterKey)]
        assert "Keys" in shown and "Quit" in shown and not bar.gave_way
        await settle(pilot)


async def test_the_bar_is_composed_again_only_when_its_line_changes(workspace, settle,
                                                                    monkeypatch):
    """Bindings updated to the same line leave the bar's keys as they are (a tour starting
    up updates them many times over); a key turning off is drawn so at once."""
    app = TourApp(workspace, start=find_chapter("sampling"))
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(4):
            await pilot.pause()
        bar = app.screen.query_one(KeysBar)
        before = list(bar.query(FooterKey))
        assert before and not any(k.has_class("-disabled") for k in before)
        app.screen.refresh_bindings()
        for _ in range(4):
            await pilot.pause()
        assert list(bar.query(FooterKey)) == before  # the same widgets: nothing composed

        checked = TourApp.check_action
        monkeypatch.setattr(TourApp, "check_action", lambda self, action, parameters: (
            None if action == "next_chapter" else checked(self, action, parameters)))
        app.screen.refresh_bindings()
        for _ in range(4):
            await pilot.pause()
        after = list(bar.query(FooterKey))
        assert after != before
        assert [k.description for k in after if k.has_class("-disabled")] == ["Next"]
        await settle(pilot)
