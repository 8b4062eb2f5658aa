"""The sampling loop: predict a probability map, choose one token, append it, repeat.

Generation runs the model once over the prompt and then once per new token. With a
KV cache each of those later runs sees only the one new token, because the keys and
values of everything before it are kept from the earlier runs; without the cache every
step runs the whole context again (nanoGPT's ``generate``). Within the context window
both paths give the same logits; the cache just skips the repeated work. Past the window
the plain path reads the last ``block_size`` tokens every step, while the cache starts
again from the last half window, so each refill buys half a window of cheap steps.

Every step yields a :class:`TokenEvent`: the context so far, the top of the probability
map after temperature, top-k and top-p, and the chosen token with its probability.
:class:`Sampler` is the same loop driven one step at a time (the Sampling loop chapter
changes the temperature between steps); :func:`generate` runs it to the end, and every
other decode path in the tour (greedy evaluation, replies, samples) is built on it.
"""

from __future__ import annotations

import codecs
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

from engine.model.gpt import KVCache
from engine.tokenizer.protocol import ENDOFTEXT, Tokenizer


@dataclass
class SampleConfig:
    """How the next token is chosen. ``temperature=0`` always takes the most likely token."""

    temperature: float = 1.0
    top_k: int | None = None  # keep only the k most likely tokens
    top_p: float | None = None  # keep the smallest set of tokens whose probabilities sum to p
    seed: int | None = None  # None: a fresh random seed every time
    max_tokens: int = 100
    map_size: int = 10  # how many of the most likely tokens each event reports

    def check(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be 0 or more, not {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top-k must be at least 1, not {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError(f"top-p must be above 0 and at most 1, not {self.top_p}")
        if self.max_tokens < 0:
            raise ValueError(f"max tokens must be 0 or more, not {self.max_tokens}")


@dataclass(frozen=True)
class Candidate:
    """One row of the probability map."""

    id: int
    text: str  # the token as itself, for display (bytes decoded leniently)
    prob: float  # after temperature and filtering: what the choice is drawn from
    scaled_prob: float  # after temperature, before top-k/top-p
    model_prob: float  # the model's own prediction (temperature 1, nothing filtered)
    kept: bool  # survived top-k and top-p


@dataclass(frozen=True)
class ProbabilityMap:
    """The most likely next tokens, and how much of the probability they hold."""

    candidates: tuple[Candidate, ...]
    kept_count: int  # tokens left after top-k/top-p (the choice is among these)
    vocab_size: int

    def prob_of(self, token_id: int) -> float | None:
        for candidate in self.candidates:
            if candidate.id == token_id:
                return candidate.prob
        return None


@dataclass(frozen=True)
class TokenEvent:
    """One turn of the loop: the context, the map the model predicted, the token chosen."""

    step: int  # 0 for the first new token
    context: tuple[int, ...]  # the ids the model saw (prompt + tokens chosen before this one)
    map: ProbabilityMap
    token_id: int
    token_text: str  # the chosen token as itself
    prob: float  # its probability in the filtered map
    text: str  # the text this token completes (a character split over tokens arrives whole)
    stop: str | None = None  # "endoftext" / "stop token" / "max tokens" when the loop ends here

    @property
    def ids(self) -> tuple[int, ...]:
        """The context with the chosen token appended."""
        return (*self.context, self.token_id)


def filter_probs(
    logits: torch.Tensor,
    temperature: float,
    top_k: int | None = None,
    top_p: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn one position's logits into (scaled, filtered) probability vectors.

    ``scaled`` is the softmax after temperature; ``filtered`` keeps top-k, then top-p,
    and renormalises, so it is what the next token is drawn from. Temperature 0 is the
    limit of dividing by a tiny temperature: all probability on the most likely token.
    """
    logits = logits.float()
    if temperature == 0:
        scaled = torch.zeros_like(logits)
        scaled[torch.argmax(logits)] = 1.0
        return scaled, scaled.clone()
    scaled = F.softmax(logits / temperature, dim=-1)
    keep = torch.ones_like(scaled, dtype=torch.bool)
    if top_k is not None and top_k < scaled.numel():
        keep = torch.zeros_like(keep)
        keep[torch.topk(scaled, top_k).indices] = True
    if top_p is not None and top_p < 1.0:
        masked = torch.where(keep, scaled, torch.zeros_like(scaled))
        sorted_probs, order = torch.sort(masked, descending=True)
        total = sorted_probs.sum()
        before = torch.cumsum(sorted_probs, dim=0) - sorted_probs  # mass above each token
        in_nucleus = before < top_p * total  # the most likely token is always in
        nucleus = torch.zeros_like(keep)
        nucleus[order[in_nucleus]] = True
        keep &= nucleus
    filtered = torch.where(keep, scaled, torch.zeros_like(scaled))
    filtered = filtered / filtered.sum()
    return scaled, filtered


def _token_text(tokenizer: Tokenizer | None, token_id: int) -> str:
    if tokenizer is None:
        return f"<{token_id}>"
    return _token_bytes(tokenizer, token_id).decode("utf-8", errors="replace")


def _token_bytes(tokenizer: Tokenizer, token_id: int) -> bytes:
    try:
        return tokenizer.token_bytes(token_id)
    except (KeyError, ValueError, AttributeError):
        return tokenizer.decode([token_id]).encode("utf-8")


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


class Sampler:
    """The sampling loop one token at a time, with settings that may change between steps.

    ``next_map()`` shows the map for the next token under the current settings without
    choosing (the model already ran; only temperature and filtering are redone), and
    ``step()`` chooses a token and runs the model on it.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        ids: Iterable[int],
        config: SampleConfig | None = None,
        *,
        tokenizer: Tokenizer | None = None,
        stop_ids: Iterable[int] = (),
        use_kv_cache: bool = True,
    ) -> None:
        self.model = model
        self.config = config or SampleConfig()
        self.config.check()
        self.tokenizer = tokenizer
        self.stop_ids = frozenset(int(i) for i in stop_ids)
        self.use_kv_cache = use_kv_cache
        self.context: list[int] = [int(i) for i in ids]
        if not self.context:
            raise ValueError("the prompt is empty: give at least one token to continue")
        self.block_size = int(model.config.block_size)
        self.vocab_size = int(model.config.vocab_size)
        self.device = _device_of(model)
        self.steps = 0
        self.stop: str | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._generator = torch.Generator()
        self.reseed(self.config.seed)
        self._cache: KVCache | None = None
        self._start = 0  # where in the context the model's view begins
        model.eval()
        self._logits = self._prefill()

    # -- settings -------------------------------------------------------------
    def reseed(self, seed: int | None = None) -> int:
        """Start a new stream of random choices; returns the seed used."""
        if seed is None:
            seed = random.SystemRandom().randrange(2**31)
        self.seed = seed
        self._generator.manual_seed(seed)
        return seed

    @property
    def logits(self) -> torch.Tensor:
        """The model's raw scores for the next token (before temperature)."""
        return self._logits

    @property
    def window(self) -> tuple[int, ...]:
        """The part of the context the model reads: all of it, until it outgrows the window."""
        return tuple(self.context[self._start :])

    @property
    def done(self) -> bool:
        return self.stop is not None or self.steps >= self.config.max_tokens

    # -- the loop -------------------------------------------------------------
    def next_map(self) -> ProbabilityMap:
        """The probability map for the next token under the current settings."""
        scaled, filtered = self._probs()
        return self._map(scaled, filtered)

    def step(self) -> TokenEvent:
        """Choose the next token, append it, and run the model on it."""
        if self.done:
            raise RuntimeError("the sampling loop has ended: start a new Sampler")
        scaled, filtered = self._probs()
        if self.config.temperature == 0:
            token = int(torch.argmax(filtered))
        else:
            token = int(torch.multinomial(filtered, 1, generator=self._generator))
        event_map = self._map(scaled, filtered, chosen=token)
        context = tuple(self.context)
        self.context.append(token)
        self.steps += 1
        text = self._decoder.decode(self._bytes(token))
        stop = None
        if token in self.stop_ids:
            stop = self._stop_name(token)
        elif self.steps >= self.config.max_tokens:
            stop = "max tokens"
        if stop is not None:
            text += self._decoder.decode(b"", final=True)
            self.stop = stop
        else:
            self._logits = self._advance(token)
        return TokenEvent(
            step=self.steps - 1,
            context=context,
            map=event_map,
            token_id=token,
            token_text=_token_text(self.tokenizer, token),
            prob=float(filtered[token]),
            text=text,
            stop=stop,
        )

    def __iter__(self) -> Iterator[TokenEvent]:
        while not self.done:
            yield self.step()

    # -- inside ---------------------------------------------------------------
    def _probs(self) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        return filter_probs(self._logits, c.temperature, c.top_k, c.top_p)

    def _map(self, scaled: torch.Tensor, filtered: torch.Tensor,
             chosen: int | None = None) -> ProbabilityMap:
        # Ranked by the model's scores, the order every temperature above 0 keeps.
        size = min(self.config.map_size, scaled.numel())
        top = torch.topk(self._logits, size).indices.tolist()
        if chosen is not None and chosen not in top:
            top[-1] = chosen  # the chosen token is always on the map
        model_probs = F.softmax(self._logits.float(), dim=-1)
        candidates = tuple(
            Candidate(
                id=i,
                text=_token_text(self.tokenizer, i),
                prob=float(filtered[i]),
                scaled_prob=float(scaled[i]),
                model_prob=float(model_probs[i]),
                kept=bool(filtered[i] > 0),
            )
            for i in top
        )
        return ProbabilityMap(candidates, int((filtered > 0).sum()), scaled.numel())

    def _bytes(self, token: int) -> bytes:
        if self.tokenizer is None:
            return f"<{token}>".encode()
        return _token_bytes(self.tokenizer, token)

    def _stop_name(self, token: int) -> str:
        if self.tokenizer is not None:
            special = getattr(self.tokenizer, "special", {}) or {}
            for name, value in special.items():
                if value == token:
                    return "endoftext" if name == ENDOFTEXT else name
        return "stop token"

    @torch.inference_mode()
    def _forward(self, ids: list[int], cache: Any = None) -> torch.Tensor:
        idx = torch.tensor([ids], dtype=torch.long, device=self.device)
        logits, _ = self.model(idx, kv_cache=cache) if cache is not None else self.model(idx)
        return logits[0, -1].float().cpu()

    def _prefill(self) -> torch.Tensor:
        self._start = max(0, len(self.context) - self.block_size)
        if not self.use_kv_cache:
            return self._forward(self.context[self._start :])
        self._cache = self._new_cache()
        return self._forward(self.context[self._start :], self._cache)

    def _new_cache(self) -> KVCache:
        return KVCache(self.model.config, batch_size=1, device=self.device,
                       dtype=next(self.model.parameters()).dtype)

    def _advance(self, token: int) -> torch.Tensor:
        if not self.use_kv_cache:
            # nanoGPT: run the whole context again, cropped to the last window.
            self._start = max(0, len(self.context) - self.block_size)
            return self._forward(self.context[self._start :])
        if self._cache.pos >= self.block_size:
            # The cache holds a whole window: start again from the last half of the text,
            # so the next half-window of tokens is cheap again.
            self._start = len(self.context) - self.block_size // 2
            self._cache = self._new_cache()
            return self._forward(self.context[self._start :], self._cache)
        return self._forward([token], self._cache)


def generate(
    model: torch.nn.Module,
    ids: Iterable[int],
    config: SampleConfig | None = None,
    *,
    stop_ids: Iterable[int] = (),
    tokenizer: Tokenizer | None = None,
    use_kv_cache: bool = True,
) -> Iterator[TokenEvent]:
    """Continue ``ids`` one token at a time, yielding a :class:`TokenEvent` per token.

    Every decode path in the tour runs through here (the CLI, the chapters, greedy
    evaluation, the assistant's replies, DPO's samples), so they all choose, stop and slide
    the window the same way. Stops after ``config.max_tokens`` or when a token in
    ``stop_ids`` is chosen (that token's event is the last, with ``stop`` set). Stop
    iterating at any time to cancel. The model is put in eval mode for the run and given
    back in the mode it came in (a training run goes on with dropout).
    """
    was_training = model.training
    try:
        yield from Sampler(model, ids, config, tokenizer=tokenizer, stop_ids=stop_ids,
                           use_kv_cache=use_kv_cache)
    finally:
        model.train(was_training)


def greedy(max_tokens: int) -> SampleConfig:
    """Always the most likely token, no map beyond it: what evaluation and replies use."""
    return SampleConfig(temperature=0.0, max_tokens=max_tokens, map_size=1)
