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
@click.option("--version", "version_id", metavar="ID", default=None,
              help="Score this model version (`llm-tour models` lists them: chat-002, "
                   "bundled-base, ...); its kind says which questions.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="At most this many items per category (for a quick look).")
@click.option("--json", "as_json", is_flag=True, help="Print every item and its verdict as JSON.")
@click.option("--show-wrong", type=click.IntRange(min=0), default=3, show_default=True,
              help="Wrong turns to print per category, with what was wrong.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="CPU threads for torch (one is fastest for a model this small, and kind "
                   "to a shared machine).")
@pass_workspace
def evaluate(ws, kind: str, checkpoint: str | None, version_id: str | None, limit: int | None,
             as_json: bool, show_wrong: int, threads: int) -> None:
    """Ask the model questions about names and numbers no training conversation holds,
    through the app's own tool loop (greedy), and count the turns that are right as a
    whole: the right tool, the exact argument, the tool's result used in the reply.

    The figures are kept with the model version it scored (by the checkpoint's sha256), so
    `llm-tour models` and the model picker (m) show them beside exactly that model.

    Example: llm-tour eval --limit 10
    """
    from engine.chat.eval import CATEGORIES, CHAT_CATEGORIES, EvalReport, evaluate as run
    from engine.model.checkpoint import CheckpointMismatch
    from engine.model.device import set_threads
    from engine.tools.registry import default_registry
    from engine.workspace import BrokenArtifact

    from engine.model.versions import ModelVersions, UnknownVersion

    set_threads(threads)
    versions = ModelVersions(ws)
    try:
        if version_id is not None:
            if checkpoint is not None:
                raise click.UsageError("give --version or --checkpoint, not both")
            version = versions.get(version_id)
            kind, checkpoint = version.kind, str(versions.path(version))
        loaded = _load(ws, kind, checkpoint)
    except (LookupError, CheckpointMismatch, FileNotFoundError, BrokenArtifact,
            UnknownVersion) as error:
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
    kept = versions.measure(loaded.path, report.figures(
        per_category=limit, command=_command(kind, limit, version_id)))
    where = (f"Kept with {', '.join(v.id for v in kept)} (llm-tour models shows it)." if kept
             else f"{loaded.path} is no model version of this workspace: nothing kept.")
    err.print(Text(printable(where, newlines=False), "dim"), soft_wrap=True)
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


def _command(kind: str, limit: int | None, version_id: str | None) -> str:
    """The command that makes this measurement again (the checkpoint is named by its hash)."""
    words = ["llm-tour eval"]
    if version_id is not None:
        words.append(f"--version {version_id}")
    elif kind == "base":
        words.append("--model base")
    if limit is not None:
        words.append(f"--limit {limit}")
    return " ".join(words)
