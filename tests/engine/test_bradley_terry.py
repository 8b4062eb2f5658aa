"""Bradley-Terry: a known order comes back from synthetic votes, with honest certainty."""

from __future__ import annotations

import math
import random

import pytest

from engine.preference.bradley_terry import fit, rank_votes
from engine.preference.votes import Vote


def synthetic_pairs(scores: dict[str, float], n: int, seed: int) -> list[tuple[str, str]]:
    """Voters who prefer a over b with probability sigmoid(score_a - score_b)."""
    rng = random.Random(seed)
    items = list(scores)
    pairs = []
    for _ in range(n):
        a, b = rng.sample(items, 2)
        p = 1 / (1 + math.exp(scores[b] - scores[a]))
        pairs.append((a, b) if rng.random() < p else (b, a))
    return pairs


def test_recovers_a_known_order_from_synthetic_votes():
    truth = {"e": -1.5, "b": 0.8, "d": -0.6, "a": 1.6, "c": 0.0}
    ranking = fit(sorted(truth), synthetic_pairs(truth, 3000, seed=1))
    assert ranking.order == ("a", "b", "c", "d", "e")
    assert ranking.comparisons == 3000
    # The scores themselves come back (up to the prior's small pull), within a few stderr.
    for s in ranking.strengths:
        assert abs(s.score - truth[s.item]) < 4 * s.stderr + 0.05
    assert ranking.confidence > 0.99


def test_more_votes_make_it_surer():
    truth = {"good": 1.0, "ok": 0.0, "bad": -1.0}
    few = fit(list(truth), synthetic_pairs(truth, 12, seed=3))
    many = fit(list(truth), synthetic_pairs(truth, 1200, seed=3))
    assert many.order == ("good", "ok", "bad")
    assert many.confidence > few.confidence
    assert max(s.stderr for s in many.strengths) < min(s.stderr for s in few.strengths)


def test_no_votes_means_no_preference():
    ranking = fit(["x", "y", "z"], [])
    assert all(s.score == 0 for s in ranking.strengths)
    assert ranking.sure == pytest.approx((0.5, 0.5))
    assert ranking.p_beats("x", "y") == pytest.approx(0.5)


def test_a_unanimous_vote_stays_finite():
    ranking = fit(["w", "l"], [("w", "l")] * 50)
    top = ranking.strengths[0]
    assert top.item == "w" and math.isfinite(top.score)
    assert 0.9 < ranking.p_beats("w", "l") < 1.0
    assert top.wins == 50 and top.comparisons == 50


def test_rankings_count_as_every_pair_they_imply():
    votes = [Vote(i, "apples", f"s{i}", "ranking", ("step-by-step", "answer-only", "wrong"), "")
             for i in range(4)]
    ranking = rank_votes(["wrong", "answer-only", "step-by-step"], votes)
    assert ranking.order == ("step-by-step", "answer-only", "wrong")
    assert ranking.comparisons == 12


def test_unknown_items_in_votes_are_refused():
    with pytest.raises(ValueError, match="not one of"):
        fit(["a", "b"], [("a", "c")])
