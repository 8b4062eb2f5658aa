"""What the model has learned, measured: the probability map for a window, and the capitals quiz.

The tour's story asks one question of the base model: does "The capital of France is" continue
with " Paris"? :func:`capital_accuracy` asks it for every country the sample web was written
from, by greedy decoding, the most likely token each time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from engine.model.gpt import GPT
from engine.tokenizer.protocol import Tokenizer


@dataclass(frozen=True)
class ProbeResult:
    """The probability map for one window: its top entries and the actual next token's share."""

    prompt: str
    top: list[tuple[str, float]]  # (token text, probability), most likely first
    top_ids: list[int]
    actual: str | None = None
    actual_prob: float | None = None
    actual_rank: int | None = None  # 1 = the model's first choice


@torch.no_grad()
def next_token_probs(model: GPT, ids: Sequence[int]) -> torch.Tensor:
    """The probability map (vocab,) after the context ``ids`` (the last block_size of them)."""
    device = next(model.parameters()).device
    window = list(ids)[-model.config.block_size:]
    idx = torch.tensor([window], dtype=torch.long, device=device)
    was_training = model.training
    model.eval()
    logits, _ = model(idx)
    model.train(was_training)
    return F.softmax(logits[0, -1].float(), dim=-1).cpu()


def probe(model: GPT, tokenizer: Tokenizer, prompt: str, actual: str | None = None,
          k: int = 3, ids: Sequence[int] | None = None, actual_id: int | None = None
          ) -> ProbeResult:
    """Top-``k`` of the probability map after ``prompt`` and the probability of ``actual``.

    ``actual`` is scored by its first token (" Paris" is one token in any tokenizer trained on
    the tour's web; a longer answer is judged by how it starts). Pass ``ids``/``actual_id`` to
    probe a window that is already tokenized.
    """
    context = list(ids) if ids is not None else tokenizer.encode(prompt)
    probs = next_token_probs(model, context)
    values, indices = torch.topk(probs, k)
    top_ids = indices.tolist()
    top = [(tokenizer.decode([i]), float(p)) for i, p in zip(top_ids, values.tolist())]
    if actual_id is None and actual:
        actual_id = tokenizer.encode(actual)[0]
    if actual_id is None:
        return ProbeResult(prompt, top, top_ids)
    p = float(probs[actual_id])
    rank = int((probs > probs[actual_id]).sum()) + 1
    text = actual if actual is not None else tokenizer.decode([actual_id])
    return ProbeResult(prompt, top, top_ids, text, p, rank)


def greedy_continue(model: GPT, ids: Sequence[int], max_tokens: int,
                    stop_ids: Iterable[int] = ()) -> list[int]:
    """The ``max_tokens`` most likely next tokens after ``ids`` (the stop token left out).

    The context is cut so the continuation fits one window: the last ``block_size -
    max_tokens`` tokens are read, and no more tokens are written than the window holds.
    """
    from engine.inference.sampler import generate, greedy

    limit = model.config.block_size
    context = list(ids)[-(limit - max_tokens):] if max_tokens < limit else list(ids)[-1:]
    budget = min(max_tokens, limit - len(context) + 1)
    stop = set(stop_ids)
    return [event.token_id for event in generate(model, context, greedy(budget), stop_ids=stop)
            if event.token_id not in stop]


@dataclass(frozen=True)
class CapitalAnswer:
    country: str
    capital: str
    answer: str  # what the model wrote after "The capital of {country} is"
    correct: bool


@dataclass(frozen=True)
class Score:
    """A quiz's answers (each with ``correct``) and how many were right."""

    answers: list

    @property
    def correct(self) -> int:
        return sum(a.correct for a in self.answers)

    @property
    def total(self) -> int:
        return len(self.answers)

    @property
    def fraction(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class CapitalAccuracy(Score):
    answers: list[CapitalAnswer]

    def __str__(self) -> str:
        return f"{self.correct} of {self.total} capitals ({self.fraction:.0%})"


def capital_accuracy(model: GPT, tokenizer: Tokenizer, capitals: Iterable) -> CapitalAccuracy:
    """Greedy continuation of "The capital of {country} is" checked against " {capital}".

    The answer counts when the continuation starts with the capital's name as a whole word.
    """
    facts = list(capitals)
    answers = []
    for fact in facts:
        want = f" {fact.capital}"
        prompt = tokenizer.encode(f"The capital of {fact.country} is")
        got = tokenizer.decode(greedy_continue(model, prompt,
                                               len(tokenizer.encode(want)) + 1))
        ok = got.startswith(want) and not got[len(want):len(want) + 1].isalnum()
        answers.append(CapitalAnswer(fact.country, fact.capital, got, ok))
    return CapitalAccuracy(answers)


# -- the copy probe ----------------------------------------------------------------------------

COPY_PROBE_NAMES = 40
COPY_TEXT = "The town of {name} has an old market. Visitors to {name} buy bread there."
COPY_QUESTION = "What's the weather in {name} today?"


@dataclass(frozen=True)
class CopyProbeResult:
    """How often the model repeats a name it was just shown, token for token."""

    kind: str  # "text": plain text; "chat": the name from the question into the tool call
    copied: int
    total: int

    @property
    def fraction(self) -> float:
        return self.copied / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"copied {self.copied} of {self.total} unseen names ({self.kind})"


def _span(tokenizer: Tokenizer, text: str, start: int, end: int) -> tuple[list[int], list[int]]:
    """The tokens of ``text`` before the span ``text[start:end]`` and the tokens that
    complete it (a token that straddles the span's start belongs to the span)."""
    ids = tokenizer.encode(text)
    byte_start, byte_end = len(text[:start].encode()), len(text[:end].encode())
    size = getattr(tokenizer, "token_bytes", None)
    offset, first, last = 0, None, None
    for i, token in enumerate(ids):
        offset += len(size(token)) if size else len(tokenizer.decode([token]).encode())
        if first is None and offset > byte_start:
            first = i
        if offset >= byte_end:
            last = i
            break
    assert first is not None and last is not None
    return ids[:first], ids[first:last + 1]


def probe_names(count: int = COPY_PROBE_NAMES) -> list[str]:
    """Names kept out of every training conversation (the evaluation bucket): half real
    places, half made up."""
    import random

    from engine.chat.pools import invented_name, is_eval_name, real_places

    rng = random.Random(7)
    real = [p for p in real_places() if is_eval_name(p) and len(p) <= 16]
    rng.shuffle(real)
    names = real[:count // 2]
    while len(names) < count:
        name = invented_name(rng)
        if is_eval_name(name) and name not in names and len(name) <= 16:
            names.append(name)
    return names


@torch.no_grad()
def copy_probe(model: GPT, tokenizer: Tokenizer, kind: str = "text",
               names: list[str] | None = None) -> CopyProbeResult:
    """Show a made-up name, then ask for it again: is every token of its second mention the
    model's first choice? In plain text (``kind="text"``: "The town of X has an old market.
    Visitors to X"), or in the chat format (``"chat"``: a weather question about X, then the
    call ``weather({ city: " X" })``). Greedy decoding repeats the name exactly when this holds."""
    names = names if names is not None else probe_names()
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    copied = 0
    for name in names:
        if kind == "text":
            text = COPY_TEXT.format(name=name)
            start = text.index(name, text.index(name) + len(name))
            context, target = _span(tokenizer, text, start, start + len(name))
        else:
            from engine.chat.format import TOOL_CALL, Turn, prompt_ids

            from engine.chat.copying import weather_call

            call = " " + weather_call(name)  # a turn's text follows a space
            start = call.index(name)
            before, target = _span(tokenizer, call, start, start + len(name))
            context = [*prompt_ids([Turn("user", COPY_QUESTION.format(name=name))], tokenizer),
                       tokenizer.special[TOOL_CALL], *before]
        ids = (context + target)[-(model.config.block_size + 1):]
        idx = torch.tensor([ids[:-1]], dtype=torch.long, device=device)
        logits, _ = model(idx)
        guesses = logits[0, -len(target):].argmax(dim=-1).tolist()
        copied += guesses == target
    model.train(was_training)
    return CopyProbeResult(kind, copied, len(names))
