"""Masked multimodal sampling: budgets, disjoint masks, missing modalities, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from egom2p_edge.models.masking import (
    MaskingConfig,
    dirichlet_split,
    random_token_masks,
    sample_budgets,
    sample_masks,
)

NUM = {"tok_cam": 30, "tok_depth": 5120, "tok_gaze": 30, "tok_rgb": 5120}


def test_masks_are_disjoint_and_within_budget():
    cfg = MaskingConfig(input_budget=256, target_budget=128)
    present = [list(NUM), ["tok_rgb", "tok_cam", "tok_gaze"], ["tok_cam"]]
    masks = sample_masks(NUM, present, cfg, seed=11)
    n_in = sum(m.is_input.sum(dim=1) for m in masks.values())
    n_tg = sum(m.is_target.sum(dim=1) for m in masks.values())
    for m in masks.values():
        assert m.is_input.dtype == torch.bool and not (m.is_input & m.is_target).any()
    assert (n_in <= 256).all() and (n_tg <= 128).all()
    assert not masks["tok_depth"].is_input[1:].any() and not masks["tok_depth"].is_target[1:].any()
    assert not masks["tok_rgb"].is_input[2].any()
    # Sample 2 only has 30 cam tokens: input + target cannot exceed them.
    assert int(n_in[2] + n_tg[2]) <= 30


def test_budget_sums_when_nothing_is_clamped():
    inp, tgt = sample_budgets({"a": 10_000, "b": 10_000}, MaskingConfig(100, 50), seed=3)
    assert sum(inp.values()) == 100 and sum(tgt.values()) == 50


def test_clamping_to_token_counts():
    inp, tgt = sample_budgets({"cam": 30, "gaze": 30}, MaskingConfig(2048, 2048), seed=0)
    for n in ("cam", "gaze"):
        assert 0 <= inp[n] <= 30 and 0 <= tgt[n] <= 30 - inp[n]


def test_same_seed_same_masks_other_seed_differs():
    cfg = MaskingConfig(64, 64)
    present = [list(NUM)] * 2
    a = sample_masks(NUM, present, cfg, seed=5)
    b = sample_masks(NUM, present, cfg, seed=5)
    c = sample_masks(NUM, present, cfg, seed=6)
    assert all(torch.equal(a[n].is_input, b[n].is_input) for n in NUM)
    assert any(not torch.equal(a[n].is_input, c[n].is_input) for n in NUM)


def test_small_alpha_concentrates_large_alpha_spreads():
    rng = np.random.default_rng(0)
    caps = [10_000] * 4
    spiky = [max(dirichlet_split(1000, caps, 0.01, rng)) for _ in range(50)]
    flat = [max(dirichlet_split(1000, caps, 100.0, rng)) for _ in range(50)]
    assert np.mean(spiky) > 900 and np.mean(flat) < 400


def test_random_token_masks_counts():
    is_in, is_tg = random_token_masks(30, 12, 10, seed=1)
    assert is_in.sum() == 12 and is_tg.sum() == 10 and not (is_in & is_tg).any()
    with pytest.raises(ValueError, match="n_input \\+ n_target"):
        random_token_masks(30, 20, 11, seed=1)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(input_budget=-1), "input_budget"),
        (dict(alphas=(0.0, 1.0), mixture_weights=(1.0, 1.0)), "alphas"),
        (dict(mixture_weights=(1.0,)), "one weight per alpha"),
    ],
)
def test_config_validation(kw, match):
    with pytest.raises(ValueError, match=match):
        MaskingConfig(**kw)


def test_unknown_present_modality_is_reported():
    with pytest.raises(ValueError, match="missing from num_tokens"):
        sample_masks({"tok_cam": 30}, [["tok_gaze"]], MaskingConfig(8, 8), seed=0)
