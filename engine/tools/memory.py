"""Vague recollection vs working memory: one question answered twice by the chat model.

Once from its parameters alone, once with the search tool's best passage already in the
context, as if the model had called the tool and read the result. The Tools chapter shows
the two side by side; the verdict under each is strict: an answer counts only when it is
exactly the right sentence (or the capital alone), so an answer that names the right city
for the wrong country ("The capital of Spain is Port of Spain." for Trinidad and Tobago) is
marked wrong, not right because the city's name appears in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from engine.chat.format import END, TOOL_CALL, Turn, prompt_ids, stop_ids

if TYPE_CHECKING:
    from engine.data.facts import Capital
    from engine.tokenizer.protocol import Tokenizer
    from engine.tools.registry import ToolRegistry as Registry, ToolResult

MAX_TOKENS = 48
CAPITAL_QUESTION = re.compile(r"capital(?: city)? of (?P<country>[\w .'’-]+?)\s*[?.!]*$",
                              re.IGNORECASE)
REACHED_FOR_A_TOOL = "(the model reached for a tool instead of answering)"


def capital_fact(question: str) -> Capital | None:
    """The country and capital a "What is the capital of X?" question is about, if known."""
    from engine.data.facts import capital_of

    match = CAPITAL_QUESTION.search(question)
    return capital_of(match.group("country")) if match else None


def search_query(question: str, fact: Capital | None) -> str:
    return f"capital of {fact.country}" if fact else question


def prompt(tokenizer: Tokenizer, question: str, context: str | None, query: str) -> list[int]:
    """The conversation up to the model's reply: the question, and when ``context`` is
    given, the search call and its result before it."""
    from engine.chat.format import call_text

    turns = [Turn("user", question)]
    if context is not None:
        turns += [Turn("tool_call", call_text("search", query=query)),
                  Turn("tool_result", context)]
    return prompt_ids(turns, tokenizer)


def reply(model: Any, tokenizer: Tokenizer, question: str, query: str,
          context: str | None, max_tokens: int = MAX_TOKENS) -> Iterator[str]:
    """The chat model's greedy answer, piece by piece, with or without ``context``.

    It ends at the end of the turn; a tool call instead of an answer is said as such.
    """
    from engine.tools import loop

    source = loop.model_source(model, tokenizer, temperature=0.0)
    specials = set(tokenizer.special.values())
    stops = [*stop_ids(tokenizer), tokenizer.special[TOOL_CALL]]
    first = True
    for token in source(prompt(tokenizer, question, context, query), stops, max_tokens):
        if token.id in specials:
            if token.id != tokenizer.special[END] and first:
                yield REACHED_FOR_A_TOOL
            return
        yield token.text.lstrip() if first else token.text
        first = False


def search(registry: Registry, query: str) -> ToolResult:
    """The search tool's result for ``query``, run the way the loop runs it."""
    from engine.tools.parser import ToolCall

    return registry.run(ToolCall("search", {"query": query}))


def _plain(text: str) -> str:
    return " ".join(text.split()).rstrip(".").strip().casefold()


def exactly_right(answer: str, country: str, capital: str) -> bool:
    """The answer is the trained sentence, "The capital is {capital}.", or the capital alone.

    Nothing else counts: naming the capital inside a sentence about another country, or
    with anything added ("..., I think"), is not exactly right.
    """
    accepted = {f"The capital of {country} is {capital}", f"The capital is {capital}",
                f"{capital} is the capital of {country}", capital}
    return _plain(answer) in {_plain(a) for a in accepted}


def verdict(answer: str, fact: Capital) -> str:
    """The line under an answer: ✓ only when it is exactly right, ✗ with the fact otherwise."""
    if exactly_right(answer, fact.country, fact.capital):
        return f"✓ names {fact.capital}"
    return f"✗ the capital of {fact.country} is {fact.capital}"


def recollection(model: Any, tokenizer: Tokenizer, fact: Capital, context: str | None = None,
                 question: str | None = None) -> float:
    """P(" {capital}") where the answer's sentence needs it, after the question (and context)."""
    from engine.tools import evaluate

    question = question or f"What is the capital of {fact.country}?"
    return evaluate.capital_probability(
        model, tokenizer, prompt(tokenizer, question, context, search_query(question, fact)),
        fact.country, fact.capital)


def pick_country(model: Any, tokenizer: Tokenizer, countries: Sequence[str],
                 registry: Registry, *, looking: Callable[[str], None] | None = None,
                 cancelled: Callable[[], bool] = lambda: False, tries: int = 5) -> int:
    """The example for the comparison: the index of a country in ``countries``.

    The countries are ranked by how sure the parameters alone are of the capital, least
    sure first (the half-learned facts the comparison is about). Of the ``tries`` least
    sure, the first whose answer with the search result in context is exactly right is
    chosen, so the example shows working memory doing what recollection cannot; when none
    is, the least sure one is shown as it is, with both answers marked wrong. The verdicts
    themselves are never softened to make an example look better.
    """
    from engine.data.facts import capital_of

    scored: list[tuple[float, int]] = []
    for index, country in enumerate(countries):
        if cancelled():
            break
        fact = capital_of(country)
        if fact is None:
            continue
        if looking is not None and index % 8 == 0:
            looking(country)
        scored.append((recollection(model, tokenizer, fact), index))
    ranked = [index for _, index in sorted(scored)]
    if not ranked:
        return 0
    for index in ranked[:tries]:
        if cancelled():
            break
        fact = capital_of(countries[index])
        question = f"What is the capital of {fact.country}?"
        query = search_query(question, fact)
        result = search(registry, query)
        if not result.ok:
            continue
        answer = "".join(reply(model, tokenizer, question, query, result.text))
        if exactly_right(answer, fact.country, fact.capital):
            return index
    return ranked[0]

