"""Every tool the model may call, registered in one place, each with its limits.

A tool is a plain function of string arguments that returns the text the model will
read, or ``(text, note)`` where the note is for the viewer only (where the result came
from). The registry binds a parsed call's arguments to the tool's parameters, runs the
tool in a worker thread with a timeout, and caps the size of what goes back into the
context: the context window is small, and a tool must never stall the app or flood
the window. Whatever goes wrong becomes a :class:`ToolResult` with ``ok=False`` and a
message the model and the viewer can read; nothing here raises on a bad call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.tools.parser import ToolCall, Value, format_call

if TYPE_CHECKING:
    from engine.workspace import Workspace


@dataclass(frozen=True)
class Tool:
    name: str
    run: Callable[..., str | tuple[str, str]]
    params: tuple[str, ...]  # in order; positional arguments bind to these
    description: str
    example: str = ""  # a call in the talk's syntax
    required: int = 1  # the first `required` params must be given
    timeout_s: float = 2.0
    max_result_chars: int = 800


@dataclass(frozen=True)
class ToolResult:
    """What a call produced. ``text`` is what enters the context after ``<|tool_result|>``."""

    tool: str
    ok: bool
    text: str
    note: str = ""  # for the viewer: where the result came from (never shown to the model)
    error: str | None = None  # "unknown tool", "bad arguments", "timeout", "failed"
    elapsed_s: float = 0.0
    truncated: bool = False
    args: dict[str, str] = field(default_factory=dict)


def _bind(tool: Tool, call: ToolCall) -> dict[str, str] | str:
    """The call's arguments by parameter name, or a message saying what does not fit."""
    if len(call.positional) > len(tool.params):
        return f"{tool.name} takes {len(tool.params)} argument(s): {', '.join(tool.params)}"
    bound: dict[str, Value] = dict(zip(tool.params, call.positional))
    for key, value in call.args.items():
        if key not in tool.params:
            return f"{tool.name} has no argument {key!r}; it takes {', '.join(tool.params)}"
        if key in bound:
            return f"{tool.name} got {key!r} twice"
        bound[key] = value
    missing = [p for p in tool.params[: tool.required] if p not in bound]
    if missing:
        return f"{tool.name} needs {', '.join(missing)}, e.g. {tool.example or tool.name}"
    args: dict[str, str] = {}
    for key, value in bound.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return f"{tool.name}'s {key} must be text or a number"
        # The model writes a space after the opening quote (engine.chat.format.VALUE_SPACE)
        args[key] = str(value).strip()
    return args


class ToolRegistry:
    """The tools by name. ``run`` never raises: every outcome is a ToolResult."""

    def __init__(self, tools: list[Tool] | None = None) -> None:
        self.tools: dict[str, Tool] = {}
        for tool in tools or []:
            self.register(tool)

    def register(self, tool: Tool) -> Tool:
        if tool.name in self.tools:
            raise ValueError(f"a tool called {tool.name!r} is already registered")
        self.tools[tool.name] = tool
        return tool

    def names(self) -> list[str]:
        return list(self.tools)

    def __contains__(self, name: str) -> bool:
        return name in self.tools

    def __getitem__(self, name: str) -> Tool:
        return self.tools[name]

    def prepare(self) -> None:
        """Do each tool's slow set-up now (search builds its index), so that a first call
        need not wait for it. Unprepared, search builds its index in the first call that
        needs one (a weather question does not), within that call's time limit: the tour's
        dataset takes well under a second of the five."""
        for tool in self.tools.values():
            prepare = getattr(tool.run, "prepare", None)
            if callable(prepare):
                prepare()

    def prepare_in_background(self) -> threading.Thread:
        """:meth:`prepare` in a daemon thread, so a command's first token need not wait for
        the search index. A set-up that fails here fails again, with its message, when the
        tool is called."""

        def prepare() -> None:
            try:
                self.prepare()
            except Exception:  # noqa: BLE001 - reported by the call that needs the tool
                pass

        thread = threading.Thread(target=prepare, name="tools-prepare", daemon=True)
        thread.start()
        return thread

    def run(self, call: ToolCall) -> ToolResult:
        tool = self.tools.get(call.name)
        if tool is None:
            known = ", ".join(self.tools) or "none"
            return ToolResult(call.name, False, f"error: there is no tool called {call.name!r} "
                              f"(the tools are {known})", error="unknown tool")
        args = _bind(tool, call)
        if isinstance(args, str):
            return ToolResult(tool.name, False, f"error: {args}", error="bad arguments")
        return run_with_limits(tool, args)


def run_with_limits(tool: Tool, args: dict[str, str]) -> ToolResult:
    """Run a tool in a daemon thread; give up after its timeout and cap its result."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = tool.run(**args)
        except Exception as error:  # noqa: BLE001 - any failure of the tool becomes its result
            outcome["error"] = error

    start = time.perf_counter()
    # A daemon thread: a tool that never returns is abandoned, and cannot keep the
    # process alive at exit (a thread cannot be killed in Python).
    worker = threading.Thread(target=target, name=f"tool-{tool.name}", daemon=True)
    worker.start()
    worker.join(tool.timeout_s)
    elapsed = time.perf_counter() - start
    if worker.is_alive():
        return ToolResult(tool.name, False,
                          f"error: {tool.name} did not answer within {tool.timeout_s:g} s",
                          error="timeout", elapsed_s=elapsed, args=args)
    if "error" in outcome:
        message = str(outcome["error"]) or type(outcome["error"]).__name__
        return ToolResult(tool.name, False, f"error: {message}", error="failed",
                          elapsed_s=elapsed, args=args)
    value = outcome.get("value")
    text, note = value if isinstance(value, tuple) else (value, "")
    text = "" if text is None else str(text)
    truncated = len(text) > tool.max_result_chars
    if truncated:
        text = text[: tool.max_result_chars].rstrip() + " …"
    return ToolResult(tool.name, True, text, str(note), None, elapsed, truncated, args)


def default_registry(ws: Workspace | None = None) -> ToolRegistry:
    """The tour's tools: search over the dataset, the simulated weather, the calculator."""
    from engine.tools.calculator import calculator
    from engine.tools.search import Search
    from engine.tools.weather import weather
    from engine.workspace import Workspace

    ws = ws or Workspace()
    dataset = ws.find("dataset")
    return ToolRegistry([
        Tool("search", Search(dataset.path if dataset else None), ("query",),
             "Search the tour's dataset (BM25); weather questions get the weather service.",
             example=format_call("search", {"query": "weather in Paris today"}),
             timeout_s=5.0, max_result_chars=800),
        Tool("weather", weather, ("city", "day"),
             "A simulated weather service: the same reading for a city and day every time.",
             example=format_call("weather", {"city": "Paris"}), timeout_s=1.0,
             max_result_chars=120),
        Tool("calculator", calculator, ("expression",),
             "Arithmetic only: + - * / // % ** and parentheses.",
             example=format_call("calculator", {"expression": "(13 - 2 * 2) / 3"}),
             timeout_s=1.0, max_result_chars=120),
    ])
