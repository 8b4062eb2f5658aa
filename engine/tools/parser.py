"""Read a tool call out of model output, without ever evaluating it.

The model writes calls the way the talk shows them::

    <|tool_call|> search({ query: "weather in Paris today" })

The text between ``<|tool_call|>`` and ``<|end|>`` is untrusted: it is read by a small
recursive-descent parser that knows names, strings, numbers, booleans, objects and
lists, and nothing else. It accepts the relaxed object syntax of the talk (bare keys,
single or double quotes, trailing commas), JSON, and Python-style keywords
(``search(query="...")``). It runs in time linear in the input (which is capped),
and anything it cannot read becomes a :class:`ToolCallError` value, never an exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MAX_CALL_CHARS = 2000  # a call longer than this is refused before parsing
MAX_DEPTH = 8  # nesting of objects and lists inside the arguments

Value = str | int | float | bool | None | list | dict


@dataclass(frozen=True)
class ToolCall:
    """A well-formed call: a tool name, keyword arguments and positional arguments."""

    name: str
    args: dict[str, Value] = field(default_factory=dict)
    positional: tuple[Value, ...] = ()
    text: str = ""  # the call as the model wrote it

    def __str__(self) -> str:
        return format_call(self.name, self.args, self.positional)

    def plain_args(self) -> dict[str, Value]:
        """The keyword arguments as the tools read them: text without surrounding spaces
        (the model writes a space after each opening quote, see engine.chat.format)."""
        return {k: v.strip() if isinstance(v, str) else v for k, v in self.args.items()}


@dataclass(frozen=True)
class ToolCallError:
    """Model output that is not a call the app can run, and why (for the viewer and the model)."""

    message: str
    text: str
    position: int = 0  # character offset in ``text`` where reading stopped

    def __str__(self) -> str:
        return self.message


class _Stop(Exception):
    """Raised inside the parser only; turned into a ToolCallError at the boundary."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\",
            '"': '"', "'": "'", "0": "\0"}
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}
_WORDS = {"true": True, "false": False, "null": None, "True": True, "False": False,
          "None": None}


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- characters -------------------------------------------------------------
    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def expect(self, char: str, what: str) -> None:
        self.skip_space()
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end"
            raise _Stop(f"expected {what} but found {found}", self.pos)
        self.pos += 1

    # -- grammar ----------------------------------------------------------------
    def name(self) -> str:
        self.skip_space()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum()
                                             or self.text[self.pos] in "_-."):
            self.pos += 1
        if start == self.pos:
            found = repr(self.peek()) if self.peek() else "the end"
            raise _Stop(f"expected a tool name but found {found}", self.pos)
        return self.text[start:self.pos]

    def call(self) -> ToolCall:
        name = self.name()
        if not (name[0].isalpha() or name[0] == "_"):
            raise _Stop(f"{name!r} is not a tool name", 0)
        self.expect("(", f"'(' after the tool name {name!r}")
        args: dict[str, Value] = {}
        positional: list[Value] = []
        self.skip_space()
        while self.peek() != ")":
            if not self.peek():
                raise _Stop("the call ends before its closing ')'", self.pos)
            key = self.keyword()
            if key is not None:
                if key in args:
                    raise _Stop(f"argument {key!r} is given twice", self.pos)
                args[key] = self.value(1)
            else:
                value = self.value(1)
                if isinstance(value, dict) and not positional and not args:
                    args.update(value)  # the talk's form: name({ key: value })
                else:
                    positional.append(value)
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
                self.skip_space()
            elif self.peek() != ")":
                found = repr(self.peek()) if self.peek() else "the end"
                raise _Stop(f"expected ',' or ')' but found {found}", self.pos)
        self.pos += 1
        self.skip_space()
        if self.pos < len(self.text):
            raise _Stop("unexpected text after the call's closing ')'", self.pos)
        return ToolCall(name, args, tuple(positional))

    def keyword(self) -> str | None:
        """``key=`` or ``key:`` at the top level of the call, else None (position unchanged)."""
        start = self.pos
        if self.peek().isalpha() or self.peek() == "_":
            while self.pos < len(self.text) and (self.text[self.pos].isalnum()
                                                 or self.text[self.pos] == "_"):
                self.pos += 1
            key = self.text[start:self.pos]
            self.skip_space()
            if self.peek() in ("=", ":") and key not in _WORDS:
                self.pos += 1
                return key
        self.pos = start
        return None

    def value(self, depth: int) -> Value:
        if depth > MAX_DEPTH:
            raise _Stop(f"arguments nest deeper than {MAX_DEPTH} levels", self.pos)
        self.skip_space()
        char = self.peek()
        if not char:
            raise _Stop("expected a value but the call ends", self.pos)
        if char in _QUOTES:
            return self.string()
        if char == "{":
            return self.obj(depth)
        if char == "[":
            return self.array(depth)
        if char.isdigit() or char in "+-.":
            return self.number()
        if char.isalpha():
            start = self.pos
            while self.pos < len(self.text) and self.text[self.pos].isalnum():
                self.pos += 1
            word = self.text[start:self.pos]
            if word in _WORDS:
                return _WORDS[word]
            raise _Stop(f"{word!r} is not a value: strings need quotes", start)
        raise _Stop(f"expected a value but found {char!r}", self.pos)

    def string(self) -> str:
        start = self.pos
        close = _QUOTES[self.text[self.pos]]
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise _Stop("a string is never closed", start)
            char = self.text[self.pos]
            self.pos += 1
            if char == close:
                return "".join(out)
            if char != "\\":
                out.append(char)
                continue
            escaped = self.peek()
            self.pos += 1
            if escaped in _ESCAPES:
                out.append(_ESCAPES[escaped])
            elif escaped == "u":
                digits = self.text[self.pos:self.pos + 4]
                if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                    raise _Stop("a \\u escape needs four hex digits", self.pos)
                out.append(chr(int(digits, 16)))
                self.pos += 4
            elif escaped:
                out.append(escaped)  # relaxed: an unknown escape is the character itself
            else:
                raise _Stop("a string is never closed", start)

    def number(self) -> int | float:
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum()
                                             or self.text[self.pos] in "+-._"):
            self.pos += 1
        word = self.text[start:self.pos]
        if len(word) > 40:
            raise _Stop("a number is too long", start)
        try:
            return int(word.replace("_", ""), 10)
        except ValueError:
            pass
        try:
            number = float(word)
        except ValueError:
            raise _Stop(f"{word!r} is not a number", start) from None
        if not math.isfinite(number):
            raise _Stop(f"{word!r} is not a finite number", start)
        return number

    def obj(self, depth: int) -> dict[str, Value]:
        self.pos += 1  # "{"
        result: dict[str, Value] = {}
        while True:
            self.skip_space()
            if self.peek() == "}":
                self.pos += 1
                return result
            if self.peek() in _QUOTES:
                key = self.string()
            elif self.peek().isalpha() or self.peek() == "_":
                start = self.pos
                while self.pos < len(self.text) and (self.text[self.pos].isalnum()
                                                     or self.text[self.pos] == "_"):
                    self.pos += 1
                key = self.text[start:self.pos]
            else:
                found = repr(self.peek()) if self.peek() else "the end"
                raise _Stop(f"expected a key or '}}' but found {found}", self.pos)
            self.skip_space()
            if self.peek() not in (":", "="):
                found = repr(self.peek()) if self.peek() else "the end"
                raise _Stop(f"expected ':' after the key {key!r} but found {found}", self.pos)
            self.pos += 1
            if key in result:
                raise _Stop(f"key {key!r} is given twice", self.pos)
            result[key] = self.value(depth + 1)
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                found = repr(self.peek()) if self.peek() else "the end"
                raise _Stop(f"expected ',' or '}}' but found {found}", self.pos)

    def array(self, depth: int) -> list[Value]:
        self.pos += 1  # "["
        result: list[Value] = []
        while True:
            self.skip_space()
            if self.peek() == "]":
                self.pos += 1
                return result
            result.append(self.value(depth + 1))
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                found = repr(self.peek()) if self.peek() else "the end"
                raise _Stop(f"expected ',' or ']' but found {found}", self.pos)


def parse_call(text: str) -> ToolCall | ToolCallError:
    """Read one tool call, e.g. ``search({ query: "weather in Paris today" })``.

    Returns a :class:`ToolCall`, or a :class:`ToolCallError` saying what is wrong and
    where. Never raises, never evaluates anything.
    """
    if not isinstance(text, str):
        return ToolCallError("a tool call must be text", repr(text)[:80])
    stripped = text.strip()
    if not stripped:
        return ToolCallError("the tool call is empty", text)
    if len(stripped) > MAX_CALL_CHARS:
        return ToolCallError(f"the tool call is longer than {MAX_CALL_CHARS} characters",
                             stripped[:MAX_CALL_CHARS], MAX_CALL_CHARS)
    reader = _Reader(stripped)
    try:
        call = reader.call()
    except _Stop as stop:
        return ToolCallError(stop.message, stripped, stop.position)
    except (RecursionError, MemoryError, ValueError):
        return ToolCallError("the tool call could not be read", stripped, reader.pos)
    return ToolCall(call.name, call.args, call.positional, stripped)


def _format_value(value: Value) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return _format_object(value)
    return repr(value)


def _format_object(args: dict[str, Value]) -> str:
    if not args:
        return "{}"
    parts = []
    for key, value in args.items():
        bare = key.isidentifier()
        parts.append(f"{key if bare else _format_value(key)}: {_format_value(value)}")
    return "{ " + ", ".join(parts) + " }"


def format_call(name: str, args: dict[str, Value] | None = None,
                positional: tuple[Value, ...] = ()) -> str:
    """Write a call in the talk's style: ``search({ query: "weather in Paris today" })``."""
    pieces = [_format_value(v) for v in positional]
    if args or not pieces:
        pieces.append(_format_object(args or {}))
    return f"{name}({', '.join(pieces)})"
