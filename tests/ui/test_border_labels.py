"""Box labels are shortened on purpose, never cut by the border ("bundled with ll…"): each
is given as choices, longest first, and the box shows the longest that fits its width."""

from __future__ import annotations

import pytest
from rich.text import Text
from sizes import SIZE_IDS, SIZES
from textual.app import App, ComposeResult
from textual.widgets import Static

from screens.widgets.border_labels import BORDER_CELLS, FittedBorder, fitting, label_cells, shorter


def cut_labels(screen) -> list[str]:
    """Every border title or subtitle on ``screen`` that is longer than its box has room for."""
    cut = []
    for widget in screen.query("*"):
        width = widget.outer_size.width
        if not width or not widget.display or not widget.styles.border_top[0]:
            continue
        for label in (widget.border_title, widget.border_subtitle):
            if label and label_cells(label) > width - BORDER_CELLS:
                cut.append(f"{widget!r}: {label} ({width} cells wide)")
    return cut


def test_the_longest_choice_that_fits():
    choices = shorter("4,102 tokens", "bundled with llm-tour")
    assert choices == ("4,102 tokens · bundled with llm-tour", "4,102 tokens")
    assert fitting(choices, 50) == choices[0]
    assert fitting(choices, 30) == "4,102 tokens"
    assert fitting(choices, 8) == "4,102 tokens"  # nothing fits: the shortest
    assert fitting(choices, 0) == choices[0]  # not laid out yet
    assert fitting((Text("a · b"), Text("a")), 10) == Text("a")
    assert fitting((), 10) == ""


class Box(FittedBorder, Static):
    DEFAULT_CSS = "Box { border: round white; }"


class OneBox(App):
    def compose(self) -> ComposeResult:
        yield Box("x")

    def on_mount(self) -> None:
        box = self.query_one(Box)
        box.fit_title("Assistant-shaped model", "Assistant model")
        box.fit_subtitle(*shorter("chat.pt", "bundled with llm-tour", "3,000 steps"))


async def test_a_box_chooses_again_when_its_width_changes():
    app = OneBox()
    async with app.run_test(size=(80, 10)) as pilot:
        box = app.query_one(Box)
        await pilot.pause()
        assert box.border_title == "Assistant-shaped model"
        assert box.border_subtitle == "chat.pt · bundled with llm-tour · 3,000 steps"
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        assert box.border_title == "Assistant-shaped model"
        assert box.border_subtitle == "chat.pt · bundled with llm-tour"
        await pilot.resize_terminal(26, 10)
        await pilot.pause()
        assert box.border_title == "Assistant model" and box.border_subtitle == "chat.pt"
        assert cut_labels(app.screen) == []
        await pilot.resize_terminal(80, 10)
        await pilot.pause()
        assert box.border_subtitle.endswith("3,000 steps")


async def test_a_label_set_before_the_box_has_its_width_is_fitted_once_laid_out(monkeypatch):
    app = OneBox()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        box = app.query_one(Box)
        # no resize to count on (one handled before the label came): the box is laid out
        monkeypatch.setattr(FittedBorder, "on_resize", lambda self: None)
        box.styles.width = 24
        box.fit_subtitle(*shorter("chat.pt", "bundled with llm-tour", "3,000 steps"))
        await pilot.pause()
        assert box.border_subtitle == "chat.pt" and cut_labels(app.screen) == []


async def test_the_check_sees_a_label_the_border_cuts():
    app = OneBox()
    async with app.run_test(size=(20, 10)) as pilot:
        await pilot.pause()
        app.query_one(Box).border_subtitle = "chat.pt · bundled with llm-tour"
        assert cut_labels(app.screen)


@pytest.mark.bundled
@pytest.mark.parametrize("size", SIZES[1:], ids=SIZE_IDS[1:])  # boxes only grow above 80
async def test_no_chapter_has_a_label_the_border_cuts(workspace, settle, monkeypatch, size):
    """Every chapter, every step shown, with the bundled dataset and models (the longest
    labels: "bundled with llm-tour", the models' lineage): no border cuts a label."""
    from engine.data.crawler import CrawlConfig
    from screens.data import DataScreen
    from screens.registry import CHAPTERS
    from tui.app import TourApp

    monkeypatch.setattr(DataScreen, "crawl_config",
                        staticmethod(lambda: CrawlConfig(max_pages=5, politeness=0.0)))
    app = TourApp(workspace)
    found = {}
    async with app.run_test(size=size) as pilot:
        for index, chapter in enumerate(CHAPTERS):
            app.goto(index)
            await settle(pilot)
            app.screen.step = app.screen.step_count - 1
            await settle(pilot)
            await pilot.pause()
            if cut := cut_labels(app.screen):
                found[chapter.slug] = cut
        await settle(pilot)
    assert found == {}
