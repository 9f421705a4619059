"""depth_errors against the numpy references in ../shared/fixtures/metrics, known answers and bad
inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from egom2p_edge.metrics import depth_errors, fit_scale_shift
from egom2p_edge.paths import shared_path

FIXTURE = shared_path("fixtures", "metrics")
ABSENT = "../shared/fixtures/metrics is absent (set EGOM2P_SHARED_DIR to check the references)"
# Our align name -> the fixture's variant name.
VARIANTS = {"none": "none", "depth": "depth_lsq", "inverse": "disparity_lsq"}


def _pairs() -> list:
    if FIXTURE is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT))]
    doc = json.loads((FIXTURE / "depth" / "depth_metrics.json").read_text())
    return [pytest.param(p, id=Path(p["file"]).stem) for p in doc["pairs"]]


def _load(pair: dict) -> tuple[np.ndarray, np.ndarray]:
    with np.load(FIXTURE / pair["file"]) as z:
        return z["gt"], z["est"]


def test_fixture_lists_all_pairs():
    if FIXTURE is None:
        pytest.skip(ABSENT)
    doc = json.loads((FIXTURE / "depth" / "depth_metrics.json").read_text())
    assert len(doc["pairs"]) == doc["n_pairs"] == 10


@pytest.mark.parametrize("pair", _pairs())
@pytest.mark.parametrize("align", list(VARIANTS))
def test_reference_values(pair, align):
    gt, est = _load(pair)
    ref = pair["metrics"][VARIANTS[align]]
    got = depth_errors(gt, est, align=align)
    assert set(got) == {"abs_rel", "delta_1_25"}
    assert all(type(v) is float for v in got.values())
    assert got["abs_rel"] == pytest.approx(ref["absrel"], rel=1e-9, abs=1e-12)
    assert got["delta_1_25"] == pytest.approx(ref["delta1"], rel=0, abs=1e-12)
    # An explicit mask equal to the default one gives the same numbers.
    valid = gt > 0
    assert int(valid.sum()) == pair["metrics"]["n_valid"]
    assert depth_errors(gt, est, valid, align=align) == got


@pytest.mark.parametrize("pair", _pairs())
def test_fitted_scale_and_shift(pair):
    gt, est = _load(pair)
    m = gt > 0
    g, e = gt[m].astype(np.float64), est[m].astype(np.float64)
    for variant, x, y in (("depth_lsq", e, g), ("disparity_lsq", 1 / e, 1 / g)):
        s, t = fit_scale_shift(x, y)
        assert s == pytest.approx(pair["metrics"][variant]["scale"], rel=1e-9)
        assert t == pytest.approx(pair["metrics"][variant]["shift"], rel=1e-9, abs=1e-12)


def test_video_pools_all_frames():
    """(T, H, W) is one set of pixels: the mean weighted by each frame's valid count."""
    if FIXTURE is None:
        pytest.skip(ABSENT)
    doc = json.loads((FIXTURE / "depth" / "depth_metrics.json").read_text())
    a, b = doc["pairs"][0], doc["pairs"][1]
    (ga, ea), (gb, eb) = _load(a), _load(b)
    got = depth_errors(np.stack([ga, gb]), np.stack([ea, eb]))  # (2, H, W)
    na, nb = a["metrics"]["n_valid"], b["metrics"]["n_valid"]
    for key, ref_key in (("abs_rel", "absrel"), ("delta_1_25", "delta1")):
        expected = (na * a["metrics"]["none"][ref_key] + nb * b["metrics"]["none"][ref_key]) / (
            na + nb
        )
        assert got[key] == pytest.approx(expected, rel=1e-12)


# ---- known answers ----------------------------------------------------------------------------


def _depth(seed: int = 0, shape=(24, 32)) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.5, 6.0, size=shape)


def test_affine_depth_is_undone_by_depth_alignment():
    gt = _depth()
    est = 0.7 * gt - 0.2
    got = depth_errors(gt, est, align="depth")
    assert got["abs_rel"] < 1e-12 and got["delta_1_25"] == 1.0
    assert depth_errors(gt, est, align="none")["abs_rel"] > 0.1


def test_affine_disparity_is_undone_by_inverse_alignment():
    gt = _depth(1, shape=(3, 10, 12))  # a video
    est = 1.0 / (0.8 / gt + 0.05)
    got = depth_errors(gt, est, align="inverse")
    assert got["abs_rel"] < 1e-12 and got["delta_1_25"] == 1.0
    assert depth_errors(gt, est, align="depth")["abs_rel"] > 1e-3


def test_uniform_scale_error_without_alignment():
    gt = _depth()
    assert depth_errors(gt, 1.3 * gt)["abs_rel"] == pytest.approx(0.3, rel=1e-12)
    assert depth_errors(gt, 1.3 * gt)["delta_1_25"] == 0.0
    assert depth_errors(gt, 1.2 * gt)["delta_1_25"] == 1.0
    assert depth_errors(gt, gt / 1.2)["delta_1_25"] == 1.0


def test_delta_threshold_is_strict():
    gt = np.full((4, 4), 2.0)
    est = np.full((4, 4), 2.5)  # ratio exactly 1.25 in binary floating point
    est[0, :] = 2.4
    assert depth_errors(gt, est)["delta_1_25"] == pytest.approx(0.25)
    assert depth_errors(gt, est)["abs_rel"] == pytest.approx((0.2 * 4 + 0.25 * 12) / 16)


def test_default_mask_drops_zero_and_non_finite_ground_truth():
    gt = np.array([[1.0, 0.0], [np.nan, np.inf]])
    est = np.array([[1.5, 123.0], [7.0, 9.0]])
    assert depth_errors(gt, est) == {"abs_rel": 0.5, "delta_1_25": 0.0}
    gt2 = np.array([[1.0, 2.0], [4.0, 8.0]])
    est2 = np.array([[1.0, 2.0], [np.nan, 1.0]])  # NaN estimate on an excluded pixel is fine
    valid = np.array([[True, True], [False, True]])
    assert depth_errors(gt2, est2, valid)["abs_rel"] == pytest.approx((0 + 0 + 7 / 8) / 3)


def test_non_positive_estimate_is_a_miss():
    gt = np.array([[1.0, 2.0]])
    est = np.array([[-1.0, 2.0]])  # -1/1 and 1/-1 are < 1.25 but the depth is wrong
    got = depth_errors(gt, est)
    assert got["delta_1_25"] == 0.5
    assert got["abs_rel"] == pytest.approx(1.0)


def test_float32_inputs_are_scored_in_float64():
    gt = _depth(2).astype(np.float32)
    est = (gt * np.float32(1.1)).astype(np.float32)
    ref = depth_errors(gt.astype(np.float64), est.astype(np.float64), align="depth")
    assert depth_errors(gt, est, align="depth") == ref


# ---- bad input --------------------------------------------------------------------------------


def _bad_cases():
    gt = _depth(3, shape=(6, 8))
    est = gt * 1.1
    neg = gt.copy()
    neg[2, 3] = -1.0
    zero_est = est.copy()
    zero_est[0, 0] = 0.0
    nan_est = est.copy()
    nan_est[1, 1] = np.nan
    zero_gt = gt.copy()
    zero_gt[4, 4] = 0.0
    return [
        pytest.param(gt[0], est[0], None, "none", "depth_gt must have shape", id="1d"),
        pytest.param(gt, est[:, :7], None, "none", "depth_est has shape", id="shapes"),
        pytest.param(neg, est, None, "none", "depth_gt has 1 negative", id="neg_gt"),
        pytest.param(gt, nan_est, None, "none", "depth_est is non-finite at 1", id="nan_est"),
        pytest.param(
            zero_gt,
            est,
            np.ones(gt.shape, bool),
            "none",
            "depth_gt is 0 or non-finite at 1",
            id="valid_zero_gt",
        ),
        pytest.param(gt, est, np.ones((6, 7), bool), "none", "valid must have shape", id="mask"),
        pytest.param(np.zeros((4, 4)), np.ones((4, 4)), None, "none", "no valid pixel", id="empty"),
        pytest.param(gt, est, np.zeros(gt.shape, bool), "depth", "no valid pixel", id="empty_mask"),
        pytest.param(gt, zero_est, None, "inverse", "depth_est is <= 0 at 1", id="inv_zero"),
        pytest.param(gt, np.full(gt.shape, 2.0), None, "depth", "constant", id="const_est"),
        pytest.param(gt, est, None, "disparity", "align must be one of", id="align"),
        pytest.param(gt.astype(str), est, None, "none", "depth_gt must be a real", id="str"),
    ]


@pytest.mark.parametrize(("gt", "est", "valid", "align", "match"), _bad_cases())
def test_bad_input(gt, est, valid, align, match):
    with pytest.raises(ValueError, match=match):
        depth_errors(gt, est, valid, align=align)
