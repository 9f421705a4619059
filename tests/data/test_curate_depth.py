"""Sensor depth cleaning: range check, masked resize, small-hole filling, median filter."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.training.curate.depth import DepthCleaning, clean_depth_frame


def _plane(n: int = 32, depth: float = 2.0) -> np.ndarray:
    return np.full((n, n), depth, dtype=np.float32)


def test_small_hole_filled_large_hole_kept():
    d = _plane()
    d[5:7, 5:7] = 0.0  # 2x2 hole: filled
    d[16:30, 16:30] = 0.0  # 14x14 hole: its centre stays invalid
    out, valid, counts = clean_depth_frame(d, 32, DepthCleaning(fill_max_px=2.0, median_px=1))
    assert valid[5:7, 5:7].all() and np.all(out[5:7, 5:7] == 2.0)
    assert not valid[22, 22] and out[22, 22] == 0.0
    assert valid[16, 16]  # within 2 px of valid depth
    assert counts["depth_px_filled"] > 4 and counts["depth_px_invalid"] == int((~valid).sum())


def test_median_removes_a_spike_and_keeps_edges():
    d = _plane()
    d[:, 16:] = 4.0  # a step edge
    d[8, 8] = 9.0  # a flying pixel
    out, valid, _ = clean_depth_frame(d, 32, DepthCleaning(median_px=3))
    assert valid.all()
    assert out[8, 8] == pytest.approx(2.0)
    assert out[10, 15] == pytest.approx(2.0) and out[10, 16] == pytest.approx(4.0)


def test_out_of_range_and_nonfinite_are_invalid():
    d = _plane(16)
    d[:, :8] = np.nan
    d[:8, 8:] = 0.01  # below min_depth_m
    out, valid, _ = clean_depth_frame(d, 16, DepthCleaning(fill_max_px=0.0, median_px=1))
    assert valid[8:, 8:].all() and not valid[:, :8].any() and not valid[:8, 8:].any()
    assert np.all(out[~valid] == 0)


def test_resize_averages_valid_pixels_only():
    d = _plane(8)
    d[::2, ::2] = 0.0  # a quarter of the pixels missing
    out, valid, _ = clean_depth_frame(d, 4, DepthCleaning(fill_max_px=0, median_px=1))
    assert valid.all() and np.allclose(out, 2.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"median_px": 2},
        {"min_depth_m": 5.0, "max_depth_m": 1.0},
        {"fill_max_px": -1},
        {"min_valid_fraction": 0.0},
    ],
)
def test_bad_config(kwargs):
    with pytest.raises(ValueError, match="DepthCleaning"):
        DepthCleaning(**kwargs)


def test_bad_frame_shape():
    with pytest.raises(ValueError, match="clean_depth_frame"):
        clean_depth_frame(np.zeros((2, 3, 4)), 4, DepthCleaning())
