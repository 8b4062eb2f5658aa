"""Near-duplicate removal with MinHash LSH, FineWeb's settings.

Each document becomes the set of its word 5-grams; 112 hash functions summarise
the set, split into 14 bands of 8 rows. Two documents that agree on every row of
some band are near-duplicates (about 75% Jaccard similarity or more is likely to
match). FineWeb ran this per crawl; the tour runs it over its one crawl.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

from engine.data.document import Document, Drop

_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 5) -> set[bytes]:
    words = _TOKEN.findall(text.lower())
    if len(words) < n:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i:i + n]).encode("utf-8") for i in range(len(words) - n + 1)}


@dataclass
class MinHashDedup:
    name: str = "minhash"
    ngram: int = 5
    bands: int = 14
    rows: int = 8
    seed: int = 1
    _lsh: object = field(default=None, repr=False)
    _hashes: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from datasketch import MinHashLSH

        self._lsh = MinHashLSH(num_perm=self.bands * self.rows, params=(self.bands, self.rows))

    def signature(self, text: str):
        from datasketch import MinHash

        # crc32 is a C function: hashing the shingles costs a fraction of datasketch's
        # default sha1, and 32 bits are what its permutations use anyway.
        m = MinHash(num_perm=self.bands * self.rows, seed=self.seed, hashfunc=zlib.crc32)
        m.update_batch(list(shingles(text, self.ngram)))
        return m

    def __call__(self, doc: Document) -> Drop | None:
        m = self.signature(doc.text)
        matches = self._lsh.query(m)
        if matches:
            other = min(matches)
            similarity = m.jaccard(self._hashes[other])
            return Drop("near_duplicate", f"{similarity:.0%} like {other}")
        if doc.url not in self._hashes:
            self._lsh.insert(doc.url, m)
            self._hashes[doc.url] = m
        return None
