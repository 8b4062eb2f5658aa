"""How sure the model is of an answer: the probability it gives a continuation.

The Tools chapter contrasts a fact held vaguely in the parameters with one read from the
context. Whether the model uses its tools right is measured elsewhere, on whole turns
(:mod:`engine.chat.eval`, ``llm-tour eval``).
"""

from __future__ import annotations

from typing import Any

from engine.tokenizer.protocol import Tokenizer


def continuation_probability(model: Any, context: list[int], continuation: list[int]) -> float:
    """The probability the model gives ``continuation`` right after ``context`` (the product
    of each token's probability, read in one forward pass). How sure the model is of an
    answer: a fact held vaguely in the parameters gets less than one in front of it."""
    import torch

    if not continuation:
        return 1.0
    block = int(model.config.block_size)
    ids = (list(context) + list(continuation))[-(block + 1):]
    n = min(len(continuation), len(ids) - 1)
    device = next(model.parameters()).device
    with torch.inference_mode():
        logits, _ = model(torch.tensor([ids[:-1]], dtype=torch.long, device=device))
        logp = torch.log_softmax(logits[0, -n:].float(), dim=-1)
        targets = torch.tensor(ids[-n:], dtype=torch.long, device=device)
        return float(torch.exp(logp.gather(1, targets[:, None]).sum()))


def capital_probability(model: Any, tokenizer: Tokenizer, prompt: list[int], country: str,
                        capital: str) -> float:
    """P(" {capital}") after the prompt and the start of the trained answer
    ("The capital of {country} is")."""
    lead = tokenizer.encode(f" The capital of {country} is")
    return continuation_probability(model, [*prompt, *lead], tokenizer.encode(f" {capital}"))
