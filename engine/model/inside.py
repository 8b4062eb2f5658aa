"""The model opened up: its parts with their shapes and parameters, and one forward pass
on a context with the attention of one head and the probability map that comes out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.tokenizer.protocol import Tokenizer

_NAMES = {
    "transformer.wte": "token embedding",
    "transformer.wpe": "position embedding",
    "transformer.ln_f": "final LayerNorm",
}


@dataclass(frozen=True)
class Inside:
    """One context through the model: its token IDs and pieces, one head's attention
    (a row per position), and the top of the probability map for the next token."""

    ids: list[int]
    tokens: list[str]
    attention: list[list[float]]
    top: list[Any]  # engine.inference.evaluate's (token, probability) rows
    layer: int
    head: int


def analyse(model: Any, tokenizer: Tokenizer, context: str, layer: int, head: int,
            k: int = 5) -> Inside:
    """Run ``model`` on ``context`` (its last ``block_size`` tokens): the attention of
    ``head`` in ``layer`` and the ``k`` likeliest next tokens."""
    import torch

    from engine.inference.evaluate import probe

    ids = tokenizer.encode(context)[-model.config.block_size:] or [0]
    weights = model.attention(torch.tensor(ids), layer, head)
    result = probe(model, tokenizer, context, k=k, ids=ids)
    return Inside(ids, [tokenizer.decode([i]) for i in ids], weights.tolist(), result.top,
                  layer, head)


def layer_rows(model: Any) -> list[tuple[str, str, int]]:
    """(part, shape, parameters) for every module that holds parameters of its own."""
    rows = []
    seen: set[int] = set()
    for name, module in model.named_modules():
        params = [p for p in module.parameters(recurse=False) if id(p) not in seen]
        if not params:
            continue
        seen.update(id(p) for p in params)
        part = _NAMES.get(name)
        if part is None:
            pieces = name.split(".")  # transformer.h.0.attn.c_attn
            part = f"block {int(pieces[2]) + 1} {'.'.join(pieces[3:])}" if pieces[1] == "h" \
                else name
        shape = " × ".join(str(d) for d in params[0].shape)
        rows.append((part, shape, sum(p.numel() for p in params)))
    return rows
