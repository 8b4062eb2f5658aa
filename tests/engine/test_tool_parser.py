"""The tool-call parser: reads the talk's syntax, never evaluates, never raises, never hangs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.tools.parser import MAX_CALL_CHARS, ToolCall, ToolCallError, format_call, parse_call


@pytest.mark.parametrize(
    ("text", "name", "args", "positional"),
    [
        ('search({ query: "weather in Paris today" })', "search",
         {"query": "weather in Paris today"}, ()),
        (' weather({ city: "Paris" }) ', "weather", {"city": "Paris"}, ()),
        ('weather({ "city": "Paris", "day": "tomorrow" })', "weather",
         {"city": "Paris", "day": "tomorrow"}, ()),
        ("weather({city:'São Paulo',})", "weather", {"city": "São Paulo"}, ()),
        ('search(query="capital of Peru")', "search", {"query": "capital of Peru"}, ()),
        ('calculator("(13 - 4) / 3")', "calculator", {}, ("(13 - 4) / 3",)),
        ("f(1, -2.5, true, null, [1, [2]])", "f", {}, (1, -2.5, True, None, [1, [2]])),
        ('search({ query: "say \\"hi\\"\\n" })', "search", {"query": 'say "hi"\n'}, ()),
        ('search({ query: "\\u00e9t\\u00e9" })', "search", {"query": "été"}, ()),
        ("noargs()", "noargs", {}, ()),
        ('search({ query: "[/b] <|end|> ); rm -rf /" })', "search",
         {"query": "[/b] <|end|> ); rm -rf /"}, ()),
    ],
)
def test_well_formed_calls_parse_to_the_tool_and_its_arguments(text, name, args, positional):
    call = parse_call(text)
    assert isinstance(call, ToolCall), call
    assert (call.name, call.args, call.positional) == (name, args, positional)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("search", "'('"),
        ("search(", "closing ')'"),
        ('search({ query: "weather in Paris', "never closed"),
        ("search({ query: weather })", "need quotes"),
        ('search({ query: "x" }) and more', "after the call"),
        ('search({ query: "x", query: "y" })', "twice"),
        ("__import__('os').system('ls')", "after the call"),
        ("1 + 1", "tool name"),
        ('search({ query: "x" ', "expected"),
        ("f(" + "[" * 50 + "]" * 50 + ")", "deeper"),
        ("f(1e999)", "finite"),
        ("f(0x10)", "not a number"),
        ("f(" + "9" * 60 + ")", "too long"),
        ("x" * (MAX_CALL_CHARS + 1), "longer than"),
    ],
)
def test_malformed_calls_become_clear_errors(text, reason):
    result = parse_call(text)
    assert isinstance(result, ToolCallError)
    assert reason in result.message
    assert str(result) == result.message


def test_nothing_is_evaluated():
    """A call whose argument looks like code comes back as the text it is."""
    call = parse_call('calculator({ expression: "__import__(\'os\').getcwd()" })')
    assert isinstance(call, ToolCall)
    assert call.args == {"expression": "__import__('os').getcwd()"}


def test_format_call_writes_the_talks_syntax_and_round_trips():
    text = format_call("search", {"query": "weather in Paris today"})
    assert text == 'search({ query: "weather in Paris today" })'
    assert parse_call(text) == ToolCall("search", {"query": "weather in Paris today"}, (), text)


@given(st.text(max_size=300))
@settings(max_examples=400, deadline=1000)
def test_parser_never_raises_on_arbitrary_text(text):
    result = parse_call(text)
    assert isinstance(result, (ToolCall, ToolCallError))


_ALPHABET = st.sampled_from(list('search({ query: "x" }),[]\'\\u00e9 :=truenull-1.5e3{}\n'))


@given(st.text(_ALPHABET, max_size=400))
@settings(max_examples=400, deadline=1000)
def test_parser_never_raises_on_near_calls(text):
    """Text made of the call's own characters reaches the deep corners of the grammar."""
    result = parse_call(text)
    assert isinstance(result, (ToolCall, ToolCallError))


@given(
    st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True),
    st.dictionaries(
        st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
            lambda k: k not in {"true", "false", "null"}),
        st.one_of(st.text(max_size=40), st.integers(-10**9, 10**9), st.booleans(), st.none(),
                  st.floats(allow_nan=False, allow_infinity=False, width=32)),
        max_size=4,
    ),
)
@settings(max_examples=300, deadline=1000)
def test_formatted_calls_parse_back_to_the_same_call(name, args):
    call = parse_call(format_call(name, args))
    assert isinstance(call, ToolCall), call
    assert call.name == name
    assert call.args == args


@settings(max_examples=20, deadline=2000)
@given(st.integers(1, 4))
def test_parser_is_fast_on_long_hostile_input(n):
    """No backtracking: the longest input allowed, nested and unclosed, reads in linear time."""
    for text in ("f(" + '"' + "\\" * (MAX_CALL_CHARS - 4) * n,
                 "f(" + "[1," * (MAX_CALL_CHARS // 3),
                 "f({" + "a:1," * (MAX_CALL_CHARS // 4 - 1) + "})"):
        assert isinstance(parse_call(text[:MAX_CALL_CHARS]), (ToolCall, ToolCallError))
