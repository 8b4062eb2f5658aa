"""One training step on one window, the Training chapter's first picture.

The window is the first place in the training shard where "The capital of France is" is
followed by " Paris" (so the step nudges the map toward " Paris"), or a random one for
another seed; the model is a fresh one, seeded as the preset's run would seed it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.tokenizer.protocol import Tokenizer

WINDOW_TOKENS = 24  # tokens of context the step sees


@dataclass(frozen=True)
class WindowStep:
    """One step on one window, and where the data and the tokenizer came from."""

    nudge: Any  # engine.training.loop.Nudge
    tokenizer: Tokenizer
    train_file: str
    val_file: str
    tokens: int  # tokens in the train and val shards together
    tokenizer_source: str  # the artifact's label: workspace, prepared or bundled
    mix: str = ""  # what train.bin holds of the viewer's own pages (tour.read_mix), if any


def find(haystack: np.ndarray, needle: np.ndarray) -> int | None:
    """The first index where ``needle`` stands in ``haystack``, or None."""
    if len(needle) == 0 or len(haystack) < len(needle):
        return None
    candidates = (haystack[: len(haystack) - len(needle) + 1] == needle[0]).nonzero()[0]
    for i in candidates:
        if (haystack[i:i + len(needle)] == needle).all():
            return int(i)
    return None


def pick_window(data: Any, tokenizer: Tokenizer, seed: int,
                width: int = WINDOW_TOKENS) -> tuple[list[int], int]:
    """``width`` tokens of ``data`` and the token that came next. Seed 0: the window ending
    in "The capital of France is" (next: " Paris") if the data has one; else, and for any
    other seed, a random window."""
    data = np.asarray(data)
    if seed == 0:
        needle = tokenizer.encode(" capital of France is Paris")  # " capital": mid-sentence
        hit = find(data, np.asarray(needle, dtype=data.dtype))
        if hit is not None:
            end = hit + len(needle) - 1  # the position of " Paris"
            start = max(0, end - width)
            return [int(t) for t in data[start:end]], int(data[end])
    if len(data) < width + 2:
        raise ValueError(f"the training shard holds {len(data)} tokens, fewer than one "
                         f"window of {width + 1}")
    rng = np.random.default_rng(seed)
    start = int(rng.integers(0, len(data) - width - 1))
    window = data[start:start + width + 1]
    return [int(t) for t in window[:-1]], int(window[-1])


def fresh_model(config: Any, vocab_size: int) -> Any:
    """The preset's model before its first step, seeded as its run seeds it."""
    import torch

    from engine.model.gpt import GPT

    torch.manual_seed(config.seed)
    return GPT(config.model_config(vocab_size))


def window_step(workspace: Any, preset_name: str = "default", seed: int = 0) -> WindowStep:
    """One AdamW step of a fresh ``preset_name`` model on one window of the workspace's
    training shard (see :func:`pick_window`).

    The step is the same for the same shard, tokenizer, preset and seed, so it is taken once
    per process for them (``_STEPS``): a room's viewers, each opening the chapter in a tour
    of their own on the room's files, share one step instead of each building a model."""
    from engine.tokenizer.tour import load_tokenizer, read_mix
    from engine.training import loop

    tokenizer, artifact = load_tokenizer(workspace)
    mix = read_mix(workspace)
    config = loop.preset(preset_name)
    batches = loop.shard_batches(workspace, config)
    key = (preset_name, seed, *(_signature(path) for path in (
        artifact.path, batches.paths["train"], batches.paths["val"])))
    with _STEPS_LOCK:  # tours starting together wait for the one step, not take their own
        result = _STEPS.get(key)
        if result is None:
            window, actual = pick_window(batches.data["train"], tokenizer, seed)
            model = fresh_model(config, tokenizer.vocab_size)
            result = loop.nudge(model, tokenizer, window, actual, config.learning_rate)
            while len(_STEPS) >= _STEPS_KEPT:
                _STEPS.pop(next(iter(_STEPS)))
            _STEPS[key] = result
    return WindowStep(result, tokenizer, batches.paths["train"].name, batches.paths["val"].name,
                      len(batches.data["train"]) + len(batches.data["val"]), artifact.label,
                      mix.line if mix is not None else "")


_STEPS_LOCK = threading.Lock()
_STEPS: dict[tuple, Any] = {}  # (preset, seed, the files' signatures) -> loop.Nudge
_STEPS_KEPT = 8


def _signature(path: Any) -> tuple[int, int, int, int]:
    """The file as it is now (a link to it is the same file; a rewrite is another)."""
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns
