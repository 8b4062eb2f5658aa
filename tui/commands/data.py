"""`llm-tour prepare data`: crawl the sample web, clean it, store the dataset."""

from __future__ import annotations

import click

from engine.events import StageState
from engine.text import printable
from tui.commands import pass_workspace


@click.command("data", short_help="Crawl, clean and store the dataset.")
@click.option("--max-pages", type=click.IntRange(min=1), default=500, show_default=True,
              help="Stop the crawl after this many pages.")
@click.option("--add-page", "add_page", metavar="FILE|URL", default=None,
              help="Instead of the crawl: send one page of your own (a local HTML file, or a "
                   "URL when online) through the same steps and show where it ends up.")
@pass_workspace
def data(ws, max_pages: int, add_page: str | None) -> None:
    """Crawl the sample web over HTTP, extract and clean the text the way FineWeb does,
    and store dataset.parquet, dropped.parquet and funnel.json in the workspace."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    console = Console(stderr=True)
    if add_page:
        _add_page(ws, add_page, console)
        return

    from engine.data import events as ev
    from engine.data.crawler import CrawlConfig
    from engine.data.pipeline import DataConfig, run

    config = DataConfig(crawl=CrawlConfig(max_pages=max_pages))
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.fields[note]}"), TimeElapsedColumn())
    finished = None
    state = StageState()
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("Crawling", total=None, note="")
        for event in run(ws, config):
            state.update(event)
            if isinstance(event, ev.Fetched) and event.kind == "page":
                progress.update(task, note=Text(printable(
                    f"{state.counts['fetched']} fetched · {event.queued} queued · "
                    f"{event.url}"[:90], newlines=False)))
            elif isinstance(event, ev.StepStarted):
                progress.update(task, description=state.label)
            elif isinstance(event, ev.Kept):
                progress.update(task, note=Text(f"{state.counts['kept']} rows"))
            elif isinstance(event, ev.Finished):
                finished = event
    if finished is None:
        raise click.ClickException("the data stage stopped before it finished")
    console.print(funnel_table(finished.funnel))
    out = Console()
    out.print(Text.assemble(
        ("Kept ", ""), (f"{finished.rows}", "bold green"), (" documents, dropped ", ""),
        (f"{finished.dropped}", "bold red"), (f" URLs or pages in {finished.elapsed:.1f} s. ", ""),
        ("Wrote ", "dim"), (", ".join(finished.paths.values()), "dim")))


def funnel_table(funnel: list[dict]):
    """The funnel as a Rich table: each step's count in and out, and why pages left."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Web page to dataset row", title_justify="left")
    table.add_column("step")
    table.add_column("in", justify="right")
    table.add_column("out", justify="right")
    table.add_column("dropped because", overflow="fold")
    for step in funnel:
        reasons = ", ".join(f"{reason} {count}" for reason, count in step["dropped"].items())
        table.add_row(Text(step["label"]), str(step["in"]), str(step["out"]), Text(reasons))
    return table


def _add_page(ws, source: str, console) -> None:
    from rich.text import Text

    from engine.data import events as ev
    from engine.data.ownpage import OwnPageError, check_page
    from engine.workspace import BrokenArtifact

    try:
        for event in check_page(ws, source):
            if isinstance(event, ev.Dropped):
                console.print(Text.assemble(("dropped ", "bold red"), (event.step, "bold"),
                                            (f"  {event.reason}", ""),
                                            (printable(f"  {event.detail}"), "dim")))
            elif isinstance(event, ev.StepDone):
                console.print(Text.assemble(("  ok   ", "green"), (event.step, "")))
            elif isinstance(event, ev.Kept):
                row = event.row
                console.print(Text.assemble(("kept ", "bold green"), (printable(row["title"]), "bold"),
                                            ((f"  {row['token_count']} tokens, added to the "
                                             "dataset"), "")))
    except (OwnPageError, BrokenArtifact) as error:
        raise click.ClickException(str(error)) from None
