"""The C++ ``Runtime`` against the Python ``ReferencePipeline``: same bundle, frames and seed
give identical tokens (and token probabilities) and gaze / poses within 1e-5, in every decoding
mode, at temperature 0 and at the bundle's default temperature.

The default run keeps the suite quick: the product default (official mode, default temperature
and steps) in full, the other combinations of mode and temperature with 2 steps per target in
the multi-step modes; ``-m slow`` runs every combination with the default steps."""

from __future__ import annotations

import numpy as np
import pytest
from runtime_helpers import run_stream, synthetic_frames

ATOL = 1e-5
# (mode, temperature, steps); None = the bundle's default (temperature 0.01; steps gaze 5, cam 3)
QUICK = [
    ("official", None, None),
    ("official", 0.0, 2),
    ("joint", 0.0, 2),
    ("joint", None, 2),
    ("single_pass", 0.0, None),
    ("single_pass", None, None),
]
FULL = [(m, t, None) for m in ("official", "joint", "single_pass") for t in (0.0, None)]


def _id(combo) -> str:
    mode, t, steps = combo
    temperature = "argmax" if t == 0 else "default_T"
    return f"{mode}-{temperature}-{'default_steps' if steps is None else f'{steps}_steps'}"


def assert_same(ours: list, ref: list) -> None:
    assert len(ours) == len(ref) >= 1
    for a, b in zip(ours, ref):
        assert (a.window_index, a.timestamp_ns, a.start_timestamp_ns, a.missing_frames) == (
            b.window_index,
            b.timestamp_ns,
            b.start_timestamp_ns,
            b.missing_frames,
        )
        assert set(a.tokens) == set(b.tokens)
        for k in a.tokens:
            np.testing.assert_array_equal(a.tokens[k], b.tokens[k], err_msg=k)
            np.testing.assert_allclose(a.token_probs[k], b.token_probs[k], rtol=0, atol=1e-7)
        np.testing.assert_allclose(a.gaze_xy_norm, b.gaze_xy_norm, rtol=0, atol=ATOL)
        np.testing.assert_allclose(a.T_window_camera, b.T_window_camera, rtol=0, atol=ATOL)


@pytest.mark.parametrize("combo", QUICK, ids=_id)
def test_synthetic_clip_matches_reference(decoded, combo):
    ours = decoded("runtime", "synth", *combo)
    assert_same(ours, decoded("reference", "synth", *combo))
    p = ours[0]
    assert p.gaze_xy_norm.shape == (60, 2) and p.T_window_camera.shape == (60, 4, 4)
    assert {k: v.shape for k, v in p.tokens.items()} == {"tok_gaze": (30,), "tok_cam": (30,)}


@pytest.mark.slow
@pytest.mark.parametrize("combo", FULL, ids=_id)
def test_synthetic_clip_matches_reference_default_steps(decoded, combo):
    assert_same(decoded("runtime", "synth", *combo), decoded("reference", "synth", *combo))


def test_several_windows_with_hop_match_reference(runtime, reference):
    # Two 2-s clips (a scene cut between them) at hop 8: windows 0, 1, 2, each with its own RNG
    # stream (seed + window index); single_pass keeps it quick.
    frames = synthetic_frames(seed=11, clips=2, size=reference.manifest.video.size)
    opts = dict(mode="single_pass", hop_frames=8, seed=5, temperature=1.0)
    ours, ref = run_stream(runtime, frames, **opts), run_stream(reference, frames, **opts)
    assert [p.window_index for p in ours] == [0, 1, 2]
    assert_same(ours, ref)
    t0 = frames[0][1]
    assert [p.timestamp_ns for p in ours] == [t0 + (8 * w + 15) * 125_000_000 for w in range(3)]


def test_frames_of_another_size_with_a_gap_match_reference(runtime, reference, synth_clip):
    # 30-fps input of a non-square size with a 300-ms hole: resampling, crop + resize and the
    # missing-sample rule must agree too.
    rng = np.random.default_rng(0)
    base = synth_clip[0][0]
    frames = []
    for i in range(75):
        t = i * 33_333_333
        if 700_000_000 < t < 1_000_000_000:
            continue
        rgb = np.zeros((96, 150, 3), np.uint8)
        rgb[:, 11:139] = np.roll(base[16:112], i, axis=1)
        frames.append((rgb + rng.integers(0, 8, rgb.shape, dtype=np.uint8), t))
    opts = dict(mode="single_pass", temperature=0.0)
    ours, ref = run_stream(runtime, frames, **opts), run_stream(reference, frames, **opts)
    assert ours[0].missing_frames >= 1
    assert_same(ours, ref)


@pytest.mark.real_data
@pytest.mark.parametrize("temperature", (0.0, None), ids=("argmax", "default_T"))
def test_h2o_clip_matches_reference(decoded, temperature):
    combo = ("single_pass", temperature, None)
    assert_same(decoded("runtime", "h2o", *combo), decoded("reference", "h2o", *combo))


@pytest.mark.real_data
@pytest.mark.slow
@pytest.mark.parametrize("combo", FULL, ids=_id)
def test_h2o_clip_matches_reference_every_mode(decoded, combo):
    assert_same(decoded("runtime", "h2o", *combo), decoded("reference", "h2o", *combo))
