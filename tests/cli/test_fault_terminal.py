"""Fault corpus, terminal: text a model writes never reaches the terminal as control
sequences. The chat command's transcript is fed calls and answers full of escapes (a
window title, a screen clear, a cursor move), in names, argument keys and values."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from engine.tools import loop
from engine.tools.parser import ToolCall, ToolCallError
from tui.commands.chat import _Transcript

ESCAPES = ["\x1b]0;owned\x07", "\x1b[2J", "\x1b[10;10H", "\x9b31m", "\r\x08"]


def transcript_of(events) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", width=200)
    transcript = _Transcript(console, show_context=False)
    for event in events:
        transcript.event(event)
    return out.getvalue()


def without_styles(text: str) -> str:
    """The output less the SGR colour codes the transcript itself writes."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize("escape", ESCAPES, ids=["title", "clear", "move", "c1-csi", "cr-bs"])
def test_fault_model_text_in_the_chat_transcript_is_shown_not_obeyed(escape):
    call = ToolCall(name=f"search{escape}", args={f"key{escape}": f"value{escape}"},
                    positional=(f"pos{escape}",), text="…")
    events = [
        loop.CallToken(loop.Token(1, f"<call{escape}"), f"<call{escape}"),
        loop.CallRecognised(call, known=False),
        loop.CallMalformed(ToolCallError(f"bad{escape}", "…")),
        loop.ToolRunning(call),
        loop.AnswerToken(loop.Token(2, f"Paris{escape}"), f"Paris{escape}"),
        loop.Answer(f"Paris{escape}", (), 1, "end", 10),
    ]
    shown = without_styles(transcript_of(events))
    for control in ("\x1b", "\x07", "\x9b", "\x08"):
        assert control not in shown, repr(shown)
    assert "key" in shown and "value" in shown and "Paris" in shown
