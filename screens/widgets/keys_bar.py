"""The keys bar at the bottom of every chapter: the keys that work now, in one line that fits.

A chapter lists its own keys first, in the order a viewer needs them; the tour's keys
(next, back, go to, keys, quit) follow, the same in every chapter. When the terminal is
too narrow for all of them, keys give way rather than being cut at the edge: the tour's
keys first (``GIVE_WAY_FIRST``: they are the same everywhere and all on show in the
Welcome chapter), then the chapter's own from the last. ``? Keys`` never gives way, and
says "All keys" once some did: every key is still in the help it opens.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

from rich.cells import cell_len
from rich.style import Style as RichStyle
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget


class BarKey(NamedTuple):
    binding: Binding
    display: str  # the key as the bar shows it: "space", "?", "⏎"
    enabled: bool
    tooltip: str

    @property
    def width(self) -> int:
        """Cells the key takes in the compact bar: the key, a space, its description."""
        return key_width(self.display, self.binding.description)


def key_width(display: str, description: str) -> int:
    """Cells a key takes in the compact bar: the key, a space, its description."""
    return cell_len(display) + (1 + cell_len(description) if description else 0)


HELP_ID = "help"  # the App's "? Keys": always in the bar
MORE = "All keys"  # its description once some keys gave way
# The tour's keys (ids of the App's bindings), in the order they give way.
GIVE_WAY_FIRST = ("goto_chapter", "prev_chapter", "quit", "next_chapter")


def bar_width(keys: list[BarKey]) -> int:
    """Cells a compact bar of ``keys`` needs: each key, and one cell between two."""
    return sum(key.width for key in keys) + max(0, len(keys) - 1)


def fit_keys(keys: list[BarKey], width: int) -> tuple[list[BarKey], list[BarKey]]:
    """(shown, gave way): ``keys`` in their order, less those that give way until the bar
    fits in ``width`` cells. The help key stays, whatever the width."""
    rank = {ident: place for place, ident in enumerate(GIVE_WAY_FIRST)}
    own = [k for k in keys if k.binding.id not in rank and k.binding.id != HELP_ID]
    order = sorted((k for k in keys if k.binding.id in rank), key=lambda k: rank[k.binding.id])
    order += reversed(own)
    shown = list(keys)
    gone: list[BarKey] = []

    def need() -> int:
        extra = cell_len(MORE) - cell_len("Keys") if gone else 0
        return bar_width(shown) + extra

    for key in order:
        if need() <= width:
            break
        shown.remove(key)
        gone.append(key)
    return shown, [k for k in keys if k in gone]


class KeysBar(Widget, can_focus=False):
    """The compact keys line Textual's Footer draws, drawn by one widget.

    Textual's Footer makes a widget of every key, composed again each time the keys that
    work change (a focus, a step), each styled, laid out and drawn: about half of what
    opening a chapter cost (``benchmarks/tour_open.py --compare keys-bar`` measures it
    against Textual's Footer). Here the line is one piece of text, in Textual's footer
    colours; a key under the mouse is highlighted and shows its tooltip, and a click on it
    presses it."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keys-bar--key", "keys-bar--description", "keys-bar--hover",
    }
    DEFAULT_CSS = """
    KeysBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        &:hover { pointer: pointer; }
        .keys-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .keys-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .keys-bar--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.width_composed = 0
        self.gave_way: list[BarKey] = []  # the keys the bar has no room for (in the help)
        self.composed: list[tuple] | None = None  # what the bar draws (``line``)
        self.spans: list[tuple[int, int]] = []  # the cells each composed key takes
        self.hovered: int | None = None  # the composed key under the mouse
        self._bindings_ready = False

    def bar_keys(self) -> list[BarKey]:
        """One key per action the bar shows now (the first of its keys), in the bar's order."""
        keys: dict[str, BarKey] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in keys:
                keys[binding.action] = BarKey(binding, self.app.get_key_display(binding),
                                              enabled, tooltip)
        return list(keys.values())

    def line(self, width: int) -> tuple[list[tuple], list[BarKey]]:
        """(each key the bar shows: key, display, description, action, enabled, tooltip;
        the keys that gave way), for a bar ``width`` cells wide."""
        shown, gave_way = fit_keys(self.bar_keys(), width)
        line = []
        for key in shown:
            binding = key.binding
            description, tooltip = binding.description, key.tooltip or binding.tooltip
            if binding.id == HELP_ID and gave_way:
                description = MORE
                tooltip = "Show every key that works here, the ones this bar has no room for too"
            line.append((binding.key, key.display, description, binding.action, key.enabled,
                         tooltip))
        return line, gave_way

    # -- what the line shows ----------------------------------------------------
    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        """The screen's keys changed (a focus, a step, a chapter's own keys coming up): the
        line is drawn again only if what it shows changed."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            # the tour's first frame (header and frame) goes out first, then the keys
            after_first_frame = getattr(self.app, "after_first_frame", None)
            if after_first_frame is not None:
                after_first_frame(screen, self.update_line)
            else:
                self.call_after_refresh(self.update_line)

    def update_line(self) -> None:
        """Choose the keys for the bar's width; draw them if they are not what it shows."""
        if not self.is_attached or not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        line, gave_way = self.line(width)
        if width == self.width_composed and line == self.composed:
            return
        self.width_composed, self.composed, self.gave_way = width, line, gave_way
        self.spans = []
        start = 0
        for _key, display, description, *_ in line:
            end = start + key_width(display, description)
            self.spans.append((start, end))
            start = end + 1
        self.hovered = None
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self.width_composed:
            self.call_after_refresh(self.update_line)

    def render(self) -> Text:
        text = Text(no_wrap=True, end="")
        key_style = self.get_component_rich_style("keys-bar--key")
        description_style = self.get_component_rich_style("keys-bar--description")
        for index, (_key, display, description, _action, enabled, _tip) in enumerate(
                self.composed or ()):
            part = Text.assemble((display, key_style))
            if description:
                part.append(f" {description}", description_style)
            if index == self.hovered:
                part.stylize(RichStyle(bgcolor=self.get_component_rich_style(
                    "keys-bar--hover").bgcolor))
            if not enabled:
                part.stylize(RichStyle(dim=True))
            if index:
                text.append(" ")
            text.append_text(part)
        return text

    # -- the mouse ----------------------------------------------------------------
    def key_at(self, x: int) -> int | None:
        """The composed key at cell ``x`` of the bar, if any."""
        return next((i for i, (start, end) in enumerate(self.spans) if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = self.key_at(event.x)
        if index != self.hovered:
            self.hovered = index
            self.tooltip = self.composed[index][5] or None if index is not None else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self.hovered is not None:
            self.hovered = None
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self.key_at(event.x)
        if index is None or not self.composed:
            return
        key, *_rest, enabled, _tooltip = self.composed[index]
        if enabled:
            self.app.simulate_key(key)
        else:
            self.app.bell()
