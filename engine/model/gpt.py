"""A GPT in one file: the "gigantic mathematical equation with many learned parameters".

nanoGPT's decoder-only transformer: token and position embeddings, a stack of pre-LayerNorm
blocks (causal self-attention, then a GELU MLP, each added back to the residual stream), a final
LayerNorm and a linear head that shares its weights with the token embedding. A context window
of token IDs goes in; for every position a probability map over the vocabulary comes out.

Generation reuses the keys and values of earlier tokens through a :class:`KVCache`, so each new
token costs one position of work instead of the whole window.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 4096
    block_size: int = 128  # the longest context window the model can read
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 96
    dropout: float = 0.0
    bias: bool = True  # biases in Linear and LayerNorm layers, as in GPT-2
    # Positions: False = a learned position embedding added to each token (GPT-2); True = rotary
    # embeddings (RoPE, Su et al. 2021) that turn queries and keys by an angle proportional to
    # their position, so attention sees only the distance between two tokens. Absent from the
    # configs of older checkpoints, which therefore load as GPT-2's learned positions.
    rope: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


class KVCache:
    """Keys and values of the tokens already read, per layer, preallocated up to ``max_len``.

    ``pos`` is how many tokens are cached. A forward pass with a cache reads only the new tokens,
    writes their keys and values at ``pos`` and advances ``pos`` by their number.
    """

    def __init__(self, config: GPTConfig, batch_size: int = 1, max_len: int | None = None,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> None:
        self.max_len = max_len or config.block_size
        head_dim = config.n_embd // config.n_head
        shape = (config.n_layer, batch_size, config.n_head, self.max_len, head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.pos = 0

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor, start: int
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the new keys/values of one layer at ``start``; return all keys/values so far."""
        end = start + k.size(2)
        if end > self.max_len:
            raise ValueError(f"the KV cache holds {self.max_len} tokens; {end} do not fit")
        self.k[layer, :, :, start:end] = k
        self.v[layer, :, :, start:end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]

    def reset(self) -> None:
        self.pos = 0


def rotary_tables(config: GPTConfig, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of each position's angles, (block_size, head_dim / 2): pair i of a head's
    channels turns by ``position * base ** (-2i / head_dim)``, fast pairs for near tokens,
    slow pairs for far ones."""
    head_dim = config.n_embd // config.n_head
    freqs = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(config.block_size, dtype=torch.float32), freqs)
    return angles.cos(), angles.sin()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Turn each pair of channels of ``x`` (B, nh, T, hd) by its position's angle (T, hd / 2)."""
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)


class CausalSelfAttention(nn.Module):
    """Every position looks back at the positions before it and mixes in what it finds there."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.n_embd % config.n_head == 0, "n_embd must be a multiple of n_head"
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, kv_cache: KVCache | None = None, layer: int = 0,
                return_weights: bool = False,
                rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        head_dim = C // self.n_head
        q = q.view(B, T, self.n_head, head_dim).transpose(1, 2)  # (B, nh, T, hd)
        k = k.view(B, T, self.n_head, head_dim).transpose(1, 2)
        v = v.view(B, T, self.n_head, head_dim).transpose(1, 2)

        past = kv_cache.pos if kv_cache is not None else 0
        if rotary is not None:  # turn queries and keys by their positions' angles
            cos, sin = rotary[0][past:past + T], rotary[1][past:past + T]
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if kv_cache is not None:
            k, v = kv_cache.append(layer, k, v, past)
        S = k.size(2)  # keys: cached + new

        mask = None  # new token i (at position past + i) may look at keys 0 .. past + i
        if T > 1 and (past > 0 or return_weights):
            rows = torch.arange(T, device=x.device).unsqueeze(1) + past
            mask = torch.arange(S, device=x.device).unsqueeze(0) <= rows

        weights = None
        if return_weights:
            # The fused kernel does not hand back its weights, so spell the softmax out.
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(head_dim)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = F.softmax(scores.float(), dim=-1).to(q.dtype)
            y = weights @ v
        else:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask,
                dropout_p=self.dropout if self.training else 0.0,
                is_causal=(mask is None and T > 1 and past == 0),
            )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y)), weights


class MLP(nn.Module):
    """Each position on its own: widen four times, bend with GELU, project back."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Communicate (attention), then compute (MLP); LayerNorm before each, residual around."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, kv_cache: KVCache | None = None, layer: int = 0,
                return_weights: bool = False,
                rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        a, weights = self.attn(self.ln_1(x), kv_cache, layer, return_weights, rotary)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, weights


class GPT(nn.Module):
    # On a CPU, compute the training loss without the whole logits table (see head_loss).
    chunked_loss: bool = True

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        parts = {"wte": nn.Embedding(config.vocab_size, config.n_embd)}
        if not config.rope:
            parts["wpe"] = nn.Embedding(config.block_size, config.n_embd)
        self.transformer = nn.ModuleDict({
            **parts,
            "drop": nn.Dropout(config.dropout),
            "h": nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            "ln_f": nn.LayerNorm(config.n_embd, bias=config.bias),
        })
        if config.rope:  # computed, not learned: kept out of the checkpoint
            cos, sin = rotary_tables(config)
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # Weight tying: reading a token and predicting it share one table.
        self.transformer.wte.weight = self.lm_head.weight

        self.apply(self._init_weights)
        # GPT-2's scaled init of the projections that feed the residual stream.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None,
                kv_cache: KVCache | None = None, return_attention: bool = False,
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for every position of ``idx`` (B, T) -> (B, T, vocab), or with ``targets``
        the mean cross-entropy instead (logits None: training needs only the loss).

        Targets of -1 are left out of the loss (that is how fine-tuning trains only on the
        assistant's tokens). With ``kv_cache``, ``idx`` holds only the new tokens; they sit at
        positions ``kv_cache.pos`` onward and the cache advances past them.
        With ``return_attention`` the attention weights of every layer are kept in
        ``self.last_attention`` as a (n_layer, B, n_head, T, S) tensor.
        """
        T = idx.size(1)
        past = kv_cache.pos if kv_cache is not None else 0
        if past + T > self.config.block_size:
            raise ValueError(f"a context of {past + T} tokens is longer than the model's "
                             f"window of {self.config.block_size}")
        x = self.transformer.wte(idx)
        rotary = None
        if self.config.rope:
            rotary = (self.rope_cos, self.rope_sin)
        else:
            x = x + self.transformer.wpe(torch.arange(past, past + T, device=idx.device))
        x = self.transformer.drop(x)
        maps = []
        for i, block in enumerate(self.transformer.h):
            x, weights = block(x, kv_cache, i, return_attention, rotary)
            if weights is not None:
                maps.append(weights)
        if kv_cache is not None:
            kv_cache.pos += T
        if return_attention:
            self.last_attention = torch.stack(maps)
        x = self.transformer.ln_f(x)
        if targets is None:
            return self.lm_head(x), None
        if self.chunked_loss and x.device.type == "cpu" and not torch.is_autocast_enabled("cpu"):
            return None, head_loss(x, self.lm_head.weight, targets)
        logits = self.lm_head(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1),
                               ignore_index=-1)
        return None, loss

    @torch.no_grad()
    def attention(self, idx: torch.Tensor, layer: int, head: int) -> torch.Tensor:
        """The (T, T) attention weights of one head for a single context ``idx`` of shape (T,)."""
        self.forward(idx.view(1, -1), return_attention=True)
        return self.last_attention[layer, 0, head]

    def param_counts(self) -> dict[str, int]:
        """Learned numbers by part of the model; the parts add up to :meth:`num_params`."""
        t = self.transformer
        counts = {"token embedding (shared with the output head)": _count(t.wte)}
        if "wpe" in t:
            counts["position embedding"] = _count(t.wpe)
        for i, block in enumerate(t.h):
            counts[f"block {i} attention"] = _count(block.attn) + _count(block.ln_1)
            counts[f"block {i} MLP"] = _count(block.mlp) + _count(block.ln_2)
        counts["final LayerNorm"] = _count(t.ln_f)
        return counts

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())  # the tied table counts once

    def flops_per_token(self) -> int:
        """Training FLOPs per token (forward + backward), PaLM appendix B: 6N + 12·L·T·C."""
        c = self.config
        n = self.num_params() - self.param_counts().get("position embedding", 0)
        return 6 * n + 12 * c.n_layer * c.block_size * c.n_embd

    def configure_optimizer(self, weight_decay: float, learning_rate: float,
                            betas: tuple[float, float]) -> torch.optim.AdamW:
        """AdamW, decaying only the matrices (not biases, LayerNorm gains or nothing 1-D)."""
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)


def head_loss(x: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
              chunk: int = 128) -> torch.Tensor:
    """Mean cross-entropy of the output head ``x @ weight.T`` against ``targets`` (-1 left out).

    The same number as ``F.cross_entropy(lm_head(x), targets, ignore_index=-1)``, computed
    ``chunk`` rows at a time. For a small model the logits table is by far the largest tensor of
    a training step (32 x 128 positions x ~3,200 tokens = 52 MB, against 1.5 MB for the residual
    stream), and on a CPU writing it, softmaxing it and reading it back costs more than all the
    transformer's matmuls. A chunk of rows stays in the cache: its loss and both gradients are
    computed while it is there, and backward only scales them (``benchmarks/train.py`` measures
    the difference).
    """
    grads = torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad)
    return _ChunkedHeadLoss.apply(x.reshape(-1, x.size(-1)), weight, targets.reshape(-1), chunk,
                                  grads)


class _ChunkedHeadLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                chunk: int, grads: bool) -> torch.Tensor:
        keep = targets != -1
        scale = 1.0 / max(int(keep.sum()), 1)
        grad_x = torch.empty_like(x) if grads else None
        grad_w = torch.zeros_like(weight) if grads else None
        total = x.new_zeros((), dtype=torch.float32)
        minus_one = x.new_full((chunk, 1), -1.0, dtype=torch.float32)
        for start in range(0, x.size(0), chunk):
            rows = x[start:start + chunk]
            want = targets[start:start + chunk].clamp(min=0).unsqueeze(1)
            weigh = keep[start:start + chunk].to(torch.float32)
            logits = (rows @ weight.t()).float()
            lse = torch.logsumexp(logits, dim=1)
            total += ((lse - logits.gather(1, want).squeeze(1)) * weigh).sum()
            if not grads:
                continue
            # d loss / d logits = (softmax - one-hot) / kept positions, zero where left out
            grad = logits.sub_(lse.unsqueeze(1)).exp_()
            grad.scatter_add_(1, want, minus_one[:want.size(0)])
            grad.mul_((weigh * scale).unsqueeze(1))
            grad = grad.to(x.dtype)
            grad_x[start:start + chunk] = grad @ weight
            grad_w.addmm_(grad.t(), rows)
        if grads:
            ctx.save_for_backward(grad_x, grad_w)
        return total * scale

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        grad_x, grad_w = ctx.saved_tensors
        return grad_x * grad_out, grad_w * grad_out, None, None, None


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
