"""Step 5: the cleaning passes, in FineWeb's order.

Each pass is a callable ``(Document) -> Drop | None``: None keeps the document (a pass
may rewrite its text), a :class:`~engine.data.document.Drop` names why it goes. The
thresholds are the ones FineWeb used (datatrove's defaults unless noted), written
where they are read.
"""

from __future__ import annotations

import re

# datatrove's word split is language-aware; a regex split is close enough for English.
_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]", re.UNICODE)
PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~…‘’“”–—·")
END_PUNCTUATION = (".", "?", "!", '"', "'", "”", "’")


def split_words(text: str) -> list[str]:
    return _WORD.findall(text)
