"""Resampling by timestamp: grids, SLERP/linear poses, gaze validity, nearest frames, gaps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from egom2p_edge.training.curate.resample import (
    bracket,
    grid_ns,
    interpolate_linear,
    interpolate_poses,
    max_bracket_gap_ns,
    nearest_frames,
)


def test_grid_is_exact_rounding():
    g = grid_ns(1_000, 60, 30)
    assert g.dtype == np.int64 and g[0] == 1_000
    np.testing.assert_array_equal(g - 1_000, [round(k * 1e9 / 30) for k in range(60)])
    np.testing.assert_array_equal(grid_ns(0, 16, 8), np.arange(16) * 125_000_000)
    with pytest.raises(ValueError):
        grid_ns(0, 0, 30)


def _rotating_track(n: int = 11, rate_rad_s: float = 0.8, dt_ns: int = 100_000_000):
    ts = np.arange(n, dtype=np.int64) * dt_ns
    axis = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    T = np.tile(np.eye(4), (n, 1, 1))
    T[:, :3, :3] = Rotation.from_rotvec(np.outer(ts * 1e-9 * rate_rad_s, axis)).as_matrix()
    T[:, :3, 3] = np.outer(ts * 1e-9, [1.0, 2.0, -0.5])  # constant velocity
    return ts, T, axis, rate_rad_s


def test_slerp_of_constant_rotation_rate_is_exact():
    ts, T, axis, rate = _rotating_track()
    grid = np.array([0, 33_333_333, 250_000_000, 999_999_999, 1_000_000_000], dtype=np.int64)
    out = interpolate_poses(ts, T, grid)
    want = Rotation.from_rotvec(np.outer(grid * 1e-9 * rate, axis)).as_matrix()
    np.testing.assert_allclose(out[:, :3, :3], want, atol=1e-12)
    np.testing.assert_allclose(out[:, :3, 3], np.outer(grid * 1e-9, [1.0, 2.0, -0.5]), atol=1e-12)
    np.testing.assert_array_equal(out[0], T[0])  # exact hit returns the stored pose


def test_slerp_takes_the_short_way():
    ts = np.array([0, 10], dtype=np.int64)
    T = np.tile(np.eye(4), (2, 1, 1))
    T[1, :3, :3] = Rotation.from_euler("z", 350, degrees=True).as_matrix()  # = -10 degrees
    mid = interpolate_poses(ts, T, np.array([5], dtype=np.int64))
    angle = Rotation.from_matrix(mid[0, :3, :3]).as_euler("xyz", degrees=True)[2]
    assert angle == pytest.approx(-5.0, abs=1e-9)


def test_bracket_rejects_extrapolation():
    ts = np.array([10, 20], dtype=np.int64)
    with pytest.raises(ValueError, match="outside"):
        bracket(ts, np.array([5], dtype=np.int64))
    i0, i1, u = bracket(ts, np.array([10, 15, 20], dtype=np.int64))
    assert list(i0) == [0, 0, 1] and list(i1) == [0, 1, 1]
    np.testing.assert_allclose(u, [0, 0.5, 0])


def test_linear_gaze_validity_rule():
    ts = np.array([0, 10, 20, 30], dtype=np.int64)
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [np.nan, np.nan], [0.5, 0.5]])
    valid = np.array([True, True, False, True])
    grid = np.array([5, 10, 15, 20, 25, 30], dtype=np.int64)
    out, ok = interpolate_linear(ts, xy, valid, grid)
    assert list(ok) == [True, True, False, False, False, True]
    np.testing.assert_allclose(out[ok], [[0.5, 0.5], [1.0, 1.0], [0.5, 0.5]])
    assert np.isnan(out[~ok]).all()


def test_nearest_frames_ties_to_earlier():
    frames = np.array([0, 100, 200, 300], dtype=np.int64)
    grid = np.array([-10, 49, 50, 51, 150, 299, 400], dtype=np.int64)
    np.testing.assert_array_equal(nearest_frames(frames, grid), [0, 0, 0, 1, 1, 3, 3])


def test_max_bracket_gap():
    ts = np.array([0, 10, 20, 150, 160, 170], dtype=np.int64)
    assert max_bracket_gap_ns(ts, 0, 20) == 10
    assert max_bracket_gap_ns(ts, 5, 15) == 10  # uses samples 0..20
    assert max_bracket_gap_ns(ts, 15, 155) == 130  # crosses the gap
    assert max_bracket_gap_ns(ts, 10, 10) == 0
    assert max_bracket_gap_ns(ts, 160, 171) is None  # not covered
