"""The sampling loop on a tiny random model: greedy, filtering, seeds, the KV cache, stops."""

from __future__ import annotations

import pytest
import torch

from engine.inference.sampler import SampleConfig, Sampler, filter_probs, generate
from engine.model.gpt import GPT, GPTConfig

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

PROMPT = [3, 14, 15, 9, 26]


@pytest.fixture(scope="module")
def model() -> GPT:
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(vocab_size=64, block_size=32, n_layer=2, n_head=2, n_embd=16))
    # Larger weights than GPT-2's init, so the map is peaked enough to tell tokens apart.
    with torch.no_grad():
        for p in gpt.parameters():
            if p.dim() >= 2:
                p.mul_(20)
    return gpt.eval()


def full_logits(model: GPT, ids) -> torch.Tensor:
    """The next-token logits from running the whole context, no cache."""
    with torch.no_grad():
        logits, _ = model(torch.tensor([list(ids)[-model.config.block_size:]]))
    return logits[0, -1]


def test_temperature_zero_is_argmax_at_every_step(model):
    events = list(generate(model, PROMPT, SampleConfig(temperature=0, max_tokens=12)))
    assert len(events) == 12
    for event in events:
        assert event.token_id == int(torch.argmax(full_logits(model, event.context)))
        assert event.prob == 1.0
        assert event.map.kept_count == 1
    assert [e.context for e in events[1:]] == [e.ids for e in events[:-1]]


def test_top_k_never_picks_outside_the_top_k(model):
    for seed in range(4):
        config = SampleConfig(temperature=2.0, top_k=3, seed=seed, max_tokens=10)
        for event in generate(model, PROMPT, config):
            top3 = torch.topk(full_logits(model, event.context), 3).indices.tolist()
            assert event.token_id in top3
            assert event.map.kept_count == 3
            assert sum(c.prob for c in event.map.candidates) == pytest.approx(1.0, abs=1e-5)


def test_top_p_keeps_the_smallest_set_that_reaches_p():
    logits = torch.log(torch.tensor([0.05, 0.5, 0.15, 0.3]))
    _, filtered = filter_probs(logits, 1.0, top_p=0.7)
    assert filtered.tolist() == pytest.approx([0, 0.5 / 0.8, 0, 0.3 / 0.8])
    _, filtered = filter_probs(logits, 1.0, top_p=0.5)
    assert filtered.tolist() == pytest.approx([0, 1, 0, 0])
    _, filtered = filter_probs(logits, 1.0, top_k=3, top_p=0.99)
    assert (filtered > 0).sum() == 3


def test_temperature_sharpens_and_flattens_the_map():
    logits = torch.tensor([2.0, 1.0, 0.0])
    cold, _ = filter_probs(logits, 0.5)
    warm, _ = filter_probs(logits, 2.0)
    assert cold[0] > warm[0] and cold[2] < warm[2]
    greedy, _ = filter_probs(logits, 0)
    assert greedy.tolist() == [1.0, 0.0, 0.0]


def test_a_fixed_seed_reproduces_a_sample(model):
    def ids(seed):
        config = SampleConfig(temperature=1.0, seed=seed, max_tokens=15)
        return [e.token_id for e in generate(model, PROMPT, config)]

    assert ids(7) == ids(7)
    assert ids(7) != ids(8)


def test_reseeding_a_sampler_replays_the_same_choices(model):
    sampler = Sampler(model, PROMPT, SampleConfig(seed=5, max_tokens=8))
    first = [e.token_id for e in sampler]
    again = Sampler(model, PROMPT, SampleConfig(seed=1, max_tokens=8))
    again.reseed(5)
    assert [e.token_id for e in again] == first


def test_kv_cache_logits_match_the_full_forward_pass(model):
    cached = Sampler(model, PROMPT, SampleConfig(temperature=1.0, seed=3, max_tokens=20))
    plain = Sampler(model, PROMPT, SampleConfig(temperature=1.0, seed=3, max_tokens=20),
                    use_kv_cache=False)
    while not cached.done:
        torch.testing.assert_close(cached.logits, plain.logits, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(cached.logits, full_logits(model, cached.context),
                                   rtol=1e-4, atol=1e-4)
        assert cached.step().token_id == plain.step().token_id
    assert cached.context == plain.context


def test_generation_runs_past_the_context_window():
    torch.manual_seed(1)
    model = GPT(GPTConfig(vocab_size=64, block_size=8, n_layer=2, n_head=2, n_embd=16)).eval()
    block = model.config.block_size
    for use_kv_cache in (True, False):
        sampler = Sampler(model, PROMPT, SampleConfig(seed=0, max_tokens=3 * block),
                          use_kv_cache=use_kv_cache)
        while not sampler.done:
            window = sampler.window
            assert 0 < len(window) <= block
            assert sampler.context[-len(window):] == list(window)
            torch.testing.assert_close(sampler.logits, full_logits(model, window),
                                       rtol=1e-4, atol=1e-4)
            sampler.step()
        assert len(sampler.context) == len(PROMPT) + 3 * block


def test_stops_at_a_stop_token_and_at_the_length_limit(model):
    first = next(generate(model, PROMPT, SampleConfig(temperature=0, max_tokens=5))).token_id
    events = list(generate(model, PROMPT, SampleConfig(temperature=0, max_tokens=5),
                           stop_ids=[first]))
    assert len(events) == 1
    assert events[0].stop == "stop token" and events[0].token_id == first

    events = list(generate(model, PROMPT, SampleConfig(temperature=0, max_tokens=4)))
    assert [e.stop for e in events] == [None, None, None, "max tokens"]
    assert list(generate(model, PROMPT, SampleConfig(max_tokens=0))) == []


def test_the_map_always_shows_the_chosen_token(model):
    config = SampleConfig(temperature=5.0, seed=0, max_tokens=10, map_size=3)
    for event in generate(model, PROMPT, config):
        assert len(event.map.candidates) == 3
        assert event.map.prob_of(event.token_id) == pytest.approx(event.prob)


def test_settings_can_change_between_steps(model):
    sampler = Sampler(model, PROMPT, SampleConfig(temperature=1.0, seed=0))
    warm = sampler.next_map()
    sampler.config.temperature = 0
    greedy = sampler.next_map()
    assert greedy.kept_count == 1 and warm.kept_count == 64
    assert sampler.step().token_id == greedy.candidates[0].id


class SplitTokenizer:
    """Token 1 and 2 are the two bytes of 'é'; 0 is <|endoftext|>; the rest are letters."""

    def __init__(self):
        self.special = {"<|endoftext|>": 0}

    def token_bytes(self, i: int) -> bytes:
        return {0: b"<|endoftext|>", 1: b"\xc3", 2: b"\xa9"}.get(i, bytes([96 + i % 26]))


def test_a_character_split_over_two_tokens_arrives_whole():
    class Fixed(torch.nn.Module):
        """Always predicts the next token of a script: 1, 2, then <|endoftext|>."""

        config = GPTConfig(vocab_size=30, block_size=16)

        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, idx, targets=None, kv_cache=None):
            script = {5: 1, 1: 2, 2: 0}
            logits = torch.full((1, idx.size(1), 30), -10.0)
            logits[0, -1, script.get(int(idx[0, -1]), 0)] = 10.0
            if kv_cache is not None:
                kv_cache.pos += idx.size(1)
            return logits, None

    events = list(generate(Fixed(), [5], SampleConfig(temperature=0),
                           tokenizer=SplitTokenizer(), stop_ids=[0]))
    assert [e.token_id for e in events] == [1, 2, 0]
    assert [e.text for e in events] == ["", "é", "<|endoftext|>"]
    assert events[0].token_text == "\ufffd"
    assert events[-1].stop == "endoftext"


def test_bad_settings_are_clear_errors(model):
    with pytest.raises(ValueError, match="temperature"):
        list(generate(model, PROMPT, SampleConfig(temperature=-1)))
    with pytest.raises(ValueError, match="top-k"):
        list(generate(model, PROMPT, SampleConfig(top_k=0)))
    with pytest.raises(ValueError, match="top-p"):
        list(generate(model, PROMPT, SampleConfig(top_p=1.5)))
    with pytest.raises(ValueError, match="empty"):
        list(generate(model, []))


# -- the headless command ----------------------------------------------------------


@pytest.fixture
def model_workspace(workspace, tmp_path_factory, monkeypatch):
    from sample_model import install_sample_model

    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", workspace.root / "nothing-bundled")
    install_sample_model(workspace, tmp_path_factory.getbasetemp() / "sample-model")
    return workspace


def run_cli(workspace, *args):
    from click.testing import CliRunner

    from tui.cli import cli

    return CliRunner().invoke(cli, ["--workdir", str(workspace.root), "sample", *args])


def test_cli_streams_a_continuation_from_the_workspace_model(model_workspace):
    result = run_cli(model_workspace, "-t", "0", "-n", "8")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("The capital of France is Paris")
    assert "base.pt (prepared in your workspace" in result.stderr

    result = run_cli(model_workspace, "The capital of Peru is", "--temperature", "0",
                     "--max-tokens", "2", "--probs")
    assert result.stdout.startswith("The capital of Peru is Lima")
    assert "*' Lima'" in result.stderr


def test_cli_seed_reproduces_and_settings_are_checked(model_workspace):
    args = ["--temperature", "1.5", "--top-k", "20", "--top-p", "0.95", "--seed", "4", "-n", "12"]
    first = run_cli(model_workspace, *args)
    assert first.exit_code == 0, first.output
    assert run_cli(model_workspace, *args).stdout == first.stdout
    assert run_cli(model_workspace, "--top-p", "0").exit_code == 2
    assert run_cli(model_workspace, "--temperature", "-1").exit_code == 2


def test_cli_without_a_model_says_how_to_get_one(workspace, monkeypatch):
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", workspace.root / "nothing-bundled")
    result = run_cli(workspace)
    assert result.exit_code == 1
    assert "no base model" in result.output and "llm-tour prepare train" in result.output


def test_top_p_never_picks_outside_the_nucleus(model):
    for seed in range(4):
        config = SampleConfig(temperature=1.5, top_p=0.6, seed=seed, max_tokens=8)
        for event in generate(model, PROMPT, config):
            probs = torch.softmax(full_logits(model, event.context) / 1.5, dim=-1)
            ranked = torch.sort(probs, descending=True)
            rank = ranked.indices.tolist().index(event.token_id)
            assert float(ranked.values[:rank].sum()) < 0.6 + 1e-6


def test_generate_gives_the_model_back_in_the_mode_it_came_in(model):
    """A training run samples between steps: dropout must be on again afterwards."""
    from engine.inference.evaluate import greedy_continue

    model.train()
    try:
        list(generate(model, PROMPT, SampleConfig(temperature=0, max_tokens=3)))
        assert model.training
        assert len(greedy_continue(model, PROMPT, 3)) == 3 and model.training
    finally:
        model.eval()
    list(generate(model, PROMPT, SampleConfig(temperature=0, max_tokens=3)))
    assert not model.training


def test_greedy_continue_stops_before_the_stop_token_and_within_the_window(model):
    from engine.inference.evaluate import greedy_continue

    first = next(generate(model, PROMPT, SampleConfig(temperature=0, max_tokens=1))).token_id
    assert greedy_continue(model, PROMPT, 5, stop_ids=[first]) == []
    block = model.config.block_size
    ids = greedy_continue(model, list(range(1, 40)), 3 * block)
    assert len(ids) == block  # the context shrinks to one token, the window holds the rest
