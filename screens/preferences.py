"""Chapter: the human preference loop. Viewers rank answers, and the votes nudge the model.

Votes go into the workspace's ``votes.sqlite``, which every tour process shares (an audience
over SSH or in a browser votes into the same file), so the tally is everyone's. Writing a
vote and fitting the ranking happen in thread workers, and DPO in the training child
process (engine.training.child), so keys answer while it runs; torch loads only when the
chat model is needed (sampled candidates, the nudge).
"""

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass, field, replace
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from engine.preference.prompts import TALK_PROMPTS, PromptSet, talk_order
from engine.preference.votes import VoteError, VoteStore, new_session
from screens.base import ChapterScreen, stage_cancelled
from screens.widgets.border_labels import fitting

if TYPE_CHECKING:
    from engine.preference.bradley_terry import BTRanking
    from engine.preference.votes import Tally

ANSWER_INDENT = 10  # "▶ 1st [1] " before each answer; its wrapped lines line up after it
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass
class Standing:
    """Everyone's votes on one prompt: the tally, the Bradley-Terry fit, and the totals."""

    prompt_id: str
    tally: Tally
    ranking: BTRanking
    votes: int  # over all prompts
    sessions: int


@dataclass
class Ballot:
    """One viewer's ranking in progress for one prompt."""

    prompt: PromptSet
    numbers: dict[str, int]  # candidate id -> the number its key has (shuffled per viewer)
    order: list[str]  # current ranking, best first
    picked: int = 0  # how many of ``order`` were fixed by number keys
    cursor: int = 0
    voted: tuple[str, ...] | None = None  # the ranking this viewer sent
    sent: tuple[str, ...] | None = None  # a ranking sent before (Backspace ranks again)

    @classmethod
    def new(cls, prompt: PromptSet, session: str) -> Ballot:
        shown = list(prompt.candidate_ids)
        random.Random(f"{session}/{prompt.id}").shuffle(shown)  # no answer always comes first
        return cls(prompt, {cid: i + 1 for i, cid in enumerate(shown)}, shown)

    def by_number(self, number: int) -> str | None:
        return next((cid for cid, n in self.numbers.items() if n == number), None)


class VotePanel(Widget, can_focus=True):
    """The prompt, its answers in the viewer's order, and after a vote, everyone's ranking."""

    DEFAULT_CSS = """
    VotePanel {
        height: auto;
        border: round $primary;  /* not .panel: focus turns it to the accent */
        padding: 0 1;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        margin: 0 0 1 0;
    }
    VotePanel:focus {
        border: round $accent;
    }
    VotePanel > Static {
        height: auto;
    }
    VotePanel #vote-answers {
        margin: 1 0 0 0;
    }
    VotePanel #vote-status {
        margin: 1 0 0 0;
    }
    """

    BINDINGS: ClassVar[list[Binding]] = [
        *(Binding(str(n), f"pick({n})", f"Answer {n}", show=False, id=f"pick_{n}",
                  tooltip="Put this answer next in your ranking (best first)")
          for n in range(1, 10)),
        Binding("up", "cursor(-1)", "Up", show=False, id="vote_cursor_up",
                tooltip="Highlight the answer above"),
        Binding("down", "cursor(1)", "Down", show=False, id="vote_cursor_down",
                tooltip="Highlight the answer below"),
        Binding("shift+up", "move(-1)", "Move up", show=False, id="vote_move_up",
                key_display="⇧↑",
                tooltip="Move the highlighted answer up your ranking"),
        Binding("shift+down", "move(1)", "Move down", show=False, id="vote_move_down",
                key_display="⇧↓",
                tooltip="Move the highlighted answer down your ranking"),
        Binding("enter", "submit", "Vote", id="vote_submit",
                tooltip="Send your ranking as it stands (after voting: the next prompt)"),
        Binding("backspace", "undo", "Undo", show=False, id="vote_undo",
                tooltip="Take back the last answer you picked, or rank this prompt again"),
        Binding("right_square_bracket", "prompt(1)", "Next prompt", id="next_prompt",
                key_display="]", tooltip="Go to the next prompt"),
        Binding("left_square_bracket", "prompt(-1)", "Prev prompt", id="prev_prompt",
                key_display="[", show=False, tooltip="Go back to the previous prompt"),
    ]

    class Voted(Message):
        def __init__(self, standing: Standing) -> None:
            super().__init__()
            self.standing = standing

    def compose(self):
        yield Static(id="vote-question")
        yield Static(id="vote-answers")
        yield Static(id="vote-status")
        yield Static(id="vote-standing")

    @property
    def chapter(self) -> PreferencesScreen:
        return self.screen  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.refresh_panel()
        self.load_standing(self.ballot.prompt.id)
        self.call_after_refresh(self.focus, scroll_visible=False)

    @property
    def ballot(self) -> Ballot:
        return self.chapter.ballot()

    # -- keys -------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick":  # digits past the last answer still jump to chapters
            return bool(parameters) and int(parameters[0]) <= len(self.ballot.order)
        return True

    def action_pick(self, number: int) -> None:
        ballot = self.ballot
        if ballot.voted is not None:
            self.chapter.set_status("You have ranked this prompt: ] for the next one, "
                                    "Backspace to rank it again.")
            self.refresh_panel()  # said on screen, not swallowed
            return
        cid = ballot.by_number(number)
        if cid is None or cid in ballot.order[: ballot.picked]:
            return
        ballot.order.remove(cid)
        ballot.order.insert(ballot.picked, cid)
        ballot.picked += 1
        ballot.cursor = min(ballot.picked, len(ballot.order) - 1)
        if ballot.picked >= len(ballot.order) - 1:
            ballot.picked = len(ballot.order)
            self.send()
        self.refresh_panel()
        self.show_answers()

    def action_cursor(self, delta: int) -> None:
        ballot = self.ballot
        ballot.cursor = max(0, min(len(ballot.order) - 1, ballot.cursor + delta))
        self.refresh_panel()
        self.show_answers()

    def show_answers(self) -> None:
        """A key for the answers shows them: in a small terminal the panel starts below the
        chapter's text, and ↓ moving a cursor out of sight would look like a dead key."""
        self.call_after_refresh(self.query_one("#vote-answers").scroll_visible, animate=False)

    def action_move(self, delta: int) -> None:
        ballot = self.ballot
        if ballot.voted is not None:
            return
        i, j = ballot.cursor, ballot.cursor + delta
        if 0 <= j < len(ballot.order):
            ballot.order[i], ballot.order[j] = ballot.order[j], ballot.order[i]
            ballot.cursor = j
            ballot.picked = 0  # the order is now the arrows' doing
        self.refresh_panel()
        self.show_answers()

    def action_submit(self) -> None:
        if self.ballot.voted is not None:
            self.action_prompt(1)
            return
        self.send()
        self.refresh_panel()

    def action_undo(self) -> None:
        ballot = self.ballot
        if ballot.voted is not None:
            ballot.voted, ballot.picked, ballot.cursor = None, 0, 0
        elif ballot.picked:
            ballot.picked -= 1
        self.chapter.set_status(None)
        self.refresh_panel()
        self.show_answers()

    def action_prompt(self, delta: int) -> None:
        self.chapter.move_prompt(delta)
        self.refresh_panel()
        self.show_answers()
        self.load_standing(self.ballot.prompt.id)

    # -- voting -----------------------------------------------------------------------
    def send(self) -> None:
        ballot = self.ballot
        ballot.voted = tuple(ballot.order)
        changed = ballot.sent is not None
        ballot.sent = ballot.voted
        self.chapter.set_status("Changing your vote…" if changed else "Sending your vote…")
        self.record(ballot.prompt.id, ballot.voted, changed)

    def record(self, prompt_id: str, ranking: tuple[str, ...], changed: bool = False) -> None:
        chapter = self.chapter
        session = chapter.session

        def voting():
            store = chapter.store  # opened here: a broken file is this stage's error, named
            # A changed mind counts once; so does a viewer known by name (a room's SSH key,
            # a browser's cookie) who ranks again or comes back.
            store.vote(prompt_id, ranking, session, replace=changed or chapter.voter_known)
            yield chapter.standing(prompt_id)

        def recorded(standing: Standing) -> None:
            self.show_standing(standing)
            self.call_after_refresh(self.query_one("#vote-standing").scroll_visible,
                                    animate=False)
            what = ("Vote changed: your new ranking replaces the one you sent."
                    if changed else "Vote recorded.")
            chapter.set_status(
                f"{what} All prompts so far: {_plural(standing.votes, 'vote')} "
                f"from {_plural(standing.sessions, 'session')}.")
            # Posted from the panel's own turn: a message made while the screen handles the
            # stage's event would count the screen as its sender and stop bubbling there,
            # and the App (a room tells every other screen) would never hear of the vote.
            self.call_next(lambda: self.post_message(self.Voted(standing)))
            self.refresh_panel()

        def failed(error: BaseException) -> None:
            ballot = chapter.ballots.get(prompt_id)
            if ballot is not None:
                ballot.voted = None
                if not changed:
                    ballot.sent = None  # nothing was recorded for this prompt
            self._failed(error)

        # a group per prompt: a vote on the next prompt never drops this one's answer
        chapter.run_stage(voting, f"vote-{prompt_id}", on_event=recorded, on_error=failed)

    def load_standing(self, prompt_id: str) -> None:
        chapter = self.chapter

        def shown(standing: Standing) -> None:
            self.show_standing(standing)
            self.refresh_panel()

        # a group per prompt: each panel's tally is read again, none drops another's
        chapter.run_stage(lambda: [chapter.standing(prompt_id)], f"standing-{prompt_id}",
                          on_event=shown, on_error=self._failed)

    def show_standing(self, standing: Standing) -> None:
        self.chapter.standings[standing.prompt_id] = standing

    def _failed(self, error: BaseException) -> None:
        message = str(error) if isinstance(error, VoteError) else (
            f"The votes file could not be used: {error}")
        self.chapter.set_status(message, error=True)
        self.refresh_panel()

    # -- drawing ----------------------------------------------------------------------
    def refresh_panel(self) -> None:
        if not self.is_mounted:
            return
        chapter = self.chapter
        ballot = self.ballot
        prompt = ballot.prompt
        self.border_title = f"Prompt {chapter.position + 1} of {len(chapter.prompts)}"
        # The model's label is long ("chat model chat.pt (bundled with llm-tour, 5,000
        # training steps)"): shortened on purpose where the border has no room for it all.
        choices = ((f"from {prompt.source}",) if prompt.from_talk else (
            f"answers sampled from the {prompt.source}",
            f"answers sampled from the {prompt.source.split(' (')[0]}",
            "sampled from the chat model"))
        self.border_subtitle = fitting(tuple(Content(c) for c in choices), self.outer_size.width)
        self.query_one("#vote-question", Static).update(
            Content.assemble(("User: ", "bold $accent"), (prompt.question, "bold")))
        self.query_one("#vote-answers", Static).update(self._answers(ballot))
        status = chapter.status
        if status is None:
            status = (self._hint(ballot), "$text-muted")
        self.query_one("#vote-status", Static).update(Content.assemble(status))
        standing = chapter.standings.get(prompt.id)
        self.query_one("#vote-standing", Static).update(
            self._standing(ballot, standing) if standing is not None else "")

    def _hint(self, ballot: Ballot) -> str:
        n = len(ballot.order)
        if ballot.voted is not None:
            return "Enter or ] for the next prompt · Backspace to rank this one again"
        if ballot.picked:
            return (f"Picked {ballot.picked} of {n}: press the next number "
                    "(Backspace takes one back)")
        return f"Press 1-{n} from best to worst, or arrange with ⇧↑/⇧↓ and press Enter"

    def _answers(self, ballot: Ballot) -> Content:
        lines = []
        focused = self.has_focus
        indent = " " * ANSWER_INDENT
        width = max(20, (self.content_size.width or 76) - ANSWER_INDENT)
        for rank, cid in enumerate(ballot.order):
            candidate = ballot.prompt.candidate(cid)
            fixed = ballot.voted is not None or rank < ballot.picked
            here = rank == ballot.cursor and ballot.voted is None and focused
            place = ORDINALS[rank] if fixed else "  ·"
            text = ("\n" + indent).join(textwrap.wrap(candidate.text, width) or [""])
            lines.append(Content.assemble(
                ("▶ " if here else "  ", "bold $accent"),
                (f"{place:>3} ", "bold $success" if fixed else "$text-muted"),
                (f"[{ballot.numbers[cid]}] ", "bold reverse $accent" if here else "bold"),
                (text, "bold" if here else ""),
            ))
            if ballot.voted is not None and candidate.label:
                label = ("\n" + indent).join(textwrap.wrap("The talk: " + candidate.label, width))
                lines.append(Content.assemble(indent, (label, "italic $text-muted")))
        return Content("\n").join(lines)

    def on_resize(self) -> None:
        self.refresh_panel()

    def _standing(self, ballot: Ballot, standing: Standing) -> Content:
        tally, ranking = standing.tally, standing.ranking
        if tally.votes == 0:
            return Content.styled("No votes on this prompt yet: yours will be the first.",
                                  "$text-muted")
        lines = [Content.assemble(
            ("Everyone's ranking", "bold"), (" (Bradley-Terry score ± error)", "$text-muted"),
            f" · {_plural(tally.votes, 'vote')} from {_plural(tally.sessions, 'session')}")]
        top = max(abs(s.score) for s in ranking.strengths) or 1.0
        strengths = ranking.strengths
        for rank, strength in enumerate(strengths):
            cid = strength.item
            bar = "█" * max(1, round(8 * (strength.score + top) / (2 * top)))
            beats = ""
            if rank < len(ranking.sure):
                below = ballot.numbers[strengths[rank + 1].item]
                beats = f" · {ranking.sure[rank]:.0%} sure it beats [{below}]"
            lines.append(Content.assemble(
                (f"  {ORDINALS[rank]:>3} ", "bold"),
                (f"[{ballot.numbers[cid]}] ", "bold"),
                (f"{bar:<9}", "$accent"),
                f"{round(strength.score, 2) + 0.0:+5.2f} ± {strength.stderr:4.2f}",
                (f" · first {tally.first[cid]}×{beats}", "$text-muted"),
            ))
        order = talk_order(ballot.prompt)
        if order:
            agrees = ranking.order == order
            lines.append(Content.styled(
                "The audience agrees with the talk's order." if agrees
                else "The audience's order differs from the talk's.",
                "$success" if agrees else "$warning"))
        return Content("\n").join(lines)

    def on_focus(self) -> None:
        self.refresh_panel()

    def on_blur(self) -> None:
        self.refresh_panel()


@dataclass
class NudgeState:
    """What the nudge panel shows; kept on the screen so stepping back and forth keeps it."""

    running: bool = False
    model_label: str = ""
    votes: int = 0
    sessions: int = 0
    pairs: int = 0
    step: int = 0
    steps: int = 0
    loss: float | None = None
    accuracy: float | None = None
    margin_before: float | None = None
    margin: float | None = None
    answers: dict[tuple[str, str], str] = field(default_factory=dict)
    before: dict[tuple[str, str], float] = field(default_factory=dict)
    now: dict[tuple[str, str], float] = field(default_factory=dict)
    saved_to: str = ""
    question: str = ""
    sample: str = ""
    sample_done: bool = False
    checked: tuple[int, int] = (0, 0)  # the quick check: items asked of how many
    check: str = ""  # its result, kept with the nudged version
    check_before: str = ""  # the same check of the model the nudge started from
    error: str = ""


class NudgePanel(Static):
    """The DPO steps live: each answer's log-probability before and now, then a new sample."""

    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    NudgePanel {
        height: auto;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        margin: 0 0 1 0;
    }
    """

    @property
    def chapter(self) -> PreferencesScreen:
        return self.screen  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.border_title = "Nudge the model"
        self.draw()

    def draw(self) -> None:
        state = self.chapter.nudge
        self.border_subtitle = "N to run" if not state.running else "running"
        self.update(render_nudge(state, self.chapter, self.content_size.width or 76))


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_nudge(state: NudgeState, chapter: PreferencesScreen, width: int = 76) -> Content:
    total, sessions = chapter.totals
    if not state.before and not state.running:
        lines = [Content.assemble(
            ("Votes so far: ", "bold"),
            f"{_plural(total, 'vote')} from {_plural(sessions, 'session')}. ",
            ("Press N to nudge the chat model with them.", "$text-muted"))]
        if chapter.model_label:
            lines.append(Content.assemble(("Model: ", "bold"), chapter.model_label))
        if state.error:
            lines.append(Content.styled(state.error, "$error"))
        return Content("\n").join(lines)
    lines = [Content.assemble(("Model: ", "bold"), state.model_label or "loading…")]
    if state.before:
        lines.append(Content.assemble(
            ("In: ", "bold"),
            f"{_plural(state.votes, 'vote')} from {_plural(state.sessions, 'session')} "
            f"({_plural(state.pairs, 'preference pair')}), {state.steps} DPO steps"))
    if state.step:
        lines.append(Content.assemble(
            ("Step ", "bold"), f"{state.step}/{state.steps}",
            (" · loss ", "bold"), f"{state.loss:.3f}",
            (" · margin ", "bold"),
            f"{state.margin_before:+.1f} → {state.margin:+.1f} "
            f"({state.margin - state.margin_before:+.2f})",
            (" · pairs won ", "bold"), f"{state.accuracy:.0%}"))
    if state.before:
        text_width = max(12, width - 42)
        lines.append(Content.styled(
            f"  {'log p(answer)':<{text_width + 11}} {'before':>8} {'now':>8} {'change':>8}",
            "$text-muted"))
        for key, before in state.before.items():
            prompt_id, cid = key
            now = state.now.get(key, before)
            change = now - before
            text = state.answers.get(key, cid)
            ballot = chapter.ballots.get(prompt_id)
            number = f"[{ballot.numbers[cid]}]" if ballot and cid in ballot.numbers else ""
            lines.append(Content.assemble(
                (f"  {'sampled' if prompt_id.startswith('sampled-') else prompt_id:<7} ",
                 "$text-muted"),
                (f"{number:<4}", "bold"),
                f"{_short(text, text_width):<{text_width}} ",
                f"{before:8.1f} {now:8.1f} ",
                (f"{change:+8.2f}", "$success" if change > 0 else "$error" if change < 0 else ""),
            ))
    if state.saved_to:
        lines.append(Content.assemble(("Saved to ", "bold"), state.saved_to))
    if state.question:
        lines.append(Content.assemble(("A fresh sample · User: ", "bold"), state.question))
        lines.append(Content.assemble(("  Assistant: ", "bold $accent"),
                                      (state.sample, ""),
                                      ("" if state.sample_done else "▌", "$accent")))
    if state.check:
        lines.append(Content.assemble(("Quick check now: ", "bold"), state.check))
        lines.append(Content.assemble(("Before the nudge: ", "bold"), state.check_before
                                      or ("not measured on the same items", "$text-muted")))
    elif state.checked[0]:
        lines.append(Content.styled(f"Quick check on unseen names: {state.checked[0]} of "
                                    f"{state.checked[1]} asked…", "$text-muted"))
    if state.error:
        lines.append(Content.styled(state.error, "$error"))
    return Content("\n").join(lines)


class PreferencesScreen(ChapterScreen):
    """Rank answers, see everyone's ranking, and nudge the chat model with the votes."""

    WIDGETS: ClassVar[dict[str, type[Widget]]] = {"vote": VotePanel, "nudge": NudgePanel}
    MODEL_KINDS: ClassVar[tuple[str, ...]] = ("chat",)

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("N", "nudge", "Nudge", id="nudge", key_display="N",
                tooltip="Run DPO steps on the chat model with every vote so far"),
    ]

    runner: ClassVar[str] = "process"  # where the nudge runs: "process" or "thread"
    dpo_config: ClassVar[Any] = None  # an engine.preference.dpo.DPOConfig; None: its defaults

    def __init__(self, chapter, index: int) -> None:
        super().__init__(chapter, index)
        self._session: str | None = None
        self.prompts: list[PromptSet] = list(TALK_PROMPTS)
        self.position = 0
        self.ballots: dict[str, Ballot] = {}
        self.standings: dict[str, Standing] = {}
        self.status: tuple[str, str] | None = None
        self.nudge = NudgeState()
        self.model_label = ""  # the chat model a nudge starts from
        self._store: VoteStore | None = None
        self._totals = (0, 0)

    # -- state shared by the panels ---------------------------------------------------
    @property
    def session(self) -> str:
        """Whose votes these are: the viewer the tour knows (``app.voter``: a room's SSH key
        or user, a browser's cookie), or a fresh id for this tour."""
        if self._session is None:
            self._session = getattr(self.app, "voter", None) or new_session()
        return self._session

    @property
    def voter_known(self) -> bool:
        return bool(getattr(self.app, "voter", None))

    @property
    def store(self) -> VoteStore:
        if self._store is None:
            self._store = VoteStore.open(self.app.workspace, prompts=self.prompts)
        return self._store

    def ballot(self) -> Ballot:
        prompt = self.prompts[self.position]
        if prompt.id not in self.ballots:
            self.ballots[prompt.id] = Ballot.new(prompt, self.session)
        return self.ballots[prompt.id]

    @property
    def totals(self) -> tuple[int, int]:
        return self._totals

    def standing(self, prompt_id: str) -> Standing:
        """Everyone's votes on a prompt (runs in a worker: it reads the shared file)."""
        from engine.preference.bradley_terry import rank_votes

        store = self.store
        prompt = store.prompt(prompt_id)
        votes, sessions = store.counts()
        self._totals = (votes, sessions)
        return Standing(prompt_id, store.tally(prompt_id),
                        rank_votes(prompt.candidate_ids, store.votes(prompt_id)),
                        votes, sessions)

    def set_status(self, text: str | None, error: bool = False) -> None:
        self.status = None if text is None else (text, "$error" if error else "$text")

    def move_prompt(self, delta: int) -> None:
        self.position = (self.position + delta) % len(self.prompts)
        self.status = None

    # -- life cycle -------------------------------------------------------------------
    def on_mount(self) -> None:
        super().on_mount()
        self.sample_candidates()

    def on_vote_panel_voted(self, message: VotePanel.Voted) -> None:
        for panel in self.query(NudgePanel):
            panel.draw()

    def sample_candidates(self) -> None:
        """A prompt whose candidates are the chat model's own answers (none without a model),
        and the label of the chat model every nudge starts from."""
        from engine.model.load import NoModel, load_model
        from engine.preference.prompts import chat_questions, sample_candidates_from
        from engine.workspace import BrokenArtifact

        ws = self.app.workspace

        def sampling():
            store = None
            try:  # opening the votes file reads it: here, never on the screen's thread
                store = self.store
            except (BrokenArtifact, VoteError) as error:  # named, with what to do about it
                yield _Candidates(None, "", votes_error=str(error))
            try:
                loaded = load_model(ws, "chat")
            except NoModel as error:
                # The talk's sets are enough to vote on. A missing model is for N to explain;
                # a broken file is named now, with the command that builds it again.
                yield _Candidates(None, "", str(error) if error.path is not None else "")
                return
            label = _chat_label(loaded)
            yield _Candidates(None, label)
            if store is None:  # no votes file to keep the model's own answers in
                return
            prompt = sample_candidates_from(loaded.path, loaded.model, loaded.tokenizer,
                                            chat_questions(1)[0], source=loaded.label)
            store.add_prompt(prompt)
            yield _Candidates(prompt, label)

        self.run_stage(sampling, "candidates", on_event=self.show_candidates)

    def show_candidates(self, found: _Candidates) -> None:
        if found.votes_error:
            self.set_status(found.votes_error, error=True)
        elif found.error and self.status is None:
            self.set_status(found.error, error=True)
        self.model_label = found.label  # none without a chat model: N says what to do
        prompt = found.prompt
        if prompt is not None and all(p.id != prompt.id for p in self.prompts):
            self.prompts.append(prompt)
        self._redraw_votes()
        self._redraw_nudge()

    def model_changed(self, kind: str) -> None:
        """A new chat model (a nudge, a fine-tune, or one chosen with m): its label, and
        answers of its own to vote on."""
        self.sample_candidates()


    def _redraw_votes(self) -> None:
        for panel in self.query(VotePanel):
            panel.refresh_panel()

    def _redraw_nudge(self, follow: bool = False) -> None:
        for panel in self.query(NudgePanel):
            panel.draw()
            if follow:  # keep the newest line of a running nudge in view
                self.call_after_refresh(panel.scroll_visible, animate=False, top=False)

    # -- the nudge --------------------------------------------------------------------
    def action_nudge(self) -> None:
        if self.nudge.running:
            self.notify("The model is being nudged already.", timeout=3)
            return
        if not self.query(NudgePanel):
            self.step = self.step_count - 1  # show the panel the nudge draws in
        self.nudge = NudgeState(running=True)
        self._redraw_nudge(follow=True)
        self.run_nudge()

    def run_nudge(self) -> None:
        """DPO in the training child (engine.training.child): keys stay quick meanwhile.
        The worker folds the events into the panel's state; the newest state supersedes
        any still waiting, so a fast nudge never floods the screen."""
        from engine.preference.dpo import DPOConfig
        from engine.training.child import StageRunner, nudge_job

        config = self.dpo_config or DPOConfig()
        runner = StageRunner(nudge_job, str(self.app.workspace.root), list(self.prompts),
                             config, self._nudge_question(), where=self.runner)

        def states() -> Iterator[NudgeState]:
            state = NudgeState(running=True, steps=config.steps)
            for event in runner.events(stage_cancelled):
                if _fold(state, event):
                    yield replace(state)

        self.run_stage(states, "nudge", on_event=self._on_nudge_state,
                       on_done=self._nudge_done, on_cancel=self._nudge_ended,
                       on_error=self._nudge_failed, coalesce=(NudgeState,))

    def _on_nudge_state(self, state: NudgeState) -> None:
        shown = getattr(self.app, "shown", str)  # a remote viewer: no server paths
        self.nudge = replace(state, running=self.nudge.running, saved_to=shown(state.saved_to))
        self._totals = (max(self._totals[0], state.votes), max(self._totals[1], state.sessions))
        self._redraw_nudge(follow=True)

    def _nudge_done(self, _result: Any = None) -> None:
        self._nudge_ended()
        if self.nudge.saved_to and not self.nudge.error:
            self.tell_model_changed("chat")  # the nudged model is every chapter's now

    def _nudge_ended(self, _result: Any = None) -> None:
        self.nudge.running = False
        self._redraw_nudge(follow=True)

    def _nudge_failed(self, error: BaseException) -> None:
        self.nudge.running = False
        self.nudge.error = _nudge_error(str(error), type(error).__name__)
        self._redraw_nudge(follow=True)

    def _nudge_question(self) -> str:
        return self.prompts[self.position].question


def _fold(state: NudgeState, event: Any) -> bool:
    """Take one event of the nudge into ``state``; False for an event the panel ignores."""
    from engine.chat.eval import Checked, Checking
    from engine.preference.dpo import DPOStep, Nudged, NudgeStart, Sampled, SampleToken
    from engine.training.child import TrainFailed

    if isinstance(event, NudgeStart):
        state.model_label = event.model_label
        state.votes, state.sessions, state.pairs = event.votes, event.sessions, event.pairs
        state.answers = dict(event.answers)
        state.before = dict(event.logps)
        state.now = dict(event.logps)
        state.margin_before = state.margin = event.margin
    elif isinstance(event, DPOStep):
        state.step, state.steps = event.step, event.steps
        state.loss, state.accuracy, state.margin = event.loss, event.accuracy, event.margin
        state.now = dict(event.logps)
    elif isinstance(event, Nudged):
        state.now = dict(event.after)
        state.margin = event.margin_after
        state.saved_to = str(event.saved_to or "")
    elif isinstance(event, SampleToken):
        state.question = event.question
        state.sample += event.text
    elif isinstance(event, Sampled):
        state.question, state.sample = event.question, event.answer
        state.sample_done = True
    elif isinstance(event, Checking):
        state.checked = (event.done, event.total)
    elif isinstance(event, Checked):
        state.check, state.check_before = event.text(compact=True), event.before(compact=True)
    elif isinstance(event, TrainFailed):
        state.error = _nudge_error(event.message, event.kind)
    else:
        return False
    return True


@dataclass(frozen=True)
class _Candidates:
    """The chat model's label, then a prompt of its own answers (or why there is none)."""

    prompt: PromptSet | None
    label: str
    error: str = ""  # why there is no chat model to sample from (a broken file, named)
    votes_error: str = ""  # why the votes file cannot be used (named, with what to do)


def _chat_label(loaded: Any) -> str:
    """The chat model in the words the other chapters use: file, where from, steps."""
    step = loaded.steps
    return (f"{loaded.path.name} ({loaded.artifact.label}"
            f"{f', {step:,} steps' if step else ''})")


def _nudge_error(message: str, kind: str) -> str:
    """What the viewer reads when the nudge could not run: the engine's own words when it
    says what to do (no model, no votes, a model that does not fit), else what failed."""
    if kind in ("NoModel", "NothingToNudge", "CheckpointMismatch", "FileNotFoundError"):
        return message
    return f"The nudge stopped: {kind}: {message}"
