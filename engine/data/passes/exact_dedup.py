"""Exact deduplication: the same text twice (a mirror, a syndicated copy) is kept once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from engine.data.document import Document, Drop


@dataclass
class ExactDedup:
    name: str = "exact_dedup"
    seen: dict[str, str] = field(default_factory=dict)  # text hash -> first URL

    def __call__(self, doc: Document) -> Drop | None:
        key = hashlib.sha1(" ".join(doc.text.split()).lower().encode("utf-8")).hexdigest()
        first = self.seen.setdefault(key, doc.url)
        if first != doc.url:
            return Drop("exact_duplicate", f"same text as {first}")
        return None
