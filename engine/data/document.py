"""A document on its way from HTML to a dataset row."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Document:
    url: str
    text: str
    title: str = ""
    site: str = ""
    section: str = ""
    date: str = ""
    fetched_at: str = ""
    html_bytes: int = 0
    metadata: dict = field(default_factory=dict)  # what passes learn: language, scores, ...

    @property
    def source(self) -> str:
        """Where it came from, as in the talk's table: "Public travel notes · Geography basics"."""
        return " · ".join(part for part in (self.site, self.section) if part)


@dataclass(frozen=True)
class Drop:
    """Why a pass removed a document: a named reason, as datatrove records them."""

    reason: str
    detail: str = ""
