"""The GPT itself: shapes, the masked loss, the KV cache, attention maps, parameter counts."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch.nn import functional as F

from engine.model.gpt import GPT, GPTConfig, KVCache, head_loss, rotary_tables, rotate

CONFIG = GPTConfig(vocab_size=61, block_size=24, n_layer=2, n_head=2, n_embd=16)
ROPE = replace(CONFIG, rope=True)


@pytest.fixture(params=[CONFIG, ROPE], ids=["learned positions", "rotary"])
def model(request) -> GPT:
    torch.manual_seed(0)
    return GPT(request.param).eval()


def test_logits_for_every_position(model):
    idx = torch.randint(0, CONFIG.vocab_size, (3, 10))
    logits, loss = model(idx)
    assert logits.shape == (3, 10, CONFIG.vocab_size)
    assert loss is None


def test_targets_of_minus_one_are_left_out_of_the_loss(model):
    idx = torch.randint(0, CONFIG.vocab_size, (2, 12))
    targets = torch.randint(0, CONFIG.vocab_size, (2, 12))
    masked = targets.clone()
    masked[:, :7] = -1
    logits, _ = model(idx)
    none, loss = model(idx, masked)
    assert none is None  # with targets, only the loss
    expected = F.cross_entropy(logits[:, 7:].reshape(-1, CONFIG.vocab_size),
                               targets[:, 7:].reshape(-1))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("chunk", [1, 7, 128])
def test_chunked_head_loss_matches_cross_entropy_and_its_gradients(chunk):
    torch.manual_seed(1)
    x = torch.randn(3, 10, 16, requires_grad=True)
    weight = torch.randn(CONFIG.vocab_size, 16, requires_grad=True)
    targets = torch.randint(0, CONFIG.vocab_size, (3, 10))
    targets[0, :4] = -1
    head_loss(x, weight, targets, chunk=chunk).backward()
    ours = x.grad.clone(), weight.grad.clone()
    x.grad = weight.grad = None
    expected = F.cross_entropy((x @ weight.t()).view(-1, CONFIG.vocab_size), targets.view(-1),
                               ignore_index=-1)
    expected.backward()
    assert head_loss(x, weight, targets, chunk=chunk).item() == pytest.approx(expected.item(),
                                                                              rel=1e-5)
    assert torch.allclose(ours[0], x.grad, atol=1e-6)
    assert torch.allclose(ours[1], weight.grad, atol=1e-6)


def test_chunked_head_loss_without_gradients_and_with_everything_masked():
    x, weight = torch.randn(4, 8), torch.randn(20, 8)
    with torch.no_grad():
        loss = head_loss(x, weight, torch.tensor([3, -1, 5, 19]), chunk=2)
    expected = F.cross_entropy(x @ weight.t(), torch.tensor([3, -1, 5, 19]), ignore_index=-1)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert head_loss(x, weight, torch.full((4,), -1)).item() == 0.0  # not NaN


def test_training_loss_is_the_same_with_and_without_the_chunked_head(model, monkeypatch):
    model.train()
    idx = torch.randint(0, CONFIG.vocab_size, (2, 12))
    targets = torch.randint(0, CONFIG.vocab_size, (2, 12))
    _, chunked = model(idx, targets)
    monkeypatch.setattr(GPT, "chunked_loss", False)
    _, plain = model(idx, targets)
    assert chunked.item() == pytest.approx(plain.item(), rel=1e-5)


def test_context_longer_than_the_window_is_refused(model):
    with pytest.raises(ValueError, match="window"):
        model(torch.zeros(1, CONFIG.block_size + 1, dtype=torch.long))


def test_kv_cache_gives_the_same_logits_as_the_full_window(model):
    idx = torch.randint(0, CONFIG.vocab_size, (2, 15))
    full, _ = model(idx)
    cache = KVCache(CONFIG, batch_size=2)
    pieces = [model(idx[:, a:b], kv_cache=cache)[0] for a, b in [(0, 7), (7, 9), (9, 10), (10, 15)]]
    assert cache.pos == 15
    assert torch.allclose(torch.cat(pieces, dim=1), full, atol=1e-5)


def test_kv_cache_refuses_to_overflow(model):
    cache = KVCache(CONFIG, max_len=8)
    model(torch.zeros(1, 8, dtype=torch.long), kv_cache=cache)
    with pytest.raises(ValueError):
        model(torch.zeros(1, 1, dtype=torch.long), kv_cache=cache)


def test_attention_is_causal_and_each_row_sums_to_one(model):
    idx = torch.randint(0, CONFIG.vocab_size, (9,))
    weights = model.attention(idx, layer=1, head=0)
    assert weights.shape == (9, 9)
    assert torch.allclose(weights.sum(-1), torch.ones(9), atol=1e-5)
    assert torch.all(weights.triu(diagonal=1) == 0)


def test_explicit_attention_matches_the_fused_kernel(model):
    idx = torch.randint(0, CONFIG.vocab_size, (2, 11))
    fused, _ = model(idx)
    explicit, _ = model(idx, return_attention=True)
    assert model.last_attention.shape == (2, 2, 2, 11, 11)
    assert torch.allclose(fused, explicit, atol=1e-5)


def test_parameter_counts_add_up_and_the_embedding_is_shared(model):
    counts = model.param_counts()
    assert sum(counts.values()) == model.num_params()
    assert model.lm_head.weight is model.transformer.wte.weight
    if model.config.rope:  # rotary positions are computed, not learned
        assert "position embedding" not in counts
        assert not any("wpe" in name for name in model.state_dict())
    else:
        assert counts["position embedding"] == CONFIG.block_size * CONFIG.n_embd


def test_rotary_scores_depend_only_on_the_distance_between_tokens():
    """A query at position m and a key at position n, both turned by their positions' angles,
    score the same as the pair moved to m + s and n + s: attention sees distance, not place."""
    cos, sin = rotary_tables(ROPE)
    q, k = torch.randn(2, 1, 1, 1, ROPE.n_embd // ROPE.n_head).unbind(0)

    def score(m: int, n: int) -> float:
        turned_q = rotate(q, cos[m:m + 1], sin[m:m + 1])
        turned_k = rotate(k, cos[n:n + 1], sin[n:n + 1])
        return float((turned_q * turned_k).sum())

    assert score(5, 2) == pytest.approx(score(12, 9), abs=1e-5)
    assert score(5, 2) == pytest.approx(score(20, 17), abs=1e-5)
    assert score(5, 2) != pytest.approx(score(5, 0), abs=1e-3)  # another distance, another score
    assert float((q * k).sum()) == pytest.approx(score(7, 7), abs=1e-5)  # distance 0: no turn
