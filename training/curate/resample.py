"""Resampling by timestamp: SLERP + linear poses, linear gaze, nearest video frames, gap checks.

All times are int64 nanoseconds. A grid point that equals a sample time takes that sample
exactly; otherwise it is interpolated between the two bracketing samples (the sample before and
the sample after), never extrapolated.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

NS_PER_S = 1_000_000_000


def grid_ns(t0_ns: int, count: int, rate_hz: int) -> np.ndarray:
    """``t0 + round(k * 1e9 / rate)`` for k = 0..count-1, exact integer rounding. (count,) int64."""
    if rate_hz <= 0 or count <= 0:
        raise ValueError(f"grid_ns: rate_hz and count must be > 0, got {rate_hz}, {count}")
    k = np.arange(count, dtype=np.int64)
    return int(t0_ns) + (2 * k * NS_PER_S + rate_hz) // (2 * rate_hz)


def bracket(ts_ns: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, u): bracketing sample indices and the weight of i1, for grid times inside the
    track. Exact hits give i0 == i1, u == 0. ValueError if a grid time is outside the track."""
    if grid.size and (grid[0] < ts_ns[0] or grid[-1] > ts_ns[-1]):
        raise ValueError(
            f"bracket: grid [{int(grid[0])}, {int(grid[-1])}] ns is outside the "
            f"track [{int(ts_ns[0])}, {int(ts_ns[-1])}] ns"
        )
    i1 = np.searchsorted(ts_ns, grid, side="left")
    exact = ts_ns[i1] == grid
    i0 = np.where(exact, i1, i1 - 1)
    span = (ts_ns[i1] - ts_ns[i0]).astype(np.float64)
    u = np.where(exact, 0.0, (grid - ts_ns[i0]).astype(np.float64) / np.where(exact, 1.0, span))
    return i0, i1, u


def interpolate_poses(ts_ns: np.ndarray, T: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Poses at grid times: positions linear, rotations SLERP (shortest arc) between brackets.

    Shape (N,) , (N, 4, 4), (G,) -> (G, 4, 4).
    """
    i0, i1, u = bracket(ts_ns, grid)
    R0 = Rotation.from_matrix(T[i0, :3, :3])
    R1 = Rotation.from_matrix(T[i1, :3, :3])
    rel = (R0.inv() * R1).as_rotvec()  # (G, 3), angle <= pi: the shortest arc
    out = np.tile(np.eye(4), (len(grid), 1, 1))  # (G, 4, 4)
    out[:, :3, :3] = (R0 * Rotation.from_rotvec(rel * u[:, None])).as_matrix()
    # Exact hits keep the stored rotation bit for bit.
    hit = i0 == i1
    out[hit, :3, :3] = T[i0[hit], :3, :3]
    p0, p1 = T[i0, :3, 3], T[i1, :3, 3]
    out[:, :3, 3] = p0 + u[:, None] * (p1 - p0)
    return out


def interpolate_linear(
    ts_ns: np.ndarray, values: np.ndarray, valid: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of (N, D) values with a validity mask.

    A grid value is valid when the sample it hits exactly is valid, or when both bracketing
    samples are valid. Invalid outputs are NaN. Returns ((G, D) float64, (G,) bool).
    """
    i0, i1, u = bracket(ts_ns, grid)
    ok = valid[i0] & valid[i1]
    v0, v1 = values[i0], values[i1]
    with np.errstate(invalid="ignore"):
        out = v0 + u[:, None] * (v1 - v0)
    out[i0 == i1] = v0[i0 == i1]
    out[~ok] = np.nan
    return out, ok


def nearest_frames(frame_ts_ns: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Index of the frame nearest each grid time; a tie goes to the earlier frame. (G,) int64."""
    i1 = np.clip(np.searchsorted(frame_ts_ns, grid, side="left"), 0, len(frame_ts_ns) - 1)
    i0 = np.clip(i1 - 1, 0, None)
    d0 = np.abs(grid - frame_ts_ns[i0])
    d1 = np.abs(frame_ts_ns[i1] - grid)
    return np.where(d0 <= d1, i0, i1).astype(np.int64)


def max_bracket_gap_ns(ts_ns: np.ndarray, start_ns: int, end_ns: int) -> int | None:
    """Largest spacing between consecutive samples from the one at/before ``start`` to the one
    at/after ``end`` (the samples an interpolation over the span uses). None when the track does
    not cover ``[start, end]``."""
    if len(ts_ns) == 0 or start_ns < ts_ns[0] or end_ns > ts_ns[-1]:
        return None
    a = int(np.searchsorted(ts_ns, start_ns, side="right")) - 1
    b = int(np.searchsorted(ts_ns, end_ns, side="left"))
    if b <= a:
        return 0
    return int(np.diff(ts_ns[a : b + 1]).max())
