"""The evaluation scores whole turns exactly, on names and numbers training never holds."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from engine.chat import eval as ev
from engine.chat.conversations import (
    held_out_capitals,
    held_out_cities,
    load_conversations,
    trained_capitals,
)
from engine.chat.eval import Call, Item, Transcript, score
from engine.chat.pools import is_eval_expression, is_eval_name, normalise_expression

WEATHER = Item("weather", "What's the weather in Yaounde today?", city="Yaounde")


def _weather(city: str, answer: str, result: str = "81°F and cloudy") -> Transcript:
    return Transcript((Call("weather", {"city": city}, result, True),), answer)


def test_a_right_weather_turn_is_right():
    right, why = score(WEATHER, _weather("Yaounde", "The weather in Yaounde today is 81°F "
                                                    "and cloudy."))
    assert right, why


def test_a_wrong_city_is_wrong_even_when_it_contains_the_city():
    assert not score(WEATHER, _weather("Douala", "The weather in Yaounde today is 81°F and "
                                                 "cloudy."))[0]
    right, why = score(WEATHER, _weather("C Yaounde", "The weather in Yaounde today is 81°F "
                                                      "and cloudy."))
    assert not right and "C Yaounde" in why


def test_the_space_after_the_quote_is_not_part_of_the_city_but_a_stray_piece_is():
    reply = "The weather in Yaounde today is 81°F and cloudy."
    assert score(WEATHER, _weather(" Yaounde", reply))[0]
    assert not score(WEATHER, _weather(" C Yaounde", reply))[0]
    assert not score(WEATHER, _weather(" Yaounde  Yaounde", reply))[0]


def test_a_result_not_used_is_wrong():
    right, why = score(WEATHER, _weather("Yaounde", "It is cloudy and about 32°F in Yaounde "
                                                    "today."))
    assert not right and "reading" in why
    # the reading without the city is not right either
    assert not score(WEATHER, _weather("Yaounde", "It is 81°F and cloudy today."))[0]


def test_a_tool_call_on_hi_is_wrong_and_a_reply_is_right():
    hi = Item("small talk", "hi")
    called = Transcript((Call("weather", {"city": "Moroni"}, "60°F and cloudy", True),),
                        "The weather in Moroni today is 60°F and cloudy.")
    assert not score(hi, called)[0]
    assert score(hi, Transcript((), "Hello! Ask me about the weather."))[0]
    assert not score(hi, Transcript((), ""))[0]
    assert not score(hi, Transcript((), "Hello hello hello", stop="max tokens"))[0]


def test_a_wrong_calculator_expression_is_wrong():
    item = Item("calculator", "What is 17 * 23?", expression="17 * 23", value="391")
    asked_once = Transcript((Call("calculator", {"expression": "23"}, "23", True),), "23 = 23.")
    assert not score(item, asked_once)[0]
    right = Transcript((Call("calculator", {"expression": "17*23"}, "391", True),),
                       "17 × 23 = 391.")
    assert score(item, right)[0]  # whitespace alone may differ
    wrong_value = Transcript((Call("calculator", {"expression": "17 * 23"}, "391", True),),
                             "17 × 23 = 3910.")
    assert not score(item, wrong_value)[0]


def test_a_search_query_must_share_a_word_with_the_question():
    item = Item("search", "Search the pages for pancakes.")
    good = Transcript((Call("search", {"query": "pancakes"}, "Fluffy pancakes…", True),),
                      "The pages say pancakes are fluffy.")
    bad = Transcript((Call("search", {"query": "capital of water"}, "Water…", True),), "Water.")
    assert score(item, good)[0] and not score(item, bad)[0]


def test_capitals_need_the_capital_as_a_word_and_no_call():
    item = Item("capitals", "Capital of Niger?", capital="Niamey", country="Niger")
    assert score(item, Transcript((), "The capital of Niger is Niamey."))[0]
    assert not score(item, Transcript((), "The capital of Niger is Niameyville."))[0]


def test_the_eval_pool_is_disjoint_from_training():
    items = ev.eval_items()
    assert {i.category for i in items} == set(ev.CATEGORIES)
    cities = [i.city for i in items if i.category == "weather"]
    assert len(cities) == 40 == len(set(cities))
    assert all(is_eval_name(c) for c in cities)
    assert set(held_out_cities()) & set(cities)  # the held-out capitals are among them
    expressions = [i.expression for i in items if i.category == "calculator"]
    assert len(expressions) == 40 and all(is_eval_expression(e) for e in expressions)
    assert sum(i.category == "capitals" for i in items) == 4 * len(held_out_capitals())

    names = sorted(set(cities), key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])")
    trained_text = "\n".join(c.text for c in load_conversations())
    trained_countries = {c.country for c in trained_capitals()}
    for match in pattern.finditer(trained_text):
        line = trained_text[max(0, match.start() - 40):match.end() + 40]
        # a trained name may contain an evaluation one ("Guinea" in "Equatorial Guinea")
        assert any(match.group(1) in t and t in line for t in trained_countries), line
    trained_expressions = {normalise_expression(m) for m in re.findall(
        r'calculator\(\{ expression: "([^"]*)" \}\)', trained_text)}
    assert not trained_expressions & {normalise_expression(e) for e in expressions}


def test_transcript_of_reads_the_loops_events():
    from tests.engine.test_tool_loop import TOK, ScriptedModel
    from engine.tools.loop import run_turn
    from engine.tools.registry import Tool, ToolRegistry

    registry = ToolRegistry([Tool("weather", lambda city, day="today": "81°F and cloudy",
                                  ("city", "day"), "test")])
    model = ScriptedModel('<|tool_call|>weather({ city: "Yaounde" })<|end|>',
                          "The weather in Yaounde today is {result}.<|end|>")
    transcript = ev.transcript_of(run_turn(WEATHER.question, model, TOK, registry))
    assert transcript.calls == (Call("weather", {"city": "Yaounde"}, "81°F and cloudy", True),)
    assert score(WEATHER, transcript) == (True, "right")


@pytest.mark.bundled
def test_llm_tour_eval_prints_the_table(tmp_path):
    from tui.cli import cli

    result = CliRunner().invoke(cli, ["--workdir", str(tmp_path), "eval", "--limit", "2"])
    assert result.exit_code == 0, result.output
    for category in ev.CATEGORIES:
        assert category in result.output
    assert "whole turns right" in result.output
    as_json = CliRunner().invoke(cli, ["--workdir", str(tmp_path), "eval", "--limit", "1",
                                       "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert '"categories"' in as_json.output


def test_miscopied_names_what_a_call_got_wrong_against_its_question():
    from engine.chat.eval import miscopied

    question = "what is the weather like in La Paz"
    assert "does not name 'Laz'" in miscopied(question, "weather", {"city": " Laz"})
    assert miscopied(question, "weather", {"city": " La Paz"}) is None
    assert miscopied("weather in paris", "weather", {"city": " Paris"}) is None  # any case
    assert miscopied("weather in Parisville", "weather", {"city": " Paris"})  # whole words
    assert miscopied("What is 17 * 23?", "calculator", {"expression": "17 * 23"}) is None
    assert miscopied("What is 17 * 23?", "calculator", {}, ("23",))  # positional, a number lost
    assert miscopied("search for green salad", "search", {"query": " green music"}) is None
    assert miscopied("search for party speeches", "search", {"query": " Tuc"})
    assert miscopied("hi", "joke", {}) is None
