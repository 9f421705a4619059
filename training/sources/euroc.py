"""EuRoC MAV ground truth (``state_groundtruth_estimate0/data.csv``) and body-frame estimates.

The ground truth is the body (IMU) pose ``T_world_body`` at ns timestamps with columns
``p_RS_R_{x,y,z}``, ``q_RS_{w,x,y,z}``; the camera is reached with ``T_body_cam0`` from
``mav0/cam0/sensor.yaml`` (``T_BS``), the default here (identical for all EuRoC sequences). EuRoC
is not egocentric (a drone) and is used for trajectory checks only. Estimates in TUM format
(``V102.txt``) are body poses too: read them with ``read_tum_poses(path,
T_body_camera=T_BODY_CAM0)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from egom2p_edge.training.curate.geometry import (
    poses_from_translation_quaternion,
    unit_quaternion_rows,
)
from egom2p_edge.training.sources.tables import finite_rows, ordered_rows, read_table
from egom2p_edge.training.sources.types import PoseTrack, Recording

EUROC_LICENCE = "EuRoC MAV dataset (ETH ASL terms)"
# mav0/cam0/sensor.yaml T_BS (body/IMU -> cam0 optical frame), row-major
T_BODY_CAM0 = np.array(
    [
        [0.0148655429818, -0.999880929698, 0.00414029679422, -0.0216401454975],
        [0.999557249008, 0.0149672133247, 0.025715529948, -0.064676986768],
        [-0.0257744366974, 0.00375618835797, 0.999660727178, 0.00981073058949],
        [0.0, 0.0, 0.0, 1.0],
    ]
)
POS = ["p_RS_R_x [m]", "p_RS_R_y [m]", "p_RS_R_z [m]"]
QUAT_WXYZ = ["q_RS_w []", "q_RS_x []", "q_RS_y []", "q_RS_z []"]


def read_euroc_groundtruth(
    path: str | Path, T_body_camera: np.ndarray = T_BODY_CAM0
) -> tuple[PoseTrack, dict[str, int]]:
    """EuRoC ground-truth CSV -> cam0 pose track (body poses + fixed ``T_body_camera``)."""
    kinds = {"timestamp": "int", **{c: "float" for c in POS + QUAT_WXYZ}}
    table = read_table(path, kinds)
    c = table.columns
    ts = c["timestamp"]
    keep_order, dup = ordered_rows(table, ts, "pose")
    t = np.stack([c[n] for n in POS], axis=1)  # (N, 3)
    q = np.stack([c[QUAT_WXYZ[1]], c[QUAT_WXYZ[2]], c[QUAT_WXYZ[3]], c[QUAT_WXYZ[0]]], axis=1)
    good = finite_rows(table, POS + QUAT_WXYZ) & unit_quaternion_rows(q)
    keep = keep_order & good
    T = poses_from_translation_quaternion(t[keep], q[keep])
    track = PoseTrack.fixed(ts[keep], T, T_body_camera, ("euroc_body", "T_body_cam0"))
    return track, {"pose_rows_bad_dropped": int((~good).sum()), "pose_rows_duplicate_dropped": dup}


def load_euroc(path: str | Path, name: str | None = None) -> Recording:
    """A camera-only recording (cam0) from a EuRoC ground-truth CSV."""
    path = Path(path)
    track, counts = read_euroc_groundtruth(path)
    return Recording(
        name or path.stem,
        "euroc",
        EUROC_LICENCE,
        poses=track,
        meta={"pose_frame": "EuRoC cam0 optical frame (OpenCV)"},
        loader_counts=counts,
    )
