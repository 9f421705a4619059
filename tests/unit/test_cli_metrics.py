"""`egom2p metrics camera|gaze|depth`: same numbers as the references and the API, from .npz,
.npy and TUM files; the readers and the timestamp association."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from egom2p_edge.cli.main import main
from egom2p_edge.metrics import camera_errors, depth_errors, gaze_mse
from egom2p_edge.metrics.io import associate_timestamps, read_tum, relative_to_first
from egom2p_edge.paths import shared_path

FIXTURE = shared_path("fixtures", "metrics")
ABSENT = "../shared/fixtures/metrics is absent (set EGOM2P_SHARED_DIR to check the references)"
ATE_KEYS = {
    "none": "ate_none_rmse_m",
    "se3": "ate_se3_rmse_m",
    "sim3": "ate_sim3_rmse_m",
    "rotation": "ate_egom2p_rotonly_rmse_m",
}


@pytest.fixture(scope="module")
def fixture_dir() -> Path:
    if FIXTURE is None:
        pytest.skip(ABSENT)
    return FIXTURE


def _run_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main(["metrics", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _check_camera(errors: dict, ref: dict, rel: float = 1e-9) -> None:
    for align, key in ATE_KEYS.items():
        assert errors[align]["ate_m"] == pytest.approx(ref[key], rel=rel, abs=1e-9), align
        assert errors[align]["rte_m"] == pytest.approx(ref["rte_rmse_m"], rel=rel, abs=1e-9)
        assert errors[align]["rre_deg"] == pytest.approx(ref["rre_rmse_deg"], rel=rel, abs=1e-6)


def _write_tum(path: Path, timestamps_s: np.ndarray, T: np.ndarray) -> None:
    q_xyzw = Rotation.from_matrix(T[:, :3, :3]).as_quat()  # scalar last, as TUM
    rows = np.column_stack([timestamps_s, T[:, :3, 3], q_xyzw])  # (N, 8)
    lines = ["# timestamp tx ty tz qx qy qz qw"]
    lines += [" ".join(repr(float(v)) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


# ---- camera -----------------------------------------------------------------------------------


def test_camera_all_windows_from_npz(capsys, fixture_dir):
    doc = json.loads((fixture_dir / "camera" / "camera_metrics.json").read_text())
    files = [str(fixture_dir / w["file"]) for w in doc["windows"]]
    report = _run_json(capsys, "camera", *files)
    assert report["metric"] == "camera" and len(report["results"]) == 69
    for window, result in zip(doc["windows"], report["results"]):
        assert result["gt"].endswith(window["file"]) and result["n_poses"] == 60
        _check_camera(result["errors"], window["metrics"])


def test_camera_npy_pair_and_single_align(capsys, fixture_dir, tmp_path):
    doc = json.loads((fixture_dir / "camera" / "camera_metrics.json").read_text())
    window = doc["windows"][30]
    with np.load(fixture_dir / window["file"]) as z:
        np.save(tmp_path / "gt.npy", z["gt_c2w"])
        np.save(tmp_path / "est.npy", z["est_c2w"])
        api = camera_errors(z["gt_c2w"], z["est_c2w"], align="sim3")
    report = _run_json(
        capsys, "camera", str(tmp_path / "gt.npy"), str(tmp_path / "est.npy"), "--align", "sim3"
    )
    assert report["results"][0]["errors"] == {"sim3": api}  # the very same floats


def test_camera_tum_files_are_associated(capsys, fixture_dir, tmp_path):
    """Canonical arrays as TUM text, the estimate clock 3 ms late and with unmatched extras."""
    doc = json.loads((fixture_dir / "camera" / "camera_metrics.json").read_text())
    for window in doc["windows"][::7]:
        with np.load(fixture_dir / window["file"]) as z:
            gt, est, t = z["gt_c2w"], z["est_c2w"], z["timestamps"]
        extra = np.tile(np.eye(4), (3, 1, 1))
        t_est = np.concatenate([[t[0] - 5.0], t + 0.003, [t[-1] + 5.0, t[-1] + 6.0]])
        _write_tum(tmp_path / "gt.txt", t, gt)
        _write_tum(tmp_path / "est.txt", t_est, np.concatenate([extra[:1], est, extra[1:]]))
        report = _run_json(capsys, "camera", str(tmp_path / "gt.txt"), str(tmp_path / "est.txt"))
        result = report["results"][0]
        assert result["association"]["n_associated"] == 60 == result["n_poses"]
        assert result["association"]["max_diff_s"] == pytest.approx(0.003, abs=1e-6)
        _check_camera(result["errors"], window["metrics"], rel=1e-7)


def test_camera_tum_world_frames_with_canonical(capsys, fixture_dir, tmp_path):
    """--canonical on the world arrays (TUM/EuRoC windows) recovers every reference value."""
    doc = json.loads((fixture_dir / "camera" / "camera_metrics.json").read_text())
    windows = [w for w in doc["windows"] if w["kind"] == "real_slam_estimate"][::6]
    assert windows
    for window in windows:
        with np.load(fixture_dir / window["file"]) as z:
            _write_tum(tmp_path / "gt.txt", z["timestamps"], z["gt_c2w_world"])
            _write_tum(tmp_path / "est.txt", z["timestamps"], z["est_c2w_world"])
        report = _run_json(
            capsys, "camera", str(tmp_path / "gt.txt"), str(tmp_path / "est.txt"), "--canonical"
        )
        _check_camera(report["results"][0]["errors"], window["metrics"], rel=1e-7)


def test_camera_table_output(capsys, fixture_dir):
    path = fixture_dir / "camera" / "tum_fr2_desk__ORB__w00.npz"
    assert main(["metrics", "camera", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["file", "n", "ate_m[none]"]
    with np.load(path) as z:
        api = camera_errors(z["gt_c2w"], z["est_c2w"], align="se3")
    row = out[1].split()
    assert float(row[3]) == pytest.approx(api["ate_m"], rel=1e-7)
    assert out[-1].startswith("metrics camera: scored 1 input(s)")


# ---- gaze and depth ---------------------------------------------------------------------------


def test_gaze_npz_pooled_and_per_clip(capsys, fixture_dir):
    doc = json.loads((fixture_dir / "gaze" / "gaze_metrics.json").read_text())
    report = _run_json(capsys, "gaze", str(fixture_dir / "gaze" / "gaze_clips.npz"))
    result = report["results"][0]
    assert result["gaze_mse"] == pytest.approx(doc["pooled_mse_all_valid_entries"], rel=1e-12)
    assert len(result["per_clip"]) == 21
    for clip, got in zip(doc["clips"], result["per_clip"]):
        assert got == pytest.approx(clip["metrics"]["mse"], rel=1e-12)


def test_gaze_npy_with_valid_file(capsys, fixture_dir, tmp_path):
    with np.load(fixture_dir / "gaze" / "gaze_clips.npz") as z:
        gt, est, valid = z["gt"][20], z["est"][20], z["valid"][20]
    inside = valid & ~((gt > 1.2) | (gt < -0.2)).any(axis=1)
    for name, arr in (("gt", gt), ("est", est), ("valid", inside)):
        np.save(tmp_path / f"{name}.npy", arr)
    report = _run_json(
        capsys, "gaze", str(tmp_path / "gt.npy"), str(tmp_path / "est.npy"),
        "--valid", str(tmp_path / "valid.npy"),
    )  # fmt: skip
    doc = json.loads((fixture_dir / "gaze" / "gaze_metrics.json").read_text())
    ref = doc["clips"][20]["metrics"]["mse_egom2p_validity"]
    assert report["results"][0]["gaze_mse"] == pytest.approx(ref, rel=1e-12)
    assert "per_clip" not in report["results"][0]


def test_depth_all_pairs(capsys, fixture_dir):
    doc = json.loads((fixture_dir / "depth" / "depth_metrics.json").read_text())
    files = [str(fixture_dir / p["file"]) for p in doc["pairs"]]
    report = _run_json(capsys, "depth", *files)
    assert len(report["results"]) == 10
    variants = {"none": "none", "depth": "depth_lsq", "inverse": "disparity_lsq"}
    for pair, result in zip(doc["pairs"], report["results"]):
        for align, variant in variants.items():
            ref = pair["metrics"][variant]
            got = result["errors"][align]
            assert got["abs_rel"] == pytest.approx(ref["absrel"], rel=1e-9, abs=1e-12)
            assert got["delta_1_25"] == pytest.approx(ref["delta1"], abs=1e-12)


def test_depth_npy_pair_matches_api(capsys, tmp_path):
    rng = np.random.default_rng(0)
    gt = rng.uniform(0.5, 5.0, size=(2, 8, 9))  # (T, H, W)
    gt[0, 0, :] = 0.0
    est = 1.0 / (0.9 / gt.clip(0.5) + 0.02) * (1 + 0.05 * rng.normal(size=gt.shape))
    np.save(tmp_path / "gt.npy", gt)
    np.save(tmp_path / "est.npy", est)
    report = _run_json(
        capsys, "depth", str(tmp_path / "gt.npy"), str(tmp_path / "est.npy"), "--align", "inverse"
    )
    assert report["results"][0]["errors"] == {"inverse": depth_errors(gt, est, align="inverse")}


def test_out_writes_the_json(capsys, tmp_path):
    gt = np.array([[0.1, 0.2], [0.3, 0.4]])
    np.savez(tmp_path / "pair.npz", gaze_gt=gt, gaze_est=gt + 0.1)
    out = tmp_path / "res" / "gaze.json"
    assert main(["metrics", "gaze", str(tmp_path / "pair.npz"), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["results"][0]["gaze_mse"] == gaze_mse(gt, gt + 0.1)
    assert capsys.readouterr().out.splitlines()[-1].endswith(f"wrote {out}")


# ---- errors -----------------------------------------------------------------------------------


def test_errors_exit_2_with_a_message(capsys, tmp_path):
    assert main(["metrics", "camera", str(tmp_path / "missing.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    np.savez(tmp_path / "pair.npz", a=np.zeros(3), b=np.zeros(3))
    assert main(["metrics", "depth", str(tmp_path / "pair.npz")]) == 2
    err = capsys.readouterr().err
    assert "none of the key pairs depth_gt/depth_est; gt/est" in err and "a, b" in err
    assert main(["metrics", "camera", "a.npy", "b.txt"]) == 2
    assert "not a mix" in capsys.readouterr().err
    bad = np.tile(np.eye(4), (5, 1, 1))
    bad[2, 0, 0] = np.nan
    np.savez(tmp_path / "cam.npz", gt=bad, est=np.tile(np.eye(4), (5, 1, 1)))
    assert main(["metrics", "camera", str(tmp_path / "cam.npz")]) == 2
    assert "T_world_camera_gt has non-finite" in capsys.readouterr().err


def test_custom_keys(capsys, tmp_path):
    gt = np.array([[0.1, 0.2], [0.3, 0.4]])
    np.savez(tmp_path / "p.npz", truth=gt, pred=gt + 0.2)
    report = _run_json(
        capsys, "gaze", str(tmp_path / "p.npz"), "--gt-key", "truth", "--est-key", "pred"
    )
    assert report["results"][0]["gaze_mse"] == pytest.approx(0.04)


# ---- readers ----------------------------------------------------------------------------------


def test_read_tum_round_trip_and_errors(tmp_path):
    rng = np.random.default_rng(1)
    T = np.tile(np.eye(4), (5, 1, 1))
    T[:, :3, :3] = Rotation.random(5, random_state=rng).as_matrix()
    T[:, :3, 3] = rng.normal(size=(5, 3))
    t = np.arange(5) * 0.1 + 100.0
    _write_tum(tmp_path / "a.txt", t, T)
    t_read, T_read = read_tum(tmp_path / "a.txt")
    np.testing.assert_array_equal(t_read, t)
    np.testing.assert_allclose(T_read, T, atol=1e-14)
    (tmp_path / "b.txt").write_text("0 1 2 3 0 0 0\n")
    with pytest.raises(ValueError, match=r"b.txt:1: expected 8 columns"):
        read_tum(tmp_path / "b.txt")
    (tmp_path / "c.txt").write_text("1 0 0 0 0 0 0 1\n0.5 0 0 0 0 0 0 1\n")
    with pytest.raises(ValueError, match="strictly increasing"):
        read_tum(tmp_path / "c.txt")
    (tmp_path / "d.txt").write_text("1 0 0 0 0 0 0 2\n")
    with pytest.raises(ValueError, match="norm 2"):
        read_tum(tmp_path / "d.txt")
    with pytest.raises(FileNotFoundError):
        read_tum(tmp_path / "missing.txt")


def test_associate_is_one_to_one_and_respects_max_diff():
    t_gt = np.array([0.0, 1.0, 2.0, 3.0])
    t_est = np.array([0.004, 0.9, 0.995, 2.2, 3.0])
    i_gt, i_est = associate_timestamps(t_gt, t_est, max_diff_s=0.01)
    assert i_gt.tolist() == [0, 1, 3] and i_est.tolist() == [0, 2, 4]
    i_gt, i_est = associate_timestamps(t_gt, t_est, max_diff_s=0.25)
    assert i_gt.tolist() == [0, 1, 2, 3] and i_est.tolist() == [0, 2, 3, 4]
    with pytest.raises(ValueError, match="no estimate timestamp lies within 0.001 s"):
        associate_timestamps(t_gt, t_est + 0.5, max_diff_s=0.001)


def test_relative_to_first():
    T = np.tile(np.eye(4), (3, 1, 1))
    T[:, :3, :3] = Rotation.from_rotvec([[0, 0, 0.3], [0.1, 0, 0], [0, 0.2, 0]]).as_matrix()
    T[:, :3, 3] = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    C = relative_to_first(T)
    np.testing.assert_allclose(C[0], np.eye(4), atol=1e-15)
    np.testing.assert_allclose(T[0] @ C, T, atol=1e-14)
