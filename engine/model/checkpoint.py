"""A trained model on disk: weights, the config that shapes them, and the tokenizer they fit.

Token IDs only mean something under the tokenizer that produced them, so every checkpoint
carries that tokenizer's hash, and loading refuses a checkpoint made with another one rather
than producing fluent nonsense. Files are written atomically: an interrupted save leaves the
previous checkpoint in place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.model.gpt import GPT, GPTConfig
from engine.workspace import atomic_path
from engine.tokenizer.protocol import HashedTokenizer

FORMAT = 1


class CheckpointMismatch(ValueError):
    """The checkpoint does not fit what it is being loaded with (tokenizer or model shape)."""


@dataclass
class CheckpointMeta:
    step: int
    model_config: GPTConfig
    tokenizer_hash: str
    tokenizer_name: str = ""
    train_config: dict[str, Any] = field(default_factory=dict)
    optimizer: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # batch source state, metrics, kind


def save_checkpoint(path: str | os.PathLike[str], model: GPT, *, tokenizer: HashedTokenizer, step: int,
                    optimizer: torch.optim.Optimizer | None = None,
                    train_config: dict[str, Any] | None = None,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write ``path`` atomically and return it."""
    raw = getattr(model, "_orig_mod", model)  # unwrap torch.compile
    state = {
        "format": FORMAT,
        "step": int(step),
        "model": {k: v.detach().to("cpu") for k, v in raw.state_dict().items()},
        "model_config": raw.config.to_dict(),
        "tokenizer_hash": tokenizer.hash,
        "tokenizer_name": getattr(tokenizer, "name", ""),
        "train_config": dict(train_config or {}),
        "optimizer": _to_cpu(optimizer.state_dict()) if optimizer is not None else None,
        "extra": dict(extra or {}),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def read_meta(path: str | os.PathLike[str]) -> CheckpointMeta:
    """The checkpoint's metadata (weights are read too, but no model is built)."""
    return _meta(_read(path), Path(path).name)


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, Any], CheckpointMeta]:
    """The checkpoint's saved state and its checked metadata, before any model is built."""
    state = _read(path)
    return state, _meta(state, Path(path).name)


def load_checkpoint(path: str | os.PathLike[str], tokenizer: HashedTokenizer,
                    device: torch.device | str = "cpu") -> tuple[GPT, CheckpointMeta]:
    """The model saved at ``path``, checked against ``tokenizer``, in eval mode.

    Raises :class:`CheckpointMismatch` (naming the file) for a file that is not a whole
    checkpoint, weights that do not fit its config or are not finite, or a tokenizer it
    was not trained with.
    """
    state = _read(path)
    meta = _meta(state, Path(path).name)
    check_tokenizer(meta, tokenizer, Path(path).name)
    model = build_model(state, meta, Path(path).name)
    model.to(device)
    model.eval()
    return model, meta


def check_tokenizer(meta: CheckpointMeta, tokenizer: HashedTokenizer, name: str) -> None:
    """Refuse a tokenizer the checkpoint was not trained with (by hash and vocabulary size)."""
    if meta.tokenizer_hash != tokenizer.hash:
        made_with = f" ({meta.tokenizer_name})" if meta.tokenizer_name else ""
        raise CheckpointMismatch(
            f"{name} was trained with a different tokenizer{made_with}: its hash is "
            f"{meta.tokenizer_hash[:12]}, the tokenizer in use has {tokenizer.hash[:12]}. "
            "Token IDs would mean different text; train the model again with this tokenizer.")
    vocab = getattr(tokenizer, "vocab_size", None)
    if vocab is not None and vocab > meta.model_config.vocab_size:
        raise CheckpointMismatch(
            f"{name} knows {meta.model_config.vocab_size} token IDs but the tokenizer "
            f"has {vocab}; train the model again with this tokenizer.")


def build_model(state: dict[str, Any], meta: CheckpointMeta, name: str) -> GPT:
    """The GPT of ``meta.model_config`` with the saved weights, each checked for shape and NaN."""
    weights = state["model"]
    if not isinstance(weights, dict) or not weights:
        raise CheckpointMismatch(f"{name} holds no weights")
    for key, value in weights.items():
        if not isinstance(value, torch.Tensor):
            raise CheckpointMismatch(f"{name}: the weight {key} is not a tensor")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointMismatch(f"{name}: the weight {key} is not finite (NaN or infinity); "
                                     "the run that wrote it diverged")
    model = GPT(meta.model_config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        what = (f"lacks {', '.join(missing[:3])}" if missing
                else f"has weights the model does not: {', '.join(unexpected[:3])}")
        raise CheckpointMismatch(f"{name} does not fit its own model config: it {what}")
    for key, value in expected.items():
        if tuple(weights[key].shape) != tuple(value.shape):
            raise CheckpointMismatch(
                f"{name} does not fit its own model config: {key} is "
                f"{tuple(weights[key].shape)}, the config makes it {tuple(value.shape)}")
    model.load_state_dict(weights)
    return model


REQUIRED = ("step", "model", "model_config", "tokenizer_hash")


def _read(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if path.stat().st_size == 0:
        raise CheckpointMismatch(f"{path.name} is empty")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        reason = str(exc).split(". ")[0]  # torch's own advice runs to a paragraph
        raise CheckpointMismatch(f"{path.name} is not a readable checkpoint (truncated, or "
                                 f"not written by llm-tour): {reason}") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointMismatch(f"{path.name} is not an llm-tour checkpoint (format {FORMAT})")
    missing = [key for key in REQUIRED if key not in state]
    if missing:
        raise CheckpointMismatch(f"{path.name} is incomplete: it has no {', '.join(missing)}")
    return state


def _meta(state: dict[str, Any], name: str = "the checkpoint") -> CheckpointMeta:
    try:
        config = GPTConfig(**state["model_config"])
        step = int(state["step"])
    except (TypeError, ValueError) as exc:
        raise CheckpointMismatch(f"{name} has an unreadable model config or step: {exc}") from exc
    if not isinstance(state["tokenizer_hash"], str):
        raise CheckpointMismatch(f"{name} has no tokenizer hash")
    return CheckpointMeta(
        step=step,
        model_config=config,
        tokenizer_hash=state["tokenizer_hash"],
        tokenizer_name=state.get("tokenizer_name", ""),
        train_config=state.get("train_config") or {},
        optimizer=state.get("optimizer"),
        extra=state.get("extra") or {},
    )


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu")
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj
