"""`llm-tour chat`: talk to the chat model in the terminal, with its tools.

Turn by turn, or one question with ``-p``. The reply is printed as it is generated;
when the model writes a tool call, the call, the tool running and its result are
printed as they happen, then the model goes on with the result in its context.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.text import Text

from engine.text import printable
from tui.commands import pass_workspace

EXIT_WORDS = {"/quit", "/exit", "quit", "exit"}


class _Transcript:
    """Prints the loop's events. Model output and tool results are untrusted text, so
    every line is built from (text, style) pairs, never from markup."""

    def __init__(self, console: Console, show_context: bool) -> None:
        self.console = console
        self.show_context = show_context
        self.open_line = False  # a reply or call is being written on the current line
        self.question = ""  # the turn's question, which a call should copy from

    def _write(self, text: str, style: str = "") -> None:
        self.console.print(Text(printable(text), style=style), end="", soft_wrap=True)
        self.console.file.flush()

    def _end_line(self) -> None:
        if self.open_line:
            self.console.print()
            self.open_line = False

    def event(self, event: object) -> None:
        from engine.tools import loop

        if isinstance(event, loop.Question):
            self.question = event.text
            if self.show_context:
                self.console.print(Text(f"  (context: {event.context_tokens} tokens)", "dim"))
            self._write("assistant> ", "bold green")
            self.open_line = True
        elif isinstance(event, loop.CallToken):
            if event.text == event.token.text:  # first token of the call
                self._write("<|tool_call|>", "bold magenta")
            self._write(event.token.text, "magenta")
        elif isinstance(event, loop.CallRecognised):
            self._end_line()
            call = event.call
            args = ([repr(v.strip() if isinstance(v, str) else v) for v in call.positional]
                    + [f"{k}={v!r}" for k, v in call.plain_args().items()])
            args = [printable(a, newlines=False) for a in args]
            known = "" if event.known else " (no such tool)"
            self.console.print(Text.assemble(("  ✓ recognised a call to ", "dim"),
                                             (printable(call.name, newlines=False), "bold"),
                                             (f"({', '.join(args)})", ""),
                                             (known, "red")))
            from engine.chat.eval import miscopied

            wrong = miscopied(self.question, call.name, call.plain_args(), call.positional)
            if wrong:
                self.console.print(Text.assemble(("  ✗ but ", "bold red"),
                                                 (printable(wrong), "red")))
        elif isinstance(event, loop.CallMalformed):
            self._end_line()
            self.console.print(Text.assemble(("  ✗ not a call the app can run: ", "bold red"),
                                             (printable(event.error.message), "red")))
        elif isinstance(event, loop.ToolRunning):
            self.console.print(Text.assemble(("  ⚙ running ", "dim"),
                                             (printable(event.call.name, newlines=False), "bold"),
                                             ("…", "dim")))
        elif isinstance(event, loop.ResultInContext):
            result = event.result
            style = "cyan" if result.ok else "red"
            line = Text.assemble(("<|tool_result|> ", f"bold {style}"), (printable(result.text), style))
            self.console.print(line, soft_wrap=True)
            details = []
            if result.note:
                details.append(printable(result.note))
            if result.ok:
                details.append(f"{result.elapsed_s * 1000:.1f} ms")
            if result.truncated:
                details.append("cut to the tool's size limit")
            details.append(f"{event.added_tokens} tokens into the context, now "
                           f"{event.context_tokens}")
            self.console.print(Text("  (" + "; ".join(details) + ")", "dim"), soft_wrap=True)
            self._write("assistant> ", "bold green")
            self.open_line = True
        elif isinstance(event, loop.AnswerToken):
            text = event.token.text
            if event.text == event.token.text:
                text = text.lstrip()
            self._write(text)
            self.open_line = True
        elif isinstance(event, loop.LoopError):
            if event.kind == "call limit":
                self._end_line()
                self.console.print(Text(f"  ✗ {printable(event.message)}", "red"))
        elif isinstance(event, loop.Answer):
            self._end_line()
            if event.stop == "max tokens":
                self.console.print(Text("  (stopped at the reply length limit)", "dim"))


@click.command(short_help="Talk to the chat model; it may call tools.")
@click.option("--prompt", "-p", "question", default=None, metavar="QUESTION",
              help="Answer one question and exit (otherwise chat turn by turn).")
@click.option("--temperature", "-t", type=click.FloatRange(min=0), default=0.0,
              show_default=True, help="0 always takes the most likely token.")
@click.option("--top-k", "-k", type=click.IntRange(min=1), default=None,
              help="Choose only among the k most likely tokens.")
@click.option("--seed", "-s", type=int, default=0, show_default=True,
              help="Fix the random choices when the temperature is above 0.")
@click.option("--max-calls", type=click.IntRange(min=0), default=3, show_default=True,
              help="Tool calls allowed per turn.")
@click.option("--max-tokens", "-n", type=click.IntRange(min=1), default=160, show_default=True,
              help="Longest reply, in tokens.")
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="Chat with this checkpoint instead of the workspace's chat model.")
@click.option("--show-context", is_flag=True,
              help="Print how many tokens of the context window each step uses.")
@click.option("--held-out", is_flag=True,
              help="Instead of chatting, ask for the weather in cities no fine-tuning "
                   "conversation names and count the whole turns that are right.")
@pass_workspace
def chat(ws, question: str | None, temperature: float, top_k: int | None, seed: int,
         max_calls: int, max_tokens: int, checkpoint: str | None, show_context: bool,
         held_out: bool) -> None:
    """Talk to the chat model; it may call tools (search, weather, calculator).

    Each tool call and its result are printed as they happen. In a conversation, an
    empty line does nothing, /reset forgets the conversation, /quit (or Ctrl-D) leaves.

    Example: llm-tour chat -p "What's the weather in Paris today?"
    """
    from engine.threads import before_torch

    # The tiny model samples fastest on one thread (engine.threads); set before torch starts,
    # as its first operations (checking and loading the weights) would start a pool of more.
    before_torch("inference")
    from engine.model.load import NoModel, load_model
    from engine.tools.loop import Answer, LoopConfig, fit_history, model_source, run_turn
    from engine.tools.registry import default_registry
    from engine.workspace import BrokenArtifact

    try:
        loaded = load_model(ws, "chat", path=checkpoint)
    except NoModel as error:
        raise click.ClickException(str(error)) from None
    err = Console(stderr=True, highlight=False)
    out = Console(highlight=False)
    registry = default_registry(ws)
    err.print(Text(f"Chatting with the {loaded.label}; tools: {', '.join(registry.names())}.",
                   "dim"))
    if held_out:
        try:
            registry.prepare()
        except BrokenArtifact as error:  # the search tool's dataset, not the model
            raise click.ClickException(str(error)) from None
        _held_out(loaded, registry, out)
        return
    config = LoopConfig(max_calls=max_calls, max_answer_tokens=max_tokens)
    block = int(loaded.model.config.block_size)
    transcript = _Transcript(out, show_context)
    history: list = []

    def ask(text: str) -> None:
        nonlocal history
        source = model_source(loaded.model, loaded.tokenizer, temperature=temperature,
                              top_k=top_k, seed=seed)
        history = fit_history(history, text, loaded.tokenizer, budget=block // 2)
        for event in run_turn(text, source, loaded.tokenizer, registry, history=history,
                              config=config):
            transcript.event(event)
            if isinstance(event, Answer):
                history = [*history, *event.turns]

    if question is not None:
        if not question.strip():
            raise click.UsageError("the question is empty")
        out.print(Text.assemble(("you> ", "bold blue"), printable(question)), soft_wrap=True)
        ask(question)
        return

    # One question (-p) builds the search index only if the model searches; a conversation
    # builds it while the viewer types the first question.
    registry.prepare_in_background()
    err.print(Text("Type a question; /reset forgets the conversation, /quit leaves.", "dim"))
    while True:
        try:
            text = input("you> ")
        except EOFError:
            out.print()
            return
        text = text.strip()
        if not text:
            continue
        if text.lower() in EXIT_WORDS:
            return
        if text.lower() == "/reset":
            history = []
            err.print(Text("(conversation forgotten)", "dim"))
            continue
        ask(text)


def _held_out(loaded, registry, out: Console) -> None:
    """The weather questions of ``llm-tour eval`` (cities no training conversation names),
    scored as whole turns: the exact city in the call, the reading and the city in the reply."""
    from engine.chat.eval import evaluate

    out.print(Text("Asking for the weather in cities no training conversation names (greedy):",
                   "dim"))
    rows = []
    for row in evaluate(loaded.model, loaded.tokenizer, registry, categories=("weather",)):
        rows.append(row)
        city = next((c.args.get("city") for c in row.transcript.calls if c.name == "weather"),
                    None)
        exact = isinstance(city, str) and city.strip() == row.item.city
        mark = ("✓", "green") if row.right else (("~", "yellow") if exact else ("✗", "red"))
        out.print(Text.assemble((f"  {mark[0]} ", mark[1]), (f"{row.item.city:<20} ", "bold"),
                                (printable(row.transcript.answer[:60] or row.why,
                                           newlines=False), ""),
                                ("" if row.right else f"  ({printable(row.why)})", "dim")),
                  soft_wrap=True)
    right = sum(r.right for r in rows)
    exact = sum(any(c.name == "weather" and isinstance(c.args.get("city"), str)
                    and c.args["city"].strip() == r.item.city
                    for c in r.transcript.calls) for r in rows)
    out.print(Text(f"{right} of {len(rows)} whole turns right (the exact city called, its "
                   f"reading and the city in the reply); {exact} of {len(rows)} calls named "
                   "the city exactly", "bold"))
