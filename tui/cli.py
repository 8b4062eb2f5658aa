"""The `llm-tour` command: start the tour, or run a stage of it headless."""

from __future__ import annotations

import os
import sys
from importlib import import_module

import click

from engine import settings
from engine.workspace import ENV_VAR, Workspace
from screens.registry import CHAPTERS, find_chapter
from tui import __version__


class LazyGroup(click.Group):
    """A group whose subcommands are named "module:attribute" and imported only when one is
    run (or the help lists them): `llm-tour sample` loads no other command's imports."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            module, _, attribute = self.lazy[name].partition(":")
            self.add_command(getattr(import_module(module), attribute), name)
        return super().get_command(ctx, name)


class ChapterType(click.ParamType):
    name = "N|NAME"

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):
            return value
        try:
            return find_chapter(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


# Stage commands, one line each (their modules, and the engine, are imported when run).
COMMANDS = {
    "ssh": "tui.commands.present:ssh",
    "serve": "tui.commands.present:serve",
    "sample": "tui.commands.sample:sample",
    "chat": "tui.commands.chat:chat",
    "eval": "tui.commands.evaluate:evaluate",
    "export": "tui.commands.export:export",
    "votes": "tui.commands.votes:votes",
    "models": "tui.commands.models:models",
    "reset": "tui.commands.models:reset",
}
PREPARE_COMMANDS = {
    "data": "tui.commands.data:data",
    "tokenizer": "tui.commands.tokens:tokenizer",
    "train": "tui.commands.train:train",
    "sft": "tui.commands.sft:sft",
}


@click.group(cls=LazyGroup, lazy=COMMANDS, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--chapter", "-c", type=ChapterType(), default=None,
              help="Start at this chapter, by number or name (see --list).")
@click.option("--list", "list_chapters", is_flag=True, help="Print the chapters and exit.")
@click.option("--workdir", "-w", type=click.Path(file_okay=False), envvar=ENV_VAR,
              show_envvar=True,
              help="Folder where the tour keeps what it builds [default: your user data dir].")
@click.option("--theme", type=click.Choice(["dark", "light"]), default=None,
              help="Colour theme (t switches it inside the tour).")
@click.option("--present", is_flag=True,
              help="Start in presenter mode: no keys bar or side panels (f switches it).")
@click.option("--slow-link", is_flag=True, envvar=settings.SLOW_LINK,
              help="For a slow connection: 10 frames a second and no animation.")
@click.version_option(__version__, "--version", "-V", prog_name="llm-tour")
@click.pass_context
def cli(ctx: click.Context, chapter: int | None, list_chapters: bool, workdir: str | None,
        theme: str | None, present: bool, slow_link: bool) -> None:
    """A tour of how a large language model is made, in your terminal.

    Every chapter runs the real thing on a laptop-sized scale: a crawl of a small
    sample web, a tokenizer, a tiny GPT trained live, sampling, a chat fine-tune,
    tool calls and preference votes.

    Run without a command to start the tour. Keys inside: → next chapter, Space next
    step, ? every key, q quit.
    """
    workspace = Workspace(workdir)
    ctx.obj = workspace
    workspace.clean_leftovers()  # temporary files of a write that was killed
    if ctx.invoked_subcommand is not None:
        return
    if list_chapters:
        for index, item in enumerate(CHAPTERS, 1):
            click.echo(f"{index:>2}  {item.slug:<14} {item.title:<24} {item.blurb}")
        return
    start, notice = _starting_chapter(workspace, chapter)
    if slow_link:  # read by Textual when it is imported, just below
        from tui.session import slow_link_env

        os.environ.update(slow_link_env())
    from engine.threads import before_torch
    from tui.app import TourApp

    # The screen's process only samples (training runs in its child): one thread is fastest.
    before_torch("inference")
    step = _starting_step(workspace) if notice else 0
    app = TourApp(workspace, start=start, theme=theme, notice=notice, presenting=present,
                  step=step)
    app.run()
    if app.failure is not None or (app.return_code or 0) != 0:
        raise SystemExit(_failure_line(app.failure, app.error_log, workspace))


def _failure_line(error: BaseException | None, log, workspace: Workspace) -> str:
    """One line for an error that ended the tour: what it was, and where the details are."""
    from engine.text import printable

    what = f"{type(error).__name__}: {error}" if error is not None else "an error"
    where = f"the traceback is in {log}" if log is not None else \
        f"its traceback could not be written to {workspace.root}"
    return printable(f"llm-tour stopped on an unexpected error ({what}); {where}.",
                     newlines=False)


def _starting_chapter(workspace: Workspace, chapter: int | None) -> tuple[int, str | None]:
    """--chapter wins; otherwise resume where this viewer left off, and say so."""
    if chapter is not None:
        return chapter, None
    slug = workspace.read_state().get("chapter")
    try:
        index = find_chapter(slug) if slug else 0
    except ValueError:
        index = 0
    if index == 0:
        return 0, None
    title = CHAPTERS[index].title
    return index, (f"Resuming at {index + 1}/{len(CHAPTERS)} · {title}, where you left off. "
                   "Press 1 (or start with --chapter 1) for the beginning.")


def _starting_step(workspace: Workspace) -> int:
    """The step of the chapter this viewer left, or the first."""
    step = workspace.read_state().get("step", 0)
    return step if isinstance(step, int) and step >= 0 else 0


@cli.group(cls=LazyGroup, lazy=PREPARE_COMMANDS, invoke_without_command=True)
@click.option("--preset", default="default", show_default=True,
              help="Training preset for the base model (default, gpu, tiny).")
@click.option("--sft-steps", type=click.IntRange(1), default=None,
              help="Fine-tuning steps [default: the fine-tune's own].")
@click.option("--force", multiple=True, metavar="STAGE",
              help="Rebuild this stage even if it is current (repeat it; 'all' for every stage).")
@click.pass_context
def prepare(ctx: click.Context, preset: str, sft_steps: int | None, force: tuple[str, ...]
            ) -> None:
    """Build the tour's artifacts headless (for presenters and scripts).

    With no stage: every stage in order (data, tokenizer, training, fine-tuning),
    skipping what is already prepared and current, then a report card.
    """
    if ctx.invoked_subcommand is None:
        from tui.commands.prepare_all import prepare_everything

        prepare_everything(ctx.find_object(Workspace), preset, sft_steps, force)



def main(args: list[str] | None = None) -> None:
    """The console script: Ctrl+C ends quietly with status 130; an unexpected error ends
    with status 1, its traceback in the workspace's errors.log and one line saying so."""
    try:
        cli.main(args, prog_name="llm-tour", standalone_mode=False)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except Exception as error:  # noqa: BLE001 - the last place an error can be reported
        workspace = Workspace(_workdir(args))
        try:
            log = workspace.log_error(error)
        except OSError:
            log = None
        click.echo(_failure_line(error, log, workspace), err=True)
        sys.exit(1)


def _workdir(args: list[str] | None) -> str | None:
    """The --workdir the command line named, if any (else the environment or default)."""
    args = list(sys.argv[1:] if args is None else args)
    for i, arg in enumerate(args):
        if arg in ("--workdir", "-w") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--workdir="):
            return arg.split("=", 1)[1]
    return None


if __name__ == "__main__":
    main()
