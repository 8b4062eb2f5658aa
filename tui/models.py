"""The model picker (key m) and the workspace reset (in the command palette).

Both change which model every chapter uses; the App then tells every chapter with a
:class:`ModelChanged` message, so labels and answers follow at once instead of on the next key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from screens.base import ModelChanged

__all__ = ["ModelChanged", "ModelPicker", "ResetScreen"]


@dataclass(frozen=True)
class _Row:
    version_id: str
    kind: str
    current: bool
    text: str


def _rows(workspace) -> list[_Row]:
    from engine.model.versions import KINDS, ModelVersions

    versions = ModelVersions(workspace)
    rows = []
    for kind in KINDS:
        current = versions.current(kind)
        shown = versions.list(kind)
        if current is not None and current.id.startswith("workspace-"):
            shown.append(current)  # a base.pt from before versions were kept
        offered = versions.working(kind)
        for version in [*shown, *([offered] if offered else [])]:
            text = version.describe() + ("" if version.bundled else f" · {version.origin}")
            if version.parent:
                text += f" · from {version.parent}"
            if version is offered:
                text += " · the run's base.pt, kept as no version yet"
            text += "\n    " + version.figures_text(compact=True)
            rows.append(_Row(version.id, kind, current is not None and current.id == version.id,
                             text))
    return rows


class ModelPicker(ModalScreen[str | None]):
    """Every model version, bundled and your own; Enter makes one current, Esc leaves."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape,m,q", "dismiss(None)", "Close", id="close_models",
                tooltip="Close the model picker"),
    ]
    DEFAULT_CSS = """
    ModelPicker { align: center middle; }
    ModelPicker > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ModelPicker #models-title { text-style: bold; }
    ModelPicker #models-hint { color: $text-muted; }
    ModelPicker OptionList { height: auto; max-height: 20; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Models (* is what every chapter uses)", id="models-title")
            yield OptionList(id="models-list")
            yield Static("Enter uses the highlighted model · Esc closes", id="models-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).loading = True
        self.load()

    @work(thread=True, exclusive=True, group="models", exit_on_error=False)
    def load(self) -> None:
        try:
            rows = _rows(self.app.workspace)
        except Exception as error:  # a broken index or checkpoint: say so, keep the tour
            self.app.call_from_thread(self._failed, str(error))
            return
        self.app.call_from_thread(self._show, rows)

    def _failed(self, message: str) -> None:
        options = self.query_one(OptionList)
        options.loading = False
        self.query_one("#models-hint", Static).update(f"Could not list the models: {message}")

    def _show(self, rows: list[_Row]) -> None:
        options = self.query_one(OptionList)
        options.loading = False
        options.clear_options()
        kind = None
        for row in rows:
            if row.kind != kind:
                kind = row.kind
                options.add_option(Option(f"{kind} models", disabled=True))
            mark = "* " if row.current else "  "
            options.add_option(Option(mark + row.text, id=row.version_id))
        current = next((row.version_id for row in rows if row.current), None)
        if current is not None:  # start on the model in use
            options.highlighted = options.get_option_index(current)
        if not rows:
            self.query_one("#models-hint", Static).update(
                "No models yet: `llm-tour prepare` builds them · Esc closes")
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ResetScreen(ModalScreen[bool]):
    """Says what a reset removes and keeps; y removes, anything else leaves it as it is."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("y", "dismiss(True)", "Remove", id="reset_yes"),
        Binding("escape,n,q", "dismiss(False)", "Keep everything", id="reset_no"),
    ]
    DEFAULT_CSS = """
    ResetScreen { align: center middle; }
    ResetScreen > Vertical {
        width: 90%; max-width: 90; height: auto; max-height: 90%;
        border: round $error; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Return this workspace to the bundled artifacts?", classes="title")
            yield Static("\n".join(self.lines), markup=False)
            yield Static("y removes what is listed · Esc keeps everything")
