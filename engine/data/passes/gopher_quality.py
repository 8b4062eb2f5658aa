"""Gopher's quality rules: length, word shape, symbols, bullets, stop words.

From Rae et al. 2021, appendix A.1.1, with datatrove's GopherQualityFilter defaults,
which FineWeb ran unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.data.document import Document, Drop
from engine.data.passes import PUNCTUATION, split_words

_LETTER = re.compile(r"[^\W\d_]")
STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})


@dataclass
class GopherQualityFilter:
    name: str = "gopher_quality"
    min_doc_words: int = 50
    max_doc_words: int = 100_000
    min_avg_word_length: float = 3
    max_avg_word_length: float = 10
    max_symbol_word_ratio: float = 0.1
    max_bullet_lines_ratio: float = 0.9
    max_ellipsis_lines_ratio: float = 0.3
    max_non_alpha_words_ratio: float = 0.8  # at least 80% of words hold a letter
    min_stop_words: int = 2

    def __call__(self, doc: Document) -> Drop | None:
        text = doc.text
        words = split_words(text)
        n_words = len(words) or 1
        # split_words yields runs of word characters or single symbols
        real = [w for w in words if len(w) > 1 or w not in PUNCTUATION]
        if len(real) < self.min_doc_words:
            return Drop("gopher_short_doc", f"{len(real)} words < {self.min_doc_words}")
        if len(real) > self.max_doc_words:
            return Drop("gopher_long_doc", f"{len(real)} words > {self.max_doc_words}")
        average = sum(len(w) for w in real) / len(real)
        if average < self.min_avg_word_length:
            return Drop("gopher_below_avg_threshold", f"average word {average:.1f} chars")
        if average > self.max_avg_word_length:
            return Drop("gopher_above_avg_threshold", f"average word {average:.1f} chars")
        if text.count("#") / n_words > self.max_symbol_word_ratio:
            return Drop("gopher_too_many_hashes")
        if (text.count("...") + text.count("…")) / n_words > self.max_symbol_word_ratio:
            return Drop("gopher_too_many_ellipsis")
        lines = text.splitlines() or [""]
        bullets = sum(line.lstrip().startswith(("•", "-", "*")) for line in lines)
        if bullets / len(lines) > self.max_bullet_lines_ratio:
            return Drop("gopher_too_many_bullets", f"{bullets}/{len(lines)} lines")
        ellipsis = sum(line.rstrip().endswith(("...", "…")) for line in lines)
        if ellipsis / len(lines) > self.max_ellipsis_lines_ratio:
            return Drop("gopher_too_many_end_ellipsis", f"{ellipsis}/{len(lines)} lines")
        alpha = sum(1 for w in words if w.isalpha() or _LETTER.search(w))
        if alpha / n_words < self.max_non_alpha_words_ratio:
            return Drop("gopher_below_alpha_threshold", f"{alpha / n_words:.0%} words with letters")
        stop = sum(w.lower() in STOP_WORDS for w in words)
        if stop < self.min_stop_words:
            return Drop("gopher_enough_stop_words", f"{stop} stop words < {self.min_stop_words}")
        return None
