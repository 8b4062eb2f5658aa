"""The tour's App: chapters as screens, navigation between them, help, themes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandList, CommandPalette, Hit, Hits, Provider
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget

from engine import settings
from engine.workspace import Workspace
from screens.registry import CHAPTERS
from tui.errors import ErrorNote, error_note, failed_part, log_error
from tui.help import HelpScreen, collect_bindings
from tui.session import hide_paths
from tui.styles import SharedStylesheet

THEMES = {"dark": "textual-dark", "light": "textual-light"}


def show_control_characters() -> None:
    """Make every Rich ``Text`` and Textual ``Content`` in the tour show control characters
    (as ``engine.text.printable`` does) instead of passing them to the terminal.

    Both libraries already drop a few (bell, backspace, carriage return) when text is
    made; an ESC from a model's reply or a page's title went through and the terminal
    obeyed it. Their tables are extended in place, so text from every chapter is covered.
    """
    import rich.control
    import textual.content

    from engine.text import CONTROL_PICTURES

    for table in (rich.control._CONTROL_STRIP_TRANSLATE,
                  textual.content._CONTROL_STRIP_TRANSLATE):
        table.update(CONTROL_PICTURES)


class ChapterCommands(Provider):
    """'Go to 3 · Tokens' in the command palette, for every chapter."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        for index, chapter in enumerate(CHAPTERS):
            title = f"Go to {index + 1} · {chapter.title}"
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(app.goto, index), help=chapter.blurb)

    async def discover(self) -> Hits:
        for index, chapter in enumerate(CHAPTERS):
            title = f"Go to {index + 1} · {chapter.title}"
            yield Hit(1.0, title, partial(self.app.goto, index), help=chapter.blurb)


class TourCommandPalette(CommandPalette):
    """The command palette, safe against paging before its list is laid out.

    Textual's option list pages by looking up the highlighted option's line, and that
    table is only filled once the list has a size. Results arrive in batches, so a
    PageUp or PageDown in the moment between a batch and the next frame would look up a
    line that is not there yet (``KeyError`` in ``OptionList._move_page``, textual 8.2.8,
    the newest release at hand). Such a key waits for the frame: it does nothing.
    """

    def _action_command_list(self, action: str) -> None:
        if action in ("page_up", "page_down"):
            commands = self.query_one(CommandList)
            highlighted = commands.highlighted
            if highlighted is not None and highlighted not in commands._index_to_line:
                return
        super()._action_command_list(action)


def _jump_bindings() -> list[Binding]:
    """The top row of the keyboard in order: 1-9, then 0 for chapter 10 and - for 11."""
    keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "minus"]
    bindings = []
    for number, key in zip(range(1, len(CHAPTERS) + 1), keys):
        bindings.append(Binding(key, f"goto({number - 1})", "Jump to chapter N", show=False,
                                id=f"goto_{number}",
                                tooltip="Jump straight to chapter N (0 is chapter 10, - is 11)"))
    return bindings


class TourApp(App[None]):
    """llm-tour: how a large language model is made, with the real thing behind every screen."""

    TITLE = "llm-tour"
    CSS_PATH = "tour.tcss"
    COMMANDS = App.COMMANDS | {ChapterCommands}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("right,n,pagedown", "next_chapter", "Next", id="next_chapter",
                tooltip="Go on to the next chapter"),
        Binding("left,p,pageup", "prev_chapter", "Back", id="prev_chapter",
                tooltip="Go back to the previous chapter"),
        Binding("g", "command_palette", "Go to", id="goto_chapter",
                tooltip="Pick a chapter (or any command) by name"),
        Binding("question_mark", "help", "Keys", id="help", key_display="?",
                tooltip="Show every key that works here"),
        Binding("t", "toggle_theme", "Theme", id="toggle_theme", show=False,
                tooltip="Switch between the light and the dark theme"),
        Binding("f", "toggle_presenting", "Present", id="toggle_presenting", show=False,
                tooltip="Presenter mode: hide the keys bar and side panels (f again shows them)"),
        Binding("m", "models", "Models", id="models", show=False,
                tooltip="Pick the model every chapter uses: bundled, prepared or your own runs"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave the tour (it remembers where you were)"),
        Binding("ctrl+c", "interrupt", "Stop", id="interrupt", show=False, priority=True,
                tooltip="Stop what is running in this chapter; with nothing running, quit"),
        *_jump_bindings(),
    ]

    def __init__(
        self,
        workspace: Workspace | None = None,
        start: int = 0,
        theme: str | None = None,
        notice: str | None = None,
        presenting: bool = False,
        step: int = 0,
    ) -> None:
        show_control_characters()
        super().__init__()
        self.stylesheet = SharedStylesheet(variables=self.get_css_variables())
        self.start_step = step  # the step of the first chapter shown: where a viewer left off
        self.presenting = presenting
        self.workspace = workspace or Workspace()
        self.start = start
        self.current = -1
        self.failure: BaseException | None = None  # the error that ended the tour, if one did
        self.error_log = None  # where its traceback was written
        self.notice = notice
        self.voter = settings.voter()  # who votes, when the server knows them
        self._theme_name = theme or self.workspace.read_state().get("theme", "dark")
        # Set before mounting, so the first frame is styled once, in the right theme.
        self.theme = THEMES.get(self._theme_name, THEMES["dark"])
        if settings.slow_link():
            self.animation_level = "none"  # every frame costs on a slow link
        self._until_first_frame: list[Callable[[], object]] | None = []  # None once it is out

    # -- life cycle ---------------------------------------------------------
    def on_mount(self) -> None:
        self.set_class(self.presenting, "-presenting")
        self.goto(self.start)
        if self.notice:
            self.notify(self.notice, title="Welcome back", timeout=8)

    def after_first_frame(self, screen: Screen, callback: Callable[[], object]) -> None:
        """Run ``callback`` as soon as the tour's first frame is out (later: after
        ``screen``'s next refresh)."""
        if self._until_first_frame is None:
            screen.call_after_refresh(callback)
        else:
            self._until_first_frame.append(callback)

    def on_ready(self) -> None:
        """The first frame is on the terminal (Textual sends Ready after displaying it):
        what waited for it, the chapter's text, runs now rather than when the screen is next
        idle, a few frames later."""
        waiting, self._until_first_frame = self._until_first_frame or [], None
        for callback in waiting:
            callback()

    def get_system_commands(self, screen: Screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand("Keys", "Show every key that works here", self.action_help)
        yield SystemCommand("Toggle light/dark theme", "Switch the colour theme",
                            self.action_toggle_theme)
        yield SystemCommand("Models", "Pick the model every chapter uses (m)",
                            self.action_models)
        yield SystemCommand("Reset the workspace",
                            "Return to the bundled artifacts, after saying what goes",
                            self.action_reset_workspace)

    # -- models ---------------------------------------------------------------
    def action_models(self) -> None:
        from tui.models import ModelPicker

        if isinstance(self.screen, ModelPicker):
            return
        self.push_screen(ModelPicker(), self._use_model)

    def _use_model(self, version_id: str | None) -> None:
        if not version_id:
            return
        from engine.model.versions import ModelVersions, UnknownVersion

        try:
            version = ModelVersions(self.workspace).use(version_id)
        except (UnknownVersion, OSError) as error:
            self.notify(str(error), severity="error", timeout=8)
            return
        self.notify(f"Every chapter now uses {version.id} ({version.origin}).", timeout=5)
        self.models_changed(version.kind)

    def models_changed(self, *kinds: str) -> None:
        """Tell every chapter that the current model of these kinds changed."""
        from tui.models import ModelChanged

        for kind in kinds or ("base", "chat"):
            for chapter in CHAPTERS:
                if self.is_screen_installed(chapter.slug):
                    self.get_screen(chapter.slug).post_message(ModelChanged(kind))

    def action_reset_workspace(self) -> None:
        from engine.prepare.reset import plan
        from tui.models import ResetScreen

        todo = plan(self.workspace)
        if todo.empty:
            self.notify("Nothing to remove: every chapter already uses the bundled artifacts.",
                        timeout=5)
            return
        self.push_screen(ResetScreen(todo.lines(self.workspace.root)), self._reset)

    def _reset(self, confirmed: bool | None) -> None:
        if not confirmed:
            self.notify("Nothing removed.", timeout=3)
            return
        from engine.prepare.reset import reset

        try:
            done = reset(self.workspace)
        except OSError as error:
            self.notify(f"Could not reset {self.workspace.root}: {error}", severity="error",
                        markup=False)
            return
        self.notify(f"Removed {len(done.remove)}; every chapter now uses the bundled artifacts.",
                    timeout=6)
        self.models_changed()

    # -- navigation ---------------------------------------------------------
    def get_default_screen(self) -> Screen:
        """The first chapter is the App's first screen, composed with the App itself.

        A screen pushed while the App mounts is laid out inside Textual's start-up batch,
        whose frame is never sent: the terminal would stay blank until something else
        changed the layout (the chapter's text, after its Markdown is imported and laid out).
        As the App's own screen it is painted the moment the App is ready.

        A screen that is switched away from gives up the result callback that pushing or
        switching to it gave it; the App's own screen got none, so it is given the one
        ``switch_screen`` gives (textual 8.2.8: ``Screen._push_result_callback``)."""
        screen = self._chapter_screen(max(0, min(self.start, len(CHAPTERS) - 1)))
        screen._push_result_callback(screen, None)
        return screen

    def _chapter_screen(self, index: int) -> Screen:
        """Chapter ``index``'s screen, made and installed the first time (then kept)."""
        chapter = CHAPTERS[index]
        if not self.is_screen_installed(chapter.slug):
            screen = chapter.load()(chapter, index)
            if self.current < 0 and self.start_step > 0:
                screen.start_at(self.start_step)
            self.install_screen(screen, chapter.slug)
        return self.get_screen(chapter.slug)

    def goto(self, index: int) -> None:
        """Show chapter ``index`` (0-based); screens are created once and kept."""
        index = max(0, min(index, len(CHAPTERS) - 1))
        if index == self.current:
            return
        chapter = CHAPTERS[index]
        screen = self._chapter_screen(index)
        if screen is not self.screen:
            self.switch_screen(screen)
        self.current = index
        self.sub_title = f"{index + 1}/{len(CHAPTERS)} · {chapter.title}"
        self.call_later(self._remember, chapter=chapter.slug,
                        step=self.get_screen(chapter.slug).step)

    def action_goto(self, index: int) -> None:
        self.goto(index)

    def action_next_chapter(self) -> None:
        if self.current >= len(CHAPTERS) - 1:
            self.notify("This is the last chapter.", timeout=3)
            return
        self.goto(self.current + 1)

    def action_prev_chapter(self) -> None:
        if self.current <= 0:
            self.notify("This is the first chapter.", timeout=3)
            return
        self.goto(self.current - 1)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(TourCommandPalette(id="--command-palette"))

    def running_workers(self) -> list:
        """The workers started by the current screen or its widgets that are still running."""
        screen = self.screen
        running = []
        for worker in self.workers:
            node = worker.node
            owner = node if isinstance(node, Screen) else getattr(node, "screen", None) \
                if isinstance(node, Widget) else None
            if owner is screen and worker.is_running:
                running.append(worker)
        return running

    def action_interrupt(self) -> None:
        """Ctrl+C as in any terminal program: stop what runs, or leave, saying which."""
        running = self.running_workers()
        if not running:
            self.exit(message="Stopped with Ctrl+C. Run llm-tour again to carry on where you were.")
            return
        stop = getattr(self.screen, "action_stop", None)
        if callable(stop):  # a stage with its own way to stop cleanly (training keeps a checkpoint)
            stop()
        for worker in running:
            worker.cancel()
        self.notify("Stopped what was running in this chapter. Ctrl+C again leaves the tour.",
                    title="Ctrl+C", timeout=5)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(collect_bindings(self.screen)))

    def action_toggle_theme(self) -> None:
        self._theme_name = "light" if self._theme_name == "dark" else "dark"
        self.theme = THEMES[self._theme_name]
        self._remember(theme=self._theme_name)

    def action_toggle_presenting(self) -> None:
        """Give the content the whole screen (the stylesheet hides what ``-presenting`` hides)."""
        self.toggle_class("-presenting")

    def shown(self, text: str) -> str:
        """Text as this viewer may see it: a remote viewer sees no server paths."""
        if settings.remote():
            return hide_paths(text, self.workspace.root)
        return text

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """While presenting, passing remarks stay off the screen; warnings and errors don't."""
        if severity == "information" and self.has_class("-presenting"):
            return
        message = self.shown(message)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def _handle_exception(self, error: Exception) -> None:
        """While presenting, an error confined to one widget is shown in the chapter and
        logged to the workspace instead of ending the talk (see ``tui.errors``)."""
        part = failed_part(error) if self.has_class("-presenting") else None
        try:
            log = log_error(self.workspace.root, error)
        except OSError:
            log = None
        if part is None:
            self.error_log = log
            self.failure = error
            super()._handle_exception(error)
            return
        screen = part.screen if isinstance(part, Widget) else self.screen
        if isinstance(part, Widget):
            part.remove()  # its message loop has ended: it would never update again
        screen.query(ErrorNote).remove()
        screen.mount(error_note(error, log, self.shown))

    def _fatal_error(self) -> None:
        """The tour ends on an unexpected error: its traceback is in errors.log, and the
        command line prints one line saying where, so no screenful of it is printed here
        (unless the log could not be written, or Textual's debug feature is on)."""
        if self.error_log is None or "debug" in self.features:
            super()._fatal_error()
            return
        self.bell()
        self._close_messages_no_wait()

    def _remember(self, **changes: object) -> None:
        """Keep where the viewer is; a workspace that can't be written never stops the tour."""
        try:
            self.workspace.write_state(**changes)
        except OSError as error:
            if not getattr(self, "_state_warned", False):
                self._state_warned = True
                self.notify(f"Can't save your place in {self.workspace.root}: {error.strerror}",
                            severity="warning", timeout=6, markup=False)
