"""Unexpected errors while presenting: shown in the chapter and logged, not a traceback.

Textual ends the app on any unhandled error and prints a traceback, which is right
while developing and wrong in front of a room. In presenter mode the tour keeps
going when the failure is confined to one widget (its handler, a timer, a worker):
a widget whose message loop died is taken off the screen, the chapter shows a
short note at the bottom, the full traceback goes to ``errors.log`` in the
workspace, and the rest of the tour still works. An error in
the App or a whole screen still ends the tour, since nothing sensible is left.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import App
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import WorkerFailed

from engine.text import printable
from engine.workspace import ERROR_LOG, Workspace

LOG_FILE = ERROR_LOG


class ErrorNote(Static):
    """One line at the bottom of the chapter: what went wrong, and where the details are."""

    DEFAULT_CSS = """
    ErrorNote {
        dock: bottom;
        height: auto;
        padding: 0 1;
        background: $error 20%;
        color: $text;
    }
    """


def failed_part(error: BaseException) -> Widget | Timer | WorkerFailed | None:
    """What the error ended, if the tour can carry on without it: a worker, a timer's
    callback or one widget's message loop. None for the App's or a screen's."""
    if isinstance(error, WorkerFailed):
        return error
    tb = error.__traceback__
    if tb is None:
        return None
    catcher = tb.tb_frame.f_locals.get("self")  # the frame that caught it: the failing pump
    if isinstance(catcher, Timer):
        return catcher
    if isinstance(catcher, Widget) and not isinstance(catcher, (Screen, App)):
        return catcher
    return None


def log_error(folder: Path, error: BaseException) -> Path:
    """Append the traceback to ``errors.log``; returns its path."""
    return Workspace(folder).log_error(error)


def error_note(error: BaseException, log: Path | None,
               shown: Callable[[str], str] = str) -> ErrorNote:
    """The note for a failed part; ``shown`` is how this viewer may see it (no server paths)."""
    cause = error.error if isinstance(error, WorkerFailed) else error
    where = f" Details: {log}" if log is not None else ""
    return ErrorNote(Text.assemble(("Something went wrong here: ", "bold"),
                                   printable(shown(f"{type(cause).__name__}: {cause}.{where}"))))
