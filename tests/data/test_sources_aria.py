"""Aria MPS and VRS loaders on the real projectaria_tools samples.

The recordings hold only seconds of poses/gaze and 3 RGB frames, so these tests check poses
(against the metric fixture windows), calibration, gravity (the upright turn), frames and gaze
projection rather than full 16-frame clips.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from egom2p_edge.training.curate.conventions import CW90
from egom2p_edge.training.curate.pipeline import CurationConfig, curate_recording, curate_window
from egom2p_edge.training.curate.report import CurationReport
from egom2p_edge.training.sources.aria import load_aria_mps, load_aria_vrs
from egom2p_edge.training.sources.aria_gaze import combine_vergence_yaw
from egom2p_edge.training.sources.aria_mps import (
    read_mps_eye_gaze,
    read_mps_trajectory,
    read_online_calibration,
)
from egom2p_edge.training.sources.tables import seconds_text_to_ns

ARIA = ("projectaria_tools", "data", "gen1")
ARIA_TOL = 1e-9  # same interpolation, times ~150 s (float64 resolution 3e-14 s); measured 4e-10


def _pat():
    try:
        from projectaria_tools import core
    except ImportError as exc:  # absent, or installed without its native library
        pytest.skip(f"projectaria-tools not importable: {exc}")
    return core


@pytest.fixture(scope="module")
def mps_dir(real_dir):
    return real_dir.joinpath(*ARIA, "mps_sample")


@pytest.fixture(scope="module")
def adt_dir(real_dir):
    return real_dir.joinpath(*ARIA, "aria_digital_twin_test_data")


@pytest.mark.real_data
def test_mps_windows_match_metric_fixtures(mps_dir, metrics_fixture_dir):
    rec = load_aria_mps(mps_dir, gaze="skip")
    meta = json.loads((metrics_fixture_dir / "camera" / "camera_metrics.json").read_text())
    windows = [w for w in meta["windows"] if w["source"] == "aria_mps_sample"]
    assert len(windows) == 19
    for w in windows:
        clip = curate_window(rec, seconds_text_to_ns(repr(w["t_start"])), CurationConfig())
        # the online-calibration record nearest the window middle, as in the fixtures
        calib_us = w["generator"]["T_device_camera_rgb_calib_tracking_us"]
        assert clip.meta["extrinsic_timestamp_ns"] == calib_us * 1000
        ref = np.load(metrics_fixture_dir / w["file"])
        np.testing.assert_allclose(clip.T_first_camera, ref["gt_c2w"], atol=ARIA_TOL, rtol=0)


@pytest.mark.real_data
def test_mps_curation_every_half_second_gives_the_fixture_starts(mps_dir, metrics_fixture_dir):
    report = CurationReport()
    clips = list(
        curate_recording(load_aria_mps(mps_dir, gaze="skip"), CurationConfig(stride_s=0.5), report)
    )
    meta = json.loads((metrics_fixture_dir / "camera" / "camera_metrics.json").read_text())
    starts = sorted(
        seconds_text_to_ns(repr(w["t_start"]))
        for w in meta["windows"]
        if w["source"] == "aria_mps_sample"
    )
    assert [c.meta["t_start_ns"] for c in clips] == starts
    assert report.windows_dropped == {}


@pytest.mark.real_data
def test_upright_camera_y_axis_points_down(mps_dir):
    rec = load_aria_mps(mps_dir, gaze="skip")
    T = rec.poses.T_world_body @ rec.poses.T_body_camera[0]
    down_cam = np.einsum("nji,j->ni", T[:, :3, :3], [0.0, 0.0, -1.0])  # MPS gravity is -z
    assert down_cam[:, 1].min() > 0.75  # image y (down) follows gravity while walking
    raw = rec.poses.T_world_body @ (rec.poses.T_body_camera[0] @ np.linalg.inv(CW90))
    assert np.abs(np.einsum("nji,j->ni", raw[:, :3, :3], [0, 0, -1.0])[:, 1]).max() < 0.5


@pytest.mark.real_data
def test_trajectory_and_calibration_parsing(mps_dir):
    ts, T, counts = read_mps_trajectory(mps_dir / "trajectory" / "closed_loop_trajectory.csv")
    assert len(ts) == 11517 and counts["pose_rows_bad_dropped"] == 0
    assert 11.3 < (ts[-1] - ts[0]) / 1e9 < 11.5
    calib = read_online_calibration(mps_dir / "trajectory" / "online_calibration.jsonl")
    assert len(calib.timestamps_ns) == 122
    core = _pat()
    ref = core.mps.read_online_calibration(str(mps_dir / "trajectory" / "online_calibration.jsonl"))
    for k in (0, 60, 121):
        want = ref[k].get_camera_calib("camera-rgb").get_transform_device_camera().to_matrix()
        np.testing.assert_allclose(calib.T_device_camera[k], want, atol=1e-12)


@pytest.mark.real_data
def test_mps_gaze_projection_matches_rotated_calibration(mps_dir):
    core = _pat()
    rec = load_aria_mps(mps_dir, gaze="require")
    g = rec.gaze
    assert len(g.timestamps_ns) == 123 and g.valid.all()
    assert np.all((g.xy_norm > 0) & (g.xy_norm < 1))
    # independent path: per sample, the nearest calibration record rotated by
    # projectaria-tools, projecting the point in the CW90-turned camera
    from egom2p_edge.training.sources.aria_gaze import NOMINAL_T_DEVICE_CPF, gaze_points_cpf

    gaze = read_mps_eye_gaze(mps_dir / "eye_gaze" / "generalized_eye_gaze.csv")
    jsonl = mps_dir / "trajectory" / "online_calibration.jsonl"
    cals = core.mps.read_online_calibration(str(jsonl))
    cal_ts = read_online_calibration(jsonl).timestamps_ns
    pts = gaze_points_cpf(gaze.yaw_rads, gaze.pitch_rads, gaze.depth_m)
    for k in range(0, 123, 11):
        cal = cals[int(np.argmin(np.abs(cal_ts - gaze.timestamps_ns[k])))]
        rot = core.calibration.rotate_camera_calib_cw90deg(cal.get_camera_calib("camera-rgb"))
        T = np.linalg.inv(rot.get_transform_device_camera().to_matrix()) @ NOMINAL_T_DEVICE_CPF
        uv = np.asarray(rot.project(T[:3, :3] @ pts[k] + T[:3, 3])).ravel()
        size = int(rot.get_image_size()[0])
        assert size == 2880  # the MPS sample was recorded at full RGB resolution
        np.testing.assert_allclose(g.xy_norm[k], (uv + 0.5) / size, atol=1e-12)


@pytest.mark.real_data
def test_adt_vrs_frames_calibration_poses_gaze_depth(adt_dir):
    core = _pat()
    rec = load_aria_vrs(
        adt_dir / "video.vrs",
        adt_dir / "aria_trajectory.csv",
        adt_dir / "eyegaze.csv",
        adt_dir / "depth_images.vrs",
    )
    assert rec.tracks == ("cam", "gaze", "rgb", "depth")
    v = rec.video
    assert len(v.timestamps_ns) == 3 and (v.height, v.width) == (1408, 1408)
    frames = v.read([0, 2])
    assert frames[0].shape == (1408, 1408, 3) and frames[0].dtype == np.uint8
    provider = core.data_provider.create_vrs_data_provider(str(adt_dir / "video.vrs"))
    sid = provider.get_stream_id_from_label("camera-rgb")
    raw = provider.get_image_data_by_index(sid, 2)[0].to_numpy_array()
    np.testing.assert_array_equal(frames[1], np.rot90(raw, k=-1))
    assert rec.meta["rgb_model"].endswith("FISHEYE624")
    # poses: 6 samples, the upright camera's y axis follows ADT gravity (-y world)
    T = rec.poses.T_world_body @ rec.poses.T_body_camera[0]
    assert np.einsum("nji,j->ni", T[:, :3, :3], [0.0, -1.0, 0.0])[:, 1].min() > 0.7
    # gaze equals projectaria-tools' own reprojection onto the upright image
    calib = provider.get_device_calibration()
    rot = core.calibration.rotate_camera_calib_cw90deg(calib.get_camera_calib("camera-rgb"))
    eyegaze = core.mps.read_eyegaze(str(adt_dir / "eyegaze.csv"))
    from projectaria_tools.core.mps.utils import get_gaze_vector_reprojection

    for k, eg in enumerate(eyegaze):
        depth = eg.depth if eg.depth > 0 else 1.0
        uv = get_gaze_vector_reprojection(eg, "camera-rgb", calib, rot, depth, make_upright=True)
        np.testing.assert_allclose(rec.gaze.xy_norm[k], (np.ravel(uv) + 0.5) / 1408, atol=1e-9)
    # depth: metres, 0 = invalid, upright like the RGB
    (d,) = rec.depth.read([1])
    assert d.dtype == np.float32 and d.shape == (1408, 1408)
    assert 0.1 < (d == 0).mean() < 0.2 and 0.5 < d[d > 0].max() < 10


@pytest.mark.real_data
def test_adt_depth_frames_survive_cleaning(adt_dir):
    _pat()
    from egom2p_edge.training.curate.depth import DepthCleaning, clean_depth_frame

    rec = load_aria_vrs(adt_dir / "video.vrs", depth_vrs=adt_dir / "depth_images.vrs")
    (d,) = rec.depth.read([0])
    out, valid, counts = clean_depth_frame(d, 64, DepthCleaning())
    assert valid[24:40, 24:40].all()  # the fisheye centre is valid
    assert not valid[0, 0]  # the black corner is not
    centre = d[700:708, 700:708]
    assert abs(out[32, 32] - centre[centre > 0].mean()) < 0.1


def test_vergence_combination_matches_projectaria(real_dir):
    core = _pat()
    path = real_dir.joinpath(
        "hot3d",
        "hot3d",
        "data_loaders",
        "tests",
        "data_sample",
        "Aria",
        "P0003_c701bd11",
        "mps",
        "eye_gaze",
        "general_eye_gaze.csv",
    )
    if not path.is_file():
        pytest.skip("HOT3D sample absent")
    g = read_mps_eye_gaze(path)
    for k in range(len(g.timestamps_ns)):
        _, yaw, _ = core.mps.compute_depth_and_combined_gaze_direction(
            g.left_yaw_rads[k], g.right_yaw_rads[k], g.pitch_rads[k]
        )
        assert abs(yaw - g.yaw_rads[k]) < 1e-6  # projectaria works in float32
    assert combine_vergence_yaw(np.array([0.2]), np.array([0.2]))[0] == pytest.approx(0.2)


def test_corrupt_vrs(tmp_path):
    _pat()
    bad_vrs = tmp_path / "bad.vrs"
    bad_vrs.write_bytes(b"not a vrs file" * 100)
    with pytest.raises(ValueError, match="bad.vrs"):
        load_aria_vrs(bad_vrs)
    with pytest.raises(FileNotFoundError):
        load_aria_vrs(tmp_path / "missing.vrs")


def test_corrupt_mps_files(tmp_path):
    jsonl = tmp_path / "online_calibration.jsonl"
    jsonl.write_text('{"tracking_timestamp_us": 1, "CameraCalibrations": [\n')
    with pytest.raises(ValueError, match=r"online_calibration.jsonl:1: not valid JSON"):
        read_online_calibration(jsonl)
    traj = tmp_path / "closed_loop_trajectory.csv"
    traj.write_text("graph_uid,tracking_timestamp_us,tx_world_device\nx,1,0\n")
    with pytest.raises(ValueError, match="missing columns"):
        read_mps_trajectory(traj)
