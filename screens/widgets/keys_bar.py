"""The keys bar at the bottom of every chapter: the keys that work now, in one line that fits.

A chapter lists its own keys first, in the order a viewer needs them; the tour's keys
(next, back, go to, keys, quit) follow, the same in every chapter. When the terminal is
too narrow for all of them, keys give way rather than being cut at the edge: the tour's
keys first (``GIVE_WAY_FIRST``: they are the same everywhere and all on show in the
Welcome chapter), then the chapter's own from the last. ``? Keys`` never gives way, and
says "All keys" once some did: every key is still in the help it opens.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class BarKey(NamedTuple):
    binding: Binding
    display: str  # the key as the bar shows it: "space", "?", "⏎"
    enabled: bool
    tooltip: str

    @property
    def width(self) -> int:
        """Cells the key takes in the compact bar: the key, a space, its description."""
        description = self.binding.description
        return cell_len(self.display) + (1 + cell_len(description) if description else 0)


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


class KeysBar(Footer):
    """Textual's compact Footer, with the keys that give way when the line is too short."""

    DEFAULT_CSS = """
    KeysBar.-compact FooterKey:last-child {
        margin-right: 0;  /* the line ends with the last key: nothing to scroll to */
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(compact=True, show_command_palette=False, **kwargs)
        self.width_composed = 0
        self.gave_way: list[BarKey] = []  # the keys the bar has no room for (in the help)
        self.composed: list[tuple] | None = None  # what the bar last drew (``line``)

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

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        self.width_composed = width
        self.composed, self.gave_way = self.line(width)
        for key, display, description, action, enabled, tooltip in self.composed:
            yield FooterKey(key, display, description, action, disabled=not enabled,
                            tooltip=tooltip).data_bind(compact=Footer.compact)

    def bindings_changed(self, screen: Screen) -> None:
        """The screen's keys changed (a focus, a step, a chapter's own keys coming up): the
        bar is composed again only if what it shows changed. A tour starting up changes its
        bindings many times over to the same line; composing each anew costs a room of
        viewers stepping away together most of what their tours' first second costs."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return
        width = self.size.width or self.app.size.width
        if width != self.width_composed or self.line(width)[0] != self.composed:
            await self.recompose()

    def on_resize(self, event: events.Resize) -> None:
        # (before its first compose the bar has nothing to redo: it composes at its width)
        if self.width_composed and event.size.width != self.width_composed:
            self.call_after_refresh(self.recompose)
