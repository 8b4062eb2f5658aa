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


def drawn(bar: KeysBar) -> str:
    """The bar's line as it is drawn on screen."""
    return bar.render_line(0).text


def bar_problems(app: TourApp) -> list[str]:
    """What is wrong with the keys bar on screen: a key cut or off the line, a line longer
    than the terminal (something to scroll to), or no way to the help."""
    width = app.size.width
    problems = []
    bars = app.screen.query(KeysBar)
    if bars:
        bar = bars.first()
        line = drawn(bar)
        if bar.region.width != width or bar.region.x != 0:
            problems.append(f"the bar is at {bar.region}")
        if bar.render().cell_len > bar.size.width:
            problems.append(f"the line is {bar.render().cell_len} cells wide")
        for _key, display, description, *_ in bar.composed or ():
            label = f"{display} {description}".strip()
            if label not in line:
                problems.append(f"{label!r} cut: {line!r}")
        if not any(k[0] == "question_mark" for k in bar.composed or ()):
            problems.append("no ? in the bar")
        return problems
    bar = app.screen.query_one(Footer)  # Textual's own, for the check below
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
        shown = [k[2] for k in bar.composed]
        assert "All keys" in shown and "Quit" not in shown and bar.gave_way
        await pilot.resize_terminal(100, 32)
        for _ in range(4):
            await pilot.pause()
        shown = [k[2] for k in bar.composed]
        assert "Keys" in shown and "Quit" in shown and not bar.gave_way
        await settle(pilot)


async def pauses(pilot, times: int = 4) -> None:
    """The screen's bindings settle and the bar draws its line again."""
    for _ in range(times):
        await pilot.pause()


def next_off(monkeypatch):
    """The tour's Next key is off (its check says no); returns the check as it was."""
    checked = TourApp.check_action
    monkeypatch.setattr(TourApp, "check_action", lambda self, action, parameters: (
        None if action == "next_chapter" else checked(self, action, parameters)))
    return checked


async def test_the_bar_is_drawn_again_only_when_its_line_changes(workspace, settle,
                                                                 monkeypatch):
    """Bindings updated to the same line leave the bar as it is (a tour starting up updates
    them many times over); a key turning off is drawn dimmed at once."""
    app = TourApp(workspace, start=find_chapter("sampling"))
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(4):
            await pilot.pause()
        bar = app.screen.query_one(KeysBar)
        before = bar.composed
        assert before and all(enabled for *_, enabled, _tip in before)
        app.screen.refresh_bindings()
        for _ in range(4):
            await pilot.pause()
        assert bar.composed is before  # the same line: nothing chosen or drawn again

        next_off(monkeypatch)
        app.screen.refresh_bindings()
        await pauses(pilot)
        assert bar.composed is not before
        assert [k[2] for k in bar.composed if not k[4]] == ["Next"]
        dimmed = {segment.text.strip() for segment in bar.render_line(0)
                  if segment.style and segment.style.dim and segment.text.strip()}
        assert dimmed == {"→", "Next"}
        await settle(pilot)


def cell_of(bar: KeysBar, description: str) -> int:
    """The first cell of the bar's key with this description."""
    index = next(i for i, k in enumerate(bar.composed) if k[2] == description)
    return bar.spans[index][0]


async def test_a_key_under_the_mouse_is_highlighted_and_says_what_it_does(workspace, settle):
    app = TourApp(workspace, start=find_chapter("sampling"))
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(4):
            await pilot.pause()
        bar = app.screen.query_one(KeysBar)
        plain = bar.render_line(0)
        x = cell_of(bar, "Next")
        await pilot.hover(KeysBar, offset=(x + 2, 0))
        await pilot.pause()
        assert bar.composed[bar.hovered][2] == "Next"
        assert bar.tooltip == next(k[5] for k in bar.composed if k[2] == "Next")
        lit = bar.render_line(0)
        changed = {a.text.strip() for a, b in zip(plain, lit, strict=False)
                   if a.style != b.style and a.text.strip()}
        assert changed and changed <= {"→", "Next"}
        await pilot.hover(KeysBar, offset=(x - 1, 0))  # the gap before it
        await pilot.pause()
        assert bar.hovered is None or bar.composed[bar.hovered][2] != "Next"
        await settle(pilot)


async def test_a_click_on_a_key_presses_it_and_not_on_a_key_that_is_off(workspace, settle,
                                                                       monkeypatch):
    app = TourApp(workspace, start=find_chapter("sampling"))
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(4):
            await pilot.pause()
        bar = app.screen.query_one(KeysBar)
        checked = next_off(monkeypatch)
        app.screen.refresh_bindings()
        await pauses(pilot)
        start = app.current
        await pilot.click(KeysBar, offset=(cell_of(bar, "Next"), 0))
        await pauses(pilot)
        assert app.current == start  # Next is off here: nothing happens
        monkeypatch.setattr(TourApp, "check_action", checked)
        app.screen.refresh_bindings()
        await pauses(pilot)
        bar = app.screen.query_one(KeysBar)
        await pilot.click(KeysBar, offset=(cell_of(bar, "Next") + 3, 0))
        for _ in range(8):
            await pilot.pause()
        assert app.current == start + 1
        await settle(pilot)
