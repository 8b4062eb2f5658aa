"""Did the model learn the tool-call format, or only the examples?

Ask for today's weather in cities that no training conversation mentions (the capitals
of the held-out countries, :func:`engine.chat.conversations.held_out_cities`) and count the
replies that are a well-formed call: one the parser reads, to a registered tool, whose
arguments name the city asked about.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.tools.loop import (
    Answer,
    CallMalformed,
    CallRecognised,
    CallToken,
    LoopConfig,
    model_source,
    run_turn,
)
from engine.tools.registry import ToolRegistry

QUESTION = "What's the weather in {city} today?"


@dataclass(frozen=True)
class CallCheck:
    city: str
    question: str
    call_text: str  # what the model wrote after <|tool_call|>, or its answer if it made none
    well_formed: bool  # parsed, and the tool exists
    names_city: bool  # ... and its arguments name the city


@dataclass(frozen=True)
class CallReport:
    checks: tuple[CallCheck, ...]

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def well_formed(self) -> int:
        return sum(c.well_formed for c in self.checks)

    @property
    def names_city(self) -> int:
        return sum(c.names_city for c in self.checks)

    @property
    def fraction(self) -> float:
        return self.well_formed / self.total if self.total else 0.0

    def __str__(self) -> str:
        return (f"{self.well_formed} of {self.total} held-out cities ({self.fraction:.0%}) got a "
                f"well-formed tool call; {self.names_city} of them name the city asked about")


def check_call(city: str, source: Any, tokenizer: Any, registry: ToolRegistry,
               question: str = QUESTION) -> CallCheck:
    """Run the loop on one weather question up to the point where the call is recognised."""
    text = question.format(city=city)
    written = ""
    for event in run_turn(text, source, tokenizer, registry, config=LoopConfig(max_calls=1, max_answer_tokens=40)):
        if isinstance(event, CallToken):
            written = event.text
        elif isinstance(event, CallRecognised):
            values = [*event.call.args.values(), *event.call.positional]
            named = any(isinstance(v, str) and city.casefold() in v.casefold() for v in values)
            return CallCheck(city, text, written.strip(), event.known, event.known and named)
        elif isinstance(event, CallMalformed):
            return CallCheck(city, text, written.strip(), False, False)
        elif isinstance(event, Answer):
            return CallCheck(city, text, event.text, False, False)
    return CallCheck(city, text, written.strip(), False, False)


def held_out_weather_calls(model: Any, tokenizer: Any, registry: ToolRegistry,
                           cities: list[str] | None = None,
                           question: str = QUESTION) -> Iterator[CallCheck]:
    """One greedy :class:`CallCheck` per held-out city (collect them in a CallReport)."""
    if cities is None:
        from engine.chat.conversations import held_out_cities

        cities = held_out_cities()
    source = model_source(model, tokenizer, temperature=0.0)
    for city in cities:
        yield check_call(city, source, tokenizer, registry, question)


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


def capital_probability(model: Any, tokenizer: Any, prompt: list[int], country: str,
                        capital: str) -> float:
    """P(" {capital}") after the prompt and the start of the trained answer
    ("The capital of {country} is")."""
    lead = tokenizer.encode(f" The capital of {country} is")
    return continuation_probability(model, [*prompt, *lead], tokenizer.encode(f" {capital}"))
