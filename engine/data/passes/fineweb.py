"""FineWeb's own rules (Penedo et al. 2024, "The FineWeb Datasets", section 3.3).

Found by comparing what the earlier filters let through against what a model
learns best from: pages of short lines, lines without punctuation, repeated lines
and lists. Thresholds are datatrove's FineWebQualityFilter defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.data.document import Document, Drop
from engine.data.passes import END_PUNCTUATION, split_words
from engine.data.passes.gopher_repetition import find_duplicates


@dataclass
class FineWebQualityFilter:
    name: str = "fineweb"
    line_punct_thr: float = 0.12  # drop if at most 12% of lines end in punctuation
    short_line_thr: float = 0.67  # drop if 67% or more of lines are short...
    short_line_length: int = 30  # ...that is, at most 30 characters
    char_duplicates_ratio: float = 0.01  # characters in repeated lines
    new_line_ratio: float = 0.3  # line breaks per word: a list, not prose

    def __call__(self, doc: Document) -> Drop | None:
        lines = [line for line in doc.text.split("\n") if line.strip()]
        if not lines:
            return Drop("empty")
        ratio = sum(line.endswith(END_PUNCTUATION) for line in lines) / len(lines)
        if ratio <= self.line_punct_thr:
            return Drop("line_punct_ratio", f"{ratio:.0%} of lines end in punctuation")
        ratio = sum(len(line) <= self.short_line_length for line in lines) / len(lines)
        if ratio >= self.short_line_thr:
            return Drop("short_line_ratio", f"{ratio:.0%} of lines are short")
        ratio = find_duplicates(lines)[1] / max(1, len(doc.text.replace("\n", "")))
        if ratio >= self.char_duplicates_ratio:
            return Drop("char_dup_ratio", f"{ratio:.1%} of characters in repeated lines")
        words = split_words(doc.text)
        if words and doc.text.count("\n") / len(words) > self.new_line_ratio:
            return Drop("list_ratio", "more line breaks than a text has")
        return None
