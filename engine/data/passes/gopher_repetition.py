"""Gopher's repetition rules: pages that say the same thing over and over.

From Rae et al. 2021 ("Scaling Language Models: Methods, Analysis & Insights from
Training Gopher"), table A1, as implemented in datatrove's GopherRepetitionFilter
and used unchanged by FineWeb.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from engine.data.document import Document, Drop
from engine.data.passes import split_words


def find_duplicates(items: list[str]) -> tuple[int, int]:
    """(how many items repeat an earlier one, how many characters those repeats hold)."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


def _ngrams(ids: list[int], n: int) -> list[tuple[int, ...]]:
    return list(zip(*(ids[k:] for k in range(n))))


def top_ngram_chars(words: list[str], n: int, ids: list[int] | None = None) -> int:
    """Characters of the most frequent n-gram times its count (words joined by spaces)."""
    ids = ids if ids is not None else _word_ids(words)
    grams = Counter(_ngrams(ids, n))
    if not grams:
        return 0
    gram, count = grams.most_common(1)[0]
    start = next(i for i in range(len(ids)) if tuple(ids[i:i + n]) == gram)
    return (sum(len(w) for w in words[start:start + n]) + n - 1) * count


def duplicated_ngram_chars(words: list[str], n: int, ids: list[int] | None = None) -> int:
    """Characters inside n-grams that already appeared (non-overlapping, as datatrove)."""
    ids = ids if ids is not None else _word_ids(words)
    grams = _ngrams(ids, n)
    if len(set(grams)) == len(grams):
        return 0
    seen: set[tuple[int, ...]] = set()
    chars = i = 0
    while i < len(grams):
        gram = grams[i]
        if gram in seen:
            chars += sum(len(w) for w in words[i:i + n])
            i += n
        else:
            seen.add(gram)
            i += 1
    return chars


def _word_ids(words: list[str]) -> list[int]:
    """Each distinct word as a small int, so n-grams are tuples compared in C."""
    table: dict[str, int] = {}
    return [table.setdefault(w, len(table)) for w in words]


@dataclass
class GopherRepetitionFilter:
    name: str = "gopher_repetition"
    dup_line_frac: float = 0.3
    dup_para_frac: float = 0.3
    dup_line_char_frac: float = 0.2
    dup_para_char_frac: float = 0.2
    top_n_grams: tuple[tuple[int, float], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
    dup_n_grams: tuple[tuple[int, float], ...] = (
        (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))

    def __call__(self, doc: Document) -> Drop | None:
        text = doc.text
        if not text:
            return Drop("empty")
        paragraphs = re.split(r"\n{2,}", text.strip())
        count, chars = find_duplicates(paragraphs)
        if count / len(paragraphs) > self.dup_para_frac:
            return Drop("dup_para_frac", f"{count}/{len(paragraphs)} paragraphs repeat")
        if chars / len(text) > self.dup_para_char_frac:
            return Drop("dup_para_char_frac", f"{chars / len(text):.0%} of characters")
        lines = re.split(r"\n+", text)
        count, chars = find_duplicates(lines)
        if count / len(lines) > self.dup_line_frac:
            return Drop("dup_line_frac", f"{count}/{len(lines)} lines repeat")
        if chars / len(text) > self.dup_line_char_frac:
            return Drop("dup_line_char_frac", f"{chars / len(text):.0%} of characters")
        words = split_words(text)
        ids = _word_ids(words)
        for n, limit in self.top_n_grams:
            share = top_ngram_chars(words, n, ids) / len(text)
            if share > limit:
                return Drop(f"top_{n}_gram", f"most common {n}-gram is {share:.0%} of text")
        for n, limit in self.dup_n_grams:
            grams = _ngrams(ids, n)
            if len(set(grams)) == len(grams):
                break  # no n-gram repeats, so no longer one can: the rest are all zero
            share = duplicated_ngram_chars(words, n, ids) / len(text)
            if share > limit:
                return Drop(f"duplicated_{n}_n_grams", f"{share:.0%} of text in repeated {n}-grams")
        return None
