"""Chapter 1: what the tour is, the two phases, the map, and the machine it runs on."""

from __future__ import annotations

from typing import ClassVar

from textual.content import Content
from textual.widgets import Static

from screens.base import ChapterScreen
from screens.registry import CHAPTERS
from screens.widgets.lookup import LookupPanel


class ChapterMap(Static):
    """Every chapter of the tour with its number and one line about it."""

    DEFAULT_CSS = """
    ChapterMap {
        height: auto;
        padding: 0 1;
        margin: 0 0 1 0;
    }
    """

    def on_mount(self) -> None:
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(justify="right", style="bold")
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        for number, chapter in enumerate(CHAPTERS, 1):
            grid.add_row(str(number), chapter.title, chapter.blurb)
        self.update(grid)


class HardwarePanel(LookupPanel):
    """CPU, memory and accelerator, found by a worker so torch loads after the first frame."""

    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    HardwarePanel {
        height: auto;
        margin: 0 0 1 0;
    }
    """
    WAITING = "Looking at this machine…"
    FAILED = "Could not look at the hardware"

    def lookup(self):
        from engine.model.hardware import describe

        return describe()

    def show(self, hw) -> None:
        rows = [
            ("CPU", f"{hw.cpu} · {hw.cores} cores"),
            ("Memory", f"{hw.memory_gb:.1f} GB" if hw.memory_gb else "unknown"),
            ("Accelerator", hw.gpu_name or "none: training runs on the CPU"),
            ("torch", f"{hw.torch_version} · device {hw.accelerator}"),
        ]
        self.update(Content("\n").join(
            Content.assemble((f"{name:<12}", "bold"), value) for name, value in rows
        ))


class WelcomeScreen(ChapterScreen):
    WIDGETS: ClassVar[dict[str, type]] = {"chapter_map": ChapterMap, "hardware": HardwarePanel}
