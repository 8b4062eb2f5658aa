"""Byte-level BPE training, GPT-4 style, small enough to read in one sitting.

Text is first cut into chunks by GPT-4's split pattern (words, numbers of up to three
digits, runs of punctuation, whitespace), so a merge never crosses a chunk boundary.
Every chunk starts as its UTF-8 bytes (token IDs 0-255). Training then repeats one
step: find the most frequent adjacent pair of tokens in the corpus, give it the next
free ID, and replace it everywhere. The order of the merges *is* the tokenizer: the
rank of a token is the step that created it, which is exactly what ``tiktoken`` needs
to encode with it.

The trainer is a generator of :class:`Merge` events, one per learned token, so a screen
can watch the vocabulary grow. Counts are kept incrementally (only the chunks that
contain the merged pair are touched) and ties are broken by the smaller pair, the same
rule as ``rustbpe``, so both trainers learn the same merges from the same text.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

# GPT-4's (cl100k_base) split pattern, as tiktoken ships it.
GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

Pair = tuple[int, int]


@dataclass(frozen=True)
class Merge:
    """One learned token: ``left`` + ``right`` became ``token_id`` after ``count`` sightings."""

    token_id: int
    left: int
    right: int
    count: int  # how often the pair occurred in the corpus when it was merged
    token: bytes  # the bytes the new token stands for
    vocab_size: int  # 256 byte tokens + merges so far
    bytes_per_token: float  # on the training corpus, after this merge


def chunk_counts(texts: Iterable[str], pattern: str = GPT4_SPLIT_PATTERN) -> Counter[str]:
    """How often each chunk of the split pattern occurs. BPE only ever sees these."""
    import regex  # the training split only: loading a tokenizer needs no pattern engine

    compiled = regex.compile(pattern)
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(compiled.findall(text))
    return counts


def _pairs(word: list[int]) -> Iterator[Pair]:
    return pairwise(word)


def train_bpe(
    texts: Iterable[str], vocab_size: int, pattern: str = GPT4_SPLIT_PATTERN
) -> Iterator[Merge]:
    """Learn ``vocab_size - 256`` merges from ``texts``; yield each as it is learned.

    Stops early if no pair is left to merge (a tiny corpus). Deterministic: the same
    texts give the same merges.
    """
    if vocab_size < 256:
        raise ValueError(f"vocab_size must be at least 256 (the byte tokens), got {vocab_size}")
    counted = chunk_counts(texts, pattern)
    words: list[list[int]] = [list(chunk.encode("utf-8")) for chunk in counted]
    freqs: list[int] = list(counted.values())
    total_bytes = sum(len(w) * f for w, f in zip(words, freqs))
    total_tokens = total_bytes

    pair_counts: Counter[Pair] = Counter()
    where: dict[Pair, set[int]] = {}
    for index, (word, freq) in enumerate(zip(words, freqs)):
        for pair in _pairs(word):
            pair_counts[pair] += freq
            where.setdefault(pair, set()).add(index)
    # Max-heap on count, ties to the smaller pair; stale entries are skipped when popped.
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)

    vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}
    for token_id in range(256, vocab_size):
        best: Pair | None = None
        while heap:
            negative, pair = heapq.heappop(heap)
            if pair_counts.get(pair, 0) == -negative and -negative > 0:
                best = pair
                break
        if best is None:
            return
        count = pair_counts[best]
        removed = 0  # tokens saved: fewer than ``count`` when the pair overlaps ("aaa")
        changed: set[Pair] = set()
        for index in sorted(where.pop(best, ())):
            word, freq = words[index], freqs[index]
            if len(word) < 2:
                continue
            merged = _merge(word, best, token_id)
            if len(merged) == len(word):
                continue
            for pair in _pairs(word):
                pair_counts[pair] -= freq
                changed.add(pair)
            for pair in _pairs(merged):
                pair_counts[pair] += freq
                changed.add(pair)
                where.setdefault(pair, set()).add(index)
            words[index] = merged
            removed += (len(word) - len(merged)) * freq
        for pair in changed:
            current = pair_counts[pair]
            if current > 0:
                heapq.heappush(heap, (-current, pair))
            else:
                del pair_counts[pair]
        pair_counts.pop(best, None)
        vocab[token_id] = vocab[best[0]] + vocab[best[1]]
        total_tokens -= removed
        yield Merge(
            token_id=token_id,
            left=best[0],
            right=best[1],
            count=count,
            token=vocab[token_id],
            vocab_size=token_id + 1,
            bytes_per_token=total_bytes / total_tokens if total_tokens else 0.0,
        )


def _merge(word: list[int], pair: Pair, token_id: int) -> list[int]:
    """Replace every non-overlapping occurrence of ``pair`` in ``word``, left to right."""
    out: list[int] = []
    i = 0
    n = len(word)
    a, b = pair
    while i < n:
        if i < n - 1 and word[i] == a and word[i + 1] == b:
            out.append(token_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def ranks_from_merges(merges: Iterable[tuple[int, int]]) -> dict[bytes, int]:
    """The ``mergeable_ranks`` table tiktoken encodes with: token bytes -> ID (= rank)."""
    vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}
    for token_id, (left, right) in enumerate(merges, start=256):
        vocab[token_id] = vocab[left] + vocab[right]
    return {token: token_id for token_id, token in vocab.items()}


def rustbpe_merges(
    texts: list[str], vocab_size: int, pattern: str = GPT4_SPLIT_PATTERN
) -> list[tuple[int, int]]:
    """The same training by ``rustbpe`` (the field's Rust trainer), as (left, right) pairs.

    Used as a reference: it is faster and yields the same merges, but cannot be watched.
    """
    import rustbpe

    trainer = rustbpe.Tokenizer()
    trainer.train_from_iterator(iter(texts), vocab_size, pattern=pattern)
    ranks = dict(trainer.get_mergeable_ranks())
    return pairs_from_ranks(ranks)


def pairs_from_ranks(ranks: dict[bytes, int]) -> list[tuple[int, int]]:
    """Recover each merge's (left, right) from a rank table, as minbpe does for GPT-4."""
    by_id = sorted(ranks.items(), key=lambda item: item[1])
    pairs: list[tuple[int, int]] = []
    for token, token_id in by_id:
        if token_id < 256:
            continue
        pairs.append(_split_token(token, token_id, ranks))
    return pairs


def _split_token(token: bytes, token_id: int, ranks: dict[bytes, int]) -> tuple[int, int]:
    """Re-run BPE on ``token`` with only the ranks below its own: two parts remain."""
    parts = [bytes([b]) for b in token]
    while len(parts) > 2:
        best_index, best_rank = -1, None
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and rank < token_id and (best_rank is None or rank < best_rank):
                best_index, best_rank = i, rank
        if best_rank is None:
            break
        parts[best_index : best_index + 2] = [parts[best_index] + parts[best_index + 1]]
    if len(parts) != 2:
        raise ValueError(f"token {token_id} ({token!r}) is not a merge of two earlier tokens")
    return ranks[parts[0]], ranks[parts[1]]
