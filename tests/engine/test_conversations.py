"""The conversation dataset: the talk's examples, the facts, the tools, the held-out split."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from engine.chat import conversations as cv
from engine.chat.copying import CAPABILITIES, SKIES
from engine.chat.eval import SEARCH_QUESTIONS as EVAL_SEARCH_QUESTIONS
from engine.chat.pools import (
    is_eval_expression,
    is_eval_name,
    is_eval_topic,
    page_snippets,
    real_places,
)
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
    assert any('weather({ city: " Paris" })' in t for t in texts)
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
                assert result.text in reply and parsed.args["city"].strip() in reply, c
            elif parsed.name == "calculator":
                assert result.text == calculator(parsed.args["expression"].strip())
                assert c.turns[-1].text.endswith(f"= {result.text}.")
            else:
                assert c.turns[-1].text == f"The pages say: {result.text}"
    assert set(by_kind) == set(cv.TOOLS)


def _searches() -> list[tuple[str, str]]:
    """(query, result) of every training search."""
    return [(parse_call(c.turns[1].text).args["query"].strip(), c.turns[2].text)
            for c in _all() if c.kind == "search"]


def test_search_queries_must_be_copied_and_never_touch_what_the_evaluation_asks():
    searches = _searches()
    queries = {query for query, _ in searches}
    assert len(queries) > 2500  # far more than a model this small can store
    assert sum(len(q.split()) >= 3 for q in queries) > 500  # phrases, not just words
    for query, result in searches:
        assert not is_eval_topic(query), query
        assert not is_eval_topic(result), result
    for question in EVAL_SEARCH_QUESTIONS:  # the rule does catch the evaluation's own
        assert is_eval_topic(question), question


def test_some_searches_find_a_sentence_of_the_pages_that_holds_the_query():
    pages = {sentence for _, sentence in page_snippets()}
    found = [(q, r) for q, r in _searches() if r in pages]
    assert len(found) > 1000
    assert all(q in r for q, r in found)


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
                assert not is_eval_name(parsed.args["city"].strip()), turn.text
            elif parsed.name == "calculator":
                assert not is_eval_expression(parsed.args["expression"].strip()), turn.text
    assert is_eval_name(cv.held_out_cities()[0])


def test_names_come_in_many_shapes_down_to_single_bytes():
    cities = {parse_call(c.turns[1].text).args["city"].strip() for c in _all() if c.kind == "weather"}
    assert any("-" in n for n in cities) and any(" " in n for n in cities)
    assert any("'" in n for n in cities) and any(not n.isascii() for n in cities)
    assert any(n in real_places() for n in cities)
    # several words with short ones among them, as in "La Paz" and "Port of Spain"
    joined = [n for n in cities if re.search(r"\b(of|de|del|la|el|upon)\b", n)]
    assert len(joined) > 200 and any(n.startswith("La ") for n in cities)


def test_users_type_the_way_people_type_and_small_talk_needs_no_tool():
    questions = [c.turns[0].text for c in _all()]
    assert any(q[:1].islower() for q in questions)
    assert any(q[-1:].isalnum() for q in questions)
    assert any("  " in q for q in questions)
    small = [c for c in _all() if c.kind == "smalltalk"]
    assert len(small) > 300
    assert all([t.role for t in c.turns] == ["user", "assistant"] for c in small)
    assert any(c.turns[-1].text.endswith(CAPABILITIES) for c in small)
    expressions = [parse_call(c.turns[1].text).args["expression"].strip() for c in _all()
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
    assert call.text == 'weather({ city: " Paris" })'
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


def _segment_tokens(tokenizer, turns, role: str) -> list[int]:
    """The token ids of the first turn of ``role`` as the model sees it in a rendered
    conversation (between its opener and ``<|end|>``)."""
    from engine.chat.format import ASSISTANT, END, TOOL_CALL, TOOL_RESULT, USER, render

    ids, _ = render(turns, tokenizer)
    opener = {"user": USER, "tool_call": TOOL_CALL, "tool_result": TOOL_RESULT,
              "assistant": ASSISTANT}[role]
    sp = tokenizer.special
    starts = [i for i, t in enumerate(ids) if t == sp[opener]]
    if role == "assistant":  # the opener before a reply, not the one before a call
        starts = [i for i in starts if ids[i + 1] not in (sp[TOOL_CALL], sp[END])]
    start = starts[-1 if role == "assistant" else 0] + 1
    return ids[start:ids.index(sp[END], start)]


def _contains(haystack: list[int], needle: list[int]) -> bool:
    return any(haystack[i:i + len(needle)] == needle for i in range(len(haystack)))


# real names of one and of many pieces, invented ones, and the talk's own
COPIED_NAMES = ("Paris", "Yaounde", "Ouagadougou", "Ulaanbaatar", "San José", "New York",
                "Zorvath", "Brelmonkita", "Qiv-Tessaly")


@pytest.mark.bundled
@pytest.mark.parametrize("name", COPIED_NAMES)
def test_a_name_has_the_same_tokens_in_the_question_and_in_the_call(name):
    """A tiny model copies token for token: the call must hold the very tokens the question
    holds, not the same letters split another way (the quote would take the space)."""
    from engine.chat.copying import weather_call
    from engine.chat.format import Turn
    from engine.tokenizer.tour import load_tokenizer_file
    from engine.workspace import BUNDLED_DIR

    tokenizer = load_tokenizer_file(BUNDLED_DIR / "tokenizer.json")
    turns = [Turn("user", f"What's the weather in {name} today?"),
             Turn("tool_call", weather_call(name))]
    name_ids = tokenizer.encode(" " + name)  # as it follows "in" in the question
    assert _contains(_segment_tokens(tokenizer, turns, "user"), name_ids)
    assert _contains(_segment_tokens(tokenizer, turns, "tool_call"), name_ids)
    # the first format split the name another way (kept to show why the space is there)
    unspaced = [Turn("tool_call", cv.weather_call(name, space=""))]
    if len(name_ids) > 0 and tokenizer.decode(name_ids[:1]).startswith(" "):
        assert not _contains(_segment_tokens(tokenizer, unspaced, "tool_call"), name_ids)


@pytest.mark.bundled
@pytest.mark.parametrize("expression,typed", [("17 * 23", "17 * 23"), ("(48 - 9) * 12", "(48 - 9) * 12"),
                                               ("725 / 25", "725 / 25")])
def test_an_expression_has_the_same_tokens_in_the_question_and_in_the_call(expression, typed):
    from engine.chat.format import Turn, call_text
    from engine.tokenizer.tour import load_tokenizer_file
    from engine.workspace import BUNDLED_DIR

    tokenizer = load_tokenizer_file(BUNDLED_DIR / "tokenizer.json")
    turns = [Turn("user", f"What is {typed}?"),
             Turn("tool_call", call_text("calculator", expression=expression))]
    expression_ids = tokenizer.encode(" " + typed)
    assert _contains(_segment_tokens(tokenizer, turns, "user"), expression_ids)
    assert _contains(_segment_tokens(tokenizer, turns, "tool_call"), expression_ids)


@pytest.mark.bundled
@pytest.mark.parametrize("reading", ["72°F and clear", "-4°F and light snow", "101°F and sunny"])
def test_a_reading_has_the_same_tokens_in_the_result_and_in_the_reply(reading):
    from engine.chat.copying import weather_turns
    from engine.chat.format import Turn
    from engine.tokenizer.tour import load_tokenizer_file
    from engine.workspace import BUNDLED_DIR

    import random

    tokenizer = load_tokenizer_file(BUNDLED_DIR / "tokenizer.json")
    call, _, _ = weather_turns(random.Random(0), "Zorvath")
    turns = [Turn("user", "weather in Zorvath"), call, Turn("tool_result", reading),
             Turn("assistant", f"The weather in Zorvath today is {reading}.")]
    result = _segment_tokens(tokenizer, turns, "tool_result")
    assert result == tokenizer.encode(" " + reading)
    assert _contains(_segment_tokens(tokenizer, turns, "assistant"), result)


def test_every_value_in_a_training_call_starts_with_one_space_and_is_read_without_it():
    from engine.tools.registry import _bind, default_registry

    registry = default_registry()
    for c in _all():
        for turn in c.turns:
            if turn.role != "tool_call":
                continue
            call = parse_call(turn.text)
            assert isinstance(call, ToolCall), turn.text
            for value in call.args.values():
                assert value.startswith(" ") and not value.startswith("  "), turn.text
            bound = _bind(registry[call.name], call)
            assert isinstance(bound, dict)
            assert all(v == v.strip() for v in bound.values()), turn.text


def test_the_talks_prompts_are_drawn_far_more_often_than_a_generated_conversation():
    mix = cv.training_mix(_all())
    def draws(question: str) -> int:
        return sum(c.turns[0].text == question for c in mix)

    for question in ("How do I give a good wedding toast?", cv.APPLES_QUESTION, "Hello!"):
        assert draws(question) == cv.HANDWRITTEN_WEIGHT
    generated = [c for c in mix if c.kind == "weather"]
    assert all(mix.count(c) == 1 for c in generated[:50])
    hello = [c for c in mix if c.turns[0].text == "Hello!"]
    assert {c.turns[-1].text for c in hello} == {"Hello! Ask me a question and I will answer it."}
