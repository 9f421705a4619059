"""TUM RGB-D trajectory files (``t tx ty tz qx qy qz qw``): camera-to-world camera poses.

TUM ground truth is the colour camera's optical-frame pose (x right, y down, z forward =
OpenCV), and SLAM estimates in this format (ORB-SLAM2, RGBD-SLAM) are camera poses too, so the
default convention is ``opencv``. Timestamps are decimal seconds (Unix time), converted exactly to
ns. Rows with non-finite values or non-unit quaternions are dropped and counted (the curation's
gap check then drops windows across them); of rows sharing a timestamp the last is kept and the
others are counted; a timestamp going backwards is an error naming the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from egom2p_edge.training.curate.conventions import check_conventions, to_opencv
from egom2p_edge.training.curate.geometry import (
    poses_from_translation_quaternion,
    unit_quaternion_rows,
)
from egom2p_edge.training.sources.tables import finite_rows, ordered_rows, read_table
from egom2p_edge.training.sources.types import PoseTrack, Recording

TUM_COLUMNS = ["timestamp", "tx", "ty", "tz", "qx", "qy", "qz", "qw"]
TUM_LICENCE = "TUM RGB-D: CC BY 4.0"


def read_tum_poses(
    path: str | Path,
    conventions: Sequence[str] | str = ("opencv",),
    T_body_camera: np.ndarray | None = None,
) -> tuple[PoseTrack, dict[str, int]]:
    """Read a TUM-format trajectory. Returns (track, counts of dropped rows by reason).

    ``conventions`` convert the stored poses to OpenCV (applied to the world-from-body poses);
    ``T_body_camera`` (default identity) is the body-to-camera extrinsic (e.g. EuRoC estimates).
    """
    names = check_conventions(conventions)
    kinds = {"timestamp": "s_to_ns", **{c: "float" for c in TUM_COLUMNS[1:]}}
    table = read_table(path, kinds, delimiter=None, header=False, names=TUM_COLUMNS)
    c = table.columns
    t = np.stack([c["tx"], c["ty"], c["tz"]], axis=1)  # (N, 3)
    q = np.stack([c["qx"], c["qy"], c["qz"], c["qw"]], axis=1)  # (N, 4)
    good = finite_rows(table, TUM_COLUMNS[1:]) & unit_quaternion_rows(q)
    ts = c["timestamp"]
    keep_order, dup = ordered_rows(table, ts, "pose")
    keep = good & keep_order
    T = to_opencv(poses_from_translation_quaternion(t[keep], q[keep]), names)
    counts = {"pose_rows_bad_dropped": int((~good).sum()), "pose_rows_duplicate_dropped": dup}
    track = PoseTrack.fixed(ts[keep], T, T_body_camera, conventions=names)
    return track, counts


def load_tum(
    path: str | Path, name: str | None = None, conventions: Sequence[str] | str = ("opencv",)
) -> Recording:
    """A camera-only recording from a TUM trajectory file."""
    path = Path(path)
    track, counts = read_tum_poses(path, conventions)
    return Recording(
        name=name or path.stem,
        source="tum",
        licence=TUM_LICENCE,
        poses=track,
        meta={"file": path.name, "pose_frame": "TUM colour camera optical frame (OpenCV)"},
        loader_counts=counts,
    )
