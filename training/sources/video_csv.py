"""Generic recording: a video file plus a CSV of timestamped gaze and/or camera poses.

CSV columns (header line required, comma separated, any order, extra columns ignored):

* time (one of): ``timestamp_ns`` (integer ns) or ``timestamp_s`` (decimal seconds, exact);
  the same clock as the video's ``time_offset_ns + pts``.
* gaze (optional, one pair): ``gaze_x_px, gaze_y_px`` (pixels of the video frame, origin top
  left, no half-pixel offset) or ``gaze_x_norm, gaze_y_norm`` ([0, 1] of the full frame; origin
  ``top-left`` or ``bottom-left`` by argument); optional ``gaze_valid`` (0/1).
  Non-finite gaze values are masked and counted.
* poses (optional): ``tx, ty, tz, qx, qy, qz, qw``, or a row-major 4x4 matrix ``m00 .. m33``
  (e.g. HoloLens poses, with ``hololens_row_vector`` among the conventions), camera-to-world in
  metres, converted with the given conventions (``curate.conventions``; default ``opencv``).
  Rows with non-finite values, non-unit quaternions or non-rigid matrices are dropped and
  counted.

Timestamps must increase (a row going backwards is an error naming its line; rows sharing a
timestamp keep the last).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from egom2p_edge.preprocess import gaze_px_to_crop_norm
from egom2p_edge.training.curate.conventions import check_conventions, to_opencv
from egom2p_edge.training.curate.geometry import (
    poses_from_translation_quaternion,
    rigid_rows,
    unit_quaternion_rows,
)
from egom2p_edge.training.sources.tables import finite_rows, ordered_rows, read_table
from egom2p_edge.training.sources.types import GazeTrack, PoseTrack, Recording
from egom2p_edge.training.sources.video import video_track

POSE_COLS = ["tx", "ty", "tz", "qx", "qy", "qz", "qw"]
MATRIX_COLS = [f"m{r}{c}" for r in range(4) for c in range(4)]  # row-major 4x4
GAZE_ORIGINS = ("top-left", "bottom-left")


def _header(path: Path) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: CSV not found")
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    return [h.strip() for h in first.split(",")]


def load_video_csv(
    video_path: str | Path,
    csv_path: str | Path,
    time_offset_ns: int = 0,
    conventions: Sequence[str] | str = ("opencv",),
    gaze_origin: str = "top-left",
    crop_side: int | None = None,
    name: str | None = None,
    licence: str = "unknown (user recording)",
) -> Recording:
    """A recording from a video and its CSV (see the module docstring)."""
    video_path, csv_path = Path(video_path), Path(csv_path)
    names = check_conventions(conventions)
    if gaze_origin not in GAZE_ORIGINS:
        raise ValueError(f"gaze_origin: expected one of {GAZE_ORIGINS}, got {gaze_origin!r}")
    header = _header(csv_path)
    if "timestamp_ns" in header:
        kinds = {"timestamp_ns": "int"}
    elif "timestamp_s" in header:
        kinds = {"timestamp_s": "s_to_ns"}
    else:
        raise ValueError(
            f"{csv_path}: missing column timestamp_ns or timestamp_s; the file has {header}"
        )
    gaze_cols = next(
        (
            p
            for p in (["gaze_x_px", "gaze_y_px"], ["gaze_x_norm", "gaze_y_norm"])
            if any(c in header for c in p)
        ),
        None,
    )
    has_quat = any(c in header for c in POSE_COLS)
    has_matrix = any(c in header for c in MATRIX_COLS)
    if has_quat and has_matrix:
        raise ValueError(f"{csv_path}: give poses either as tx..qw or as m00..m33, not both")
    pose_cols = POSE_COLS if has_quat else MATRIX_COLS if has_matrix else []
    if gaze_cols is None and not pose_cols:
        raise ValueError(
            f"{csv_path}: no gaze (gaze_x_px/gaze_y_px or gaze_x_norm/gaze_y_norm) "
            f"and no pose ({', '.join(POSE_COLS)} or m00..m33) columns; the file has {header}"
        )
    for c in (gaze_cols or []) + pose_cols:
        kinds[c] = "float"  # read_table names any missing one of these
    if gaze_cols and "gaze_valid" in header:
        kinds["gaze_valid"] = "float"
    table = read_table(csv_path, kinds)
    ts = table.columns[next(iter(kinds))]
    keep, dup = ordered_rows(table, ts, "row")
    video = video_track(video_path, time_offset_ns, crop_side)
    rec = Recording(
        name or video_path.stem,
        "video_csv",
        licence,
        video=video,
        meta={
            "video": video_path.name,
            "csv": csv_path.name,
            "frame_size": [video.width, video.height],
            "crop_side": crop_side,
        },
        loader_counts={"rows_duplicate_dropped": dup},
    )
    c = table.columns
    if gaze_cols:
        xy = np.stack([c[gaze_cols[0]], c[gaze_cols[1]]], axis=1)[keep]  # (N, 2)
        finite = np.isfinite(xy).all(axis=1)
        valid = finite.copy()
        if "gaze_valid" in c:
            valid &= c["gaze_valid"][keep] > 0
        if gaze_cols[0].endswith("_norm"):
            if gaze_origin == "bottom-left":
                xy[:, 1] = 1.0 - xy[:, 1]
            xy = xy * np.array([video.width, video.height], dtype=np.float64)
        xy = gaze_px_to_crop_norm(xy, video.height, video.width, crop_side=crop_side)
        xy[~valid] = np.nan
        rec.gaze = GazeTrack(
            ts[keep],
            xy,
            valid,
            {
                "gaze_nonfinite": int((~finite).sum()),
                "gaze_flagged_invalid": int((finite & ~valid).sum()),
            },
        )
        rec.meta["gaze_origin"] = gaze_origin
    if has_quat:
        t = np.stack([c[n] for n in POSE_COLS[:3]], axis=1)
        q = np.stack([c[n] for n in POSE_COLS[3:]], axis=1)
        good = finite_rows(table, POSE_COLS) & unit_quaternion_rows(q)
        sel = keep & good
        T = to_opencv(poses_from_translation_quaternion(t[sel], q[sel]), names)
        rec.poses = PoseTrack.fixed(ts[sel], T, conventions=names)
        rec.loader_counts["pose_rows_bad_dropped"] = int((keep & ~good).sum())
    elif has_matrix:
        M = np.stack([c[n] for n in MATRIX_COLS], axis=1).reshape(-1, 4, 4)  # (N, 4, 4)
        sel = keep & finite_rows(table, MATRIX_COLS)
        T = to_opencv(M[sel], names)
        rigid = rigid_rows(T)
        idx = np.flatnonzero(sel)[rigid]
        rec.poses = PoseTrack.fixed(ts[idx], T[rigid], conventions=names)
        rec.loader_counts["pose_rows_bad_dropped"] = int(keep.sum() - len(idx))
    return rec
