"""Recollection vs working memory: strict verdicts, and an example chosen without hiding a
failure."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import pytest

from engine.chat.format import END, TOOL_RESULT
from engine.data.facts import capital_of
from engine.tokenizer.tour import CompactGPT4Tokenizer
from engine.tools import evaluate, loop, memory

TRINIDAD = capital_of("Trinidad and Tobago")
FRANCE = capital_of("France")


@pytest.mark.parametrize("answer, right", [
    ("The capital of Trinidad and Tobago is Port of Spain.", True),
    ("The capital is Port of Spain.", True),
    ("Port of Spain", True),
    ("  The capital of  Trinidad and Tobago is Port of Spain ", True),
    ("The capital of Spain is Port of Spain.", False),  # the right city, the wrong country
    ("The capital is Port of Spain, I think.", False),
    ("The capital of Trinidad and Tobago is Madrid.", False),
    ("", False),
])
def test_only_an_exactly_right_answer_counts(answer, right):
    assert memory.exactly_right(answer, TRINIDAD.country, TRINIDAD.capital) is right
    mark = memory.verdict(answer, TRINIDAD)
    assert mark.startswith("✓" if right else "✗"), mark


def test_the_question_names_the_fact():
    assert memory.capital_fact("What is the capital of France?") == FRANCE
    assert memory.capital_fact("What's the weather in Paris?") is None
    assert memory.search_query("What is the capital of France?", FRANCE) == "capital of France"


@dataclass
class Result:
    ok: bool
    text: str


class Registry:
    """The search tool: a passage that states the capital of the country asked about."""

    def run(self, call):
        country = call.args["query"].removeprefix("capital of ")
        return Result(True, f"The capital of {country} is {capital_of(country).capital}.")


@pytest.fixture
def tokenizer():
    return CompactGPT4Tokenizer.from_texts(["The capital of Spain is Port of Spain."])


def scripted(answers):
    """A model source that answers from the context: ``answers[(country, with_context)]``."""
    def model_source(model, tokenizer, **kwargs):
        def source(ids, stop_ids, max_tokens):
            text = tokenizer.decode(ids)
            country = text.split("capital of ")[1].split("?")[0]
            reply = answers[(country, TOOL_RESULT in text)]
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            for token_id in [*tokenizer.encode(" " + reply), tokenizer.special[END]]:
                yield loop.Token(token_id, decoder.decode(tokenizer.token_bytes(token_id)))
        return source
    return model_source


def certainty(sure):
    def capital_probability(model, tokenizer, prompt, country, capital):
        return sure[country]
    return capital_probability


def test_the_example_is_the_least_sure_country_that_context_gets_exactly_right(
        tokenizer, monkeypatch):
    countries = ["Trinidad and Tobago", "France", "Peru"]
    # Trinidad is the least sure, but even with the passage the model names Spain: a
    # failure the comparison must not present as a success, nor pick to look good.
    monkeypatch.setattr(loop, "model_source", scripted({
        ("Trinidad and Tobago", False): "The capital of Spain is Port of Spain.",
        ("Trinidad and Tobago", True): "The capital of Spain is Port of Spain.",
        ("France", False): "The capital of France is Lyon.",
        ("France", True): "The capital of France is Paris.",
        ("Peru", False): "The capital of Peru is Lima.",
        ("Peru", True): "The capital of Peru is Lima.",
    }))
    monkeypatch.setattr(evaluate, "capital_probability",
                        certainty({"Trinidad and Tobago": 0.1, "France": 0.3, "Peru": 0.9}))
    assert memory.pick_country(None, tokenizer, countries, Registry()) == 1  # France

    answer = "".join(memory.reply(None, tokenizer, "What is the capital of Trinidad and Tobago?",
                                  "capital of Trinidad and Tobago", "a passage"))
    assert memory.verdict(answer, TRINIDAD).startswith("✗")


def test_with_no_exact_answer_anywhere_the_least_sure_is_shown_as_it_is(tokenizer, monkeypatch):
    countries = ["France", "Trinidad and Tobago"]
    wrong = "The capital of Spain is Port of Spain."
    monkeypatch.setattr(loop, "model_source", scripted(
        {(c, ctx): wrong for c in countries for ctx in (False, True)}))
    monkeypatch.setattr(evaluate, "capital_probability",
                        certainty({"France": 0.5, "Trinidad and Tobago": 0.2}))
    assert memory.pick_country(None, tokenizer, countries, Registry()) == 1
