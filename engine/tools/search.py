"""Search over the tour's own dataset with BM25, the ranking function behind classic search.

The documents are the pages the crawler kept (``dataset.parquet``). Each is cut into
passages of a few sentences, so a result is a piece of text small enough to place in
the model's context, with the URL it came from. BM25 (Robertson & Zaragoza) scores a
passage by how often it holds each query word, weighted by how rare the word is across
all passages, and damped for long passages.

A question about the weather is answered by the (simulated) weather service instead,
the way a search engine shows a weather box: no page in the dataset can know today's
weather.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.tools.weather import WeatherError, forecast

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Words too common to say anything about what a passage is about.
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "has", "have",
    "how", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were",
    "what", "when", "where", "which", "who", "why", "will", "with",
))
_WEATHER = re.compile(
    r"\b(?:weather|temperature|forecast)\b(?:\s+(?:like|forecast))?\s+(?:in|for|at)\s+"
    r"(?P<city>[^\W\d_][\w .'’-]*?)\s*(?:\b(?P<day>today|tomorrow|yesterday|right now|now|tonight)\b)?"
    r"\s*[?.!]*$",
    re.IGNORECASE,
)


def words(text: str) -> list[str]:
    """Lowercase words without stopwords: the terms BM25 counts."""
    return [w for w in _WORD.findall(text.casefold()) if w not in STOPWORDS]


@dataclass(frozen=True)
class Passage:
    url: str
    title: str
    text: str


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


@dataclass(frozen=True)
class BM25Config:
    k1: float = 1.5  # how quickly repeated words stop adding to the score
    b: float = 0.75  # how much a long passage is penalised
    passage_words: int = 80  # passages are cut at sentence ends near this many words


def split_passages(url: str, title: str, content: str, max_words: int = 80) -> list[Passage]:
    """A document as passages: its paragraphs, long ones cut at sentence ends."""
    passages: list[Passage] = []
    for paragraph in re.split(r"\n\s*\n|\n", content):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        chunk: list[str] = []
        count = 0
        for sentence in _SENTENCE_END.split(paragraph):
            n = len(sentence.split())
            if chunk and count + n > max_words:
                passages.append(Passage(url, title, " ".join(chunk)))
                chunk, count = [], 0
            chunk.append(sentence)
            count += n
        if chunk:
            passages.append(Passage(url, title, " ".join(chunk)))
    return passages


@dataclass
class BM25Index:
    """An inverted index over passages, scored with Okapi BM25."""

    passages: list[Passage]
    config: BM25Config = field(default_factory=BM25Config)

    def __post_init__(self) -> None:
        self.postings: dict[str, list[tuple[int, int]]] = {}
        self.lengths: list[int] = []
        for i, passage in enumerate(self.passages):
            terms = words(passage.title) + words(passage.text)
            self.lengths.append(len(terms))
            for term, count in Counter(terms).items():
                self.postings.setdefault(term, []).append((i, count))
        self.average_length = sum(self.lengths) / max(1, len(self.lengths))

    @classmethod
    def from_documents(cls, documents: Iterable[tuple[str, str, str]],
                       config: BM25Config | None = None) -> BM25Index:
        """Index (url, title, content) documents."""
        config = config or BM25Config()
        passages = [p for url, title, content in documents
                    for p in split_passages(url, title, content, config.passage_words)]
        return cls(passages, config)

    def idf(self, term: str) -> float:
        n = len(self.postings.get(term, ()))
        total = len(self.passages)
        return math.log(1 + (total - n + 0.5) / (n + 0.5))

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The k best passages for the query, best first; empty if no word matches."""
        scores: dict[int, float] = {}
        k1, b = self.config.k1, self.config.b
        for term in set(words(query)):
            idf = self.idf(term)
            for i, tf in self.postings.get(term, ()):
                norm = k1 * (1 - b + b * self.lengths[i] / self.average_length)
                scores[i] = scores.get(i, 0.0) + idf * tf * (k1 + 1) / (tf + norm)
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [Hit(self.passages[i], score) for i, score in best]


def load_index(path: str | Path, config: BM25Config | None = None) -> BM25Index:
    """Index a dataset.parquet (columns url, title, content), checked as it is read."""
    from engine.data.store import read_dataset

    table = read_dataset(path, ["url", "title", "content"])
    documents = zip(table["url"], table["title"], table["content"])
    return BM25Index.from_documents(
        ((url or "", title or "", content or "") for url, title, content in documents), config)


def weather_question(query: str) -> tuple[str, str] | None:
    """(city, day) when the query asks for the weather somewhere, e.g. "weather in Paris today"."""
    match = _WEATHER.search(" ".join(query.split()))
    if not match:
        return None
    city = match.group("city").strip(" .'’-")
    city = re.sub(r"\s+(?:right now|this (?:morning|afternoon|evening))$", "", city, flags=re.IGNORECASE)
    return (city, (match.group("day") or "today").lower()) if city else None


def snippet(text: str, query: str, max_chars: int = 240) -> str:
    """The sentences of a passage that share most words with the query, in their order,
    up to ``max_chars``: what a results page shows, and what fits a small context window."""
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    if not sentences:
        return ""
    wanted = set(words(query))
    ranked = sorted(range(len(sentences)),
                    key=lambda i: (-len(wanted & set(words(sentences[i]))), i))
    chosen: list[int] = []
    used = 0
    for i in ranked:
        cost = len(sentences[i]) + (1 if chosen else 0)
        if chosen and used + cost > max_chars:
            continue
        chosen.append(i)
        used += cost
    out = " ".join(sentences[i] for i in sorted(chosen))
    if len(out) > max_chars:
        out = out[:max_chars].rsplit(" ", 1)[0] + " …"
    return out


class Search:
    """The search tool: weather questions go to the weather service, the rest to BM25.

    The model's context window is small (128 tokens on the default preset), so what goes
    back into it is a snippet of the best passage; the passages and their URLs are in
    :meth:`hits` and in the note the viewer sees.
    """

    def __init__(self, index_source: BM25Index | str | Path | None, k: int = 3,
                 snippet_chars: int = 160) -> None:
        self._source = index_source
        self._index: BM25Index | None = index_source if isinstance(index_source, BM25Index) else None
        self._building = threading.Lock()  # a background prepare and a query build it once
        self.k = k
        self.snippet_chars = snippet_chars

    @property
    def index(self) -> BM25Index:
        if self._index is None:
            if self._source is None:
                raise FileNotFoundError("there is no dataset to search: run `llm-tour prepare "
                                        "data` to build it")
            with self._building:
                if self._index is None:
                    self._index = load_index(self._source)
        return self._index

    def prepare(self) -> None:
        """Build the index now if there is a dataset (a missing one is reported per query)."""
        if self._source is not None:
            _ = self.index

    def hits(self, query: str) -> list[Hit]:
        return self.index.search(query, self.k)

    def __call__(self, query: str) -> tuple[str, str]:
        """The result for the context, and a note for the viewer on where it came from."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError("search needs a query")
        asked = weather_question(query)
        if asked is not None:
            city, day = asked
            try:
                reading = forecast(city, day)
            except WeatherError:
                pass  # not a city after all: search the pages
            else:
                return reading.text, reading.note
        hits = self.hits(query)
        if not hits:
            return "no results", (f"BM25 over {len(self.index.passages)} passages: no passage "
                                  "shares a word with the query")
        best = hits[0]
        others = "".join(f"; then {h.passage.url} ({h.score:.2f})" for h in hits[1:])
        return (snippet(best.passage.text, query, self.snippet_chars),
                (f"from {best.passage.url}: BM25 {best.score:.2f}, the best of "
                f"{len(self.index.passages)} passages{others}"))
