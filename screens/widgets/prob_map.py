"""The probability map: one bar per candidate token, the chosen one and the actual one marked.

"One probability for every token in the vocabulary. Here, we only show the top three." The
map shows the top entries it is given; when the token that actually came next is not among
them, it gets a row of its own underneath, so training can be seen pushing it up.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static

from screens.widgets import figures

LABEL_WIDTH = 14


def visible(token: str) -> str:
    """A token as itself, quoted, so a leading space or a newline can be seen."""
    return '"' + "".join(c if c.isprintable() else repr(c)[1:-1] for c in token) + '"'


def in_text(token: str) -> str:
    """A token quoted in running text, its spaces written ␣ as the chapter texts write them
    ("␣Paris"): a line never breaks at the space inside the quotes ('of "' / 'Paris"')."""
    return visible(token).replace(" ", "␣")


def bar(p: float, width: int) -> str:
    """A bar of ``p`` of ``width`` cells, in eighths of a cell."""
    if figures.MASKED:  # the length would carry the figure's last digits
        return "▒" * (width // 2)
    eighths = round(max(0.0, min(1.0, p)) * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + ("" if rest == 0 else " ▏▎▍▌▋▊▉"[rest])


def row_label(token: str, *, marked: bool, width: int = LABEL_WIDTH) -> str:
    """A row's token, cut to the label column. Masked, only the chosen or the actual token
    shows: which runners-up make the list, and in what order, is a figure too."""
    if figures.MASKED and not marked:
        return "·" * 6
    label = visible(token)
    return label if len(label) <= width else label[:width - 1] + "…"


class ProbMap(Static):
    """``show(entries, chosen, actual, actual_prob)``: entries are (token text, probability)."""

    DEFAULT_CSS = """
    ProbMap {
        height: auto;
        min-height: 3;
        border: round $accent;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    """

    def __init__(self, title: str = "Probability map", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = title
        self.shown: tuple | None = None

    def on_resize(self) -> None:
        if self.shown is not None:
            self.show(*self.shown)

    def clear(self, message: str = "") -> None:
        self.shown = None
        self.update(Content.styled(message, "italic $text-muted"))

    def show(self, entries: list[tuple[str, float]], chosen: int | None = None,
             actual: str | None = None, actual_prob: float | None = None) -> None:
        """Draw the map. ``chosen`` indexes ``entries``; ``actual`` is the token that really
        came next (marked where it appears, or added below with ``actual_prob``)."""
        self.shown = (entries, chosen, actual, actual_prob)
        inner = self.content_size.width or 40
        label_width, compact = LABEL_WIDTH, False
        width = inner - LABEL_WIDTH - 19  # mark, label, percent, "✓ next"
        if width < 4:  # a narrow map (two side by side at 60 columns): "✓", a shorter label
            compact = True
            label_width = max(8, min(LABEL_WIDTH, inner - 18))
            width = max(0, inner - label_width - 14)
        rows = []
        found = False
        for i, (token, p) in enumerate(entries):
            is_actual = actual is not None and token == actual
            found = found or is_actual
            rows.append(self._row(token, p, width, chosen=i == chosen, actual=is_actual,
                                  label_width=label_width, compact=compact))
        if actual is not None and not found:
            rows.append(self._row(actual, actual_prob, width, chosen=False, actual=True,
                                  label_width=label_width, compact=compact))
        self.update(Content("\n").join(rows) if rows else "")

    @staticmethod
    def _row(token: str, p: float | None, width: int, *, chosen: bool, actual: bool,
             label_width: int = LABEL_WIDTH, compact: bool = False) -> Content:
        label = row_label(token, marked=chosen or actual, width=label_width)
        mark = ("▶ ", "bold $accent") if chosen else ("  ", "")
        style = "bold reverse $accent" if chosen else "bold $success" if actual else "bold"
        filled = bar(p or 0.0, width)
        note = (("  ✓" if compact else "  ✓ next"), "bold $success") if actual else ("", "")
        percent = figures.percent(p, "7.2%") if p is not None else "      ?"
        return Content.assemble(
            mark, (f"{label:<{label_width}}", style), " ",
            (filled, "$success" if actual else "$accent" if chosen else "$primary"),
            " " * (width - len(filled)), (f" {percent}", "bold" if chosen or actual else ""),
            note)
