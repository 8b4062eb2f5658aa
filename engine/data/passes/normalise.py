"""Unicode and whitespace normalisation, so later passes compare like with like."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from engine.data.document import Document, Drop

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


@dataclass
class Normaliser:
    name: str = "normalise"
    form: str = "NFC"  # compose accents so "é" is one code point everywhere

    def __call__(self, doc: Document) -> Drop | None:
        text = unicodedata.normalize(self.form, doc.text.replace("\r\n", "\n").replace("\r", "\n"))
        text = _CONTROL.sub("", text)
        lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
        doc.text = text
        if not text:
            return Drop("empty", "no text left after normalisation")
        return None
