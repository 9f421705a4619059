"""The C++ decoding building blocks against their numpy twins, value for value: portable exp,
softmax, guidance, top-k, top-p, token choice with the portable RNG, schedules and plans."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge import schedules
from egom2p_edge._native import load_runtime
from egom2p_edge.pipeline import numerics, plan
from egom2p_edge.streaming.options import StreamOptions, resolve_decoding

rt = load_runtime()


def _logits(seed: int, rows: int = 24, vocab: int = 256, scale: float = 3.0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(0, scale, (rows, vocab)).astype(np.float32)
    x[0, :3] = x[0, 3]  # ties at the maximum
    x[1, 10:] = -np.inf  # a row with a cut vocabulary
    return x


def test_portable_exp_bit_identical():
    x = np.concatenate(
        [np.random.default_rng(0).uniform(-750, 0, 50_000), [0.0, -0.0, -700.0, -np.inf]]
    )
    np.testing.assert_array_equal(rt.portable_exp(x), numerics.portable_exp(x))


@pytest.mark.parametrize("seed", range(3))
def test_softmax_guidance_and_filters_bit_identical(seed):
    c, u = _logits(seed), _logits(seed + 100)
    np.testing.assert_array_equal(rt.softmax_rows(c), numerics.softmax_rows(c))
    g = rt.guide_logits(c[2:], u[2:], 2.0)  # rows 0, 1: ties and -inf (a NaN in guidance)
    np.testing.assert_array_equal(g, numerics.guide(c[2:], u[2:], 2.0))
    for top_p in (0.0, 0.5, 0.8, 1.0):
        np.testing.assert_array_equal(rt.top_p_filter(c, top_p), numerics.top_p_filter(c, top_p))
    for top_k in (0, 1, 7, 0.1, 300):
        np.testing.assert_array_equal(rt.top_k_filter(c, top_k), numerics.top_k_filter(c, top_k))


@pytest.mark.parametrize("temperature", [0.0, 1e-9, 0.01, 0.5, 1.0, 3.0])
@pytest.mark.parametrize("top_p", [0.0, 0.8])
def test_choose_tokens_bit_identical(temperature, top_p):
    from egom2p_edge.rng import PortableRng

    x = _logits(7, scale=1.0)
    for step in (0, 4):
        rng = PortableRng(123)
        rng.begin_step(step)
        tok, prob = numerics.choose_tokens(x, temperature, 0, top_p, rng)
        c_tok, c_prob = rt.choose_tokens(x, temperature, 0, top_p, 123, step)
        np.testing.assert_array_equal(c_tok, tok)
        np.testing.assert_array_equal(c_prob, prob)


def test_choose_tokens_rejects_bad_input():
    with pytest.raises(ValueError, match="entirely -inf"):
        rt.choose_tokens(np.full((1, 4), -np.inf, np.float32), 1.0, 0, 0.0, 0, 0)
    with pytest.raises(ValueError, match="top_k"):
        rt.choose_tokens(np.zeros((1, 4), np.float32), 1.0, 2.5, 0.0, 0, 0)
    with pytest.raises(ValueError, match="top_p"):
        rt.top_p_filter(np.zeros((1, 4), np.float32), 1.5)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_token_schedules_identical(kind):
    for n in (1, 7, 30, 1280, 5120):
        for steps in (1, 3, 5, 12, 40):
            assert rt.token_schedule(kind, n, steps) == schedules.token_schedule(kind, n, steps)


@pytest.mark.parametrize("kind", ["constant", "linear", "onex:0.5:1.0", "onex:0:2.5"])
def test_temperature_schedules_identical(kind):
    for steps in (1, 2, 7):
        assert rt.temperature_schedule(kind, 1.5, steps) == schedules.temperature_schedule(
            kind, 1.5, steps
        )
    with pytest.raises(ValueError, match="temperature schedule"):
        rt.temperature_schedule("onex:2:1", 1.0, 3)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"mode": "joint", "temperature": 0.5, "steps": 4},
        {"mode": "single_pass", "guidance_scale": 1.0},
        {"targets": ("cam", "gaze"), "steps": {"gaze": 2}, "top_p": 0.0},
        {"targets": ("tok_cam",), "mode": "official"},
    ],
)
def test_resolved_plans_identical(rt_bundle, options):
    from egom2p_edge.bundle import read_manifest

    o = StreamOptions(**options)
    decoding = resolve_decoding(read_manifest(rt_bundle), o)
    ours = plan.build_plan(decoding, ("tok_rgb",))
    steps = o.steps
    mode, theirs = rt.decoding_plan(
        str(rt_bundle), list(o.targets), o.mode or "", o.temperature,
        steps if isinstance(steps, int) else None,
        dict(steps) if isinstance(steps, dict) else {}, o.guidance_scale, o.top_p,
    )  # fmt: skip
    assert mode == decoding.mode
    assert theirs == [
        (
            [(e.target.name, e.num_tokens, e.temperature) for e in s.entries],
            s.guidance_scale,
            list(s.emptied),
            s.guided,
        )
        for s in ours
    ]
