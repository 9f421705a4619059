"""What every loader returns: timestamped pose, gaze and frame tracks of one recording.

Loaders convert each source's conventions so curation is source-agnostic:

* ``PoseTrack``: poses of a *body* (device, rig, or the camera itself) in some world frame, plus
  the body-to-camera extrinsic of the camera whose image the clip uses (OpenCV axes, upright
  image). The camera pose at time t is ``T_world_body(t) @ T_body_camera``. The extrinsic may
  vary slowly over time (Aria online calibration): curation uses the one nearest the window
  middle, so a window is rigidly consistent.
* ``GazeTrack``: gaze already in the normalised square crop of the clip's frame (x right, y down,
  [0, 1] inside the crop), NaN rows where unknown, plus a validity mask.
* ``FrameTrack``: video or depth frames, decoded on demand by index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _check_ts(name: str, ts: np.ndarray) -> None:
    if not isinstance(ts, np.ndarray) or ts.ndim != 1 or ts.dtype != np.int64:
        raise ValueError(
            f"{name}: expected (N,) int64 nanoseconds, got "
            f"{getattr(ts, 'shape', None)} {getattr(ts, 'dtype', type(ts))}"
        )
    if ts.size > 1 and np.any(np.diff(ts) <= 0):
        k = int(np.argmax(np.diff(ts) <= 0))
        raise ValueError(
            f"{name}: timestamps must be strictly increasing; sample {k + 1} "
            f"({int(ts[k + 1])} ns) <= sample {k} ({int(ts[k])} ns)"
        )


@dataclass(frozen=True)
class PoseTrack:
    """Body poses and the body-to-camera extrinsic(s).

    timestamps_ns (N,) int64; T_world_body (N, 4, 4) float64; extrinsic_timestamps_ns (M,)
    int64 and T_body_camera (M, 4, 4) float64 (M = 1 for a fixed extrinsic); ``conventions``
    lists what the loader applied (for the clip's meta).
    """

    timestamps_ns: np.ndarray
    T_world_body: np.ndarray
    T_body_camera: np.ndarray
    extrinsic_timestamps_ns: np.ndarray
    conventions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_ts("PoseTrack.timestamps_ns", self.timestamps_ns)
        _check_ts("PoseTrack.extrinsic_timestamps_ns", self.extrinsic_timestamps_ns)
        n, m = len(self.timestamps_ns), len(self.extrinsic_timestamps_ns)
        for name, a, k in (
            ("T_world_body", self.T_world_body, n),
            ("T_body_camera", self.T_body_camera, m),
        ):
            if a.shape != (k, 4, 4) or a.dtype != np.float64 or not np.isfinite(a).all():
                raise ValueError(
                    f"PoseTrack.{name}: expected finite ({k}, 4, 4) float64, got "
                    f"{a.shape} {a.dtype}"
                )
        if m < 1:
            raise ValueError("PoseTrack: at least one T_body_camera is required")

    @staticmethod
    def fixed(
        timestamps_ns: np.ndarray,
        T_world_body: np.ndarray,
        T_body_camera: np.ndarray | None = None,
        conventions: tuple[str, ...] = (),
    ) -> PoseTrack:
        """A track with one constant extrinsic (identity when the poses are camera poses)."""
        X = np.eye(4) if T_body_camera is None else np.asarray(T_body_camera, np.float64)
        return PoseTrack(
            timestamps_ns, T_world_body, X[None].copy(), timestamps_ns[:1].copy(), conventions
        )


@dataclass(frozen=True)
class GazeTrack:
    """Gaze in the clip frame. timestamps_ns (N,) int64; xy_norm (N, 2) float64; valid (N,) bool.

    ``xy_norm`` is [0, 1] inside the square centre crop, x right, y down; invalid rows are NaN.
    ``masked`` counts samples the loader marked invalid, by reason.
    """

    timestamps_ns: np.ndarray
    xy_norm: np.ndarray
    valid: np.ndarray
    masked: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_ts("GazeTrack.timestamps_ns", self.timestamps_ns)
        n = len(self.timestamps_ns)
        if self.xy_norm.shape != (n, 2) or self.xy_norm.dtype != np.float64:
            raise ValueError(
                f"GazeTrack.xy_norm: expected ({n}, 2) float64, got "
                f"{self.xy_norm.shape} {self.xy_norm.dtype}"
            )
        if self.valid.shape != (n,) or self.valid.dtype != bool:
            raise ValueError(
                f"GazeTrack.valid: expected ({n},) bool, got {self.valid.shape} {self.valid.dtype}"
            )
        if not np.isfinite(self.xy_norm[self.valid]).all():
            raise ValueError("GazeTrack: rows marked valid must be finite")


@dataclass(frozen=True)
class FrameTrack:
    """Frames decoded on demand. timestamps_ns (F,) int64; ``read(indices)`` returns a list of
    frames: (H, W, 3) uint8 for RGB, (H, W) float32 metres (0 = unknown) for depth.

    ``crop_side`` overrides the square crop side (None: min(H, W)); gaze of the same recording
    is normalised with the same crop.
    """

    timestamps_ns: np.ndarray
    height: int
    width: int
    read: Callable[[list[int]], list[np.ndarray]]
    kind: str = "rgb"
    crop_side: int | None = None

    def __post_init__(self) -> None:
        _check_ts(f"FrameTrack({self.kind}).timestamps_ns", self.timestamps_ns)
        if self.kind not in ("rgb", "depth"):
            raise ValueError(f"FrameTrack.kind: expected 'rgb' or 'depth', got {self.kind!r}")


@dataclass
class Recording:
    """One recording: any subset of tracks, all on the same clock (nanoseconds)."""

    name: str
    source: str
    licence: str
    poses: PoseTrack | None = None
    gaze: GazeTrack | None = None
    video: FrameTrack | None = None
    depth: FrameTrack | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    loader_counts: dict[str, int] = field(default_factory=dict)  # rows dropped/masked on load

    @property
    def tracks(self) -> tuple[str, ...]:
        names = (
            ("cam", self.poses),
            ("gaze", self.gaze),
            ("rgb", self.video),
            ("depth", self.depth),
        )
        return tuple(n for n, t in names if t is not None)
