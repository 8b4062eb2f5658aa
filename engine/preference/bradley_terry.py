"""From pairwise preferences to one score per answer: the Bradley-Terry model.

Bradley-Terry says answer ``i`` beats answer ``j`` with probability
``sigmoid(s_i - s_j)``: each answer has one hidden score, and only differences matter.
The scores that best explain the votes are the reward signal of RLHF: a reward model is
this same idea with a neural net producing ``s`` from the text.

The fit is a maximum a posteriori estimate with a Gaussian prior on the scores (a few
votes cannot push a score to infinity, and an answer nobody voted on sits at 0), found by
Newton's method. The curvature at the optimum gives each score's standard error, and from
those, how sure the ranking is that each answer really beats the next one down.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np


@dataclass
class BTConfig:
    prior_sd: float = 2.0  # scores start N(0, prior_sd^2): a gentle pull toward "no preference"
    max_iters: int = 100
    tol: float = 1e-9


@dataclass(frozen=True)
class Strength:
    item: str
    score: float  # log-strength: i beats j with probability sigmoid(score_i - score_j)
    stderr: float
    wins: int
    comparisons: int


@dataclass(frozen=True)
class BTRanking:
    """Items best first, with the probability that each one really beats the next."""

    strengths: tuple[Strength, ...]
    sure: tuple[float, ...]  # P(item k ranks above item k+1), len = items - 1
    comparisons: int
    _scores: dict[str, float]

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(s.item for s in self.strengths)

    @property
    def confidence(self) -> float:
        """How sure the whole order is: the least sure of its adjacent steps."""
        return min(self.sure) if self.sure else 0.0

    def p_beats(self, a: str, b: str) -> float:
        """The model's probability that ``a`` is preferred to ``b``."""
        return _sigmoid(self._scores[a] - self._scores[b])


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def fit(items: Sequence[str], pairs: Iterable[tuple[str, str]],
        config: BTConfig | None = None) -> BTRanking:
    """Fit scores for ``items`` from (preferred, rejected) pairs."""
    config = config or BTConfig()
    items = list(items)
    if len(set(items)) != len(items):
        raise ValueError("Bradley-Terry needs distinct items")
    index = {item: i for i, item in enumerate(items)}
    n = len(items)
    wins = np.zeros((n, n))  # wins[i, j]: times i was preferred to j
    for (a, b), count in Counter(pairs).items():
        if a not in index or b not in index:
            raise ValueError(f"a vote names {a if a not in index else b!r}, "
                             f"which is not one of {', '.join(items)}")
        if a != b:
            wins[index[a], index[b]] += count
    games = wins + wins.T
    won = wins.sum(axis=1)
    precision = 1.0 / config.prior_sd**2

    s = np.zeros(n)
    hessian = -precision * np.eye(n)
    for _ in range(config.max_iters):
        p = 1.0 / (1.0 + np.exp(-(s[:, None] - s[None, :])))  # p[i, j] = P(i beats j)
        grad = won - (games * p).sum(axis=1) - precision * s
        w = games * p * p.T
        hessian = w - np.diag(w.sum(axis=1)) - precision * np.eye(n)
        step = np.linalg.solve(hessian, grad)
        s = s - step
        if float(np.abs(step).max(initial=0.0)) < config.tol:
            break
    p = 1.0 / (1.0 + np.exp(-(s[:, None] - s[None, :])))
    w = games * p * p.T
    hessian = w - np.diag(w.sum(axis=1)) - precision * np.eye(n)
    cov = np.linalg.inv(-hessian)

    order = sorted(range(n), key=lambda i: (-s[i], i))
    strengths = tuple(
        Strength(items[i], float(s[i]), float(math.sqrt(max(cov[i, i], 0.0))),
                 int(won[i]), int(games[i].sum()))
        for i in order
    )
    sure = []
    for a, b in pairwise(order):
        var = cov[a, a] + cov[b, b] - 2 * cov[a, b]
        sure.append(_normal_cdf((s[a] - s[b]) / math.sqrt(max(var, 1e-12))))
    return BTRanking(strengths, tuple(sure), int(wins.sum()),
                     {items[i]: float(s[i]) for i in range(n)})


def rank_votes(candidate_ids: Sequence[str], votes: Iterable, config: BTConfig | None = None
               ) -> BTRanking:
    """Fit one prompt's candidates from its votes (anything with a ``pairs()`` method)."""
    return fit(candidate_ids, (pair for vote in votes for pair in vote.pairs()), config)
