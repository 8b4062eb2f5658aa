"""A chapter's Markdown, rendered once per width for every tour in the process.

Rich renders a chapter's text (``rich.markdown.Markdown``) each time a tour lays it out and
each time it draws it: once to learn its height, once more for its lines. A room serves
every viewer's tour from one process, and thirty viewers stepping away open thirty tours
at the same chapter, at the same width, with the same text. Here the rendered lines are
kept for the process, by text and by everything in the console's options that changes
them, so only the first tour pays for them. The widget's own style (theme, colours) is
applied around them as before (Textual's ``post_render``), so both themes share them.
(``benchmarks/tour_open.py --compare prose`` measures it against rendering each time.)
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import Markdown
from rich.segment import Segment
from textual.widgets import Static

MAX_RENDERS = 512  # texts times widths: a tour's chapters at a few terminal sizes
_RENDERS: OrderedDict[tuple, tuple[Segment, ...]] = OrderedDict()


def _theme_key(console: Console) -> int:
    """What the console's styles (``markdown.h1``, ...) come from: every Textual app's
    console starts from Rich's default theme, the same object, so their renders are alike.
    A console with styles of its own keeps its renders to itself."""
    stack = getattr(console, "_theme_stack", None)
    entries = getattr(stack, "_entries", None)
    return id(entries[-1]) if entries else id(console)


class SharedMarkdown:
    """``rich.markdown.Markdown`` whose rendered segments are shared by every console in
    the process that renders the same text with the same options and styles."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = (self.markup, _theme_key(console), options.max_width, options.min_width,
               options.height, options.justify, options.overflow, options.no_wrap,
               options.highlight, options.markup, options.ascii_only,
               options.legacy_windows, options.is_terminal)
        segments = _RENDERS.get(key)
        if segments is None:
            segments = tuple(console.render(Markdown(self.markup), options))
            if len(_RENDERS) >= MAX_RENDERS:
                _RENDERS.popitem(last=False)
            _RENDERS[key] = segments
        else:
            _RENDERS.move_to_end(key)
        yield from segments


def markdown_static(text: str, **kwargs: Any) -> Static:
    """A Static showing ``text`` as Markdown, rendered once per width for the process."""
    return Static(SharedMarkdown(text), **kwargs)
