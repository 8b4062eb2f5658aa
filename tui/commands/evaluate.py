"""`llm-tour eval`: whole turns right, by category, on names and numbers never trained on.

The items and the exact scoring are :mod:`engine.chat.eval`; this prints the table (or
JSON) and the headline, the share of whole turns right.
"""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.text import printable
from tui.commands import pass_workspace


@click.command("eval", short_help="Score the chat model on unseen names, whole turns only.")
@click.option("--model", "kind", type=click.Choice(["chat", "base"]), default="chat",
              show_default=True, help="Which of the workspace's (or bundled) models to score.")
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="Score this checkpoint instead (a chat model unless --model base).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="At most this many items per category (for a quick look).")
@click.option("--json", "as_json", is_flag=True, help="Print every item and its verdict as JSON.")
@click.option("--show-wrong", type=click.IntRange(min=0), default=3, show_default=True,
              help="Wrong turns to print per category, with what was wrong.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="CPU threads for torch (one is fastest for a model this small, and kind "
                   "to a shared machine).")
@pass_workspace
def evaluate(ws, kind: str, checkpoint: str | None, limit: int | None, as_json: bool,
             show_wrong: int, threads: int) -> None:
    """Ask the model questions about names and numbers no training conversation holds,
    through the app's own tool loop (greedy), and count the turns that are right as a
    whole: the right tool, the exact argument, the tool's result used in the reply.

    Example: llm-tour eval --limit 10
    """
    from engine.chat.eval import CATEGORIES, CHAT_CATEGORIES, EvalReport, evaluate as run
    from engine.model.checkpoint import CheckpointMismatch
    from engine.model.device import set_threads
    from engine.tools.registry import default_registry
    from engine.workspace import BrokenArtifact

    set_threads(threads)
    try:
        loaded = _load(ws, kind, checkpoint)
    except (LookupError, CheckpointMismatch, FileNotFoundError, BrokenArtifact) as error:
        raise click.ClickException(str(error)) from None
    registry = default_registry(ws)
    try:
        registry.prepare()
    except BrokenArtifact as error:
        raise click.ClickException(str(error)) from None
    categories = CATEGORIES if kind == "chat" else ("base",)
    err = Console(stderr=True, highlight=False)
    err.print(Text(f"Scoring the {loaded.label} on {', '.join(categories)} (greedy).", "dim"))
    scored = []
    with err.status("asking…") as status:
        for n, row in enumerate(run(loaded.model, loaded.tokenizer, registry,
                                    categories=categories, per_category=limit), 1):
            scored.append(row)
            status.update(f"asked {n}: {row.item.category}")
    report = EvalReport(tuple(scored))
    if as_json:
        click.echo(json.dumps({"model": loaded.label, **report.to_dict()}, indent=1,
                              ensure_ascii=False))
        return
    out = Console(highlight=False)
    out.print(Text(printable(f"Whole turns right · {loaded.label}", newlines=False), "bold"))
    table = Table()
    table.add_column("category")
    table.add_column("right", justify="right")
    table.add_column("of", justify="right")
    table.add_column("share", justify="right")
    for row in report.by_category():
        table.add_row(row.category, str(row.right), str(row.total), f"{row.fraction:.0%}")
    out.print(table)
    chat_rows = [s for s in scored if s.item.category in CHAT_CATEGORIES]
    if chat_rows:
        right = sum(s.right for s in chat_rows)
        out.print(Text(f"Chat turns: {right} of {len(chat_rows)} whole turns right "
                       f"({right / len(chat_rows):.0%})", "bold"))
    out.print(Text(f"Everything: {report.headline()}", "bold" if not chat_rows else ""))
    for category in CATEGORIES:
        wrong = [s for s in scored if s.item.category == category and not s.right]
        for s in wrong[:show_wrong]:
            out.print(Text(printable(f"  ✗ {category}: {s.item.question!r} -> {s.why}; "
                                     f"replied {s.transcript.answer[:70]!r}", newlines=False),
                           "dim"), soft_wrap=True)


def _load(ws, kind: str, checkpoint: str | None):
    from engine.model.load import load_model

    return load_model(ws, kind, path=checkpoint)
