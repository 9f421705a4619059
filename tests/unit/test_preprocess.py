"""Tests of the centre crop + exact area resize and the gaze crop mapping."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from egom2p_edge.preprocess import (
    area_matrix,
    area_taps,
    center_crop_resize,
    center_crop_resize_float,
    center_crop_resize_masked,
    crop_box,
    crop_norm_to_gaze_px,
    gaze_px_to_crop_norm,
)


def _brute_force(img: np.ndarray, size: int) -> np.ndarray:
    """Reference written from the definition: exact rational box overlaps, per-pixel loops."""
    h, w = img.shape[:2]
    c = min(h, w)
    crop = img[(h - c) // 2 : (h - c) // 2 + c, (w - c) // 2 : (w - c) // 2 + c]
    crop = crop.reshape(c, c, -1).astype(np.int64)

    def overlap(i: int, j: int) -> Fraction:
        lo = max(Fraction(i, size), Fraction(j, c))
        hi = min(Fraction(i + 1, size), Fraction(j + 1, c))
        return max(hi - lo, Fraction(0))

    out = np.zeros((size, size, crop.shape[2]), dtype=np.int64)
    for oy in range(size):
        for ox in range(size):
            for ch in range(crop.shape[2]):
                acc = Fraction(0)
                for sy in range(c):
                    wy = overlap(oy, sy)
                    if wy == 0:
                        continue
                    for sx in range(c):
                        wx = overlap(ox, sx)
                        if wx:
                            acc += wy * wx * int(crop[sy, sx, ch])
                mean = acc * size * size  # footprint area is 1/size^2
                out[oy, ox, ch] = int(mean + Fraction(1, 2))  # floor(x + 1/2): round half up
    return out.reshape((size, size) + img.shape[2:])


@pytest.mark.parametrize(
    "shape,size",
    [((7, 9, 3), 4), ((9, 7, 3), 5), ((6, 6, 3), 6), ((5, 8), 3), ((4, 4, 3), 7), ((3, 5), 8)],
)
def test_matches_brute_force(shape, size):
    rng = np.random.default_rng(sum(shape) * 31 + size)
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    out = center_crop_resize(img, size)
    assert out.dtype == np.uint8 and out.shape == (size, size) + shape[2:]
    np.testing.assert_array_equal(out, _brute_force(img, size))


def test_identity_when_size_equals_crop():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (20, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(center_crop_resize(img, 20), img[:, 6:26])
    f = rng.random((32, 20)).astype(np.float32)
    np.testing.assert_array_equal(center_crop_resize_float(f, 20), f[6:26])


def test_weights_sum_and_matrix_form():
    for src, dst in [(1408, 256), (480, 256), (5, 12), (7, 7), (1, 3)]:
        index, weight = area_taps(src, dst)
        assert np.all(weight.sum(1) == src)
        m = area_matrix(src, dst)
        assert np.all(m.sum(0) == dst)  # every source pixel fully used
        assert m.sum() == src * dst


def test_matrix_form_equals_taps():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (30, 30), dtype=np.uint8)
    m = area_matrix(30, 11)
    acc = m @ img.astype(np.int64) @ m.T
    np.testing.assert_array_equal(center_crop_resize(img, 11), (acc + 450) // 900)


def test_constant_image_stays_constant():
    img = np.full((100, 130, 3), 77, dtype=np.uint8)
    assert np.all(center_crop_resize(img, 33) == 77)
    assert np.all(center_crop_resize(img, 257) == 77)


def test_float_matches_integer_weights():
    rng = np.random.default_rng(3)
    img = rng.random((13, 17)) * 10
    out = center_crop_resize_float(img, 5)
    m = area_matrix(13, 5).astype(np.float64)
    np.testing.assert_allclose(out, m @ img[:, 2:15] @ m.T / 169, rtol=0, atol=1e-12)


def test_masked_resize_ignores_holes():
    depth = np.full((8, 8), 2.0, dtype=np.float32)
    valid = np.ones((8, 8), bool)
    depth[:4, :4] = 0.0
    valid[:4, :4] = False
    out, ok = center_crop_resize_masked(depth, valid, 4)
    assert not ok[:2, :2].any() and ok[2:, :].all() and ok[:, 2:].all()
    assert np.all(out[ok] == 2.0) and np.all(out[~ok] == 0)


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.float32), np.zeros((4,), np.uint8)])
def test_bad_images(bad):
    with pytest.raises(ValueError, match="center_crop_resize"):
        center_crop_resize(bad, 2)


def test_bad_size():
    with pytest.raises(ValueError, match="size"):
        center_crop_resize(np.zeros((4, 4), np.uint8), 0)


def test_gaze_mapping_holoassist_rule_and_roundtrip():
    # HoloAssist 896x504 -> 504 crop: x' = (x - 196)/504; EgoM2P's 480 crop differs, see data tests
    top, left, side = crop_box(504, 896)
    assert (top, left, side) == (0, 196, 504)
    xy = np.array([[196.0, 0.0], [700.0, 504.0], [np.nan, np.nan]])
    norm = gaze_px_to_crop_norm(xy, 504, 896)
    np.testing.assert_allclose(norm[:2], [[0, 0], [1, 1]])
    assert np.isnan(norm[2]).all()
    back = crop_norm_to_gaze_px(norm, 504, 896)
    np.testing.assert_allclose(back[:2], xy[:2])
    centred = gaze_px_to_crop_norm(np.array([[-0.5, -0.5]]), 10, 10, pixel_center_offset=0.5)
    np.testing.assert_allclose(centred, [[0.0, 0.0]])
