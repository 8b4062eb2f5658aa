"""The line at the top of every chapter: where you are, and how far along the tour."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class TourHeader(Widget):
    """'3/11 · Tokens', the step inside the chapter, and a strip with one cell per chapter."""

    DEFAULT_CSS = """
    TourHeader {
        dock: top;
        height: 2;
        background: $panel;
        color: $foreground;
    }
    """

    step = reactive(0)
    steps = reactive(1)

    def __init__(self, index: int, titles: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.index = index
        self.titles = titles

    @property
    def where(self) -> str:
        """Plain text of the position, e.g. '3/11 · Tokens' (also used by tests)."""
        return f"{self.index + 1}/{len(self.titles)} · {self.titles[self.index]}"

    def render(self) -> Content:
        width = max(self.size.width, 10)
        left = Content.assemble(
            (f" {self.index + 1}/{len(self.titles)}", "bold"),
            " · ",
            (self.titles[self.index], "bold $accent"),
        )
        room = getattr(self.app, "room_label", "")  # in a room: following, exploring, presenting
        right_text = ((f"{room}  " if room else "")
                      + (f"step {self.step + 1}/{self.steps}  " if self.steps > 1 else "")
                      + "llm-tour ")
        right = Content.styled(right_text, "dim")
        gap = max(1, width - left.cell_length - right.cell_length)
        line = Content.assemble(left, " " * gap, right).truncate(width)
        return Content.assemble(line, "\n", self._strip(width))

    def _strip(self, width: int) -> Content:
        """One cell per chapter: done, here, ahead. Cells share the width evenly."""
        total = len(self.titles)
        edges = [round(i * width / total) for i in range(total + 1)]
        parts: list[tuple[str, str]] = []
        for i in range(total):
            cells = edges[i + 1] - edges[i]
            if i < self.index:
                parts.append(("━" * cells, "$accent"))
            elif i == self.index:
                parts.append(("━" * cells, "bold $warning"))
            else:
                parts.append(("─" * cells, "dim"))
        return Content.assemble(*parts)
