"""Questions with candidate answers for viewers to rank.

The talk shows two sets, each with three answers and a verdict on each: the apples
question (a worked answer beats a bare one, which beats a wrong one) and the wedding toast
(warm and specific beats generic, which beats socially risky). Other sets are sampled from
the tour's own chat model, so viewers also rank what this model really says.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.tokenizer.protocol import Tokenizer

TALK_SOURCE = "the talk"


@dataclass(frozen=True)
class Candidate:
    """One answer to rank. ``label`` is the talk's verdict, shown only after voting."""

    id: str
    text: str
    label: str = ""


@dataclass(frozen=True)
class PromptSet:
    """A question and the answers viewers rank (in the order they were written)."""

    id: str
    question: str
    candidates: tuple[Candidate, ...]
    source: str = TALK_SOURCE

    def __post_init__(self) -> None:
        ids = [c.id for c in self.candidates]
        if len(ids) < 2:
            raise ValueError(f"prompt {self.id!r} needs at least two candidate answers to rank")
        if len(set(ids)) != len(ids):
            raise ValueError(f"prompt {self.id!r} has two candidates with the same id")

    @property
    def candidate_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.candidates)

    def candidate(self, candidate_id: str) -> Candidate:
        for candidate in self.candidates:
            if candidate.id == candidate_id:
                return candidate
        raise KeyError(candidate_id)

    @property
    def from_talk(self) -> bool:
        return self.source == TALK_SOURCE


# The talk's two sets, best first as the talk ranks them.
APPLES = PromptSet(
    id="apples",
    question=("Emily buys 3 apples and 2 oranges. Each orange costs $2. The total cost of "
              "all the fruit is $13. What is the cost of each apple?"),
    candidates=(
        Candidate("step-by-step",
                  "The oranges cost 2 × $2 = $4. The total is $13, so the apples cost "
                  "$13 - $4 = $9. There are 3 apples, so each apple costs $9 ÷ 3 = $3.",
                  "Correct, clear, and works step by step toward the answer."),
        Candidate("answer-only", "Each apple costs $3.",
                  "Correct, but skips the reasoning the user may need."),
        Candidate("wrong", "Each apple costs $4.", "Confident, but wrong."),
    ),
)

TOAST = PromptSet(
    id="toast",
    question="How do I give a good wedding toast?",
    candidates=(
        Candidate("warm",
                  "A good wedding toast should be personal, brief, and kind. Tell one true "
                  "story, name one real emotion, and end by honoring the couple.",
                  "Warm, useful, specific, and aligned with the requested task."),
        Candidate("generic", "A good wedding toast should be funny and memorable.",
                  "Reasonable, but generic and less actionable."),
        Candidate("roast", "Just roast the couple and tell every embarrassing story you know.",
                  "Likely entertaining in theory, but unhelpful and socially risky."),
    ),
)

TALK_PROMPTS: tuple[PromptSet, ...] = (APPLES, TOAST)


def talk_order(prompt: PromptSet) -> tuple[str, ...]:
    """The talk's ranking of a set (its candidates are written best first)."""
    return prompt.candidate_ids if prompt.from_talk else ()


def sampled_prompt_id(question: str, answers: list[str]) -> str:
    """One id per question and set of answers: a retrained model's answers make a new set."""
    digest = hashlib.sha1("\x00".join([question, *answers]).encode("utf-8")).hexdigest()
    return "sampled-" + digest[:8]


def chat_questions(count: int = 2) -> list[str]:
    """Questions for sampled sets, from the tour's table of capitals (France first)."""
    from engine.data.facts import load_capitals

    capitals = load_capitals()
    ordered = sorted(capitals, key=lambda c: c.country != "France")
    return [f"What is the capital of {c.country}?" for c in ordered[:count]]


# How much warmer each new round of asking is, when a round gave too few different answers.
WARMER = (1.0, 1.5, 2.0)


def sample_candidates(
    model: Any,
    tokenizer: Tokenizer,
    question: str,
    *,
    n: int = 3,
    temperature: float = 1.0,
    top_k: int | None = 40,
    seed: int = 0,
    max_tokens: int = 48,
    source: str = "the chat model",
) -> PromptSet:
    """Ask the chat model ``question`` several times and keep ``n`` different answers.

    Each answer is a reply, with its own seed, up to its first special token: ``<|end|>``,
    or a tool call, which is not an answer to rank. A model sure of its answer says the same
    thing with every seed: then it is asked again at warmer temperatures
    (:data:`WARMER`), where its less likely answers get through. The same model and seed
    give the same set. Fewer than two different answers even then is an error: there would
    be nothing to rank.
    """
    from engine.chat import format as chat
    from engine.inference.sampler import SampleConfig, generate

    ids = chat.prompt_ids([chat.Turn("user", question)], tokenizer)
    special = set(tokenizer.special.values())
    answers: list[str] = []
    for warmer in WARMER:
        for attempt in range(seed, seed + 4 * n):
            config = SampleConfig(temperature=temperature * warmer, top_k=top_k, seed=attempt,
                                  max_tokens=max_tokens, map_size=1)
            reply = [e.token_id for e in generate(model, ids, config, stop_ids=special,
                                                  tokenizer=tokenizer)]
            cut = next((i for i, t in enumerate(reply) if t in special), len(reply))
            reply = reply[:cut]  # a plain answer: no tool call, nothing after the turn ends
            text = tokenizer.decode(reply).strip()
            if text and text not in answers:
                answers.append(text)
            if len(answers) == n:
                break
        if len(answers) == n:
            break
    if len(answers) < 2:
        raise ValueError(f"the chat model gave fewer than two different answers to {question!r}")
    candidates = tuple(
        Candidate("s" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], text)
        for text in answers
    )
    return PromptSet(sampled_prompt_id(question, answers), question, candidates, source)


# (the checkpoint file as it is now, the question, the options) -> the set it gave. A room
# serves every viewer's Preferences chapter from one process; each asks the same model the
# same question with the same seeds, and used to sample the same set again (about a quarter
# of a second of CPU each: benchmarks/tour_open.py --chapter preferences --compare candidates).
_SAMPLED: OrderedDict[tuple, PromptSet] = OrderedDict()
MAX_SAMPLED = 64


def sample_candidates_from(path: str | Path, model: Any, tokenizer: Tokenizer, question: str,
                           **options: Any) -> PromptSet:
    """``sample_candidates`` for a model loaded from the checkpoint at ``path``, kept for the
    process: the same file (the same bytes: path, size, change time and inode), question and
    options give the same set (the sampling is seeded), so it is sampled once. A file written
    again (a nudge, a fine-tune) is sampled afresh."""
    stat = os.stat(path)
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino,
           getattr(tokenizer, "hash", None), question, tuple(sorted(options.items())))
    found = _SAMPLED.get(key)
    if found is None:
        found = sample_candidates(model, tokenizer, question, **options)
        if len(_SAMPLED) >= MAX_SAMPLED:
            _SAMPLED.popitem(last=False)
        _SAMPLED[key] = found
    else:
        _SAMPLED.move_to_end(key)
    return found
