"""The reference pipeline's pinned-down numerics and plan against the torch reference
(``egom2p_edge.models.generation``): the same schedules and plans, and the same token filters
and choices up to float32 rounding."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.pipeline import numerics, plan
from egom2p_edge.streaming.options import ResolvedDecoding, TargetDecoding

torch = pytest.importorskip("torch")
gen = pytest.importorskip("egom2p_edge.models.generation")


def test_portable_exp_is_accurate():
    x = np.concatenate([np.random.default_rng(0).uniform(-700, 0, 100_000), [0.0, -1e-300]])
    got, want = numerics.portable_exp(x), np.exp(x)
    assert np.max(np.abs(got - want) / want) < 4e-16
    assert numerics.portable_exp(np.array([-np.inf, -701.0])).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="<= 0"):
        numerics.portable_exp(np.array([0.5]))


def test_softmax_rows_close_to_float64_softmax():
    x = np.random.default_rng(1).normal(0, 4, (16, 300)).astype(np.float32)
    x[:, 5] = -np.inf
    p = numerics.softmax_rows(x)
    e = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(p, e / e.sum(axis=1, keepdims=True), rtol=1e-6, atol=1e-12)
    assert np.all(p[:, 5] == 0)
    with pytest.raises(ValueError, match="entirely -inf"):
        numerics.softmax_rows(np.full((1, 4), -np.inf, np.float32))


@pytest.mark.parametrize("top_p", [0.0, 0.3, 0.8, 0.95, 1.0])
def test_top_p_filter_matches_reference(top_p):
    x = np.random.default_rng(2).normal(0, 2, (64, 256)).astype(np.float32)
    ours = numerics.top_p_filter(x, top_p)
    ref = gen.top_p_filter(torch.from_numpy(x), top_p).numpy()
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(ref))
    np.testing.assert_array_equal(ours[~np.isneginf(ours)], x[~np.isneginf(ours)])


def test_top_p_filter_known_answer():
    x = np.log(np.array([[0.5, 0.3, 0.15, 0.05]], np.float32))
    keep = {p: int((~np.isneginf(numerics.top_p_filter(x, p))).sum()) for p in (0.4, 0.6, 0.85)}
    assert keep == {0.4: 1, 0.6: 2, 0.85: 3}


@pytest.mark.parametrize("top_k", [0, 1, 5, 0.25])
def test_top_k_filter_matches_reference(top_k):
    x = np.random.default_rng(3).normal(0, 2, (8, 64)).astype(np.float32)
    ref = gen.top_k_filter(torch.from_numpy(x), top_k).numpy()
    np.testing.assert_array_equal(numerics.top_k_filter(x, top_k), ref)


@pytest.mark.parametrize("temperature", [0.0, 0.01, 1.0])
def test_choose_tokens_matches_reference(temperature):
    from egom2p_edge.rng import PortableRng

    x = np.random.default_rng(4).normal(0, 3, (40, 128)).astype(np.float32)
    a, b = PortableRng(7), PortableRng(7)
    a.begin_step(3)
    b.begin_step(3)
    tok, prob = numerics.choose_tokens(x, temperature, 0, 0.8, a)
    ref_tok, ref_prob = gen.choose_tokens(torch.from_numpy(x), temperature, 0, 0.8, b)
    np.testing.assert_array_equal(tok, ref_tok.numpy())
    np.testing.assert_allclose(prob, ref_prob.numpy(), rtol=1e-5)


def test_guidance_formula():
    c = np.array([[1.0, 2.0]], np.float32)
    u = np.array([[0.0, 4.0]], np.float32)
    np.testing.assert_array_equal(numerics.guide(c, u, 2.0), [[2.0, 0.0]])
    assert numerics.guide(c, None, 2.0) is not None


def _target(name, index, steps, guidance=2.0, temperature=0.01):
    return TargetDecoding(name, index, 30, 256, None, steps, "roar", "linear", temperature,
                          "constant", guidance, 0.8, 0.0)  # fmt: skip


@pytest.mark.parametrize("mode", ["official", "joint", "single_pass"])
@pytest.mark.parametrize("grow", [True, False])
@pytest.mark.parametrize("guidance", [2.0, 1.0])
def test_plan_matches_reference_build_schedule(mode, grow, guidance):
    targets = (_target("tok_gaze", 2, 5, guidance), _target("tok_cam", 0, 3, guidance))
    ours = plan.build_plan(ResolvedDecoding(mode, targets, ("tok_rgb",), grow), ("tok_rgb",))
    ref = gen.build_schedule(
        mode, ["tok_gaze", "tok_cam"], {"tok_gaze": 30, "tok_cam": 30},
        {"tok_gaze": 5, "tok_cam": 3}, ["tok_rgb"], temperature=0.01, guidance_scale=guidance,
        grow_conditioning=grow,
    )  # fmt: skip
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert [(e.target.name, e.num_tokens, e.temperature) for e in a.entries] == [
            (t.target, t.num_tokens, t.temperature) for t in b.targets
        ]
        assert (a.guidance_scale, a.emptied, a.guided) == (
            b.cfg_scale,
            b.cfg_cond_domains,
            b.guided,
        )
