"""Text from a model or a web page, made safe to show on a terminal.

A model writes whatever tokens it likes and a page holds whatever bytes its author
put there. Sent to a terminal as they are, an ESC starts a control sequence: ``ESC]0;``
retitles the window, ``ESC[2J`` clears the screen, a carriage return writes over the
line before it. Every place that shows such text passes it through :func:`printable`
first, which keeps the text readable and shows each control character as its visible
Unicode "control picture" (ESC as ␛), so nothing is hidden and nothing is obeyed.
"""

from __future__ import annotations

# C0 controls (but tab and newline) as their control pictures (ESC as ␛), DEL as ␡, and
# the C1 controls and the bidirectional overrides and isolates (which reorder what a
# reader sees) as �. One character for one, so styled spans over the text still fit.
CONTROL_PICTURES: dict[int, str] = {
    **{code: chr(0x2400 + code) for code in range(0x20) if code not in (0x09, 0x0A)},
    0x7F: "\u2421",
    **{code: "\ufffd" for code in range(0x80, 0xA0)},
    **{code: "\ufffd" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}
_ONE_LINE = {**CONTROL_PICTURES, 0x0A: "\u240a"}


def printable(text: object, *, newlines: bool = True) -> str:
    """``text`` with every control character shown instead of obeyed.

    Tabs stay; newlines stay unless ``newlines`` is false (then they are shown as ␊,
    for text that must fit on one line).
    """
    return str(text).translate(CONTROL_PICTURES if newlines else _ONE_LINE)


def is_printable(text: str) -> bool:
    """True when ``text`` has nothing :func:`printable` would change."""
    return printable(text) == text
