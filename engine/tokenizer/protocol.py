"""What the rest of the engine needs of a tokenizer, as a type.

The tour's tokenizers (``engine.tokenizer.tour``) have it, and so do the small stand-ins
the tests build; functions that take "a tokenizer" are typed with :class:`Tokenizer`
rather than ``Any``, so a wrong argument shows in the type checker, not in a chapter.
(``token_bytes``, where a tokenizer has it, is used for display and is optional.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

ENDOFTEXT = "<|endoftext|>"  # ends every document; starts every conversation


class Tokenizer(Protocol):
    """Text to token IDs and back, with the special tokens by name."""

    special: dict[str, int]  # "<|endoftext|>", "<|user|>", ... -> their IDs

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Iterable[int]) -> str: ...


class HashedTokenizer(Tokenizer, Protocol):
    """A tokenizer a checkpoint can be checked against: its content hash and size."""

    @property
    def hash(self) -> str: ...

    @property
    def vocab_size(self) -> int: ...
