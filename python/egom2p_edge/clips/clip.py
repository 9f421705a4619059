"""The standard 2-s clip: any subset of RGB video, depth video, gaze and camera trajectory.

Conventions (EgoM2P, see the package docstring for the on-disk format):

* RGB: 16 frames at 8 fps, ``(16, S, S, 3)`` uint8, square centre crop resized to S x S
  (``egom2p_edge.preprocess.center_crop_resize``).
* Depth: ``depth_m`` ``(16, S, S)`` float32 metric z-depth in metres, 0 = unknown;
  ``depth_inv_norm`` the paper's per-clip min-max normalised inverse depth in [0, 1] (near = 1,
  0 where invalid); ``depth_valid`` ``(16, S, S)`` bool. ``depth_m`` is optional (relative-depth
  sources have none); ``depth_inv_norm`` and ``depth_valid`` are what the model consumes.
* Gaze: ``gaze_xy_norm`` ``(60, 2)`` float64 at 30 Hz, [0, 1] in the square crop, x right, y down;
  ``gaze_valid`` ``(60,)`` bool. Invalid rows hold 0. Valid rows lie in [-0.2, 1.2] (EgoM2P marks
  anything further out invalid; the curation does the same).
* Camera: ``T_first_camera`` ``(60, 4, 4)`` float64 camera-to-world poses at 30 Hz relative to the
  first frame (``inv(P0) @ Pk``, so ``T[0] == I``), OpenCV camera axes (x right, y down,
  z forward), metres.
* Timestamps: int64 nanoseconds on the source clock, strictly increasing, one per sample;
  optional (``None``). ``rgb_timestamps_ns`` also times the depth frames (RGB and depth share
  the 8-fps grid).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from egom2p_edge.modalities import TRAJ_CLIP_SAMPLES, VIDEO_CLIP_FRAMES

CLIP_MODALITIES = ("rgb", "depth", "gaze", "cam")
GAZE_VALID_RANGE = (-0.2, 1.2)  # EgoM2P GazeDataset.convert: outside -> invalid
POSE_ORTHO_TOL = 1e-5  # max |R^T R - I| accepted for a rotation block
FIRST_POSE_TOL = 1e-6  # max |T[0] - I| (the trajectory is relative to its first frame)
FLAT_DEPTH_INV_NORM = 0.5  # depth_inv_norm of valid pixels when the clip's depth is constant


def _fail(field_name: str, expected: str, found: str) -> ValueError:
    return ValueError(f"Clip.{field_name}: expected {expected}, found {found}")


def _describe(a: Any) -> str:
    if isinstance(a, np.ndarray):
        return f"array shape {a.shape} dtype {a.dtype}"
    return f"{type(a).__name__}"


def _check_array(name: str, a: Any, shape: tuple[int | None, ...], dtype: np.dtype) -> None:
    if not isinstance(a, np.ndarray):
        raise _fail(name, f"a numpy array of shape {shape} dtype {np.dtype(dtype)}", _describe(a))
    ok_shape = a.ndim == len(shape) and all(e is None or e == s for e, s in zip(shape, a.shape))
    if not ok_shape or a.dtype != dtype:
        want = "(" + ", ".join("S" if e is None else str(e) for e in shape) + ")"
        raise _fail(name, f"shape {want} dtype {np.dtype(dtype)}", _describe(a))


def _check_timestamps(name: str, ts: Any, n: int) -> None:
    _check_array(name, ts, (n,), np.dtype(np.int64))
    steps = np.diff(ts)
    if np.any(steps <= 0):
        k = int(np.argmax(steps <= 0))
        raise _fail(
            name,
            "strictly increasing nanoseconds",
            f"t[{k + 1}]={int(ts[k + 1])} <= t[{k}]={int(ts[k])}",
        )


def depth_inv_norm_from_metric(
    depth_m: np.ndarray, depth_valid: np.ndarray | None = None
) -> np.ndarray:
    """The paper's per-clip min-max normalised inverse depth.

    ``inv = 1 / depth_m`` on valid pixels, then ``(inv - min) / (max - min)`` with min and max
    over all valid pixels of the whole clip (near = 1, far = 0); invalid pixels are 0. A clip of
    constant depth gets ``FLAT_DEPTH_INV_NORM`` on its valid pixels; a clip with no valid pixel
    is all 0. ``depth_valid`` defaults to ``depth_m > 0``.

    Shape (T, H, W) float -> (T, H, W) float32.
    """
    d = np.asarray(depth_m, dtype=np.float64)
    valid = (d > 0) & np.isfinite(d) if depth_valid is None else np.asarray(depth_valid, bool)
    if valid.shape != d.shape:
        raise ValueError(
            f"depth_inv_norm_from_metric: depth_valid shape {valid.shape} != depth_m "
            f"shape {d.shape}"
        )
    if np.any(valid & ~((d > 0) & np.isfinite(d))):
        raise ValueError(
            "depth_inv_norm_from_metric: depth_valid marks pixels whose depth_m is not a "
            "finite positive value; fix the mask (depth_m > 0 and finite)"
        )
    out = np.zeros(d.shape, dtype=np.float64)
    if valid.any():
        inv = 1.0 / d[valid]
        lo, hi = inv.min(), inv.max()
        out[valid] = (inv - lo) / (hi - lo) if hi > lo else FLAT_DEPTH_INV_NORM
    return out.astype(np.float32)


@dataclass
class Clip:
    """One 2-s clip with any subset of the four modalities (see the module docstring).

    A modality is present when its data array is not None: ``rgb``; ``depth_inv_norm`` (depth);
    ``gaze_xy_norm`` (gaze); ``T_first_camera`` (cam). ``meta`` holds JSON-serialisable extras
    (intrinsics, conventions applied, window start, ...).
    """

    clip_id: str
    source: str
    licence: str
    rgb: np.ndarray | None = None  # (16, S, S, 3) uint8
    rgb_timestamps_ns: np.ndarray | None = None  # (16,) int64
    depth_m: np.ndarray | None = None  # (16, S, S) float32 metres, 0 = unknown
    depth_inv_norm: np.ndarray | None = None  # (16, S, S) float32 in [0, 1]
    depth_valid: np.ndarray | None = None  # (16, S, S) bool
    gaze_xy_norm: np.ndarray | None = None  # (60, 2) float64
    gaze_valid: np.ndarray | None = None  # (60,) bool
    gaze_timestamps_ns: np.ndarray | None = None  # (60,) int64
    T_first_camera: np.ndarray | None = None  # (60, 4, 4) float64
    camera_timestamps_ns: np.ndarray | None = None  # (60,) int64
    meta: dict = field(default_factory=dict)

    @property
    def modalities(self) -> tuple[str, ...]:
        """The present modalities, in the order ``rgb, depth, gaze, cam``."""
        present = {
            "rgb": self.rgb is not None,
            "depth": self.depth_inv_norm is not None or self.depth_m is not None,
            "gaze": self.gaze_xy_norm is not None,
            "cam": self.T_first_camera is not None,
        }
        return tuple(m for m in CLIP_MODALITIES if present[m])

    @property
    def size(self) -> int | None:
        """The square frame side S of the video modalities, or None without video."""
        for a in (self.rgb, self.depth_inv_norm, self.depth_m):
            if isinstance(a, np.ndarray) and a.ndim >= 3:
                return int(a.shape[1])
        return None

    def set_depth_from_metric(
        self, depth_m: np.ndarray, depth_valid: np.ndarray | None = None
    ) -> Clip:
        """Fill ``depth_m``, ``depth_valid`` and ``depth_inv_norm`` from metric depth.

        ``depth_valid`` defaults to finite ``depth_m > 0``; invalid pixels are stored as 0 m.
        Shape (16, S, S). Returns self.
        """
        d = np.asarray(depth_m, dtype=np.float32)
        ok = np.isfinite(d) & (d > 0)
        valid = ok if depth_valid is None else (np.asarray(depth_valid, dtype=bool) & ok)
        self.depth_m = np.where(valid, d, np.float32(0)).astype(np.float32)
        self.depth_valid = valid
        self.depth_inv_norm = depth_inv_norm_from_metric(self.depth_m, valid)
        return self

    def validate(self) -> Clip:
        """Check every field; raise ValueError naming the field, what was expected and found.

        Returns self so that ``clip.validate()`` can be chained.
        """
        for name in ("clip_id", "source", "licence"):
            v = getattr(self, name)
            if not isinstance(v, str) or (name == "clip_id" and not v):
                raise _fail(name, "a non-empty str" if name == "clip_id" else "a str", repr(v))
        if not self.modalities:
            raise _fail("modalities", "at least one of rgb, depth, gaze, cam", "none")
        self._validate_video()
        self._validate_gaze()
        self._validate_cam()
        if not isinstance(self.meta, dict):
            raise _fail("meta", "a dict", type(self.meta).__name__)
        try:
            json.dumps(self.meta, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise _fail("meta", "a JSON-serialisable dict (no NaN)", str(exc)) from None
        return self

    def _validate_video(self) -> None:
        s = self.size
        t = VIDEO_CLIP_FRAMES
        if self.rgb is not None:
            _check_array("rgb", self.rgb, (t, s, s, 3), np.dtype(np.uint8))
        has_depth = "depth" in self.modalities
        if self.rgb_timestamps_ns is not None:
            if self.rgb is None and not has_depth:
                raise _fail(
                    "rgb_timestamps_ns", "None when neither rgb nor depth is present", "an array"
                )
            _check_timestamps("rgb_timestamps_ns", self.rgb_timestamps_ns, t)
        if not has_depth:
            for name in ("depth_valid",):
                if getattr(self, name) is not None:
                    raise _fail(name, "None without depth_m / depth_inv_norm", "an array")
            return
        if self.depth_inv_norm is None or self.depth_valid is None:
            raise _fail(
                "depth_inv_norm" if self.depth_inv_norm is None else "depth_valid",
                "an array whenever depth is present (use depth_inv_norm_from_metric)",
                "None",
            )
        _check_array("depth_inv_norm", self.depth_inv_norm, (t, s, s), np.dtype(np.float32))
        _check_array("depth_valid", self.depth_valid, (t, s, s), np.dtype(bool))
        inv = self.depth_inv_norm
        if not np.all(np.isfinite(inv)) or inv.min() < 0 or inv.max() > 1:
            raise _fail(
                "depth_inv_norm",
                "finite values in [0, 1]",
                f"min {np.nanmin(inv)} max {np.nanmax(inv)} "
                f"nonfinite {int((~np.isfinite(inv)).sum())}",
            )
        if np.any(inv[~self.depth_valid] != 0):
            raise _fail("depth_inv_norm", "0 where depth_valid is False", "non-zero values")
        if self.depth_m is not None:
            d = self.depth_m
            _check_array("depth_m", d, (t, s, s), np.dtype(np.float32))
            ok = np.isfinite(d) & (d >= 0)
            if not ok.all():
                raise _fail("depth_m", "finite metres >= 0", f"{int((~ok).sum())} bad values")
            if np.any((d > 0) != self.depth_valid):
                raise _fail(
                    "depth_m",
                    "> 0 exactly where depth_valid (0 = unknown)",
                    f"{int(((d > 0) != self.depth_valid).sum())} mismatching pixels",
                )

    def _validate_gaze(self) -> None:
        n = TRAJ_CLIP_SAMPLES
        if self.gaze_xy_norm is None:
            for name in ("gaze_valid", "gaze_timestamps_ns"):
                if getattr(self, name) is not None:
                    raise _fail(name, "None without gaze_xy_norm", "an array")
            return
        _check_array("gaze_xy_norm", self.gaze_xy_norm, (n, 2), np.dtype(np.float64))
        if self.gaze_valid is None:
            raise _fail("gaze_valid", "a (60,) bool array whenever gaze is present", "None")
        _check_array("gaze_valid", self.gaze_valid, (n,), np.dtype(bool))
        g = self.gaze_xy_norm
        if not np.all(np.isfinite(g)):
            raise _fail(
                "gaze_xy_norm",
                "finite values (invalid rows hold 0, not NaN)",
                f"{int((~np.isfinite(g)).any(1).sum())} non-finite rows",
            )
        lo, hi = GAZE_VALID_RANGE
        gv = g[self.gaze_valid]
        if gv.size and (gv.min() < lo or gv.max() > hi):
            raise _fail(
                "gaze_xy_norm",
                f"valid rows within [{lo}, {hi}]",
                f"min {gv.min():.4g} max {gv.max():.4g}",
            )
        if self.gaze_timestamps_ns is not None:
            _check_timestamps("gaze_timestamps_ns", self.gaze_timestamps_ns, n)

    def _validate_cam(self) -> None:
        n = TRAJ_CLIP_SAMPLES
        if self.T_first_camera is None:
            if self.camera_timestamps_ns is not None:
                raise _fail("camera_timestamps_ns", "None without T_first_camera", "an array")
            return
        T = self.T_first_camera
        _check_array("T_first_camera", T, (n, 4, 4), np.dtype(np.float64))
        if not np.all(np.isfinite(T)):
            raise _fail("T_first_camera", "finite poses", "NaN or inf")
        if np.any(T[:, 3] != np.array([0.0, 0.0, 0.0, 1.0])):
            raise _fail("T_first_camera", "bottom rows exactly [0, 0, 0, 1]", "other values")
        R = T[:, :3, :3]
        ortho = np.abs(np.einsum("nji,njk->nik", R, R) - np.eye(3)).max()
        det = np.linalg.det(R)
        if ortho > POSE_ORTHO_TOL or np.any(det <= 0):
            raise _fail(
                "T_first_camera",
                f"rotations (|R^T R - I| <= {POSE_ORTHO_TOL}, det +1)",
                f"|R^T R - I| = {ortho:.3g}, min det {det.min():.4g}",
            )
        first = np.abs(T[0] - np.eye(4)).max()
        if first > FIRST_POSE_TOL:
            raise _fail(
                "T_first_camera",
                "T[0] == identity (poses relative to the first frame)",
                f"max |T[0] - I| = {first:.3g}",
            )
        if self.camera_timestamps_ns is not None:
            _check_timestamps("camera_timestamps_ns", self.camera_timestamps_ns, n)
