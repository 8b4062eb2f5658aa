"""A small model trained for a few seconds on the capitals, saved into a workspace.

Peaked enough that the probability map means something ("The capital of France is"
continues with " Paris"), small enough for tests. Built once per test session.
"""

from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

import torch

from engine.model.checkpoint import save_checkpoint
from engine.data.facts import load_capitals
from engine.model.gpt import GPT, GPTConfig
from engine.tokenizer.tour import CompactGPT4Tokenizer
from engine.workspace import Workspace

STEPS = 400


@lru_cache(maxsize=1)
def _trained(cache_dir: str) -> tuple[Path, Path]:
    root = Path(cache_dir)
    texts = [c.sentence for c in load_capitals()]
    tokenizer = CompactGPT4Tokenizer.from_texts(texts, name="capitals")
    eot = tokenizer.special["<|endoftext|>"]
    stream: list[int] = []
    for text in texts:
        stream += tokenizer.encode(text) + [eot]
    data = torch.tensor(stream)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same numbers on every machine
    try:
        torch.manual_seed(0)
        model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=32, n_layer=2,
                              n_head=2, n_embd=32))
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        for _ in range(STEPS):
            starts = torch.randint(len(data) - 33, (16,))
            x = torch.stack([data[i:i + 32] for i in starts])
            y = torch.stack([data[i + 1:i + 33] for i in starts])
            _, loss = model(x, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    tokenizer_path, model_path = root / "tokenizer.json", root / "base.pt"
    tokenizer.save(tokenizer_path)
    save_checkpoint(model_path, model, tokenizer=tokenizer, step=STEPS)
    return tokenizer_path, model_path


def install_sample_model(ws: Workspace, cache_dir: Path) -> None:
    """Put the tokenizer and base.pt into ``ws`` as the earlier chapters would."""
    tokenizer_path, model_path = _trained(str(cache_dir))
    ws.ensure()
    shutil.copy(tokenizer_path, ws.path("tokenizer"))
    shutil.copy(model_path, ws.path("base"))


def write_capital_shards(ws) -> None:
    """train.bin and val.bin of the capitals' sentences, in the workspace's tokenizer."""
    import numpy as np

    from engine.data.facts import load_capitals
    from engine.tokenizer.tour import load_tokenizer

    tokenizer, _ = load_tokenizer(ws)
    eot = tokenizer.special["<|endoftext|>"]
    ids: list[int] = []
    for fact in load_capitals():
        ids += tokenizer.encode(f"Travel notes. {fact.sentence}") + [eot]
    data = np.array(ids, dtype=np.uint16)
    split = len(data) * 9 // 10
    data[:split].tofile(ws.path("train_shard"))
    data[split:].tofile(ws.path("val_shard"))
