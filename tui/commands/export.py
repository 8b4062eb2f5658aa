"""`llm-tour export`: a handout of the tour, every chapter as this workspace's run left it.

The chapters are drawn by the real app, headless (``tui.handout``), and the figures come
from the workspace's artifacts (``engine.prepare.handout``). Nothing is crawled, trained or
written in the workspace; the one file written is the handout.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import click

from tui.cli import ChapterType
from tui.commands import pass_workspace

SIZE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")
SMALLEST, LARGEST = (60, 20), (300, 120)  # the tour is made for 60x20 and up


class SizeType(click.ParamType):
    name = "COLSxROWS"

    def convert(self, value, param, ctx) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        match = SIZE.match(str(value))
        if match is None:
            self.fail(f"{value!r} is not a size such as 100x32 (columns x rows)", param, ctx)
        size = (int(match.group(1)), int(match.group(2)))
        if not all(low <= n <= high for n, low, high in zip(size, SMALLEST, LARGEST)):
            self.fail(f"{value} is outside {SMALLEST[0]}x{SMALLEST[1]} to "
                      f"{LARGEST[0]}x{LARGEST[1]}", param, ctx)
        return size


@click.command("export", short_help="Write a handout: each chapter's screen and figures, in HTML.")
@click.option("--workdir", "-w", type=click.Path(file_okay=False), default=None,
              help="The workspace to make it of [default: the tour's own, as for llm-tour].")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="handout.html",
              show_default=True, help="The HTML file to write.")
@click.option("--size", type=SizeType(), default="100x32", show_default=True,
              metavar="COLSxROWS", help="The terminal size each chapter is drawn at.")
@click.option("--chapter", "-c", "chapters", multiple=True, type=ChapterType(),
              help="Only this chapter, by number or name (repeat it) [default: all].")
@click.option("--theme", type=click.Choice(["dark", "light"]), default=None,
              help="Colour theme of the screens [default: the workspace's].")
@pass_workspace
def export(ws, workdir: str | None, output: str, size: tuple[int, int],
           chapters: tuple[int, ...], theme: str | None) -> None:
    """Write one HTML file with every chapter of the tour as it looks on this workspace's
    own run (its dataset, tokenizer and current models, else the bundled ones) and the
    figures each stage measured: the report card of `llm-tour prepare`, the dataset's
    counts, the tokenizer's ratio, the training run, the votes. The screens are inline
    SVG; the file fetches nothing from the internet, so it opens anywhere, offline.

    Nothing is crawled or trained and nothing in the workspace is written.

    Example: llm-tour export -o talk.html
    """
    from engine.model.load import NoModel
    from engine.threads import before_torch
    from engine.workspace import BrokenArtifact, Workspace, atomic_path
    from screens.registry import CHAPTERS
    from tui import __version__
    from tui.handout import ChapterFailed, make, render

    if workdir is not None:
        ws = Workspace(workdir)
    target = Path(output).expanduser().absolute()
    _check_writable(target)
    indices = sorted(set(chapters)) if chapters else list(range(len(CHAPTERS)))
    before_torch("inference")  # the chapters only load and sample: one thread is fastest
    start = time.perf_counter()
    try:
        handout = make(ws, indices, size, theme=theme, version=__version__,
                       say=lambda line: click.echo(line, err=True))
    except (BrokenArtifact, NoModel, ChapterFailed) as error:
        raise click.ClickException(str(error)) from None
    text = render(handout)
    try:
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(_cannot_write(target, error)) from None
    shots, seconds = len(handout.shots), time.perf_counter() - start
    click.echo(f"Wrote {target}: {shots} chapter{'s' if shots != 1 else ''}, "
               f"{len(text.encode('utf-8')) // 1024:,} KB, in {seconds:.1f} s.")


def _check_writable(target: Path) -> None:
    """Say at once, not after every chapter is drawn, that the handout can't be written."""
    import tempfile

    if target.is_dir():
        raise click.ClickException(f"{target} is a folder: name the handout's file, e.g. "
                                   f"`llm-tour export -o {target / 'handout.html'}`.")
    try:
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".tmp"):
            pass
    except OSError as error:
        raise click.ClickException(_cannot_write(target, error)) from None


def _cannot_write(target: Path, error: OSError) -> str:
    why = error.strerror or str(error)
    return (f"Can't write the handout to {target} ({why}). Write it somewhere else with "
            "`llm-tour export -o PATH`.")
