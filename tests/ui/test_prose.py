"""A chapter's Markdown is rendered once per width for every tour in the process (a room's),
and what is drawn is what Rich would have drawn."""

from __future__ import annotations

import rich.markdown
from rich.console import Console

from screens.registry import find_chapter
from screens.widgets import prose
from tui.app import TourApp

TEXT = "# A heading\n\nSome *text* with `code`, long enough to wrap at forty cells or so.\n\n- one\n- two"


def lines(renderable, width: int) -> list[str]:
    console = Console(width=width, record=False, color_system="truecolor", force_terminal=True)
    return ["".join(f"{s.text}{s.style!r}" for s in line)
            for line in console.render_lines(renderable, console.options, pad=False)]


def test_what_is_drawn_is_what_rich_draws_at_every_width(monkeypatch):
    monkeypatch.setattr(prose, "_RENDERS", type(prose._RENDERS)())
    for width in (40, 60, 40):
        assert lines(prose.SharedMarkdown(TEXT), width) == lines(rich.markdown.Markdown(TEXT),
                                                                 width)
    assert len(prose._RENDERS) == 2  # one render per width


def test_a_console_with_styles_of_its_own_renders_for_itself(monkeypatch):
    from rich.theme import Theme

    monkeypatch.setattr(prose, "_RENDERS", type(prose._RENDERS)())
    plain = Console(width=50, force_terminal=True)
    styled = Console(width=50, force_terminal=True, theme=Theme({"markdown.h1": "red"}))
    list(plain.render(prose.SharedMarkdown(TEXT), plain.options))
    list(styled.render(prose.SharedMarkdown(TEXT), styled.options))
    assert len(prose._RENDERS) == 2


async def test_a_second_tour_renders_no_markdown_the_first_rendered(workspace, monkeypatch):
    monkeypatch.setattr(prose, "_RENDERS", type(prose._RENDERS)())  # as a fresh process
    renders = []
    real = rich.markdown.Markdown.__rich_console__

    def counting(self, console, options):
        renders.append(self.markup[:20])
        return real(self, console, options)

    monkeypatch.setattr(rich.markdown.Markdown, "__rich_console__", counting)

    async def tour() -> int:
        before = len(renders)
        app = TourApp(workspace, start=find_chapter("history"))
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(4):
                await pilot.pause()
        return len(renders) - before

    assert await tour() > 0
    assert await tour() == 0


def test_the_store_is_bounded(monkeypatch):
    monkeypatch.setattr(prose, "_RENDERS", type(prose._RENDERS)())
    monkeypatch.setattr(prose, "MAX_RENDERS", 3)
    console = Console(width=30, force_terminal=True)
    for n in range(5):
        list(console.render(prose.SharedMarkdown(f"text {n}"), console.options))
    assert len(prose._RENDERS) == 3
    assert [key[0] for key in prose._RENDERS] == ["text 2", "text 3", "text 4"]
