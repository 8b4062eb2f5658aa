"""Text becomes token IDs: GPT-4's tokenizer, and the tokenizer the tour's model uses.

Two ways to give the tour's tiny model a vocabulary, both run by ``tiktoken``:

- ``gpt4-compact``: GPT-4's own tokens (``cl100k_base``), but only those that occur in
  the tour's texts, renumbered densely after the 256 byte tokens. The model keeps
  GPT-4's good splits (" France", " Paris" are single tokens) with an embedding table
  of a couple of thousand rows instead of a hundred thousand. Any other text still
  encodes: a GPT-4 token outside the compact set falls back to its bytes.
- ``bpe``: the tour's own byte-level BPE, trained on its dataset with GPT-4's split
  pattern (:mod:`engine.tokenizer.bpe`), its learned ranks handed to ``tiktoken.Encoding``.

Both add the special tokens the later chapters need, each a single ID that plain
text can never produce: ``encode`` writes ``<|end|>`` typed by a user as ordinary
characters.

:func:`prepare` is the stage: it builds both, saves the chosen one as the workspace's
``tokenizer.json`` (with a content hash that checkpoints record) and encodes the
dataset into ``train.bin``/``val.bin`` (uint16 token IDs, nanoGPT-style, each document
followed by ``<|endoftext|>``).

The training mix upweights the viewer's own pages, as a data mix upweights a source it
trusts: each page the viewer added in the Data chapter stands in ``train.bin``
:data:`OWN_PAGE_REPEATS` times, so a short run learns to continue it, and never in
``val.bin``, so the validation loss still measures text the model did not train on.
``train-mix.json`` records the mix for the screens and the CLI (:func:`read_mix`).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.events import Progress
from engine.tokenizer import cl100k
from engine.tokenizer.bpe import (
    GPT4_SPLIT_PATTERN,
    Merge,
    pairs_from_ranks,
    ranks_from_merges,
    train_bpe,
)
from engine.tokenizer.protocol import ENDOFTEXT
from engine.workspace import Artifact, BrokenArtifact, Workspace, atomic_path, write_text_atomic

if TYPE_CHECKING:
    import numpy as np
    import tiktoken

SPECIAL_TOKENS: tuple[str, ...] = (
    ENDOFTEXT,
    "<|user|>",
    "<|assistant|>",
    "<|tool_call|>",
    "<|tool_result|>",
    "<|end|>",
)
FORMAT = "llm-tour-tokenizer/1"
Kind = Literal["gpt4-compact", "bpe"]
KINDS: tuple[str, ...] = ("gpt4-compact", "bpe")
BPE_FILE = "tokenizer-bpe.json"  # the tour's own BPE, kept beside the model's tokenizer
MIX_FILE = "train-mix.json"  # what train.bin holds of the viewer's own pages (read_mix)
MIX_FORMAT = "llm-tour-mix/1"
# How many times each of the viewer's own pages stands in train.bin. Sized so that the Training
# chapter's live run continues the page's first sentence word for word early in the run:
# benchmarks/ownpage.py (the bundled dataset plus a 108-token page, one thread) measured its
# first 8 next tokens written at step 125 of 1,600 (6 s of training), and from step 300 on at
# every check; read once (1), the page was not continued by the end of the run.
OWN_PAGE_REPEATS = 30
# At most this share of train.bin is the viewer's pages: a long page gets fewer repeats (at
# least one) rather than crowding out the crawl, and the mix says how many it got.
OWN_SHARE_MAX = 0.25


class TourTokenizer(ABC):
    """A tokenizer the tour's model can use. See :class:`CompactGPT4Tokenizer`, :class:`BPETokenizer`."""

    kind: str
    name: str
    special: dict[str, int]
    _table: list[bytes]  # the bytes of each ordinary token, by ID

    # -- what every tokenizer answers -------------------------------------------------
    @abstractmethod
    def encode(self, text: str) -> list[int]:
        """Plain text to IDs. Special-token text is encoded as ordinary characters."""

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [self.encode(text) for text in texts]

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes one token stands for (a special token: its own text)."""
        if 0 <= token_id < len(self._table):
            return self._table[token_id]
        for token, special_id in self.special.items():
            if special_id == token_id:
                return token.encode("utf-8")
        raise KeyError(f"token ID {token_id} is outside the vocabulary of {self.vocab_size}")

    def decode(self, ids: Iterable[int]) -> str:
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")

    @property
    def vocab_size(self) -> int:
        return max(self.special.values()) + 1

    @property
    def eot(self) -> int:
        return self.special[ENDOFTEXT]

    # -- saving -----------------------------------------------------------------------
    @abstractmethod
    def definition(self) -> dict[str, Any]:
        """Everything that decides which IDs a text gets (what the hash covers)."""

    def extra(self) -> dict[str, Any]:
        """What is saved for showing, not encoding (merge counts): outside the hash."""
        return {}

    @cached_property
    def hash(self) -> str:
        canonical = json.dumps(self.definition(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_json(self) -> str:
        data = {"format": FORMAT, "name": self.name, **self.definition(), **self.extra()}
        data["vocab_size"] = self.vocab_size
        data["hash"] = self.hash
        return json.dumps(data, ensure_ascii=False)

    def save(self, path: str | Path) -> None:
        write_text_atomic(path, self.to_json())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} vocab={self.vocab_size} hash={self.hash[:12]}>"


def _specials_after(n: int) -> dict[str, int]:
    return {token: n + i for i, token in enumerate(SPECIAL_TOKENS)}


class CompactGPT4Tokenizer(TourTokenizer):
    """GPT-4's tokens, renumbered to only those a corpus uses (plus the 256 bytes).

    IDs 0-255 are the bytes, 256 onwards the kept GPT-4 tokens in GPT-4's own order,
    then the special tokens. Encoding runs GPT-4's tokenizer and renumbers; a GPT-4
    token that is not kept becomes its bytes, so every text still round-trips.
    """

    kind = "gpt4-compact"

    def __init__(self, gpt4_ids: Iterable[int], name: str = "gpt4-compact") -> None:
        import numpy as np

        gpt4 = cl100k.token_bytes()  # the vocabulary alone: no encoding is built to load one
        kept = sorted({int(i) for i in gpt4_ids})
        self.gpt4_ids: list[int] = []
        self._table: list[bytes] = [bytes([b]) for b in range(256)]
        remap = np.full(len(gpt4), -1, dtype=np.int64)
        for gpt4_id in kept:
            if gpt4_id < 0:
                raise IndexError(f"{gpt4_id} is not a GPT-4 token ID")
            token = gpt4[gpt4_id]
            if len(token) == 1:
                remap[gpt4_id] = token[0]  # a single byte is already a byte token
                continue
            remap[gpt4_id] = 256 + len(self.gpt4_ids)
            self.gpt4_ids.append(gpt4_id)
            self._table.append(token)
        self._remap = remap
        self.special = _specials_after(len(self._table))
        self.name = name

    @classmethod
    def from_texts(cls, texts: Iterable[str], name: str = "gpt4-compact") -> CompactGPT4Tokenizer:
        """Keep exactly the GPT-4 tokens that ``texts`` use."""
        used: set[int] = set()
        for ids in cl100k.cl100k().encode_ordinary_batch(list(texts), num_threads=2):
            used.update(ids)
        return cls(used, name=name)

    def encode(self, text: str) -> list[int]:
        return self._renumber(cl100k.encode_ordinary(text))

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [self._renumber(ids)
                for ids in cl100k.cl100k().encode_ordinary_batch(texts, num_threads=2)]

    def _renumber(self, gpt4: list[int]) -> list[int]:
        import numpy as np

        if not gpt4:
            return []
        ids = self._remap[np.asarray(gpt4, dtype=np.int64)]
        if (ids >= 0).all():
            return ids.tolist()
        out: list[int] = []
        for mine, theirs in zip(ids.tolist(), gpt4):
            if mine >= 0:
                out.append(mine)
            else:
                out.extend(cl100k.token_bytes()[theirs])
        return out

    def definition(self) -> dict[str, Any]:
        return {"kind": self.kind, "base": "cl100k_base", "gpt4_ids": self.gpt4_ids,
                "special": self.special}


class BPETokenizer(TourTokenizer):
    """The tour's own byte-level BPE: learned merges, encoded by ``tiktoken``."""

    kind = "bpe"

    def __init__(self, merges: list[tuple[int, int]], pattern: str = GPT4_SPLIT_PATTERN,
                 counts: list[int] | None = None, name: str | None = None) -> None:
        self.merges = [(int(a), int(b)) for a, b in merges]
        self.counts = counts
        self.pattern = pattern
        self.ranks = ranks_from_merges(self.merges)
        self.special = _specials_after(len(self.ranks))
        self.name = name or f"tour-bpe-{len(self.ranks)}"

    @classmethod
    def from_merge_events(cls, events: Iterable[Merge], pattern: str = GPT4_SPLIT_PATTERN,
                          name: str | None = None) -> BPETokenizer:
        events = list(events)
        return cls([(m.left, m.right) for m in events], pattern,
                   counts=[m.count for m in events], name=name)

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 4096) -> BPETokenizer:
        return cls.from_merge_events(train_bpe(texts, vocab_size))

    @classmethod
    def from_ranks(cls, ranks: dict[bytes, int], pattern: str = GPT4_SPLIT_PATTERN) -> BPETokenizer:
        """From a rank table such as rustbpe's ``get_mergeable_ranks``."""
        return cls(pairs_from_ranks(ranks), pattern)

    @cached_property
    def encoding(self) -> tiktoken.Encoding:
        import tiktoken

        return tiktoken.Encoding(name=self.name, pat_str=self.pattern,
                                 mergeable_ranks=self.ranks, special_tokens=self.special)

    @cached_property
    def _table(self) -> list[bytes]:
        table = [b""] * len(self.ranks)
        for token, token_id in self.ranks.items():
            table[token_id] = token
        return table

    def encode(self, text: str) -> list[int]:
        return self.encoding.encode_ordinary(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return self.encoding.encode_ordinary_batch(texts, num_threads=2)

    def merge_list(self) -> list[tuple[int, int, int, int | None]]:
        """Merges in learned order: (new ID, left ID, right ID, pair count or None)."""
        counts = self.counts or [None] * len(self.merges)
        return [(256 + i, a, b, c) for i, ((a, b), c) in enumerate(zip(self.merges, counts))]

    def definition(self) -> dict[str, Any]:
        return {"kind": self.kind, "pattern": self.pattern,
                "merges": [list(m) for m in self.merges], "special": self.special}

    def extra(self) -> dict[str, Any]:
        return {"merge_counts": self.counts} if self.counts else {}


def tokenizer_from_json(text: str) -> TourTokenizer:
    """Rebuild a saved tokenizer, refusing one whose content does not match its hash.

    Raises ValueError, with what is wrong, for anything that is not such a file."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ValueError(f"it is not JSON ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"it holds a JSON {type(data).__name__}, not a tokenizer's object")
    if data.get("format") != FORMAT:
        raise ValueError(f"not an llm-tour tokenizer file (format {data.get('format')!r})")
    kind = data.get("kind")
    try:
        if kind == "gpt4-compact":
            tok: TourTokenizer = CompactGPT4Tokenizer(data["gpt4_ids"],
                                                      name=data.get("name", kind))
        elif kind == "bpe":
            tok = BPETokenizer([tuple(m) for m in data["merges"]], data["pattern"],
                               counts=data.get("merge_counts"), name=data.get("name"))
        else:
            raise ValueError(f"unknown tokenizer kind {kind!r}")
    except KeyError as error:
        raise ValueError(f"the {kind} tokenizer has no {error.args[0]!r}") from None
    except (TypeError, IndexError, OverflowError, AttributeError) as error:
        raise ValueError(f"the {kind} tokenizer's vocabulary is malformed ({error})") from None
    if data.get("special") != tok.special:
        raise ValueError("the special tokens in the file do not match the vocabulary")
    if not data.get("hash"):
        raise ValueError("it records no content hash, so it can't be checked")
    if data["hash"] != tok.hash:
        raise ValueError("tokenizer file is damaged: its content does not match its hash")
    return tok


MAX_TOKENIZER_BYTES = 64_000_000  # far above any tokenizer the tour builds


def load_tokenizer_file(path: str | Path) -> TourTokenizer:
    """A tokenizer file, checked. Anything wrong is a BrokenArtifact that names the file
    and the command that rebuilds it."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_TOKENIZER_BYTES:
            raise BrokenArtifact(path, f"it is {path.stat().st_size:,} bytes, far larger than "
                                       "any tokenizer", "tokenizer")
        data = path.read_bytes()
    except IsADirectoryError:
        raise BrokenArtifact(path, "it is a folder", "tokenizer") from None
    except FileNotFoundError:
        raise
    except OSError as error:
        raise BrokenArtifact(path, f"it can't be read ({error.strerror or error})",
                             "tokenizer") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BrokenArtifact(path, f"it is not text (byte {error.start} is not UTF-8)",
                             "tokenizer") from None
    try:
        return tokenizer_from_json(text)
    except ValueError as error:
        raise BrokenArtifact(path, str(error), "tokenizer") from None


def load_tokenizer(ws: Workspace, name: str = "tokenizer") -> tuple[TourTokenizer, Artifact]:
    """The model's tokenizer: the workspace's ``tokenizer.json``, else the bundled one."""
    artifact = ws.find(name)
    if artifact is None:
        raise FileNotFoundError(
            "No tokenizer yet: run `llm-tour prepare tokenizer` (after `llm-tour prepare data`).")
    return load_tokenizer_file(artifact.path), artifact


def load_bpe(ws: Workspace) -> tuple[BPETokenizer, Artifact]:
    """The tour's own BPE (shown beside GPT-4's), from the workspace or bundled."""
    tok, artifact = load_tokenizer(ws, BPE_FILE)
    if not isinstance(tok, BPETokenizer):
        raise TypeError(f"{artifact.path} is not a BPE tokenizer")
    return tok, artifact


def bytes_per_token(tokenizer: TourTokenizer, texts: list[str]) -> float:
    """Compression on ``texts``: UTF-8 bytes per token (higher means fewer tokens)."""
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    n_tokens = sum(len(ids) for ids in tokenizer.encode_batch(texts))
    return n_bytes / n_tokens if n_tokens else 0.0


# -- the corpus ---------------------------------------------------------------------------

def dataset_texts(path: str | Path) -> list[str]:
    """The ``content`` column of a ``dataset.parquet``, in file order (checked on reading)."""
    from engine.data.store import read_dataset

    return [t for t in read_dataset(path, ["content"])["content"] if t]


def conversation_texts() -> list[str]:
    """The conversation texts the vocabulary covers, beside the dataset
    (:func:`engine.chat.conversations.vocabulary_texts`)."""
    from engine.chat.conversations import vocabulary_texts

    return [t for t in vocabulary_texts() if t]


# -- the stage ----------------------------------------------------------------------------

@dataclass
class TokenizerConfig:
    kind: str = "gpt4-compact"  # which one the model uses; measured in benchmarks/vocab.py
    bpe_vocab_size: int = 4096  # 256 bytes + 3840 merges (the specials come on top)
    val_fraction: float = 0.1  # share of crawled documents held out for validation
    seed: int = 1337  # which documents are held out
    merge_every: int = 1  # report every n-th merge (the CLI and screen thin them out)
    own_page_repeats: int = OWN_PAGE_REPEATS  # times each own page stands in train.bin
    own_share_max: float = OWN_SHARE_MAX  # the most of train.bin the own pages may take


@dataclass(frozen=True)
class CorpusLoaded:
    documents: int
    conversations: int
    bytes: int
    source: str  # where the dataset came from (Artifact.label)


@dataclass(frozen=True)
class MergeLearned:
    merge: Merge
    target: int  # vocabulary size training aims for

    @property
    def progress(self) -> Progress:  # merges beyond the 256 byte tokens
        return Progress(self.merge.vocab_size - 256, self.target - 256, "BPE merges")


@dataclass(frozen=True)
class TokenizerBuilt:
    kind: str
    name: str
    vocab_size: int
    seconds: float
    bytes_per_token: float  # on the dataset


@dataclass(frozen=True)
class ShardProgress:
    documents_done: int
    documents_total: int

    @property
    def progress(self) -> Progress:
        return Progress(self.documents_done, self.documents_total, "token shards")


@dataclass(frozen=True)
class ShardsWritten:
    train_tokens: int
    val_tokens: int
    train_documents: int  # distinct documents (an own page counts once)
    val_documents: int
    own_documents: int = 0  # the viewer's own pages, all in train.bin
    own_repeats: int = 0  # how many times each of them stands in train.bin
    own_tokens: int = 0  # train.bin tokens that are the viewer's pages, repeats included

    @property
    def mix_line(self) -> str:
        """What the mix does with the viewer's pages, in a sentence ("" without any)."""
        return mix_sentence(self.own_documents, self.own_repeats, self.own_tokens,
                            self.train_tokens)


def mix_sentence(pages: int, repeats: int, own_tokens: int, train_tokens: int) -> str:
    if not pages:
        return ""
    what = "your page is" if pages == 1 else f"each of your {pages} pages is"
    share = own_tokens / train_tokens if train_tokens else 0.0
    why = ("upweighted as a trusted source" if repeats > 1 else
           f"not repeated: more would pass the mix's {OWN_SHARE_MAX:.0%} share")
    return (f"Training mix: {what} in train.bin {repeats} "
            f"time{'s' if repeats != 1 else ''} ({own_tokens:,} tokens, {share:.0%} of it), "
            f"{why}; never in val.bin.")


@dataclass(frozen=True)
class TrainingMix:
    """What ``train.bin`` holds of the viewer's own pages (``train-mix.json``)."""

    repeats: int
    pages: list[dict[str, Any]]  # url, title, tokens (of one copy)
    own_tokens: int
    train_tokens: int

    @property
    def line(self) -> str:
        return mix_sentence(len(self.pages), self.repeats, self.own_tokens, self.train_tokens)

    @property
    def prompt(self) -> str:
        """The first words of the page added last: what a run samples to show it learning."""
        return str(self.pages[-1].get("opening", "")) if self.pages else ""


OPENING_WORDS = 4  # the first words of an own page, as a prompt to continue


def opening(text: str, words: int = OPENING_WORDS) -> str:
    """A page's first ``words`` words, as it begins (the prompt that asks for the page)."""
    return " ".join(text.split()[:words])


@dataclass(frozen=True)
class TokenizerSaved:
    path: Path
    kind: str
    name: str
    hash: str
    vocab_size: int


TokenizerEvent = (CorpusLoaded | MergeLearned | TokenizerBuilt | ShardProgress | ShardsWritten
                  | TokenizerSaved)


def split_documents(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Hold out whole documents for validation, so no text leaks across the split."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_val = max(1, round(n * val_fraction)) if n > 1 else 0
    return sorted(order[n_val:]), sorted(order[:n_val])


def own_page_repeats(own_tokens: int, crawled_tokens: int, repeats: int,
                     share_max: float) -> int:
    """Times each own page goes into train.bin: ``repeats``, fewer when the pages would take
    more than ``share_max`` of it (at least once)."""
    if own_tokens <= 0:
        return repeats
    fits = int(share_max * crawled_tokens / ((1 - share_max) * own_tokens)) \
        if share_max < 1 else repeats
    return max(1, min(repeats, fits))


@dataclass(frozen=True)
class Corpus:
    """What both tokenizers learn from: the dataset's documents, then the conversations (so
    the chat format's text has tokens too), and where the dataset came from."""

    documents: list[str]
    conversations: list[str]
    source: str  # the dataset's Artifact.label
    # which documents are the viewer's own pages (engine.data.store.is_own); the titles and
    # URLs of the documents, for the mix's record
    own: tuple[bool, ...] = ()
    titles: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    def is_own(self, index: int) -> bool:
        return index < len(self.own) and self.own[index]

    @property
    def texts(self) -> list[str]:
        return self.documents + self.conversations

    @property
    def bytes(self) -> int:
        return sum(len(t.encode("utf-8")) for t in self.texts)


def tokenizer_corpus(ws: Workspace) -> Corpus:
    """The corpus of the workspace's dataset (or the bundled one), for ``prepare`` and for the
    Tokens chapter's live run alike."""
    import pyarrow.parquet as pq

    from engine.data.store import is_own, read_dataset

    found = ws.find("dataset")
    if found is None:
        raise FileNotFoundError("No dataset yet: build it in the Data chapter or run "
                                "`llm-tour prepare data`.")
    documents = dataset_texts(found.path)  # checked: a broken file is named
    if not documents:
        raise ValueError(f"{found.path} holds no documents")
    names = set(pq.read_schema(found.path).names)
    columns = [c for c in ("url", "title", "source") if c in names]
    table = read_dataset(found.path, ["content", *columns])
    rows = [i for i, text in enumerate(table["content"]) if text]  # as dataset_texts keeps
    urls = [table["url"][i] or "" for i in rows] if "url" in table else [""] * len(rows)
    titles = [table["title"][i] or "" for i in rows] if "title" in table else [""] * len(rows)
    sources = [table["source"][i] or "" for i in rows] if "source" in table else [""] * len(rows)
    own = tuple(is_own(url, source) for url, source in zip(urls, sources))
    return Corpus(documents, conversation_texts(), found.label, own, tuple(titles), tuple(urls))


def prepare(ws: Workspace, config: TokenizerConfig | None = None) -> Iterator[TokenizerEvent]:
    """Build both tokenizers from the dataset, save the chosen one, write the shards."""
    import numpy as np

    config = config or TokenizerConfig()
    if config.kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {config.kind!r}")
    found = tokenizer_corpus(ws)
    documents, corpus = found.documents, found.texts
    yield CorpusLoaded(len(documents), len(found.conversations), found.bytes, found.source)

    start = time.perf_counter()
    merges: list[Merge] = []
    for merge in train_bpe(corpus, config.bpe_vocab_size):
        merges.append(merge)
        if len(merges) % config.merge_every == 0:
            yield MergeLearned(merge, config.bpe_vocab_size)
    bpe = BPETokenizer.from_merge_events(merges)
    bpe_seconds = time.perf_counter() - start
    yield TokenizerBuilt("bpe", bpe.name, bpe.vocab_size, bpe_seconds,
                         bytes_per_token(bpe, documents))

    start = time.perf_counter()
    compact = CompactGPT4Tokenizer.from_texts(corpus)
    yield TokenizerBuilt("gpt4-compact", compact.name, compact.vocab_size,
                         time.perf_counter() - start, bytes_per_token(compact, documents))

    chosen: TourTokenizer = compact if config.kind == "gpt4-compact" else bpe
    if chosen.vocab_size > 65536:
        raise ValueError(f"vocabulary of {chosen.vocab_size} does not fit uint16 shards")

    # The crawled documents are split; the viewer's own pages all go to training (below).
    crawled = [i for i in range(len(documents)) if not found.is_own(i)]
    own = [i for i in range(len(documents)) if found.is_own(i)]
    own_set = set(own)
    train_at, val_at = split_documents(len(crawled), config.val_fraction, config.seed)
    shards = {"train_shard": [crawled[i] for i in train_at] + own,
              "val_shard": [crawled[i] for i in val_at]}
    total = len(documents)
    done = 0
    encoded: dict[int, list[int]] = {}
    for shard, indices in shards.items():
        for batch_start in range(0, len(indices), 256):
            batch = indices[batch_start : batch_start + 256]
            for i, doc_ids in zip(batch, chosen.encode_batch([documents[i] for i in batch])):
                encoded[i] = [*doc_ids, chosen.eot]
            done += len(batch)
            yield ShardProgress(done, total)
    own_once = sum(len(encoded[i]) for i in own)
    crawled_train = sum(len(encoded[i]) for i in shards["train_shard"] if i not in own_set)
    repeats = own_page_repeats(own_once, crawled_train, config.own_page_repeats,
                               config.own_share_max)
    written: dict[str, tuple[np.ndarray, int]] = {}
    for shard, indices in shards.items():
        ids: list[int] = []
        for i in indices:
            ids.extend(encoded[i] * (repeats if i in own_set else 1))
        written[shard] = (np.asarray(ids, dtype=np.uint16), len(indices))
    train_tokens = len(written["train_shard"][0])
    mix = {"format": MIX_FORMAT, "repeats": repeats if own else 0,
           "pages": [{"url": found.urls[i] if i < len(found.urls) else "",
                      "title": found.titles[i] if i < len(found.titles) else "",
                      "tokens": len(encoded[i]), "opening": opening(documents[i])}
                     for i in own],
           "own_tokens": own_once * repeats if own else 0, "train_tokens": train_tokens}

    # Nothing is written until everything is computed: a cancelled run leaves the old files.
    bpe.save(ws.path(BPE_FILE))
    for shard, (array, _) in written.items():
        with atomic_path(ws.path(shard)) as tmp:
            array.tofile(tmp)
    write_text_atomic(ws.path(MIX_FILE), json.dumps(mix, ensure_ascii=False))
    chosen.save(ws.path("tokenizer"))
    yield ShardsWritten(train_tokens, len(written["val_shard"][0]),
                        written["train_shard"][1], written["val_shard"][1],
                        len(own), mix["repeats"], mix["own_tokens"])
    yield TokenizerSaved(ws.path("tokenizer"), chosen.kind, chosen.name, chosen.hash,
                         chosen.vocab_size)


def read_mix(ws: Workspace) -> TrainingMix | None:
    """What the ``train.bin`` in use holds of the viewer's own pages, or None when it holds
    none (the bundled shards, a dataset without own pages) or the record does not belong to
    that ``train.bin`` (it counts another number of tokens)."""
    train = ws.find("train_shard")
    if train is None or train.source != "workspace":
        return None
    try:
        data = json.loads(ws.path(MIX_FILE).read_text("utf-8"))
        mix = TrainingMix(int(data["repeats"]), list(data["pages"]), int(data["own_tokens"]),
                          int(data["train_tokens"]))
        tokens = train.path.stat().st_size // 2
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if data.get("format") != MIX_FORMAT or mix.train_tokens != tokens or not mix.pages:
        return None
    return mix


def shards_older_than_dataset(ws: Workspace) -> bool:
    """Is the workspace's own dataset newer than its tokenizer and shards (or are they
    missing)? Then training on the shards would miss part of it. Only file times are read.

    One pipeline: the dataset the Data chapter builds (a viewer's own page included) is the
    one the Training chapter trains on, so a newer dataset means :func:`prepare` first."""
    dataset = ws.path("dataset")
    try:
        if not dataset.exists():
            return False  # the bundled dataset goes with the bundled shards
        newest = dataset.stat().st_mtime_ns
        built = [ws.path(name) for name in ("tokenizer", "train_shard", "val_shard")]
        return not all(path.exists() and path.stat().st_mtime_ns >= newest for path in built)
    except OSError:
        return False


def dataset_rows(path: str | Path) -> int:
    """How many rows a ``dataset.parquet`` holds (checked on reading)."""
    from engine.data.store import read_dataset

    return len(read_dataset(path, ["url"])["url"])


def read_shard(path: str | Path) -> np.ndarray:
    """A shard as a read-only array of token IDs (memory-mapped, as nanoGPT reads it).

    A shard is whole uint16 token IDs; a size that is not a multiple of two, or an
    empty file, is a BrokenArtifact naming the file and the command that rebuilds it."""
    import numpy as np

    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise
    except OSError as error:
        raise BrokenArtifact(path, f"it can't be read ({error.strerror or error})") from None
    if not path.is_file():
        raise BrokenArtifact(path, "it is not a file")
    if size == 0:
        raise BrokenArtifact(path, "it is empty")
    if size % np.dtype(np.uint16).itemsize:
        raise BrokenArtifact(path, f"its {size:,} bytes are not whole 2-byte token IDs "
                                   "(cut off while it was written?)")
    try:
        return np.memmap(path, dtype=np.uint16, mode="r")
    except (OSError, ValueError) as error:
        raise BrokenArtifact(path, f"it can't be mapped ({error})") from None


def split_on_eot(ids: Iterable[int], eot: int) -> list[list[int]]:
    """A shard's stream back into documents."""
    docs: list[list[int]] = [[]]
    for i in ids:
        if i == eot:
            docs.append([])
        else:
            docs[-1].append(int(i))
    return docs[:-1] if docs and not docs[-1] else docs

