"""The '?' screen: every key that works right now, with what it does."""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from rich.console import Console
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widget import Widget

KEY_NAMES = {
    "question_mark": "?", "space": "Space", "pagedown": "PgDn", "pageup": "PgUp",
    "shift+space": "Shift+Space", "escape": "Esc", "ctrl+p": "Ctrl+P", "ctrl+q": "Ctrl+Q",
    "ctrl+c": "Ctrl+C", "left": "←", "right": "→", "up": "↑", "down": "↓", "enter": "Enter",
    "tab": "Tab", "shift+tab": "Shift+Tab", "home": "Home", "end": "End",
    "super+c": "Cmd+C", "minus": "-", "backspace": "Backspace", "delete": "Delete",
}
MODIFIERS = {"ctrl": "Ctrl", "shift": "Shift", "alt": "Alt", "super": "Cmd", "meta": "Meta"}

NARROW = 80  # columns below which each key's "why" goes under its "does"

# Textual's own bindings carry no tooltip; say what they do here.
BUILTIN_TOOLTIPS = {
    "app.focus_next": "Move to the next control (an input, a list, a button)",
    "app.focus_previous": "Move to the previous control",
    "screen.copy_text": "Copy the selected text",
    "quit": "Leave the tour (it remembers where you were)",
    "command_palette": "Search every command, and go to any chapter by name",
    "app.command_palette": "Search every command, and go to any chapter by name",
}


def key_name(key: str) -> str:
    """One key as the keyboard names it: "shift+up" as "Shift+↑", "left_square_bracket"
    as "["."""
    if key in KEY_NAMES:
        return KEY_NAMES[key]
    *modifiers, base = key.split("+")
    if modifiers:
        name = key_name(base)
        return "+".join([*(MODIFIERS.get(m, m.title()) for m in modifiers),
                         name.upper() if len(name) == 1 else name])
    shown = format_key(base)  # Textual's name of a printable key: "[" for left_square_bracket
    return shown if len(shown) == 1 else base.replace("_", " ").title()


def describe_key(key: str) -> str:
    """``"ctrl+c,super+c"`` as "Ctrl+C / Cmd+C": every key, as the keyboard names it."""
    names = [key_name(k) for k in key.split(",")]
    shown: list[str] = []
    for name in names:  # a run of digits reads as one range: "1-9"
        last = shown[-1] if shown else ""
        first_digit = last.split("-")[0]
        if (name.isdigit() and len(name) == 1 and last[-1:].isdigit()
                and ord(name) == ord(last[-1]) + 1):
            shown[-1] = f"{first_digit}-{name}"
        else:
            shown.append(name)
    return " / ".join(shown)


class HelpScreen(ModalScreen[None]):
    """Lists the bindings of the app, the chapter and the focused widget."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="close_help",
                tooltip="Close this list of keys"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: round $accent;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = bindings

    def compose(self) -> ComposeResult:
        scroll = VerticalScroll()
        scroll.border_title = "Keys · Esc closes"
        with scroll:
            yield KeyTable(self.rows, narrow=self.app.size.width < NARROW, id="help-table")

    def on_resize(self) -> None:
        table = self.query_one(KeyTable)
        narrow = self.app.size.width < NARROW
        if narrow != table.narrow:
            table.narrow = narrow
            table.refresh(layout=True)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()


Rows = tuple[tuple[str, str, str], ...]


def key_table(rows: Rows, narrow: bool) -> Table:
    """The keys as a table: key, what it does and why; on a narrow terminal "why" goes
    under "does"."""
    table = Table(expand=True, box=None, pad_edge=False, show_edge=False)
    table.add_column("Key", style="bold", no_wrap=True)
    if narrow:
        table.add_column("Does", ratio=1)
        for key, description, tooltip in rows:
            table.add_row(describe_key(key),
                          Text.assemble((description, "bold"), "\n" if tooltip else "",
                                        (tooltip, "dim")))
        return table
    table.add_column("Does", no_wrap=True)
    table.add_column("Why", ratio=1)
    for key, description, tooltip in rows:
        table.add_row(describe_key(key), description, tooltip)
    return table


@lru_cache(maxsize=64)
def key_table_lines(rows: Rows, narrow: bool, width: int) -> Text:
    """The table laid out at ``width`` once, as lines of styled text.

    Laying out a table of twenty-odd rows takes about 10 ms, and a widget is measured and
    drawn several times as a screen opens; the same chapter's keys at the same width are the
    same lines for every viewer of a room, so they are laid out once.
    """
    console = Console(width=width, color_system=None, force_terminal=False)
    lines = console.render_lines(key_table(rows, narrow), console.options, pad=False)
    return Text("\n").join(
        Text.assemble(*((segment.text, segment.style) for segment in Segment.simplify(line)))
        for line in lines)


class KeyTable(Widget):
    """The '?' list of keys, laid out once per width (see :func:`key_table_lines`)."""

    DEFAULT_CSS = """
    KeyTable { height: auto; }
    """

    def __init__(self, rows: list[tuple[str, str, str]], *, narrow: bool, id: str) -> None:
        super().__init__(id=id)
        self.rows: Rows = tuple(rows)
        self.narrow = narrow

    def _lines(self, width: int) -> Text:
        return key_table_lines(self.rows, self.narrow, max(width, 1))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width).plain.split("\n"))

    def render(self) -> Text:
        return self._lines(self.content_size.width)


def collect_bindings(screen) -> list[tuple[str, str, str]]:
    """(key, description, tooltip) for every binding active on ``screen``, one row per action."""
    rows: dict[tuple[str, str], tuple[str, str, str]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        ident = (binding.action.partition("(")[0], binding.description)
        if ident in rows:
            key, description, tooltip = rows[ident]
            rows[ident] = (f"{key},{binding.key}", description, tooltip or binding.tooltip)
        else:
            rows[ident] = (binding.key, binding.description or binding.action,
                           binding.tooltip or active.tooltip
                           or BUILTIN_TOOLTIPS.get(binding.action, ""))
    return list(rows.values())
