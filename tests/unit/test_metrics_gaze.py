"""gaze_mse against the numpy references in ../shared/fixtures/metrics, known answers and bad
inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from egom2p_edge.metrics import gaze_mse
from egom2p_edge.paths import shared_path

FIXTURE = shared_path("fixtures", "metrics")
ABSENT = "../shared/fixtures/metrics is absent (set EGOM2P_SHARED_DIR to check the references)"
RTOL = 1e-12


def _doc() -> dict:
    return json.loads((FIXTURE / "gaze" / "gaze_metrics.json").read_text())


def _clips() -> list:
    if FIXTURE is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT))]
    return [pytest.param(c, id=f"clip{c['index']:02d}") for c in _doc()["clips"]]


def _flip_y(gaze_xy_norm: np.ndarray) -> np.ndarray:
    out = gaze_xy_norm.copy()
    out[..., 1] = 1.0 - out[..., 1]
    return out


@pytest.fixture(scope="module")
def arrays() -> dict[str, np.ndarray]:
    if FIXTURE is None:
        pytest.skip(ABSENT)
    with np.load(FIXTURE / "gaze" / "gaze_clips.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("clip", _clips())
def test_reference_values(clip, arrays):
    i = clip["index"]
    gt, est, valid = arrays["gt"][i], arrays["est"][i], arrays["valid"][i]
    ref = clip["metrics"]
    got = gaze_mse(gt, est, valid)
    assert type(got) is float
    assert got == pytest.approx(ref["mse"], rel=RTOL)
    # valid=None finds the same rows from the NaNs of gt.
    assert gaze_mse(gt, est) == pytest.approx(ref["mse"], rel=RTOL)
    assert int(valid.sum()) == ref["n_valid_rows"]
    # The EgoM2P rule also drops rows with a coordinate outside [-0.2, 1.2].
    inside = ~((gt > 1.2) | (gt < -0.2)).any(axis=1)
    got_egom2p = gaze_mse(gt, est, valid & inside)
    assert got_egom2p == pytest.approx(ref["mse_egom2p_validity"], rel=RTOL)
    # A y flip of both arrays changes nothing.
    assert gaze_mse(_flip_y(gt), _flip_y(est), valid) == pytest.approx(ref["mse"], rel=1e-9)


def test_all_clips_pooled(arrays):
    doc = _doc()
    assert len(doc["clips"]) == doc["n_clips"] == arrays["gt"].shape[0] == 21
    got = gaze_mse(arrays["gt"], arrays["est"], arrays["valid"])  # (21, 60, 2) pooled
    assert got == pytest.approx(doc["pooled_mse_all_valid_entries"], rel=RTOL)


@pytest.mark.real_data
def test_holoassist_example_against_official_reconstruction():
    if FIXTURE is None:
        pytest.skip(ABSENT)
    recon_path = shared_path(
        "fixtures", "real", "egom2p", "example_data", "token", "gaze-recon.npy"
    )
    if recon_path is None:
        pytest.skip("../shared/fixtures/real/egom2p/example_data/token/gaze-recon.npy is absent")
    ref = _doc()["holoassist_example"]
    converted = np.load(FIXTURE / ref["file"])
    recon = np.load(recon_path)
    assert np.isnan(converted).any(axis=1).nonzero()[0].tolist() == ref["nan_rows"]
    got = gaze_mse(converted, recon)
    assert got == pytest.approx(ref["mse_vs_official_token_gaze_recon"], rel=RTOL)
    # 0/1 integer masks (as the JSON stores them) are accepted.
    mask = np.asarray(ref["egom2p_row_valid_mask"])
    assert gaze_mse(converted, recon, mask) == pytest.approx(got, rel=RTOL)


# ---- known answers ----------------------------------------------------------------------------


def test_constant_offset():
    rng = np.random.default_rng(0)
    gt = rng.uniform(size=(50, 2))
    est = gt + np.array([0.03, -0.04])
    assert gaze_mse(gt, est) == pytest.approx((0.03**2 + 0.04**2) / 2, rel=1e-9)
    assert gaze_mse(gt, gt) == 0.0


def test_invalid_rows_are_ignored_even_with_nan_or_garbage():
    gt = np.array([[0.5, 0.5], [np.nan, np.nan], [0.2, 0.1], [0.9, 0.9]])
    est = np.array([[0.6, 0.5], [0.1, 0.1], [0.2, 0.3], [np.nan, 0.0]])
    # valid=None: row 1 (NaN in gt) and row 3 (NaN in est) drop out.
    assert gaze_mse(gt, est) == pytest.approx((0.1**2 + 0.0 + 0.0 + 0.2**2) / 4, rel=1e-12)
    valid = np.array([False, False, True, False])
    assert gaze_mse(gt, est, valid) == pytest.approx((0.0 + 0.2**2) / 2, rel=1e-12)


# ---- bad input --------------------------------------------------------------------------------


def _bad_cases():
    ok = np.full((5, 2), 0.5)
    nan_row = ok.copy()
    nan_row[2, 0] = np.nan
    inf_row = ok.copy()
    inf_row[1, 1] = np.inf
    return [
        pytest.param(np.zeros((5, 3)), ok, None, r"gaze_gt must have shape \(N, 2\)", id="cols"),
        pytest.param(ok, np.zeros(5), None, r"gaze_est must have shape \(N, 2\)", id="1d"),
        pytest.param(ok, ok[:4], None, "gaze_gt has shape .* but gaze_est has", id="lengths"),
        pytest.param(ok, ok, np.ones(4, bool), r"valid must have shape \(5,\)", id="valid_shape"),
        pytest.param(ok, ok, np.array([1, 0, 2, 1, 1]), "valid must hold only 0/1", id="valid_2"),
        pytest.param(ok, ok, np.array(["a"] * 5), "valid must be bool", id="valid_str"),
        pytest.param(
            nan_row, ok, np.ones(5, bool), r"gaze_gt has non-finite .* \[2\]", id="nan_valid"
        ),
        pytest.param(ok, inf_row, None, r"gaze_est has non-finite .* \[1\]", id="inf"),
        pytest.param(ok, ok, np.zeros(5, bool), "no valid gaze rows among 5", id="none_valid"),
        pytest.param(np.full((3, 2), np.nan), ok[:3], None, "no valid gaze rows", id="all_nan"),
        pytest.param(
            np.full((3, 2), "x"), ok[:3], None, "gaze_gt must be a real numeric", id="str"
        ),
    ]


@pytest.mark.parametrize(("gt", "est", "valid", "match"), _bad_cases())
def test_bad_input(gt, est, valid, match):
    with pytest.raises(ValueError, match=match):
        gaze_mse(gt, est, valid)
