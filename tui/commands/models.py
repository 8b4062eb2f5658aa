"""`llm-tour models` (the model versions, and which one every chapter uses) and `llm-tour reset`."""

from __future__ import annotations

import click

from tui.commands import pass_workspace


@click.command(short_help="List the model versions; choose the one every chapter uses.")
@click.option("--use", "use_id", metavar="ID", default=None,
              help="Make this version the current model of its kind (e.g. bundled-chat).")
@click.option("--undo", "undo_kind", type=click.Choice(["base", "chat"]), default=None,
              help="Go back to the model the current one came from (undo a nudge: --undo chat).")
@pass_workspace
def models(ws, use_id: str | None, undo_kind: str | None) -> None:
    """List the model versions: bundled, prepared and every run of your own.

    Every training stage (pretraining, fine-tuning, each nudge) keeps the model it made as a
    new version with its lineage; the current one (marked *) is what every chapter uses. A run
    you stopped early is kept but not chosen until you --use it. Under each version: what
    `llm-tour eval` measured on exactly that checkpoint, or the command that measures it.
    """
    from engine.model.versions import KINDS, ModelVersions, UnknownVersion

    versions = ModelVersions(ws)
    try:
        if use_id:
            chosen = versions.use(use_id)
            click.echo(f"Every chapter now uses {chosen.id} ({chosen.origin}).")
        if undo_kind:
            chosen = versions.undo(undo_kind)
            click.echo(f"Back to {chosen.id} ({chosen.origin}).")
    except UnknownVersion as error:
        raise click.ClickException(str(error)) from None
    for kind in KINDS:
        current = versions.current(kind)
        click.echo(f"{kind} models" + ("" if current else " (none yet: llm-tour prepare)"))
        for version in versions.list(kind):
            mark = "*" if current is not None and version.id == current.id else " "
            line = f" {mark} {version.describe()}"
            if version.parent:
                line += f" · from {version.parent}"
            if version.created:
                line += f" · {version.created.replace('T', ' ')[:16]}"
            click.echo(line)
            click.echo(f"     {version.figures_text()}")
        if current is not None and current.id.startswith("workspace-"):
            click.echo(f" * {current.id} · {current.file} in your workspace (made before "
                       "versions were kept)")
            click.echo(f"     {current.figures_text()}")
        offered = versions.working(kind)
        if offered is not None:
            click.echo(f"   {offered.id} · {offered.file}, a run's model at step "
                       f"{offered.steps:,}, kept as no version yet: --use {offered.id} "
                       "keeps it and makes it current")


@click.command(short_help="Go back to the bundled artifacts, after saying what goes.")
@click.option("--votes", "with_votes", is_flag=True, help="Remove the votes too.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask; remove at once.")
@pass_workspace
def reset(ws, with_votes: bool, yes: bool) -> None:
    """Return the workspace to the artifacts bundled with llm-tour.

    Says what it will remove (the dataset with your own pages, the tokenizers and shards,
    every model version) and what it keeps (your votes unless --votes, where you left off),
    then asks.
    """
    from engine.prepare.reset import plan, reset as do_reset

    todo = plan(ws, votes=with_votes)
    click.echo(f"Workspace {ws.root}")
    if todo.empty:
        click.echo("Nothing to remove: every chapter already uses the bundled artifacts.")
        return
    for line in todo.lines(ws.root):
        click.echo(f"  {line}")
    if not yes and not click.confirm("Remove these?", default=False):
        click.echo("Nothing removed.")
        return
    done = do_reset(ws, votes=with_votes)
    click.echo(f"Removed {len(done.remove)}; every chapter now uses the bundled artifacts.")
