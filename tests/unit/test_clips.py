"""Tests of the Clip dataclass: presence, validation of every field, depth normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.clips import Clip, depth_inv_norm_from_metric
from egom2p_edge.clips.example import example_clip


def _cam(n: int = 60) -> np.ndarray:
    T = np.tile(np.eye(4), (n, 1, 1))
    T[:, 0, 3] = np.linspace(0, 1, n)  # walk 1 m along x
    return T


def full_clip(size: int = 8, seed: int = 0) -> Clip:
    return example_clip(size=size, seed=seed)


def test_full_clip_validates_and_lists_modalities():
    clip = full_clip()
    assert clip.validate() is clip
    assert clip.modalities == ("rgb", "depth", "gaze", "cam")
    assert clip.size == 8
    assert not clip.depth_valid[0, 0, 0] and clip.depth_m[0, 0, 0] == 0


def test_single_modalities():
    c = full_clip()
    gaze_only = Clip("g", "unit", "x", gaze_xy_norm=c.gaze_xy_norm, gaze_valid=c.gaze_valid)
    assert gaze_only.validate().modalities == ("gaze",)
    cam_only = Clip("c", "unit", "x", T_first_camera=_cam())
    assert cam_only.validate().modalities == ("cam",) and cam_only.size is None
    empty = Clip("e", "unit", "x")
    with pytest.raises(ValueError, match="modalities"):
        empty.validate()


def test_depth_inv_norm_properties():
    depth = np.array([[[1.0, 2.0], [4.0, 0.0]]] * 16, dtype=np.float32)  # (16, 2, 2)
    inv = depth_inv_norm_from_metric(depth)
    assert inv.dtype == np.float32
    # 1/d = 1, 0.5, 0.25 -> min-max -> 1, 1/3, 0; the unknown pixel is 0
    np.testing.assert_allclose(inv[3], [[1.0, 1 / 3], [0.0, 0.0]], atol=1e-7)
    flat = depth_inv_norm_from_metric(np.full((16, 2, 2), 3.0, np.float32))
    assert np.all(flat == 0.5)
    with pytest.raises(ValueError, match="depth_valid"):
        depth_inv_norm_from_metric(depth, np.ones(depth.shape, bool))  # marks the 0 m pixel


# Each case: (field, bad value builder, text expected in the message)
BAD_CASES = [
    ("clip_id", lambda c: "", "clip_id"),
    ("licence", lambda c: None, "licence"),
    ("rgb", lambda c: c.rgb.astype(np.float32), "Clip.rgb"),
    ("rgb", lambda c: c.rgb[:15], "Clip.rgb"),
    ("rgb_timestamps_ns", lambda c: c.rgb_timestamps_ns[::-1].copy(), "strictly increasing"),
    ("rgb_timestamps_ns", lambda c: c.rgb_timestamps_ns.astype(np.float64), "rgb_timestamps"),
    ("depth_inv_norm", lambda c: c.depth_inv_norm * 2, "depth_inv_norm"),
    ("depth_inv_norm", lambda c: None, "depth_inv_norm"),
    ("depth_valid", lambda c: ~c.depth_valid, "depth"),
    ("depth_m", lambda c: np.where(c.depth_valid, c.depth_m, np.nan).astype(np.float32), "depth_m"),
    ("gaze_xy_norm", lambda c: np.full((60, 2), np.nan), "gaze_xy_norm"),
    ("gaze_xy_norm", lambda c: c.gaze_xy_norm + 1.0, "within"),
    ("gaze_xy_norm", lambda c: c.gaze_xy_norm[:59], "gaze_xy_norm"),
    ("gaze_valid", lambda c: None, "gaze_valid"),
    ("gaze_valid", lambda c: c.gaze_valid.astype(np.uint8), "gaze_valid"),
    ("gaze_timestamps_ns", lambda c: np.zeros(60, np.int64), "strictly increasing"),
    ("T_first_camera", lambda c: c.T_first_camera * 2, "T_first_camera"),
    ("T_first_camera", lambda c: c.T_first_camera + 0.1 * _offset(), r"T\[0\] == identity"),
    ("T_first_camera", lambda c: c.T_first_camera.astype(np.float32), "T_first_camera"),
    ("camera_timestamps_ns", lambda c: np.arange(59, dtype=np.int64), "camera_timestamps_ns"),
    ("meta", lambda c: {"x": np.float32(1)}, "meta"),
    ("meta", lambda c: {"x": float("nan")}, "meta"),
]


def _offset() -> np.ndarray:
    off = np.zeros((60, 4, 4))
    off[:, 0, 3] = 1.0  # moves the first pose away from the identity
    return off


@pytest.mark.parametrize("field,bad,message", BAD_CASES)
def test_bad_field_is_named(field, bad, message):
    clip = full_clip()
    setattr(clip, field, bad(clip))
    with pytest.raises(ValueError, match=message) as info:
        clip.validate()
    assert "expected" in str(info.value)


def test_non_rotation_rejected():
    clip = full_clip()
    clip.T_first_camera[5, :3, :3] = np.diag([1.0, 1.0, -1.0])  # reflection
    with pytest.raises(ValueError, match="det"):
        clip.validate()


def test_size_mismatch_between_rgb_and_depth():
    clip = full_clip(size=8)
    other = full_clip(size=4)
    clip.depth_inv_norm, clip.depth_valid, clip.depth_m = (
        other.depth_inv_norm,
        other.depth_valid,
        other.depth_m,
    )
    with pytest.raises(ValueError, match="depth"):
        clip.validate()


def test_arrays_without_their_modality():
    clip = Clip("x", "unit", "l", T_first_camera=_cam(), gaze_valid=np.ones(60, bool))
    with pytest.raises(ValueError, match="gaze_valid"):
        clip.validate()
