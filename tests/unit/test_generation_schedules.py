"""Token and temperature schedules, top-k / top-p filtering and token choice."""

from __future__ import annotations

import math

import pytest
import torch

from egom2p_edge.models.generation import (
    choose_tokens,
    cosine_token_schedule,
    linear_token_schedule,
    temperature_schedule,
    token_schedule,
    top_k_filter,
    top_p_filter,
)
from egom2p_edge.rng import PortableRng


@pytest.mark.parametrize(
    "n, steps, expected",
    [
        (30, 3, [10, 10, 10]),  # official rgb2cam
        (30, 5, [6, 6, 6, 6, 6]),  # official rgb2gaze
        (5120, 3, [1707, 1707, 1706]),  # official rgb2depth (spec 4.1)
        (5120, 6, [854, 854, 853, 853, 853, 853]),  # official depth2rgb
        (30, 4, [8, 8, 7, 7]),  # linspace 0, 7.5, 15, 22.5, 30 -> 0, 7, 15, 22, 30
        (3, 5, [1, 1, 1]),  # more steps than tokens: zero steps trimmed
    ],
)
def test_linear_schedule_known_answers(n, steps, expected):
    assert linear_token_schedule(n, steps) == expected


def test_cosine_schedule_sums_and_grows():
    counts = cosine_token_schedule(30, 5)
    assert sum(counts) == 30 and all(c > 0 for c in counts)
    assert counts[0] < counts[-1]  # few first, more later
    # remaining after step 1 of 5: floor(30 * cos(pi/10)) = floor(28.53) = 28 -> 2 decoded
    assert counts[0] == 30 - math.floor(30 * math.cos(math.pi / 10))


def test_token_schedule_rejects_unknown():
    with pytest.raises(ValueError, match="unknown token schedule"):
        token_schedule("quadratic", 30, 3)
    with pytest.raises(ValueError, match="num_steps"):
        token_schedule("linear", 30, 0)


def test_temperature_schedules():
    assert temperature_schedule("constant", 0.5, 3) == [0.5, 0.5, 0.5]
    assert temperature_schedule("linear", 1.0, 3) == [1.0, 0.5, 0.0]
    assert temperature_schedule("onex:0.2:1.0", 1.0, 2) == [1.0, pytest.approx(0.6)]
    with pytest.raises(ValueError, match="onex:MIN:POWER"):
        temperature_schedule("onex:a", 1.0, 2)
    with pytest.raises(ValueError, match="unknown temperature schedule"):
        temperature_schedule("cubic", 1.0, 2)


def test_top_p_keeps_smallest_prefix_over_p():
    logits = torch.log(torch.tensor([[0.1, 0.6, 0.3]]))
    kept = torch.isfinite(top_p_filter(logits, 0.8))
    assert kept.tolist() == [[False, True, True]]  # cum .6, .9 > .8 -> keep two
    kept = torch.isfinite(top_p_filter(logits, 0.5))
    assert kept.tolist() == [[False, True, False]]  # the first alone already exceeds p
    assert torch.equal(top_p_filter(logits, 0.0), logits)  # 0 = off


def test_top_k():
    logits = torch.tensor([[1.0, 5.0, 3.0, 4.0]])
    assert torch.isfinite(top_k_filter(logits, 2)).tolist() == [[False, True, False, True]]
    assert torch.isfinite(top_k_filter(logits, 0.5)).tolist() == [[False, True, False, True]]
    with pytest.raises(ValueError, match="top_k"):
        top_k_filter(logits, 2.5)


def test_argmax_at_zero_temperature_and_probabilities():
    logits = torch.tensor([[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]])
    rng = PortableRng(0)
    rng.begin_step(0)
    tok, prob = choose_tokens(logits, 0.0, 0, 0.0, rng)
    assert tok.tolist() == [1, 0]
    torch.testing.assert_close(prob, torch.softmax(logits, -1)[[0, 1], [1, 0]])


def test_low_temperature_sampling_is_almost_argmax():
    logits = torch.tensor([[0.0, 2.0, 1.0]]).repeat(50, 1)
    rng = PortableRng(1)
    rng.begin_step(0)
    tok, prob = choose_tokens(logits, 0.01, 0, 0.0, rng)
    assert (tok == 1).all() and (prob > 0.999).all()


def test_sampling_respects_top_p():
    logits = torch.log(torch.tensor([[0.1, 0.6, 0.3]])).repeat(200, 1)
    rng = PortableRng(2)
    rng.begin_step(0)
    tok, _ = choose_tokens(logits, 1.0, 0, 0.8, rng)
    assert set(tok.tolist()) == {1, 2}
