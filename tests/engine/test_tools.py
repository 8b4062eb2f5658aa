"""The tools: a calculator that only does arithmetic, the simulated weather, BM25 search,
and the registry that runs them with a timeout and a size limit."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from engine.tools.calculator import CalculatorError, calculate, calculator
from engine.tools.parser import ToolCall, parse_call
from engine.tools.registry import Tool, ToolRegistry, default_registry
from engine.tools.search import (
    BM25Index,
    Search,
    load_index,
    snippet,
    split_passages,
    weather_question,
)
from engine.tools.weather import WeatherError, forecast, weather

# -- calculator -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("2 × 2", "4"),
        ("$13 - $4", "9"),
        ("9 ÷ 3", "3"),
        ("(13 - 2 * 2) / 3", "3"),
        ("2 ** 10", "1024"),
        ("2^-2", "0.25"),
        ("7 // 2", "3"),
        ("7 % 4", "3"),
        ("-(3 + 4)", "-7"),
        ("0.1 + 0.2", "0.3"),
        ("12 / 4 =", "3"),
    ],
)
def test_calculator_does_arithmetic(expression, value):
    assert calculator(expression) == value


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("x + 1", "names"),
        ("__import__('os').system('ls')", "calls"),
        ("(1).real", "attribute"),
        ("abs(-1)", "calls"),
        ("'a' * 3", "not a number"),
        ("[1, 2]", "not arithmetic"),
        ("1 if 1 else 2", "not arithmetic"),
        ("lambda: 1", "not arithmetic"),
        ("1 << 5", "not arithmetic"),
        ("1 < 2", "not arithmetic"),
        ("True + 1", "not a number"),
        ("9 ** 9 ** 9", "exponent"),
        ("10 ** 200", "digits"),
        ("1.5 ** 900", "digits"),
        ("2 ** 300 * 2 ** 300", "digits"),
        ("1e308 * 10", "too large"),
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("(-8) ** 0.5", "real number"),
        ("0 ** -1", "negative power"),
        ("1 +", "not an arithmetic expression"),
        ("", "empty"),
        ("1+" * 200 + "1", "longer than"),
    ],
)
def test_calculator_refuses_anything_but_bounded_arithmetic(expression, reason):
    with pytest.raises(CalculatorError, match=reason):
        calculate(expression)


# -- weather ----------------------------------------------------------------------------


def test_weather_in_paris_today_is_the_talks_reading():
    reading = forecast("Paris", "today")
    assert reading.text == "72°F and clear"
    assert "simulated" in reading.note
    text, note = weather("paris")
    assert text == "72°F and clear"
    assert "simulated" in note


def test_weather_is_deterministic_per_city_and_day():
    today = dt.date(2026, 5, 28)
    a = forecast("Lima", "tomorrow", today=today)
    assert a.text == forecast("  lima ", 1, today=today).text
    assert a == forecast("Lima", "2026-05-29", today=today)
    readings = {forecast(city, day, today=today).text
                for city in ("Lima", "Oslo", "Nairobi", "Hanoi") for day in (-1, 0, 1)}
    assert len(readings) > 3  # cities and days differ
    assert forecast("Paris", "tomorrow").text != "" and forecast("São Paulo").city == "São Paulo"


@pytest.mark.parametrize(("city", "day"), [("", "today"), ("Paris", "next year"),
                                           ("Paris", "2030-01-01"), ("<script>", "today"),
                                           ("x" * 80, "today")])
def test_weather_refuses_what_it_cannot_answer(city, day):
    with pytest.raises(WeatherError):
        forecast(city, day)


# -- search -----------------------------------------------------------------------------

DOCS = [
    ("travel-notes.example/europe/capitals", "A Quick Guide To European Capitals",
     ("Students often mix up cities, regions, and countries when learning geography.\n"
      "The capital of France is Paris. It appears in this toy document as ordinary web text.")),
    ("small-events.example/blog/wedding-toast", "How To Give A Warm Wedding Toast",
     "A good wedding toast should be personal, brief, and kind."),
    ("atlas.example/peru", "Peru at a glance",
     "The capital of Peru is Lima. Lima lies on the coast of the Pacific."),
]


def test_bm25_finds_the_passage_with_its_url():
    index = BM25Index.from_documents(DOCS)
    hits = index.search("What is the capital of Peru?")
    assert hits[0].passage.url == "atlas.example/peru"
    assert "Lima" in hits[0].passage.text
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert index.search("wedding toast")[0].passage.url.endswith("wedding-toast")
    assert index.search("zzzz qqqq") == []


def test_rare_words_weigh_more_than_common_ones():
    index = BM25Index.from_documents(DOCS)
    assert index.idf("peru") > index.idf("capital")


def test_long_documents_are_cut_into_passages():
    content = " ".join(f"Sentence number {i} is here." for i in range(100))
    passages = split_passages("u", "t", content, max_words=40)
    assert len(passages) > 5
    assert all(len(p.text.split()) <= 40 for p in passages)


def test_search_reads_the_dataset_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "dataset.parquet"
    url, title, content = zip(*DOCS)
    pq.write_table(pa.table({"url": list(url), "title": list(title), "content": list(content)}),
                   path)
    assert len(load_index(path).passages) == 4
    text, note = Search(path)("capital of France")
    assert text == "The capital of France is Paris. It appears in this toy document as ordinary web text."
    assert "BM25" in note and "travel-notes.example/europe/capitals" in note
    assert snippet(DOCS[2][2], "capital of Peru", max_chars=40) == "The capital of Peru is Lima."


@pytest.mark.parametrize(("query", "asked"), [
    ("weather in Paris today", ("Paris", "today")),
    ("What's the weather like in New York tomorrow?", ("New York", "tomorrow")),
    ("temperature in São Paulo", ("São Paulo", "today")),
    ("capital of France", None),
])
def test_weather_questions_are_recognised(query, asked):
    assert weather_question(query) == asked


def test_search_for_the_weather_answers_like_the_talk():
    text, note = Search(BM25Index.from_documents(DOCS))("weather in Paris today")
    assert text == "72°F and clear"
    assert "simulated" in note


# -- registry ---------------------------------------------------------------------------


def _call(text: str) -> ToolCall:
    call = parse_call(text)
    assert isinstance(call, ToolCall)
    return call


def test_default_registry_runs_each_tool(workspace):
    registry = default_registry(workspace)
    assert {"search", "weather", "calculator"} <= set(registry.names())
    result = registry.run(_call('weather({ city: "Paris" })'))
    assert (result.ok, result.text) == (True, "72°F and clear")
    assert "simulated" in result.note
    assert registry.run(_call('calculator("(13 - 4) / 3")')).text == "3"
    assert registry.run(_call('search({ query: "weather in Paris today" })')).text == \
        "72°F and clear"


def test_the_space_the_model_writes_after_each_quote_is_not_part_of_the_value(workspace):
    registry = default_registry(workspace)
    spaced = registry.run(_call('weather({ city: " Paris", day: " tomorrow" })'))
    plain = registry.run(_call('weather({ city: "Paris", day: "tomorrow" })'))
    assert spaced.ok and (spaced.text, spaced.args) == (plain.text, plain.args)
    assert spaced.args == {"city": "Paris", "day": "tomorrow"}
    assert registry.run(_call('calculator({ expression: " (13 - 4) / 3" })')).text == "3"
    assert registry.run(_call('search({ query: " weather in Paris today" })')).text == \
        "72°F and clear"
    # only the ends: a stray piece inside stays, and the city is not found
    assert not registry.run(_call('weather({ city: " C Paris" })')).args.get("city") == "Paris"


@pytest.mark.parametrize(("text", "error", "words"), [
    ('fly({ to: "Mars" })', "unknown tool", "no tool called 'fly'"),
    ('weather({ town: "Paris" })', "bad arguments", "no argument 'town'"),
    ("weather()", "bad arguments", "needs city"),
    ('weather("Paris", "today", "extra")', "bad arguments", "takes 2"),
    ("weather({ city: [1, 2] })", "bad arguments", "text or a number"),
    ('calculator("x ** 2")', "failed", "names"),
    ('weather({ city: "Paris", day: "next year" })', "failed", "not a day"),
])
def test_bad_calls_become_error_results(workspace, text, error, words):
    result = default_registry(workspace).run(_call(text))
    assert not result.ok
    assert result.error == error
    assert result.text.startswith("error: ") and words in result.text


def test_search_without_a_dataset_says_how_to_make_one(workspace):
    result = default_registry(workspace).run(_call('search({ query: "capital of Peru" })'))
    if workspace.find("dataset") is None:
        assert not result.ok and "llm-tour prepare" in result.text


def test_a_tool_that_hangs_is_timed_out():
    release = threading.Event()

    def hang(query: str) -> str:
        release.wait(30)
        return "too late"

    registry = ToolRegistry([Tool("slow", hang, ("query",), "never answers", timeout_s=0.2)])
    result = registry.run(_call('slow("anything")'))
    release.set()
    assert (result.ok, result.error) == (False, "timeout")
    assert "did not answer within 0.2 s" in result.text
    assert result.elapsed_s < 5


def test_results_are_capped():
    registry = ToolRegistry([Tool("big", lambda n: "x" * int(n), ("n",), "big",
                                  max_result_chars=50)])
    result = registry.run(_call("big(10000)"))
    assert result.ok and result.truncated
    assert len(result.text) <= 52


def test_a_tool_name_is_registered_once():
    registry = ToolRegistry([Tool("a", str, ("x",), "a")])
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Tool("a", str, ("x",), "again"))


def test_prepare_builds_the_search_index_before_the_first_call(workspace, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    default_registry(workspace).prepare()  # no dataset: nothing to build, nothing raised
    url, title, content = zip(*DOCS)
    workspace.ensure()
    pq.write_table(pa.table({"url": list(url), "title": list(title), "content": list(content)}),
                   workspace.path("dataset"))
    registry = default_registry(workspace)
    registry.prepare()
    assert registry["search"].run._index is not None
    assert "Lima" in registry.run(_call('search({ query: "capital of Peru" })')).text
