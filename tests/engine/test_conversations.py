"""The conversation dataset: the talk's examples, the facts, the tools, the held-out split."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from engine.chat import conversations as cv
from engine.chat.copying import CAPABILITIES, SKIES
from engine.chat.pools import is_eval_expression, is_eval_name, real_places
from engine.data.facts import load_capitals
from engine.tools.calculator import calculator
from engine.tools.parser import ToolCall, parse_call


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


def test_tool_calls_parse_and_replies_repeat_the_result():
    readings = re.compile(r"-?\d+°F and (" + "|".join(SKIES) + ")")
    by_kind = {}
    for c in _all():
        for call, result in pairwise(c.turns):
            if call.role != "tool_call":
                continue
            parsed = parse_call(call.text)
            assert isinstance(parsed, ToolCall), (call.text, parsed)
            assert parsed.name in cv.TOOLS
            by_kind[parsed.name] = by_kind.get(parsed.name, 0) + 1
            if parsed.name == "weather":
                assert readings.fullmatch(result.text), result.text
                reply = c.turns[c.turns.index(result) + 1].text
                assert result.text in reply and parsed.args["city"] in reply, c
            elif parsed.name == "calculator":
                assert result.text == calculator(parsed.args["expression"])
                assert c.turns[-1].text.endswith(f"= {result.text}.")
    assert set(by_kind) == set(cv.TOOLS)


def test_weather_readings_are_random_so_the_reply_must_copy_them():
    by_city: dict[str, set[str]] = {}
    for c in _all():
        if c.kind == "weather":
            by_city.setdefault(c.turns[1].text, set()).add(c.turns[2].text)
    readings = {r for rs in by_city.values() for r in rs}
    assert len(readings) > 500
    assert len(by_city) > 3000  # far more cities than a model this size can store


def test_every_conversation_is_unique():
    turns = [c.turns for c in _all()]
    assert len(turns) == len(set(turns))
    assert len(turns) > 10_000


def test_no_evaluation_name_or_expression_is_trained():
    for c in _all():
        for turn in c.turns:
            if turn.role != "tool_call":
                continue
            parsed = parse_call(turn.text)
            if parsed.name == "weather":
                assert not is_eval_name(parsed.args["city"]), turn.text
            elif parsed.name == "calculator":
                assert not is_eval_expression(parsed.args["expression"]), turn.text
    assert is_eval_name(cv.held_out_cities()[0])


def test_names_come_in_many_shapes_down_to_single_bytes():
    cities = {parse_call(c.turns[1].text).args["city"] for c in _all() if c.kind == "weather"}
    assert any("-" in n for n in cities) and any(" " in n for n in cities)
    assert any("'" in n for n in cities) and any(not n.isascii() for n in cities)
    assert any(n in real_places() for n in cities)


def test_users_type_the_way_people_type_and_small_talk_needs_no_tool():
    questions = [c.turns[0].text for c in _all()]
    assert any(q[:1].islower() for q in questions)
    assert any(q[-1:].isalnum() for q in questions)
    assert any("  " in q for q in questions)
    small = [c for c in _all() if c.kind == "smalltalk"]
    assert len(small) > 300
    assert all([t.role for t in c.turns] == ["user", "assistant"] for c in small)
    assert any(c.turns[-1].text.endswith(CAPABILITIES) for c in small)
    expressions = [parse_call(c.turns[1].text).args["expression"] for c in _all()
                   if c.kind == "calculator"]
    assert any("(" in e for e in expressions) and any("/" in e for e in expressions)
    assert any(len(e.split()[0].strip("(")) == 3 for e in expressions)


def test_the_talks_examples_stay_answered_typed_any_way():
    toast = [c for c in _all() if c.turns[-1].text == cv.TOAST_ANSWER]
    assert any(c.turns[0].text == "how do i give a good wedding toast" for c in toast)
    apples = [c for c in _all() if c.turns[-1].text == cv.APPLES_ANSWER]
    assert len(apples) >= 4


def test_the_talks_weather_example():
    paris = [c for c in _all() if c.kind == "weather" and "Paris" in c.turns[0].text
             and "today" in c.turns[0].text]
    assert paris
    _, call, result, answer = paris[0].turns
    assert call.text == 'weather({ city: "Paris" })'
    assert result.text == "72°F and clear"
    assert answer.text == "The weather in Paris today is 72°F and clear."


@pytest.mark.bundled
def test_the_vocabulary_is_built_from_the_same_texts_as_the_shipped_tokenizer():
    """The conversations changed; the tokenizer they are encoded with did not, so the
    shipped base model still fits what `llm-tour prepare tokenizer` builds."""
    from engine.tokenizer.tour import (
        CompactGPT4Tokenizer,
        conversation_texts,
        dataset_texts,
        load_tokenizer_file,
    )
    from engine.workspace import BUNDLED_DIR

    shipped = load_tokenizer_file(BUNDLED_DIR / "tokenizer.json")
    rebuilt = CompactGPT4Tokenizer.from_texts(dataset_texts(BUNDLED_DIR / "dataset.parquet")
                                              + conversation_texts())
    assert rebuilt.hash == shipped.hash


def test_examples_show_one_of_each_kind():
    kinds = [c.kind for c in cv.examples()]
    assert {"weather", "handwritten", "capital", "calculator", "smalltalk"} <= set(kinds)
