"""Personal data: e-mail addresses are replaced, as FineWeb's PIIFormatter does.

The page stays in the dataset; only the address changes, so a model never learns
a real person's contact details.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.data.document import Document, Drop

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")


@dataclass
class EmailAnonymiser:
    name: str = "anonymise"
    replacement: str = "email@example.com"  # FineWeb's choice

    def __call__(self, doc: Document) -> Drop | None:
        found = [m for m in EMAIL.findall(doc.text) if m != self.replacement]
        if found:
            doc.text = EMAIL.sub(self.replacement, doc.text)
            doc.metadata["emails_replaced"] = len(found)
        return None
