"""HOT3D recordings (Aria headset): the sequence folder layout.

``<sequence>/metadata.json`` (``headset`` must be ``Aria``), ``headset_trajectory.csv`` (HOT3D
ground truth ``T_world_device``: ``timestamp[ns]``, ``t_wo_{x,y,z}[m]``, ``q_wo_{w,x,y,z}``, on
HOT3D's own clock), and ``mps/`` (``slam/closed_loop_trajectory.csv``,
``slam/online_calibration.jsonl``, ``eye_gaze/*.csv``, all on the device tracking clock).
The recording uses the MPS poses and gaze (one clock, the RGB extrinsic from the online
calibration, ``@ CW90`` for the upright image; see ``aria``); ``read_headset_trajectory``
reads the ground-truth file. HOT3D poses are OpenCV-convention camera poses already (EgoM2P
applies no conversion). The trimmed MPS files' velocity columns are garbage and are not read.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from egom2p_edge.training.curate.geometry import (
    poses_from_translation_quaternion,
    unit_quaternion_rows,
)
from egom2p_edge.training.sources.aria import load_aria_mps
from egom2p_edge.training.sources.tables import finite_rows, ordered_rows, read_table
from egom2p_edge.training.sources.types import Recording

HOT3D_LICENCE = "HOT3D (facebookresearch/hot3d, Apache-2.0 code; HOT3D licence agreement)"
T_COLS = ["t_wo_x[m]", "t_wo_y[m]", "t_wo_z[m]"]
Q_COLS_WXYZ = ["q_wo_w", "q_wo_x", "q_wo_y", "q_wo_z"]


def read_headset_trajectory(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """``(timestamps_ns (N,), T_world_device (N, 4, 4), counts)`` of ``headset_trajectory.csv``."""
    table = read_table(path, {"timestamp[ns]": "int", **{c: "float" for c in T_COLS + Q_COLS_WXYZ}})
    c = table.columns
    ts = c["timestamp[ns]"]
    keep_order, dup = ordered_rows(table, ts, "headset")
    t = np.stack([c[n] for n in T_COLS], axis=1)  # (N, 3)
    q = np.stack([c["q_wo_x"], c["q_wo_y"], c["q_wo_z"], c["q_wo_w"]], axis=1)  # (N, 4)
    good = finite_rows(table, T_COLS + Q_COLS_WXYZ) & unit_quaternion_rows(q)
    keep = keep_order & good
    counts = {"pose_rows_bad_dropped": int((~good).sum()), "pose_rows_duplicate_dropped": dup}
    return ts[keep], poses_from_translation_quaternion(t[keep], q[keep]), counts


def load_hot3d(sequence: str | Path, gaze: str = "auto") -> Recording:
    """A HOT3D Aria sequence folder -> recording with MPS camera poses and gaze."""
    sequence = Path(sequence)
    meta_path = sequence / "metadata.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{sequence}: metadata.json not found (not a HOT3D sequence?)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{meta_path}: not valid JSON ({exc})") from None
    if meta.get("headset") != "Aria":
        raise ValueError(
            f"{meta_path}: headset {meta.get('headset')!r} is not supported "
            "(expected 'Aria'; Quest 3 sequences have no RGB camera)"
        )
    rec = load_aria_mps(sequence / "mps", name=sequence.name, gaze=gaze, licence=HOT3D_LICENCE)
    rec.source = "hot3d"
    rec.meta.update(participant=meta.get("participant_id"), headset="Aria")
    return rec
