"""Aria MPS outputs read without projectaria-tools: trajectories, online calibration, eye gaze.

* ``closed_loop_trajectory.csv`` (and ADT's ``aria_trajectory.csv``): ``T_world_device`` at
  ``tracking_timestamp_us`` (device clock). Only pose columns are read: HOT3D's trimmed files
  carry garbage velocities (~1e18).
* ``online_calibration.jsonl``: one JSON record per line; the ``camera-rgb`` entry's
  ``T_Device_Camera`` (``Translation``, ``UnitQuaternion`` = ``[w, [x, y, z]]``). The camera
  extrinsic for the upright RGB image is ``T_Device_Camera @ CW90`` (see
  ``curate/conventions.py``), as in the metric fixtures.
* Eye gaze CSVs: ``yaw_rads_cpf``, ``pitch_rads_cpf`` (+ optional ``depth_m``) in the Central
  Pupil Frame, or the vergence format (``left_yaw_rads_cpf``, ``right_yaw_rads_cpf``,
  ``pitch_rads_cpf``, eye positions), combined by ``aria_gaze``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from egom2p_edge.training.curate.conventions import CW90
from egom2p_edge.training.curate.geometry import (
    poses_from_translation_quaternion,
    unit_quaternion_rows,
)
from egom2p_edge.training.sources.tables import finite_rows, ordered_rows, read_table
from egom2p_edge.training.sources.types import PoseTrack

US_TO_NS = 1000
POSE_COLUMNS = [
    "tx_world_device",
    "ty_world_device",
    "tz_world_device",
    "qx_world_device",
    "qy_world_device",
    "qz_world_device",
    "qw_world_device",
]


def read_mps_trajectory(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """``(timestamps_ns (N,), T_world_device (N, 4, 4), counts)`` from an MPS trajectory CSV.

    Rows with non-finite poses or non-unit quaternions are dropped and counted.
    """
    kinds = {"tracking_timestamp_us": "int", **{c: "float" for c in POSE_COLUMNS}}
    table = read_table(path, kinds)
    c = table.columns
    ts = c["tracking_timestamp_us"] * US_TO_NS
    keep_order, dup = ordered_rows(table, ts, "tracking")
    t = np.stack([c[n] for n in POSE_COLUMNS[:3]], axis=1)  # (N, 3)
    q = np.stack([c[n] for n in POSE_COLUMNS[3:]], axis=1)  # (N, 4) x, y, z, w
    good = finite_rows(table, POSE_COLUMNS) & unit_quaternion_rows(q)
    keep = good & keep_order
    T = poses_from_translation_quaternion(t[keep], q[keep])
    counts = {"pose_rows_bad_dropped": int((~good).sum()), "pose_rows_duplicate_dropped": dup}
    return ts[keep], T, counts


def _pose_from_calib(entry: dict, where: str) -> np.ndarray:
    try:
        t = np.asarray(entry["Translation"], dtype=np.float64)
        w, xyz = entry["UnitQuaternion"]
        q = np.array([*xyz, w], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{where}: expected Translation [3] and UnitQuaternion [w, [x, y, z]] ({exc})"
        ) from None
    if t.shape != (3,) or not unit_quaternion_rows(q[None])[0] or not np.isfinite(t).all():
        raise ValueError(f"{where}: bad translation {t.tolist()} or quaternion {q.tolist()}")
    T = np.eye(4)
    T[:3, :3] = Rotation.from_quat(q).as_matrix()
    T[:3, 3] = t
    return T


@dataclass(frozen=True)
class OnlineCalibration:
    """Per-record camera extrinsics. timestamps_ns (M,), T_device_camera (M, 4, 4), raw JSON of
    the camera entries (for the projection model, read by projectaria-tools)."""

    timestamps_ns: np.ndarray
    T_device_camera: np.ndarray
    label: str


def read_online_calibration(path: str | Path, label: str = "camera-rgb") -> OnlineCalibration:
    """The ``label`` camera's ``T_Device_Camera`` in every record of online_calibration.jsonl."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    ts, poses = [], []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        where = f"{path}:{i + 1}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not valid JSON ({exc}); truncated file?") from None
        cams = [c for c in rec.get("CameraCalibrations", []) if c.get("Label") == label]
        if "tracking_timestamp_us" not in rec or len(cams) != 1:
            raise ValueError(
                f"{where}: expected tracking_timestamp_us and one {label!r} camera "
                f"calibration, found {len(cams)}"
            )
        ts.append(int(rec["tracking_timestamp_us"]) * US_TO_NS)
        poses.append(_pose_from_calib(cams[0].get("T_Device_Camera", {}), where))
    if not ts:
        raise ValueError(f"{path}: no calibration records")
    ts_arr = np.asarray(ts, dtype=np.int64)
    if np.any(np.diff(ts_arr) <= 0):
        raise ValueError(f"{path}: calibration timestamps are not strictly increasing")
    return OnlineCalibration(ts_arr, np.stack(poses), label)


def mps_pose_track(
    trajectory_csv: str | Path, online_calibration_jsonl: str | Path, upright: bool = True
) -> tuple[PoseTrack, dict[str, int]]:
    """RGB-camera pose track: ``T_world_device`` with the time-varying ``T_device_camera-rgb``
    (``@ CW90`` for the upright image)."""
    ts, T, counts = read_mps_trajectory(trajectory_csv)
    calib = read_online_calibration(online_calibration_jsonl)
    X = calib.T_device_camera @ CW90 if upright else calib.T_device_camera
    conv = ("aria_T_world_device", "T_device_camera-rgb(online)") + (
        ("aria_cw90",) if upright else ()
    )
    return PoseTrack(ts, T, X, calib.timestamps_ns, conv), counts


@dataclass(frozen=True)
class EyeGazeCpf:
    """MPS eye gaze in the CPF frame. timestamps_ns (N,), yaw/pitch (N,) radians, depth_m (N,)
    (NaN when absent), and for the vergence format left/right yaw and eye positions."""

    timestamps_ns: np.ndarray
    yaw_rads: np.ndarray
    pitch_rads: np.ndarray
    depth_m: np.ndarray
    left_yaw_rads: np.ndarray | None = None
    right_yaw_rads: np.ndarray | None = None
    counts: dict | None = None


def read_mps_eye_gaze(path: str | Path) -> EyeGazeCpf:
    """Read an MPS eye-gaze CSV (general or vergence format). Non-finite angles stay NaN (the
    projection marks them invalid); a timestamp going backwards raises."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    head = path.read_text(encoding="utf-8").splitlines()[:1]
    header = [h.strip() for h in head[0].split(",")] if head else []
    vergence = "left_yaw_rads_cpf" in header
    angle_cols = (
        ["left_yaw_rads_cpf", "right_yaw_rads_cpf", "pitch_rads_cpf"]
        if vergence
        else ["yaw_rads_cpf", "pitch_rads_cpf"]
    )
    kinds = {"tracking_timestamp_us": "int", **{c: "float" for c in angle_cols}}
    if "depth_m" in header:
        kinds["depth_m"] = "float"
    table = read_table(path, kinds)
    c = table.columns
    ts = c["tracking_timestamp_us"] * US_TO_NS
    keep, dup = ordered_rows(table, ts, "gaze")
    depth = c["depth_m"] if "depth_m" in c else np.full(len(ts), np.nan)
    depth = np.where(depth > 0, depth, np.nan)  # 0 or empty: unknown
    counts = {"gaze_rows_duplicate_dropped": dup}
    if vergence:
        from egom2p_edge.training.sources.aria_gaze import combine_vergence_yaw

        yaw = combine_vergence_yaw(c["left_yaw_rads_cpf"], c["right_yaw_rads_cpf"])
        return EyeGazeCpf(
            ts[keep],
            yaw[keep],
            c["pitch_rads_cpf"][keep],
            depth[keep],
            c["left_yaw_rads_cpf"][keep],
            c["right_yaw_rads_cpf"][keep],
            counts,
        )
    return EyeGazeCpf(
        ts[keep], c["yaw_rads_cpf"][keep], c["pitch_rads_cpf"][keep], depth[keep], counts=counts
    )
