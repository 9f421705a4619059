"""The common types of every device: ``Frame``, the side channels ``GazeSample`` and
``PoseSample`` (same clock as the frames), ``SourceInfo`` and the ``FrameSource`` protocol.

A source yields frames with strictly increasing ``timestamp_ns`` (nanoseconds on the device's
clock, or the container's presentation clock for files). A source that meets a timestamp not
greater than the previous one raises ``TimestampOrderError`` naming both values instead of
yielding the frame: the streaming runtime rejects out-of-order frames anyway, and failing at the
source says which device produced them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "BaseFrameSource",
    "Frame",
    "FrameSource",
    "GazeSample",
    "PoseSample",
    "SourceInfo",
    "TimestampOrderError",
    "check_timestamp_ns",
]


class TimestampOrderError(ValueError):
    """A source met a timestamp that is not strictly greater than the previous one."""


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def check_timestamp_ns(value: object, what: str) -> int:
    """``value`` as a Python int (an int or numpy integer within int64; bool refused) or a
    ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what}: timestamp_ns must be an int (nanoseconds), got {value!r}")
    if not INT64_MIN <= int(value) <= INT64_MAX:
        raise ValueError(
            f"{what}: timestamp_ns {int(value)} does not fit in int64 (the runtime's and the "
            "bus's type); subtract an epoch offset first"
        )
    return int(value)


def _check_pose(T: object, what: str) -> np.ndarray:
    a = np.asarray(T, dtype=np.float64)
    if a.shape != (4, 4):
        raise ValueError(f"{what}: expected a (4, 4) homogeneous transform, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{what}: the transform has NaN or inf entries")
    return a


@dataclass(frozen=True)
class Frame:
    """One RGB frame. ``rgb``: Shape (H, W, 3) uint8, C-contiguous, upright. ``source``: the
    device or file it came from. ``meta``: per-frame extras (intrinsics, exposure, the device pose
    when the device sends one as ``meta["T_world_camera"]``, ...)."""

    rgb: np.ndarray
    timestamp_ns: int
    source: str
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        what = f"Frame from {self.source!r}"
        if not isinstance(self.rgb, np.ndarray):
            raise ValueError(f"{what}: rgb must be a numpy array, got {type(self.rgb).__name__}")
        if self.rgb.dtype != np.uint8 or self.rgb.ndim != 3 or self.rgb.shape[2] != 3:
            raise ValueError(
                f"{what}: rgb must be an (H, W, 3) uint8 array, got {self.rgb.dtype} "
                f"{self.rgb.shape}; convert with np.asarray(img, np.uint8)"
            )
        if self.rgb.shape[0] == 0 or self.rgb.shape[1] == 0:
            raise ValueError(f"{what}: rgb is empty, shape {self.rgb.shape}")
        if not self.rgb.flags.c_contiguous:
            object.__setattr__(self, "rgb", np.ascontiguousarray(self.rgb))
        object.__setattr__(self, "timestamp_ns", check_timestamp_ns(self.timestamp_ns, what))
        if not isinstance(self.source, str):
            raise ValueError(f"Frame: source must be a str, got {self.source!r}")
        if not isinstance(self.meta, dict):
            raise ValueError(f"{what}: meta must be a dict, got {type(self.meta).__name__}")

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])


@dataclass(frozen=True)
class GazeSample:
    """One eye-gaze sample on the frames' clock.

    Either (or both) of: ``gaze_xy_px`` (2,) float64, the gaze point in the pixels of the
    device's upright RGB frame (OpenCV: x right, y down, integer coordinates at pixel centres);
    or a ray ``origin_m`` (3,) and unit ``direction`` (3,) in the coordinate frame named by
    ``frame`` (e.g. ``"camera"``, ``"hl2_rig"``). ``valid`` False marks a blink or tracking loss
    (the values are then not meaningful).
    """

    timestamp_ns: int
    valid: bool
    gaze_xy_px: np.ndarray | None = None
    origin_m: np.ndarray | None = None
    direction: np.ndarray | None = None
    frame: str = "camera"
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        what = "GazeSample"
        object.__setattr__(self, "timestamp_ns", check_timestamp_ns(self.timestamp_ns, what))
        object.__setattr__(self, "valid", bool(self.valid))
        if self.gaze_xy_px is None and self.direction is None:
            raise ValueError(f"{what}: give gaze_xy_px or a ray (origin_m, direction), got none")
        for name, n in (("gaze_xy_px", 2), ("origin_m", 3), ("direction", 3)):
            v = getattr(self, name)
            if v is None:
                continue
            a = np.asarray(v, dtype=np.float64)
            if a.shape != (n,):
                raise ValueError(f"{what}: {name} must have shape ({n},), got {a.shape}")
            object.__setattr__(self, name, a)
        if (self.origin_m is None) != (self.direction is None):
            raise ValueError(f"{what}: a ray needs both origin_m and direction")


@dataclass(frozen=True)
class PoseSample:
    """One device pose on the frames' clock. ``T_world_device``: Shape (4, 4) float64, maps
    device coordinates to world (column vectors, translation in the last column). ``device``
    names the device frame (``"camera"``, ``"hl2_pv_camera"``, ``"hl2_head"``, ...)."""

    timestamp_ns: int
    T_world_device: np.ndarray
    valid: bool = True
    device: str = "camera"

    def __post_init__(self) -> None:
        what = "PoseSample"
        object.__setattr__(self, "timestamp_ns", check_timestamp_ns(self.timestamp_ns, what))
        object.__setattr__(
            self, "T_world_device", _check_pose(self.T_world_device, f"{what}.T_world_device")
        )
        object.__setattr__(self, "valid", bool(self.valid))


@dataclass(frozen=True)
class SourceInfo:
    """What a source knows before its first frame. ``width``/``height``: frame size in pixels
    (None when only the first frame tells); ``nominal_fps``: the advertised rate (None when
    unknown); ``device``: a human-readable device or file description."""

    width: int | None
    height: int | None
    nominal_fps: float | None
    device: str

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, np.integer)) or v <= 0):
                raise ValueError(f"SourceInfo.{name} must be a positive int or None, got {v!r}")
        if self.nominal_fps is not None and not self.nominal_fps > 0:
            raise ValueError(f"SourceInfo.nominal_fps must be > 0 or None, got {self.nominal_fps}")


@runtime_checkable
class FrameSource(Protocol):
    """What the runtime consumes: an iterable of ``Frame`` with ``info``, ``close()`` and a
    context manager (``with source: for frame in source: ...``)."""

    @property
    def info(self) -> SourceInfo: ...

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...

    def __enter__(self) -> FrameSource: ...

    def __exit__(self, *exc: object) -> None: ...


class BaseFrameSource:
    """Shared plumbing: the context manager, ``close()`` and the timestamp-order check.

    Subclasses implement ``_frames()`` (a generator of Frame) and ``_close()``; ``__iter__``
    checks the order of what ``_frames()`` yields.
    """

    def __init__(self, info: SourceInfo) -> None:
        self._info = info
        self._closed = False
        self._last_timestamp_ns: int | None = None

    @property
    def info(self) -> SourceInfo:
        return self._info

    @property
    def closed(self) -> bool:
        return self._closed

    def _frames(self) -> Iterator[Frame]:
        raise NotImplementedError

    def _close(self) -> None:
        """Release the device or file (called once)."""

    def _check_order(self, timestamp_ns: int) -> None:
        """Raise TimestampOrderError unless ``timestamp_ns`` is after the previous frame's."""
        last = self._last_timestamp_ns
        if last is not None and timestamp_ns <= last:
            raise TimestampOrderError(
                f"{self._info.device}: frame timestamp_ns {timestamp_ns} is not after the "
                f"previous frame's {last} (timestamps must be strictly increasing); the frame "
                "was not yielded"
            )
        self._last_timestamp_ns = timestamp_ns

    def __iter__(self) -> Iterator[Frame]:
        if self._closed:
            raise ValueError(f"{self._info.device}: the source is closed")
        for frame in self._frames():
            self._check_order(frame.timestamp_ns)
            yield frame

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
