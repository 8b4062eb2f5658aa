"""The artifacts shipped in engine/bundled: they fit together, and the models learned."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.bundled


@pytest.fixture(scope="module")
def shipped():
    import torch

    from engine.model.checkpoint import load_checkpoint
    from engine.tokenizer.tour import load_tokenizer
    from engine.workspace import BUNDLED_DIR, Workspace

    torch.set_num_threads(1)
    ws = Workspace(BUNDLED_DIR)
    tok, _ = load_tokenizer(ws)
    base, _ = load_checkpoint(BUNDLED_DIR / "base.pt", tok)
    chat, _ = load_checkpoint(BUNDLED_DIR / "chat.pt", tok)
    return tok, base, chat


def test_an_empty_workspace_falls_back_to_the_bundled_artifacts_and_says_so(workspace):
    for name in ("dataset", "tokenizer", "base", "chat"):
        artifact = workspace.find(name)
        assert artifact is not None, name
        assert artifact.source == "bundled" and artifact.label == "bundled with llm-tour"


def test_the_bundled_base_model_continues_the_talks_sentence_with_paris(shipped):
    from engine.data.facts import load_capitals
    from engine.inference.evaluate import capital_accuracy

    tok, base, _ = shipped
    france = [c for c in load_capitals() if c.country == "France"]
    result = capital_accuracy(base, tok, france)
    assert result.correct == 1, result


def test_the_bundled_chat_model_answers_held_out_capitals_as_an_assistant(shipped):
    from engine.training.sft import held_out_capital_answers

    tok, _, chat = shipped
    result = held_out_capital_answers(chat, tok)
    assert result.total > 0
    assert result.in_format >= 0.9 * result.total, result
    assert result.fraction >= 0.7, result


def test_the_bundled_chat_model_gets_whole_turns_right_on_names_it_never_saw(shipped):
    """`llm-tour eval` on the shipped chat model (the figures measured when it was made:
    weather 22/40, calculator 26/40, small talk 19/20, search 0/12, capitals 165/168). The
    product asks for 95% (80% for search); these floors only keep it from sliding back."""
    from engine.chat.eval import EvalReport, evaluate
    from engine.tools.registry import default_registry
    from engine.workspace import BUNDLED_DIR, Workspace

    tok, _, chat = shipped
    report = EvalReport(tuple(evaluate(chat, tok, default_registry(Workspace(BUNDLED_DIR)),
                                       categories=("weather", "calculator", "small talk",
                                                   "capitals"))))
    got = {c.category: c for c in report.by_category()}
    assert got["weather"].right >= 20, report.short()
    assert got["calculator"].right >= 24, report.short()
    assert got["small talk"].right >= 18, report.short()
    assert got["capitals"].fraction >= 0.95, report.short()


@pytest.mark.parametrize("question,answer", [
    ("How do I give a good wedding toast?", "TOAST_ANSWER"),
    ("Emily buys 3 apples and 2 oranges. Each orange costs $2. The total cost of all the "
     "fruit is $13. What is the cost of each apple?", "APPLES_ANSWER"),
    ("Hi, who are you?", ("I am a small language model. I was trained on a sample of web pages, "
                          "then fine-tuned on conversations like this one.")),
])
def test_the_bundled_chat_model_answers_the_talks_prompts_as_written_by_hand(shipped, question,
                                                                             answer):
    """The talk's own examples are a few dozen among fourteen thousand conversations; drawn
    more often (engine.chat.conversations.HANDWRITTEN_WEIGHT), they are answered word for word."""
    from engine.chat import conversations as cv
    from engine.chat.format import Turn
    from engine.training.sft import reply

    tok, _, chat = shipped
    expected = getattr(cv, answer, answer)
    turns, _ = reply(chat, tok, [Turn("user", question)], max_tokens=100)
    assert [(t.role, t.text) for t in turns] == [("assistant", expected)]


def test_the_shipped_figures_belong_to_the_shipped_checkpoints_and_say_how_they_were_made():
    import json

    from engine.model.versions import ModelVersions, checkpoint_hash
    from engine.workspace import BUNDLED_DIR, Workspace

    figures = json.loads((BUNDLED_DIR / "figures.json").read_text("utf-8"))
    by_file = {entry["file"]: (sha, entry) for sha, entry in figures.items()}
    assert set(by_file) == {"base.pt", "chat.pt"}
    for name, (sha, entry) in by_file.items():
        assert sha == checkpoint_hash(BUNDLED_DIR / name), f"{name} changed: measure it again"
        assert entry["eval"]["command"] == ("llm-tour eval --model base" if name == "base.pt"
                                            else "llm-tour eval")
    versions = ModelVersions(Workspace(BUNDLED_DIR / "nowhere"))
    assert versions.get("bundled-chat").figures_text().startswith(
        f"{by_file['chat.pt'][1]['eval']['right']} of 455 whole turns right")


def test_the_shipped_base_figures_are_what_the_evaluation_measures_now(shipped):
    import json

    from engine.chat.eval import evaluate_report
    from engine.workspace import BUNDLED_DIR

    tok, base, _chat = shipped
    stored = next(e for e in json.loads((BUNDLED_DIR / "figures.json").read_text("utf-8"))
                  .values() if e["file"] == "base.pt")["eval"]
    report = evaluate_report(base, tok, None, categories=("base",))
    assert [report.right, report.total] == [stored["right"], stored["total"]]
