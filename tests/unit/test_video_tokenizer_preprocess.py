"""The official video pre/post-processing: padding rules, [-1, 1] scaling, uint8 conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from egom2p_edge.models.video.preprocess import (
    as_frames_uint8,
    crop_frames,
    frames_to_tensor,
    pad_frames,
    split_windows,
    tensor_to_frames,
)


def _frames(T, H, W, seed=0):
    g = np.random.default_rng(seed)
    return torch.from_numpy(g.integers(0, 256, (1, T, H, W, 3), dtype=np.uint8))


def test_sixteen_frames_get_one_copy_of_the_last():
    # README: 16 frames -> 17, edge mode, 0 frames before and 1 after.
    frames = _frames(16, 64, 64)
    padded, crop = pad_frames(frames)
    assert padded.shape == (1, 17, 64, 64, 3)
    assert torch.equal(padded[:, :16], frames)
    assert torch.equal(padded[:, 16], frames[:, 15])
    assert crop.as_list() == [0, 0, 0, 16, 64, 64]  # the fixture's config.json crop_region


@pytest.mark.parametrize("T", [1, 9, 17, 25])
def test_aligned_lengths_are_not_padded(T):
    frames = _frames(T, 16, 32)
    padded, crop = pad_frames(frames)
    assert torch.equal(padded, frames)
    assert crop.as_list() == [0, 0, 0, T, 16, 32]


@pytest.mark.parametrize(("T", "H", "W"), [(2, 60, 70), (5, 16, 17), (14, 33, 48), (40, 8, 100)])
def test_padding_rules_and_crop_round_trip(T, H, W):
    frames = _frames(T, H, W, seed=T)
    padded, crop = pad_frames(frames)
    _, Tp, Hp, Wp, _ = padded.shape
    assert (Tp - 1) % 8 == 0 and Tp - T < 8
    assert Hp % 16 == 0 and Hp - H < 16 and Wp % 16 == 0 and Wp - W < 16
    assert torch.equal(crop_frames(padded, crop), frames)
    # Time: copies of the first frame before, of the last after.
    inner = padded[:, :, crop.h0 : crop.h1, crop.w0 : crop.w1]
    assert (inner[:, : crop.t0] == frames[:, :1]).all()
    assert (inner[:, crop.t1 :] == frames[:, -1:]).all()
    # Space: zeros around the original.
    mask = torch.ones(Hp, Wp, dtype=torch.bool)
    mask[crop.h0 : crop.h1, crop.w0 : crop.w1] = False
    assert (padded[:, :, mask] == 0).all()


def test_scaling_is_float64_then_one_cast():
    frames = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16, 1).expand(1, 1, 16, 16, 3)
    x = frames_to_tensor(frames.contiguous())
    assert x.dtype == torch.float32 and x.shape == (1, 3, 1, 16, 16)
    ref = (np.arange(256, dtype=np.float64) / 255.0 * 2.0 - 1.0).astype(np.float32)
    assert np.array_equal(x[0, 1, 0].reshape(-1).numpy(), ref)
    assert x.min() == -1.0 and x.max() == 1.0


def test_uint8_conversion_known_values():
    # clamp((x+1)/2, 0, 1) * 255 + 0.5, truncated.
    video = torch.tensor([-3.0, -1.0, 0.0, 1.0, 2.0, 2 * 10.4 / 255 - 1, 2 * 10.6 / 255 - 1])
    out = tensor_to_frames(video.reshape(1, 1, 1, 1, -1).expand(1, 3, 1, 1, 7))
    assert out.dtype == torch.uint8 and out.shape == (1, 1, 1, 7, 3)
    assert out[0, 0, 0, :, 0].tolist() == [0, 0, 128, 255, 255, 10, 11]


def test_fixture_input_tensor_is_reproduced_exactly(parity_dir):
    fx = load_file(str(parity_dir / "video_tokenizer" / "fixtures.safetensors"))
    padded, _ = pad_frames(torch.from_numpy(fx["frames_uint8"]))
    assert np.array_equal(frames_to_tensor(padded).numpy(), fx["input_tensor"])


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        (np.zeros((1, 4, 8, 8, 3), np.float32), "uint8"),
        (np.zeros((4, 8, 8, 3), np.uint8), r"\(B, T, H, W, 3\)"),
        (np.zeros((1, 4, 8, 8, 4), np.uint8), r"\(B, T, H, W, 3\)"),
        (np.zeros((1, 0, 8, 8, 3), np.uint8), "non-empty"),
        ([[1, 2, 3]], "uint8 array"),
    ],
)
def test_bad_frames_are_rejected(frames, match):
    with pytest.raises(ValueError, match=match):
        as_frames_uint8(frames, "frames_uint8")


@pytest.mark.parametrize(
    ("T", "lengths"), [(1, [1]), (16, [16]), (17, [17]), (18, [17, 1]), (32, [17, 15])]
)
def test_official_temporal_windows(T, lengths):
    # Spec 5.3 / open question 1: 32 frames are tokenised as windows of 17 + 15 frames.
    windows = split_windows(_frames(T, 16, 16), 17)
    assert [w.shape[1] for w in windows] == lengths
    assert torch.equal(torch.cat(windows, dim=1), _frames(T, 16, 16))
    with pytest.raises(ValueError, match="temporal_window"):
        split_windows(_frames(T, 16, 16), 0)
