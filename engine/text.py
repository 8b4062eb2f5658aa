"""Text from a model or a web page, made safe to show on a terminal.

A model writes whatever tokens it likes and a page holds whatever bytes its author
put there. Sent to a terminal as they are, an ESC starts a control sequence: ``ESC]0;``
retitles the window, ``ESC[2J`` clears the screen, a carriage return writes over the
line before it. Every place that shows such text passes it through :func:`printable`
first, which keeps the text readable and shows each control character as its visible
Unicode "control picture" (ESC as ␛), so nothing is hidden and nothing is obeyed.
"""

from __future__ import annotations

import re

# C0 controls (but tab and newline), DEL, the C1 controls, and the bidirectional
# overrides and isolates that reorder what a reader sees.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def printable(text: object, *, newlines: bool = True) -> str:
    """``text`` with every control character shown instead of obeyed.

    Tabs stay; newlines stay unless ``newlines`` is false (then they are shown as ␊,
    for text that must fit on one line).
    """
    text = str(text)
    if not newlines:
        text = text.replace("\n", "\u240a")
    return _UNSAFE.sub(_picture, text)


def is_printable(text: str) -> bool:
    """True when ``text`` has nothing :func:`printable` would change."""
    return _UNSAFE.search(text) is None
