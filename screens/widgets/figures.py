"""Model figures as text, in one place.

A probability, a loss or an attention weight comes out of floating point, and its last digits
differ from one CPU to the next. Every screen formats such a figure here, so the snapshot tests
can switch ``MASKED`` on and see the same characters, in the same places, on every machine.
"""

from __future__ import annotations

MASKED = False  # the snapshot tests set this: every figure prints as '#', the same width always


def figure(value: float, spec: str) -> str:
    """``format(value, spec)``, or, masked, that spec's shape with '#' for every digit."""
    if MASKED:
        return "".join("#" if c.isdigit() else c for c in format(0.5, spec))
    return format(value, spec)


def percent(p: float, spec: str = ".2%") -> str:
    """A probability as a percentage: ``percent(0.8858)`` is "88.58%"."""
    return figure(p, spec)


def weight(w: float) -> str:
    """An attention weight in three characters: ".47", "1.0" for a row that looks at one token."""
    if MASKED:
        return ".##"
    return "1.0" if w >= 0.995 else f"{w:.2f}"[1:]
