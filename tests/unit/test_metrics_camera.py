"""camera_errors against the evo / numpy references in ../shared/fixtures/metrics, known answers,
and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from egom2p_edge.metrics import camera_errors, fit_alignment
from egom2p_edge.metrics.rotations import rotation_angle_rad
from egom2p_edge.paths import shared_path

FIXTURE = shared_path("fixtures", "metrics")
ABSENT = "../shared/fixtures/metrics is absent (set EGOM2P_SHARED_DIR to check the references)"
RTOL = 1e-9  # the issue asks for 1e-6; we agree with evo to ~1e-13
ATOL_M = 1e-12
ATOL_DEG = 1e-9
ATE_KEYS = {
    "none": "ate_none_rmse_m",
    "se3": "ate_se3_rmse_m",
    "sim3": "ate_sim3_rmse_m",
    "rotation": "ate_egom2p_rotonly_rmse_m",
}


def _windows() -> list:
    if FIXTURE is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT))]
    doc = json.loads((FIXTURE / "camera" / "camera_metrics.json").read_text())
    return [pytest.param(w, id=Path(w["file"]).stem) for w in doc["windows"]]


def _load(window: dict) -> dict[str, np.ndarray]:
    with np.load(FIXTURE / window["file"]) as z:
        return {k: z[k] for k in z.files}


def test_fixture_lists_all_windows():
    if FIXTURE is None:
        pytest.skip(ABSENT)
    doc = json.loads((FIXTURE / "camera" / "camera_metrics.json").read_text())
    assert len(doc["windows"]) == doc["n_windows"] == 69


@pytest.mark.parametrize("window", _windows())
def test_reference_values(window):
    z = _load(window)
    ref = window["metrics"]
    for align, key in ATE_KEYS.items():
        got = camera_errors(z["gt_c2w"], z["est_c2w"], align=align)
        assert set(got) == {"ate_m", "rte_m", "rre_deg"}
        assert all(type(v) is float for v in got.values())
        assert got["ate_m"] == pytest.approx(ref[key], rel=RTOL, abs=ATOL_M), align
        # RTE and RRE never depend on the ATE alignment.
        assert got["rte_m"] == pytest.approx(ref["rte_rmse_m"], rel=RTOL, abs=ATOL_M)
        assert got["rre_deg"] == pytest.approx(ref["rre_rmse_deg"], rel=RTOL, abs=ATOL_DEG)


@pytest.mark.parametrize("window", _windows())
def test_alignment_parameters_and_rte_after_sim3(window):
    z = _load(window)
    p_gt, p_est = z["gt_c2w"][:, :3, 3], z["est_c2w"][:, :3, 3]
    ref = window["alignment"]
    for align in ("se3", "sim3"):
        sim = fit_alignment(p_est, p_gt, align)
        np.testing.assert_allclose(sim.R, ref[align]["R"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(sim.t, ref[align]["t"], rtol=0, atol=1e-9)
        assert sim.scale == pytest.approx(ref[align]["s"], rel=1e-9)
    sim = fit_alignment(p_est, p_gt, "rotation")
    np.testing.assert_allclose(sim.R, ref["egom2p_rotonly"]["R"], rtol=0, atol=1e-9)
    sim3 = fit_alignment(p_est, p_gt, "sim3")
    rte = camera_errors(z["gt_c2w"], sim3.apply_to_poses(z["est_c2w"]))["rte_m"]
    assert rte == pytest.approx(window["metrics"]["rte_after_sim3_rmse_m"], rel=RTOL, abs=ATOL_M)


@pytest.mark.parametrize("window", _windows())
def test_world_frame_invariance(window):
    """SE(3)/Sim(3) ATE, RTE, RRE are the same on the world arrays as on the canonical ones."""
    z = _load(window)
    ref = window["metrics"]
    for align in ("se3", "sim3"):
        got = camera_errors(z["gt_c2w_world"], z["est_c2w_world"], align=align)
        assert got["ate_m"] == pytest.approx(ref[ATE_KEYS[align]], rel=1e-7, abs=1e-9)
        assert got["rte_m"] == pytest.approx(ref["rte_rmse_m"], rel=1e-7, abs=1e-9)
        assert got["rre_deg"] == pytest.approx(ref["rre_rmse_deg"], rel=1e-7, abs=1e-6)


# ---- hand-made cases with known answers -------------------------------------------------------


def _trajectory(n: int = 40, seed: int = 0) -> np.ndarray:
    """A smooth, non-degenerate camera-to-world trajectory. Shape (n, 4, 4)."""
    rng = np.random.default_rng(seed)
    k = np.arange(n)[:, None]
    T = np.tile(np.eye(4), (n, 1, 1))
    T[:, :3, 3] = np.hstack([np.sin(k / 7.0), 0.3 * k / n, np.cos(k / 5.0)]) + 0.01 * rng.normal(
        size=(n, 3)
    )
    rotvecs = np.hstack([0.2 * np.sin(k / 9.0), 0.05 * k / n, 0.1 * np.cos(k / 4.0)])
    T[:, :3, :3] = Rotation.from_rotvec(rotvecs).as_matrix()
    return T


def _rigid(rotvec, t) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = Rotation.from_rotvec(rotvec).as_matrix()
    T[:3, 3] = t
    return T


def test_identical_trajectories_score_zero():
    gt = _trajectory()
    for align in ("none", "se3", "sim3", "rotation"):
        got = camera_errors(gt, gt.copy(), align=align)
        assert got["ate_m"] < 1e-12 and got["rte_m"] < 1e-12 and got["rre_deg"] < 1e-9


def test_rotation_about_origin_is_removed_by_every_alignment():
    gt = _trajectory()
    est = _rigid([0.0, 0.3, 0.1], [0, 0, 0]) @ gt  # (N, 4, 4)
    p = gt[:, :3, 3]
    # Without alignment, the ATE is the RMS distance each point moves under the rotation.
    moved = p @ _rigid([0.0, 0.3, 0.1], [0, 0, 0])[:3, :3].T - p
    expected_none = np.sqrt(np.mean(np.sum(moved**2, axis=1)))
    assert camera_errors(gt, est)["ate_m"] == pytest.approx(expected_none, rel=1e-12)
    for align in ("se3", "sim3", "rotation"):
        got = camera_errors(gt, est, align=align)
        assert got["ate_m"] < 1e-12, align
        assert got["rte_m"] < 1e-12 and got["rre_deg"] < 1e-9


def test_rigid_offset_needs_translation_in_the_alignment():
    gt = _trajectory()
    offset = _rigid([0.1, -0.2, 0.05], [0.3, -0.1, 0.2])
    est = offset @ gt
    assert camera_errors(gt, est, align="se3")["ate_m"] < 1e-12
    assert camera_errors(gt, est, align="sim3")["ate_m"] < 1e-12
    assert camera_errors(gt, est, align="rotation")["ate_m"] > 1e-3


def test_constant_translation_offset():
    gt = _trajectory()
    est = gt.copy()
    d = np.array([0.3, -0.4, 1.2])  # |d| = 1.3
    est[:, :3, 3] += d
    got = camera_errors(gt, est)
    assert got["ate_m"] == pytest.approx(1.3, rel=1e-12)
    assert got["rte_m"] < 1e-12 and got["rre_deg"] < 1e-9
    assert camera_errors(gt, est, align="se3")["ate_m"] < 1e-12


def test_known_scale():
    gt = _trajectory()
    est = gt.copy()
    s = 0.4
    est[:, :3, 3] *= s
    sim = fit_alignment(est[:, :3, 3], gt[:, :3, 3], "sim3")
    assert sim.scale == pytest.approx(1 / s, rel=1e-12)
    assert camera_errors(gt, est, align="sim3")["ate_m"] < 1e-12
    # Same rotations, so each relative translation error is (s - 1) times the true one.
    t_rel = np.einsum("nji,nj->ni", gt[:-1, :3, :3], gt[1:, :3, 3] - gt[:-1, :3, 3])
    expected_rte = abs(s - 1) * np.sqrt(np.mean(np.sum(t_rel**2, axis=1)))
    got = camera_errors(gt, est)
    assert got["rte_m"] == pytest.approx(expected_rte, rel=1e-12)
    assert got["rre_deg"] < 1e-9


@pytest.mark.parametrize("alpha_rad", [0.2, 1e-3, 1e-8])
def test_single_frame_rotation_error(alpha_rad):
    """One pose rotated by alpha: two pairs carry the angle, one the swung translation."""
    n, step = 31, 0.05
    gt = np.tile(np.eye(4), (n, 1, 1))
    gt[:, 0, 3] = step * np.arange(n)  # straight line along x, identity rotations
    est = gt.copy()
    j = 10
    est[j, :3, :3] = Rotation.from_rotvec([0.0, 0.0, alpha_rad]).as_matrix()  # axis ⟂ motion
    got = camera_errors(gt, est)
    expected_rre = np.degrees(np.sqrt(2 * alpha_rad**2 / (n - 1)))
    expected_rte = np.sqrt((2 * step * np.sin(alpha_rad / 2)) ** 2 / (n - 1))
    assert got["rre_deg"] == pytest.approx(expected_rre, rel=1e-9)
    assert got["rte_m"] == pytest.approx(expected_rte, rel=1e-7)
    assert got["ate_m"] == 0.0


def test_rotation_angle_matches_scipy_from_tiny_to_half_turn():
    rng = np.random.default_rng(3)
    axes = rng.normal(size=(60, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angles = np.concatenate([np.logspace(-12, 0, 30), np.linspace(1.0, np.pi - 1e-6, 30)])
    R = Rotation.from_rotvec(axes * angles[:, None]).as_matrix()  # (60, 3, 3)
    np.testing.assert_allclose(rotation_angle_rad(R), angles, rtol=1e-9)
    ref = np.linalg.norm(Rotation.from_matrix(R).as_rotvec(), axis=1)
    np.testing.assert_allclose(rotation_angle_rad(R), ref, rtol=1e-9)


def test_rotation_block_within_tolerance_is_accepted():
    gt = _trajectory(10)
    est = gt.copy()
    est[3, :3, :3] *= 1 + 2e-6  # float32-like orthonormality error, well inside 1e-5
    assert camera_errors(gt, est)["rre_deg"] > 0


def test_two_poses_allowed_without_alignment():
    gt = _trajectory(2)
    assert camera_errors(gt, gt)["ate_m"] == 0.0


# ---- bad input --------------------------------------------------------------------------------


def _bad_cases():
    gt = _trajectory(12)
    nan = gt.copy()
    nan[4, 1, 3] = np.nan
    inf = gt.copy()
    inf[2, 0, 0] = np.inf
    scaled = gt.copy()
    scaled[5, :3, :3] *= 1.001
    reflected = gt.copy()
    reflected[6, :3, 2] *= -1
    last_row = gt.copy()
    last_row[1, 3, 0] = 0.5
    sheared = gt.copy()
    sheared[7, 0, 1] += 1e-3
    same_pos = gt.copy()
    same_pos[:, :3, 3] = 1.0
    return [
        pytest.param(
            gt[:, :3, :],
            gt[:, :3, :],
            "none",
            r"T_world_camera_gt must have shape \(N, 4, 4\)",
            id="shape",
        ),
        pytest.param(gt[0], gt[0], "none", "T_world_camera_gt must have shape", id="not_3d"),
        pytest.param(
            gt,
            gt[:-1],
            "none",
            "T_world_camera_gt has 12 poses but T_world_camera_est has 11",
            id="lengths",
        ),
        pytest.param(
            nan, gt, "none", r"T_world_camera_gt has non-finite .* first at index 4", id="nan_gt"
        ),
        pytest.param(
            gt, inf, "none", r"T_world_camera_est has non-finite .* first at index 2", id="inf_est"
        ),
        pytest.param(
            gt,
            scaled,
            "none",
            r"T_world_camera_est\[5\] rotation block is not a rotation",
            id="scaled_rot",
        ),
        pytest.param(
            reflected, gt, "none", r"T_world_camera_gt\[6\] rotation block is not", id="reflection"
        ),
        pytest.param(
            gt, sheared, "none", r"T_world_camera_est\[7\] rotation block is not", id="shear"
        ),
        pytest.param(last_row, gt, "none", r"T_world_camera_gt\[1\] last row", id="last_row"),
        pytest.param(gt[:1], gt[:1], "none", "need at least 2", id="one_pose"),
        pytest.param(gt[:2], gt[:2], "se3", "aligned ATE .* needs at least 3", id="two_aligned"),
        pytest.param(gt[:2], gt[:2], "rotation", "needs at least 3", id="two_rotation"),
        pytest.param(
            gt, gt, "SE3", "align must be one of none, se3, sim3, rotation", id="align_name"
        ),
        pytest.param(
            np.full((3, 4, 4), "a"),
            gt[:3],
            "none",
            "T_world_camera_gt must be a real numeric",
            id="strings",
        ),
        pytest.param(gt, same_pos, "sim3", "positions are all identical", id="sim3_no_spread"),
    ]


@pytest.mark.parametrize(("gt", "est", "align", "match"), _bad_cases())
def test_bad_input(gt, est, align, match):
    with pytest.raises(ValueError, match=match):
        camera_errors(gt, est, align=align)
