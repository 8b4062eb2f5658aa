"""The Preferences chapter: rank answers with keys, see the tally, nudge the chat model."""

from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

import pytest
from sizes import SIZE_IDS, SIZES
from textual.worker import WorkerFailed

from engine.chat.format import format_text
from engine.preference.prompts import TALK_PROMPTS, PromptSet
from engine.preference.votes import VoteStore
from screens import preferences
from screens.preferences import NudgePanel, PreferencesScreen, VotePanel
from screens.registry import find_chapter
from tui.app import TourApp

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

SIZE = (100, 32)
SESSION = "test-viewer"


@lru_cache(maxsize=1)
def _chat_files(cache_dir: str) -> tuple[Path, Path]:
    """A tiny random chat model and a tokenizer that covers the talk's answers."""
    import torch

    from engine.chat.format import Turn
    from engine.model.checkpoint import save_checkpoint
    from engine.model.gpt import GPT, GPTConfig
    from engine.tokenizer.tour import CompactGPT4Tokenizer

    texts = [format_text([Turn("user", p.question)]) for p in TALK_PROMPTS]
    texts += [c.text for p in TALK_PROMPTS for c in p.candidates]
    texts += ["What is the capital of France? The capital of France is Paris."]
    tokenizer = CompactGPT4Tokenizer.from_texts(texts, name="preferences-test")
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=128, n_layer=2,
                          n_head=2, n_embd=32))
    root = Path(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    tokenizer.save(root / "tokenizer.json")
    save_checkpoint(root / "chat.pt", model, tokenizer=tokenizer, step=1, extra={"kind": "chat"})
    return root / "tokenizer.json", root / "chat.pt"


@pytest.fixture
def plain_workspace(workspace, monkeypatch):
    """No chat model anywhere, and a fixed voter, so the screen looks the same every run."""
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", workspace.root / "nothing-bundled")
    monkeypatch.setattr(preferences, "new_session", lambda: SESSION)
    return workspace


@pytest.fixture
def chat_workspace(plain_workspace, tmp_path_factory):
    tokenizer, chat = _chat_files(str(tmp_path_factory.getbasetemp() / "preferences-chat"))
    plain_workspace.ensure()
    shutil.copy(tokenizer, plain_workspace.path("tokenizer"))
    shutil.copy(chat, plain_workspace.path("chat"))
    return plain_workspace


def open_chapter(workspace) -> TourApp:
    return TourApp(workspace, start=find_chapter("preferences"))


async def settle(pilot, timeout: float = 60.0) -> None:
    """Let every worker finish, and the workers their events start (a failed one shows its
    error in the chapter): quiet three checks in a row, however busy the machine is."""
    import time

    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 3:
        if time.monotonic() > deadline:
            pytest.fail(f"workers still running after {timeout:.0f} s")
        workers = [w for w in pilot.app.workers if not w.is_finished]
        for worker in workers:
            try:
                await worker.wait()
            except WorkerFailed:
                continue  # the chapter shows the error; the tests look for it there
        await pilot.pause(0.02)
        quiet = 0 if workers else quiet + 1


async def opened(pilot) -> tuple[PreferencesScreen, VotePanel]:
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PreferencesScreen)
    return screen, screen.query_one(VotePanel)


def text_of(widget, selector: str | None = None) -> str:
    target = widget.query_one(selector) if selector else widget
    return str(target.render())


def keys_for(screen: PreferencesScreen, ranking: list[str]) -> list[str]:
    ballot = screen.ballot()
    return [str(ballot.numbers[c]) for c in ranking]


async def test_number_keys_rank_the_answers_and_the_vote_is_kept(plain_workspace):
    async with open_chapter(plain_workspace).run_test(size=SIZE) as pilot:
        screen, panel = await opened(pilot)
        assert panel.has_focus
        assert "Emily buys 3 apples" in text_of(panel, "#vote-question")
        assert "The talk:" not in text_of(panel, "#vote-answers")  # labels only after voting
        best = ["step-by-step", "answer-only", "wrong"]
        await pilot.press(*keys_for(screen, best)[:2])  # the last answer falls into place
        await settle(pilot)
        answers = text_of(panel, "#vote-answers")
        assert "The talk: Correct, clear, and works step by step toward the answer." in answers
        assert "The talk: Confident, but wrong." in answers
        assert "Vote recorded" in text_of(panel, "#vote-status")
        standing = text_of(panel, "#vote-standing")
        assert "1 vote from 1 session" in standing
        assert "agrees with the talk" in standing
    store = VoteStore.open(plain_workspace)
    assert [(v.prompt_id, v.ranking, v.session) for v in store.votes()] == [
        ("apples", tuple(best), SESSION)]


async def test_arrows_arrange_the_answers_and_enter_votes(plain_workspace):
    async with open_chapter(plain_workspace).run_test(size=SIZE) as pilot:
        screen, panel = await opened(pilot)
        await pilot.press("right_square_bracket")  # the wedding toast
        assert "wedding toast" in text_of(panel, "#vote-question")
        ballot = screen.ballot()
        want = ["roast", "warm", "generic"]
        # Bring each wanted answer up to its place with the cursor and Shift+Up.
        for place, cid in enumerate(want):
            where = ballot.order.index(cid)
            await pilot.press(*(["down"] * (where - ballot.cursor) if where >= ballot.cursor
                                else ["up"] * (ballot.cursor - where)))
            await pilot.press(*["shift+up"] * (where - place))
        assert ballot.order == want
        await pilot.press("enter")
        await settle(pilot)
        assert "differs from the talk" in text_of(panel, "#vote-standing")
    votes = VoteStore.open(plain_workspace).votes()
    assert [v.ranking for v in votes] == [tuple(want)]


async def test_the_tally_counts_everyones_votes(plain_workspace):
    store = VoteStore.open(plain_workspace)
    for session in ("a", "b", "c"):
        store.vote("toast", ["warm", "generic", "roast"], session)
    async with open_chapter(plain_workspace).run_test(size=SIZE) as pilot:
        screen, panel = await opened(pilot)
        assert "No votes on this prompt yet" in text_of(panel, "#vote-standing")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "3 votes from 3 sessions" in text_of(panel, "#vote-standing")
        await pilot.press(*keys_for(screen, ["generic", "warm", "roast"])[:2])
        await settle(pilot)
        assert "4 votes from 4 sessions" in text_of(panel, "#vote-standing")
        await pilot.press("backspace")  # rank it again: the viewer's vote changes
        await pilot.press(*keys_for(screen, ["warm", "roast", "generic"])[:2])
        await settle(pilot)
        assert "4 votes from 4 sessions" in text_of(panel, "#vote-standing")


async def test_backspace_takes_back_a_pick_and_digits_past_the_answers_jump(plain_workspace):
    async with open_chapter(plain_workspace).run_test(size=SIZE) as pilot:
        screen, _panel = await opened(pilot)
        await pilot.press("1")
        assert screen.ballot().picked == 1
        await pilot.press("backspace")
        assert screen.ballot().picked == 0
        assert VoteStore.open(plain_workspace).counts() == (0, 0)
        await pilot.press("4")  # there are 3 answers: 4 is chapter 4
        assert pilot.app.current == 3


async def test_nudge_without_a_chat_model_says_what_to_do(plain_workspace):
    async with open_chapter(plain_workspace).run_test(size=SIZE) as pilot:
        screen, _panel = await opened(pilot)
        await pilot.press("1", "2")
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        nudge = screen.query_one(NudgePanel)
        assert "no chat model yet" in text_of(nudge)
        assert "llm-tour prepare sft" in text_of(nudge)


async def test_nudge_runs_dpo_on_the_chat_model_and_saves_it_to_the_workspace(chat_workspace,
                                                                              monkeypatch):
    from engine.preference.dpo import DPOConfig

    monkeypatch.setattr(PreferencesScreen, "dpo_config", DPOConfig(check_items=1))
    before = chat_workspace.path("chat").read_bytes()
    async with open_chapter(chat_workspace).run_test(size=SIZE) as pilot:
        screen, _panel = await opened(pilot)
        # The chat model's own answers joined the talk's two sets.
        assert [p.id for p in screen.prompts][:2] == ["apples", "toast"]
        assert len(screen.prompts) == 3
        sampled = screen.prompts[2]
        assert sampled.question == "What is the capital of France?"
        assert "chat model chat.pt (prepared in your workspace, 1 training step)" in sampled.source
        await pilot.press(*keys_for(screen, ["step-by-step", "answer-only", "wrong"])[:2])
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        state = screen.nudge
        assert not state.running and not state.error
        assert (state.votes, state.sessions, state.pairs) == (1, 1, 3)
        assert state.step == state.steps > 0
        assert state.margin > state.margin_before
        assert state.saved_to == str(chat_workspace.path("chat"))
        assert state.sample_done and state.question == TALK_PROMPTS[0].question
        shown = text_of(screen.query_one(NudgePanel))
        assert "1 vote from 1 session" in shown
        assert "Saved to" in shown and "A fresh sample" in shown
        # the quick check of the nudged model, beside the model it came from (not measured)
        assert "Quick check now: " in shown and "of 9 whole turns right" in shown
        assert "Before the nudge: not measured on the same items" in shown
    assert chat_workspace.path("chat").read_bytes() != before




@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot_before_voting(snap_compare, plain_workspace, size):
    async def run_before(pilot) -> None:
        await settle(pilot)

    assert snap_compare(open_chapter(plain_workspace), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot_after_voting(snap_compare, plain_workspace, size):
    store = VoteStore.open(plain_workspace)
    store.vote("apples", ["step-by-step", "wrong", "answer-only"], "someone-else")

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("1", "2")
        await settle(pilot)
        pilot.app.screen.query_one("#body").scroll_end(animate=False)
        await pilot.pause()

    assert snap_compare(open_chapter(plain_workspace), terminal_size=size, run_before=run_before)


async def test_a_second_vote_is_not_ignored_it_says_so_and_changes_the_vote(plain_workspace):
    async with open_chapter(plain_workspace).run_test(size=SIZE) as pilot:
        screen, panel = await opened(pilot)
        first = ["step-by-step", "answer-only", "wrong"]
        await pilot.press(*keys_for(screen, first)[:2])
        await settle(pilot)
        assert "Vote recorded" in text_of(panel, "#vote-status")

        # A number key after voting says the prompt is ranked, and how to rank it again.
        await pilot.press(keys_for(screen, ["wrong"])[0])
        status = text_of(panel, "#vote-status")
        assert "You have ranked this prompt" in status and "Backspace" in status

        # Backspace and a new ranking change the vote: one vote from this session, the new one.
        second = ["wrong", "step-by-step", "answer-only"]
        await pilot.press("backspace", *keys_for(screen, second)[:2])
        await settle(pilot)
        status = text_of(panel, "#vote-status")
        assert "Vote changed" in status and "1 vote from 1 session" in status
        assert "1 vote from 1 session" in text_of(panel, "#vote-standing")
    store = VoteStore.open(plain_workspace)
    assert [(v.prompt_id, v.ranking, v.session) for v in store.votes()] == [
        ("apples", tuple(second), SESSION)]


def test_the_apples_answers_are_shuffled_per_viewer():
    """No answer always comes first: each session sees its own order, the same on every
    visit, and each answer leads for some viewers."""
    from engine.preference.prompts import APPLES
    from screens.preferences import Ballot

    orders = {tuple(Ballot.new(APPLES, f"viewer-{n}").order) for n in range(30)}
    assert len(orders) > 1
    assert {order[0] for order in orders} == set(APPLES.candidate_ids)
    assert Ballot.new(APPLES, "viewer-1").order == Ballot.new(APPLES, "viewer-1").order
    shown = Ballot.new(APPLES, "viewer-1")
    assert sorted(shown.numbers.values()) == [1, 2, 3]
    assert [shown.by_number(n) for n in (1, 2, 3)] == shown.order


async def test_a_key_for_the_answers_shows_them_in_a_small_terminal(plain_workspace):
    """At 60x20 the answers start below the chapter's text and have the keys: ↓ (or a
    number) brings them into view instead of moving a cursor out of sight."""
    def answers_in_view(screen) -> bool:
        body, answers = screen.query_one("#body"), screen.query_one("#vote-answers")
        return answers.region.height > 0 and body.region.contains_region(answers.region)

    for keys in (["down"], ["1"], ["right_square_bracket"]):
        async with open_chapter(plain_workspace).run_test(size=(60, 20)) as pilot:
            screen, panel = await opened(pilot)
            assert panel.has_focus and not answers_in_view(screen)
            await pilot.press(*keys)
            await settle(pilot)
            assert answers_in_view(screen), keys


@pytest.mark.parametrize("size", [(130, 32), (100, 32), (60, 20)],
                         ids=["130x32", "100x32", "60x20"])
async def test_the_sampled_prompts_label_is_shortened_not_cut(plain_workspace, size):
    """The chat model's label is long; the box says less where it has no room, and never
    ends in a border's … ("from the chat model chat.pt (bu…")."""
    from test_border_labels import cut_labels

    from engine.preference.prompts import Candidate
    from screens.preferences import _Candidates

    source = "chat model chat.pt (bundled with llm-tour, 5,000 training steps)"
    prompt = PromptSet("sampled-1", "What is the capital of France?",
                       (Candidate("a", "Paris."), Candidate("b", "Lyon.")), source)
    async with open_chapter(plain_workspace).run_test(size=size) as pilot:
        screen, panel = await opened(pilot)
        screen.store.add_prompt(prompt)
        screen.show_candidates(_Candidates(prompt, source))
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert "capital of France" in text_of(panel, "#vote-question")
        assert str(panel.border_subtitle) == (f"answers sampled from the {source}"
                                              if size[0] > 100 else
                                              "answers sampled from the chat model chat.pt")
        assert cut_labels(screen) == []
