"""A live loss curve in braille dots: training loss as a line, validation loss as points.

Braille cells hold 2x4 dots, so an 80-column terminal gets a curve of 150-odd points. The
y axis is the loss (its range follows the data), the x axis the step.
"""

from __future__ import annotations

import math
from typing import Any

from textual.content import Content
from textual.widgets import Static

AXIS_WIDTH = 7  # "  4.21 ┤"
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][column] bits


class LossChart(Static):
    """``add_train(step, loss)``, ``add_val(step, loss)``, ``reset(max_steps)``."""

    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    LossChart {
        height: 12;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    """

    def __init__(self, max_steps: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = "Loss"
        self.max_steps = max(1, max_steps)
        self.train: list[tuple[int, float]] = []
        self.val: list[tuple[int, float]] = []

    def reset(self, max_steps: int) -> None:
        self.max_steps = max(1, max_steps)
        self.train, self.val = [], []
        self.redraw()

    def add_train(self, step: int, loss: float) -> None:
        self.train.append((step, loss))
        self.redraw()

    def add_val(self, step: int, loss: float) -> None:
        self.val.append((step, loss))
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        self.border_subtitle = Content.assemble(
            ("⣿ train", "$primary"), "  ", ("● validation", "$warning"))
        width = max(8, (self.content_size.width or 60) - AXIS_WIDTH - 1)
        height = max(2, (self.content_size.height or 10) - 1)
        self.update(render(self.train, self.val, self.max_steps, width, height))


def render(train: list[tuple[int, float]], val: list[tuple[int, float]], max_steps: int,
           width: int, height: int) -> Content:
    """The chart as text: ``height`` rows of braille ``width`` cells wide, and a step axis."""
    losses = [v for _, v in train + val if math.isfinite(v)]
    if not losses:
        empty = Content.styled("The loss appears here once training starts.", "italic $text-muted")
        return Content("\n").join([empty] + [Content("")] * height)
    top, bottom = max(losses), min(losses)
    if top - bottom < 1e-6:
        top, bottom = top + 0.5, max(0.0, bottom - 0.5)
    dots_x, dots_y = width * 2, height * 4

    def cell_of(step: int, loss: float) -> tuple[int, int]:
        x = min(dots_x - 1, int(step / max_steps * (dots_x - 1)))
        y = round((top - loss) / (top - bottom) * (dots_y - 1))
        return x, max(0, min(dots_y - 1, y))

    grid = [[0] * width for _ in range(height)]
    marks: dict[tuple[int, int], bool] = {}
    # Training loss: averaged per dot column, joined by vertical runs so it reads as a line.
    per_col: dict[int, list[float]] = {}
    for step, loss in train:
        if math.isfinite(loss):
            x, _ = cell_of(step, loss)
            per_col.setdefault(x, []).append(loss)
    previous = None
    for x in sorted(per_col):
        _, y = cell_of(0, sum(per_col[x]) / len(per_col[x]))
        ys = range(min(y, previous), max(y, previous) + 1) if previous is not None else [y]
        for yy in ys:
            grid[yy // 4][x // 2] |= _DOTS[yy % 4][x % 2]
        previous = y
    for step, loss in val:
        if math.isfinite(loss):
            x, y = cell_of(step, loss)
            marks[(y // 4, x // 2)] = True

    rows = []
    for r in range(height):
        if r == 0:
            label = f"{top:6.2f} ┤"
        elif r == height - 1:
            label = f"{bottom:6.2f} ┤"
        else:
            label = "       │"
        parts: list[tuple[str, str] | str] = [(label, "$text-muted")]
        for c in range(width):
            if (r, c) in marks:
                parts.append(("●", "bold $warning"))
            elif grid[r][c]:
                parts.append((chr(0x2800 + grid[r][c]), "$primary"))
            else:
                parts.append(" ")
        rows.append(Content.assemble(*parts))
    left, right = "step 0", f"{max_steps:,}"
    axis = " " * AXIS_WIDTH + left + " " * max(1, width - len(left) - len(right) + 1) + right
    rows.append(Content.styled(axis, "$text-muted"))
    return Content("\n").join(rows)
