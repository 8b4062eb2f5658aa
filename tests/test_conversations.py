"""The conversation dataset: the talk's examples, the facts, the tools, the held-out split."""

from __future__ import annotations

import re
from itertools import pairwise

from engine.chat import conversations as cv
from engine.data.facts import load_capitals
from engine.tools.calculator import calculator
from engine.tools.parser import ToolCall, parse_call
from engine.tools.weather import forecast


def _all():
    return cv.load_conversations()


def test_the_talks_examples_are_there():
    answers = [c.turns[-1].text for c in _all() if c.kind == "handwritten"]
    assert cv.APPLES_ANSWER in answers
    assert ("The oranges cost 2 × $2 = $4. The total is $13, so the apples cost $13 - $4 = $9. "
            "There are 3 apples, so each apple costs $9 ÷ 3 = $3.") == cv.APPLES_ANSWER
    assert any(a.startswith("A good wedding toast should be personal, brief, and kind.")
               for a in answers)


def test_every_conversation_is_well_formed():
    for c in _all():
        roles = [t.role for t in c.turns]
        assert roles[0] == "user" and roles[-1] == "assistant", c
        for before, after in pairwise(roles):
            if after == "tool_result":
                assert before == "tool_call", c
            if before == "tool_call":
                assert after == "tool_result", c
        assert all(t.text and t.text == t.text.strip() for t in c.turns), c


def test_it_is_deterministic_and_texts_cover_every_turn():
    assert _all() == _all()
    texts = cv.all_texts()
    assert len(texts) == len(_all())
    assert any('weather({ city: "Paris" })' in t for t in texts)
    assert any("<|" not in t for t in texts)


def test_capital_questions_come_in_many_phrasings_and_answer_in_a_sentence():
    capitals = [c for c in _all() if c.kind == "capital"]
    phrasings = {re.sub(r"capital of .*", "capital of X", c.turns[0].text) for c in capitals}
    assert len(phrasings) >= 10
    facts = {f.country: f.capital for f in load_capitals()}
    for c in capitals:
        country = re.search(r"The capital of (.+) is (.+)\.$", c.turns[1].text)
        assert country and facts[country.group(1)] == country.group(2)
        assert country.group(1) in c.turns[0].text


def test_held_out_countries_and_cities_never_appear_in_training():
    held_countries = cv.held_out_countries()
    held_cities = cv.held_out_cities()
    assert 20 <= len(held_countries) <= 70
    assert "France" not in held_countries and "Paris" not in held_cities
    trained = {c.country for c in cv.trained_capitals()}
    assert not trained & set(held_countries)
    names = sorted(held_countries + held_cities, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])")
    for c in _all():
        for turn in c.turns:
            for match in pattern.finditer(turn.text):
                # a trained name may contain a held-out one ("Guinea" in "Equatorial Guinea")
                assert _contains_trained(turn.text, match.group(1), trained), (match, turn.text)
    held = cv.held_out_conversations()
    assert held and all(any(n in c.text for n in held_countries + held_cities) for c in held)


def _contains_trained(text: str, name: str, trained: set[str]) -> bool:
    return any(name in t and t != name and t in text for t in trained)


def test_tool_calls_parse_and_results_come_from_the_tools():
    by_kind = {}
    for c in _all():
        for call, result in pairwise(c.turns):
            if call.role != "tool_call":
                continue
            parsed = parse_call(call.text)
            assert isinstance(parsed, ToolCall), (call.text, parsed)
            assert parsed.name in cv.TOOLS
            by_kind.setdefault(parsed.name, 0)
            by_kind[parsed.name] += 1
            if parsed.name == "weather":
                assert result.text == forecast(parsed.args["city"],
                                               parsed.args.get("day", "today")).text
            elif parsed.name == "calculator":
                assert result.text == calculator(parsed.args["expression"])
    assert set(by_kind) == set(cv.TOOLS)


def test_the_talks_weather_example():
    paris = [c for c in _all() if c.kind == "weather" and "Paris" in c.turns[0].text
             and "today" in c.turns[0].text]
    assert paris
    _, call, result, answer = paris[0].turns
    assert call.text == 'weather({ city: "Paris" })'
    assert result.text == "72°F and clear"
    assert answer.text == "It is clear and about 72°F in Paris today."


def test_examples_show_one_of_each_kind():
    kinds = [c.kind for c in cv.examples()]
    assert {"weather", "handwritten", "capital", "calculator"} <= set(kinds)
