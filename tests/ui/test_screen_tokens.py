"""The Tokens chapter: the talk's cards, the side-by-side playground, BPE training watched."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.text import Text
from textual.worker import WorkerState

from engine.tokenizer import tour as tokenizer_module
from engine.tokenizer.tour import TokenizerConfig, prepare
from screens import tokens as tokens_screen
from screens.registry import find_chapter
from screens.tokens import BpeTraining, ModelVocabulary, SplitCard, TokenizerPane
from screens.widgets.token_spans import TokenSpans, spans_flow, token_label
from tui.app import TourApp

from sizes import SIZE_IDS, SIZES
COUNTRIES = [("France", "Paris"), ("Japan", "Tokyo"), ("Peru", "Lima"), ("Kenya", "Nairobi"),
             ("Norway", "Oslo"), ("Chile", "Santiago")]
CONVERSATIONS = ["What is the capital of France?\nThe capital of France is Paris.",
                 ("What's the weather in Paris today?\nweather({ city: \"Paris\" })\n"
                 "72°F and clear\nIt is clear and about 72°F in Paris today.")]


def dataset_docs() -> list[str]:
    return [f"Students often mix up cities and countries. The capital of {country} is "
            f"{capital}. A good wedding toast should be personal, brief, and kind."
            for country, capital in COUNTRIES]


@pytest.fixture
def with_dataset(workspace):
    workspace.ensure()
    docs = dataset_docs()
    pq.write_table(pa.table({"url": [f"http://t.example/{i}" for i in range(len(docs))],
                             "content": docs}), workspace.path("dataset"))
    return workspace


@pytest.fixture
def prepared(with_dataset):
    list(prepare(with_dataset, TokenizerConfig(bpe_vocab_size=320)))
    return with_dataset


@pytest.fixture(autouse=True)
def fast_training(monkeypatch):
    """No pauses between merges, a fixed clock so the training time is always 0.0 s, and
    two conversations instead of the full set, so each test trains in a blink."""
    monkeypatch.setattr(BpeTraining, "PACE", ())
    monkeypatch.setattr(tokens_screen.time, "perf_counter", lambda: 0.0)
    monkeypatch.setattr(tokenizer_module, "conversation_texts", lambda: CONVERSATIONS)


def plain(widget) -> str:
    rendered = widget.render()
    return rendered.plain if hasattr(rendered, "plain") else str(rendered)


async def settle(pilot) -> None:
    """Wait until no worker runs and the messages they posted are handled."""
    quiet = 0
    while quiet < 3:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                   for w in pilot.app.workers)
        quiet = 0 if busy else quiet + 1


def app_at_tokens(workspace) -> TourApp:
    return TourApp(workspace, start=find_chapter("tokens"))


async def test_cards_show_gpt4_counts_and_ids(workspace):
    async with app_at_tokens(workspace).run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        capital, toast = pilot.app.screen.query(SplitCard)
        assert "Token count 7" in plain(capital.query_one(".count"))
        assert "Token count 13" in plain(toast.query_one(".count"))
        spans = capital.query_one(TokenSpans)
        assert [i for i, _ in spans.tokens] == [791, 6864, 315, 9822, 374, 12366, 13]
        assert "Token IDs 791 6864 315 9822 374 12366 13" in plain(spans)


async def test_typing_shows_both_tokenizers(prepared):
    async with app_at_tokens(prepared).run_test(size=(100, 32)) as pilot:
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("i")
        box = pilot.app.screen.query_one("#token-input")
        assert box.has_focus
        box.value = ""
        await pilot.press(*"Paris [/b]")
        await pilot.pause()
        gpt4 = pilot.app.screen.query_one("#gpt4-pane", TokenizerPane)
        own = pilot.app.screen.query_one("#own-pane", TokenizerPane)
        assert "4 tokens · 2.50 characters/token" in plain(gpt4.query_one(".stats"))
        assert plain(gpt4.query_one(TokenSpans)).startswith("Paris [/b]")
        assert "prepared in your workspace" in own.border_subtitle
        assert plain(own.query_one(TokenSpans)).startswith("Paris [/b]")
        await pilot.press("escape", "w")
        await pilot.pause()
        assert plain(gpt4.query_one(TokenSpans)).startswith("Paris·[/b]")
        await pilot.press("e")
        await pilot.pause()
        assert box.value == tokens_screen.PLAYGROUND_EXAMPLES[0]
        await pilot.press("e")
        await pilot.pause()
        assert plain(gpt4.query_one(TokenSpans)).startswith("Paris··Paris···Paris→")


async def test_training_is_watched_and_then_used(with_dataset):
    async with app_at_tokens(with_dataset).run_test(size=(100, 32)) as pilot:
        await pilot.press("space")
        await settle(pilot)
        own = pilot.app.screen.query_one("#own-pane", TokenizerPane)
        assert "Not trained yet" in plain(own.query_one(".stats"))
        for _ in range(4):  # a long step pages down before the next step appears
            await pilot.press("space")
            await settle(pilot)
            if pilot.app.screen.query(BpeTraining):
                break
        panel = pilot.app.screen.query_one(BpeTraining)
        assert panel.learned > 50
        assert "Trained in 0.0 s" in plain(panel.query_one("#bpe-status"))
        merges_log = panel.query_one("#bpe-merges")
        lines = [strip.text for strip in merges_log.lines]
        if not lines:  # written before the log knew its size: still queued in the log
            lines = [str(getattr(d.content, "plain", d.content))
                     for d in merges_log._deferred_renders]
        assert lines[-1].startswith(f"#{255 + panel.learned} ")
        assert own.border_subtitle.endswith("trained here just now")
        assert "tokens" in plain(own.query_one(".stats"))
        counts = panel.token_counts
        assert counts[0] > counts[-1] and counts == sorted(counts, reverse=True)
        caption = plain(panel.query_one("#bpe-tokens-label"))  # the bars say what they are
        assert f"{counts[0]:,.0f} after merge 1" in caption
        assert f"{counts[-1]:,.0f} after merge {len(counts):,}" in caption


async def test_retrain_starts_over(with_dataset):
    async with app_at_tokens(with_dataset).run_test(size=(100, 32)) as pilot:
        pilot.app.screen.step = 2
        await settle(pilot)
        panel = pilot.app.screen.query_one(BpeTraining)
        first = (panel.learned, list(panel.token_counts))
        await pilot.press("r")
        await settle(pilot)
        assert panel.run == 2
        assert (panel.learned, panel.token_counts) == first


@pytest.mark.parametrize("step", [1, 2])
async def test_small_terminal_does_not_break(prepared, step):
    async with app_at_tokens(prepared).run_test(size=(60, 20)) as pilot:
        pilot.app.screen.step = step
        await settle(pilot)
        assert pilot.app.screen.query_one(SplitCard).size.width > 10


async def test_without_a_dataset_the_chapter_says_what_to_do(workspace):
    async with app_at_tokens(workspace).run_test(size=(100, 32)) as pilot:
        pilot.app.screen.step = 3
        await settle(pilot)
        status = plain(pilot.app.screen.query_one("#bpe-status"))
        assert "No dataset" in status and "prepare data" in status
        vocab = plain(pilot.app.screen.query_one(ModelVocabulary))
        assert "llm-tour prepare tokenizer" in vocab


async def test_model_vocabulary_names_the_prepared_tokenizer(prepared):
    async with app_at_tokens(prepared).run_test(size=(100, 40)) as pilot:
        pilot.app.screen.step = 3
        await settle(pilot)
        text = plain(pilot.app.screen.query_one(ModelVocabulary))
        assert "gpt4-compact" in text and "Hash" in text and "train.bin" in text


def test_spans_keep_markup_as_text():
    flow = spans_flow([(1, b"[/b]"), (2, b" [bold]x"), (3, b"\xe6")], whitespace=True)
    assert flow.plain == "[/b]·[bold]x\\xe6"


def test_spans_wrap_between_tokens_never_inside_one():
    """GPT-4 cuts 日本語 into byte pieces; a narrow box breaks between them, not inside."""
    tokens = [(1, "日本".encode()), (2, b"\xe8\xaa"), (3, b"\x9e"), (4, b" [/b]"),
              (5, b" capital"), (6, b" France")]
    labels = [token_label(data) for _, data in tokens]
    flow = spans_flow(tokens, ids_label="Token IDs ")
    for width in range(10, 40):
        lines = flow.content(width).plain.splitlines()
        spans = [line for line in lines if not line[:1].isdigit()
                 and not line.startswith("Token IDs")]
        left = list(labels)
        for line in spans:  # each line is whole tokens (a line may drop a token's space)
            start = True
            while line:
                label = left.pop(0)
                label = label.lstrip() if start else label
                assert line.startswith(label), (width, lines)
                line, start = line[len(label):], False
        assert left == [], (width, lines)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_the_playground_labels_are_shortened_not_cut(prepared, size):
    from test_border_labels import cut_labels

    async with app_at_tokens(prepared).run_test(size=size) as pilot:
        pilot.app.screen.step = 1
        await settle(pilot)
        own = pilot.app.screen.query_one("#own-pane", TokenizerPane)
        assert own.border_subtitle.endswith("tokens")  # the size stays; the source gave way
        assert cut_labels(pilot.app.screen) == []
        pilot.app.screen.step = 2  # the tokenizer trained on screen, and its corpus
        await settle(pilot)
        assert cut_labels(pilot.app.screen) == []


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
# The live steps (the playground, the BPE trained on screen) are checked by the Pilot
# tests above: what they show depends on when the live training ends, so a picture of
# them would depend on timing.
@pytest.mark.parametrize("steps", [0], ids=["cards"])
def test_snapshot(snap_compare, prepared, size, steps):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.screen.step = steps
        await settle(pilot)
        # Merges written while the log was still being laid out wait for its first
        # resize; a resize there and back draws them, as a real terminal does.
        await pilot.resize_terminal(size[0] + 1, size[1])
        await settle(pilot)
        await pilot.resize_terminal(*size)
        await settle(pilot)

    assert snap_compare(app_at_tokens(prepared), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_end_reaches_the_last_line_of_the_chapter(prepared, size):
    """With every step shown (the BPE trained on screen grows its panel as it goes), End
    brings the chapter's last line into view, however late the panels above grew."""
    async with app_at_tokens(prepared).run_test(size=size) as pilot:
        screen = pilot.app.screen
        while screen.step < screen.step_count - 1:
            screen.step += 1
            await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        body = screen.query_one("#body")
        last = screen.query_one(f"#step-{screen.step_count - 1}")
        assert body.scroll_y == body.max_scroll_y > 0
        assert last.region.bottom <= body.region.bottom and last.region.height > 0
