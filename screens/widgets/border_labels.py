"""Border titles and subtitles shortened on purpose, never cut off by the border.

A border cuts a label that is longer than the box ("4,102 tokens · bundled with ll…"). A
box that mixes in :class:`FittedBorder` is given each label as choices, longest first
("4,102 tokens · bundled with llm-tour", "4,102 tokens"); it shows the longest that fits
its width, and chooses again whenever its size changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.content import Content
from textual.markup import MarkupError

Label = str | Text | Content

# Cells a border keeps around its label: a corner and a rule on each side, and a space
# either side of the label ("╭─ Title ─╮").
BORDER_CELLS = 6


def label_cells(label: Label) -> int:
    """Cells a label takes on the border (a str there is markup: its tags take none)."""
    if isinstance(label, Text):
        return label.cell_len
    if isinstance(label, Content):
        return label.cell_length
    try:
        return Content.from_markup(label).cell_length
    except MarkupError:  # not markup after all: the border shows it as it is
        return cell_len(label)


def fitting(choices: Sequence[Label], width: int) -> Label:
    """The first of ``choices`` whose label fits a border ``width`` cells wide; the last
    (the shortest) when none does, or before the box has a width."""
    if not choices:
        return ""
    if width <= 0:
        return choices[0]
    room = width - BORDER_CELLS
    return next((label for label in choices if label_cells(label) <= room), choices[-1])


def shorter(*parts: str, sep: str = " · ") -> tuple[str, ...]:
    """Choices that drop ``parts`` from the end: ("a · b · c", "a · b", "a")."""
    return tuple(sep.join(parts[:n]) for n in range(len(parts), 0, -1))


class FittedBorder:
    """A mixin for a bordered widget: ``fit_title(*choices)`` and ``fit_subtitle(*choices)``
    set its border labels, longest first; the box shows what fits its width."""

    # None: a label the box does not fit (set as it is, or not at all)
    _title_choices: tuple[Label, ...] | None = None
    _subtitle_choices: tuple[Label, ...] | None = None

    def fit_title(self, *choices: Label) -> None:
        self._title_choices = choices
        self._fit_border()
        self._fit_after_layout()

    def fit_subtitle(self, *choices: Label) -> None:
        self._subtitle_choices = choices
        self._fit_border()
        self._fit_after_layout()

    def _fit_after_layout(self) -> None:
        """Choose again once the screen has laid the box out: a label set while the box had
        no width yet (or a width about to change) is not left to a resize that may have been
        handled already."""
        if self.is_mounted:  # type: ignore[attr-defined]
            self.call_after_refresh(self._fit_border)  # type: ignore[attr-defined]

    def _fit_border(self) -> None:
        width = self.outer_size.width  # type: ignore[attr-defined]
        if self._title_choices is not None:
            self.border_title = fitting(self._title_choices, width)  # type: ignore[attr-defined]
        if self._subtitle_choices is not None:
            self.border_subtitle = fitting(self._subtitle_choices, width)  # type: ignore

    def on_resize(self) -> None:
        self._fit_border()
