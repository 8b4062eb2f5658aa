"""`llm-tour votes`: the tallies and the Bradley-Terry ranking of every vote so far."""

from __future__ import annotations

import click

from engine.text import printable
from tui.commands import pass_workspace


def _short(text: str, width: int = 60) -> str:
    text = printable(" ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@click.command(short_help="Print the viewers' rankings and the reward ranking.")
@click.option("--export", "export_to", type=click.Path(dir_okay=False, writable=True),
              default=None, help="Also write every vote to FILE (.csv or .json).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="Export format [default: from the file name, else csv].")
@click.option("--nudge", is_flag=True,
              help="Then run the DPO steps on the chat model with these votes and save it "
                   "to the workspace.")
@click.option("--steps", type=click.IntRange(min=1), default=10, show_default=True,
              help="DPO gradient steps for --nudge.")
@pass_workspace
def votes(ws, export_to: str | None, fmt: str | None, nudge: bool, steps: int) -> None:
    """Print how viewers ranked each prompt's answers, and the reward ranking.

    Every ranking counts as all the pairwise choices it implies; the Bradley-Terry model
    turns those into one score per answer (the reward signal) and says how sure it is
    that each answer beats the next one down.
    """
    from rich.console import Console
    from rich.text import Text

    from engine.preference.votes import VoteError, VoteStore, export_votes
    from engine.workspace import BrokenArtifact

    console = Console()
    try:
        store = VoteStore.open(ws)
        _print_votes(store, console)
    except (BrokenArtifact, VoteError) as error:
        raise click.ClickException(str(error)) from None
    if export_to:
        try:
            written = export_votes(store, export_to, fmt)
        except (ValueError, OSError) as error:
            raise click.ClickException(str(error)) from None
        console.print()
        console.print(Text(f"Wrote {written} votes to {export_to}."))
    if nudge:
        _nudge(ws, store, steps, console)


def _print_votes(store, console) -> None:
    from rich.table import Table
    from rich.text import Text

    from engine.preference.bradley_terry import rank_votes
    from engine.preference.prompts import talk_order

    total, sessions = store.counts()
    console.print(Text.assemble((_count(total, "vote"), "bold"),
                                f" from {_count(sessions, 'session')} in ",
                                (str(store.path), "dim")))
    for prompt in store.prompts():
        tally = store.tally(prompt.id)
        ranking = rank_votes(prompt.candidate_ids, store.votes(prompt.id))
        console.print()
        console.print(Text.assemble((printable(prompt.question), "bold"),
                                    (printable(f"  [{prompt.id}] "), "dim"),
                                    (printable(f"from {prompt.source}"), "dim")))
        table = Table(box=None, pad_edge=False, show_edge=False)
        for name, justify in (("rank", "right"), ("answer", "left"), ("1st", "right"),
                              ("pairs won", "right"), ("score", "right"),
                              ("sure it beats next", "right")):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        sure = [*ranking.sure, None]
        for rank, (strength, p) in enumerate(zip(ranking.strengths, sure), 1):
            candidate = prompt.candidate(strength.item)
            table.add_row(
                str(rank),
                _short(candidate.text),  # the text itself: the chapter numbers answers per viewer
                str(tally.first[strength.item]),
                f"{strength.wins}/{strength.comparisons}",
                f"{strength.score:+.2f} ± {strength.stderr:.2f}",
                "" if p is None else f"{p:.0%}",
            )
        console.print(table)
        console.print(Text(f"{_count(tally.votes, 'vote')} from "
                           f"{_count(tally.sessions, 'session')}", style="dim"))
        order = talk_order(prompt)
        if order:
            console.print(Text("The talk ranks them:", style="dim"))
            for rank, candidate_id in enumerate(order, 1):
                candidate = prompt.candidate(candidate_id)
                console.print(Text.assemble(f"  {rank}. ", (_short(candidate.text, 50), "bold"),
                                            " ", (printable(candidate.label), "dim")))


def _nudge(ws, store, steps: int, console) -> None:
    from rich.text import Text

    from engine.model.checkpoint import CheckpointMismatch
    from engine.model.load import NoModel
    from engine.preference.dpo import (
        DPOConfig,
        DPOStep,
        NothingToNudge,
        Nudged,
        NudgeStart,
        Sampled,
        SampleToken,
    )
    from engine.preference.dpo import nudge_chat as run

    console.print()
    try:
        for event in run(ws, store, DPOConfig(steps=steps)):
            if isinstance(event, NudgeStart):
                console.print(Text(f"Nudging the {event.model_label} with {event.votes} votes "
                                   f"from {event.sessions} sessions ({event.pairs} preference "
                                   f"pairs). Margin before: {event.margin:+.3f} nats."))
            elif isinstance(event, DPOStep):
                console.print(Text(f"  step {event.step}/{event.steps}  loss {event.loss:.4f}  "
                                   f"margin {event.margin:+.3f}  pairs won {event.accuracy:.0%}"))
            elif isinstance(event, Nudged):
                console.print(Text(f"Margin {event.margin_before:+.3f} -> "
                                   f"{event.margin_after:+.3f}. Saved to {event.saved_to}."))
            elif isinstance(event, SampleToken):
                pass
            elif isinstance(event, Sampled):
                console.print(Text.assemble(("A fresh sample: ", "bold"),
                                            printable(event.question), "\n  ",
                                            printable(event.answer)))
    except (NoModel, NothingToNudge, CheckpointMismatch, FileNotFoundError, ValueError) as error:
        raise click.ClickException(str(error)) from None
