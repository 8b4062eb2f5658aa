"""A byte-level tokenizer and a small corpus of capitals, so training tests need no prepared data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.data.facts import load_capitals


class ByteTokenizer:
    """Token IDs are UTF-8 bytes; 256 is <|endoftext|>."""

    name = "bytes"

    def __init__(self, hash: str = "bytes-v1") -> None:
        self.hash = hash
        self.special = {"<|endoftext|>": 256}
        self.vocab_size = 257

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: list[int]) -> str:
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")

    def token_bytes(self, token: int) -> bytes:
        return bytes([token]) if token < 256 else b"<|endoftext|>"


def write_shards(root: Path, repeats: int = 4) -> tuple[Path, Path]:
    """train.bin / val.bin of capital sentences, as the tokenizer stage writes them."""
    tok = ByteTokenizer()
    ids: list[int] = []
    for _ in range(repeats):
        for fact in load_capitals():
            ids += tok.encode(fact.sentence + " ")
    data = np.array(ids, dtype=np.uint16)
    split = int(len(data) * 0.9)
    root.mkdir(parents=True, exist_ok=True)
    train, val = root / "train.bin", root / "val.bin"
    data[:split].tofile(train)
    data[split:].tofile(val)
    return train, val
