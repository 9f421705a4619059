"""Pupil Labs Neon native recordings: raw gaze in scene-camera pixels and scene frame times.

Files (one recording folder): ``gaze ps1.raw`` (records described by ``gaze.dtype``, a Python
literal list of (name, numpy type), here x, y float32 pixels of the 1600 x 1200 scene camera,
origin top left), ``gaze ps1.time`` (uint64 ns, one per record), optional ``worn ps1.raw``
(uint8 per gaze record, 0 = glasses not worn -> invalid), ``Neon Scene Camera v1 ps1.time``
(uint64 ns per scene frame; the video itself is not read here), ``info.json``.
``gaze_right ps1.raw`` is another stream in other units and is not used. Gaze is mapped into
the square centre crop of the scene frame (1200 x 1200), without a half-pixel offset.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np

from egom2p_edge.preprocess import gaze_px_to_crop_norm
from egom2p_edge.training.sources.types import GazeTrack, Recording

NEON_SCENE_SIZE = (1600, 1200)  # (width, height) of the Neon scene camera
NEON_LICENCE = "pl-neon-recording test data (MIT)"


def _read_dtype(path: Path) -> np.dtype:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: dtype description not found")
    try:
        fields = ast.literal_eval(path.read_text(encoding="utf-8"))
        return np.dtype([(str(n), str(t)) for n, t in fields])
    except (ValueError, SyntaxError, TypeError) as exc:
        raise ValueError(f"{path}: expected a list of (name, numpy type) pairs ({exc})") from None


def _read_times(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: timestamps not found")
    raw = path.read_bytes()
    if len(raw) % 8:
        raise ValueError(
            f"{path}: size {len(raw)} is not a multiple of 8 bytes (uint64 ns); "
            "the file is truncated"
        )
    ts = np.frombuffer(raw, dtype="<u8").astype(np.int64)
    if ts.size > 1 and np.any(np.diff(ts) <= 0):
        k = int(np.argmax(np.diff(ts) <= 0)) + 1
        raise ValueError(f"{path}: timestamp {k} ({int(ts[k])} ns) does not increase")
    return ts


def read_neon_gaze(folder: str | Path, stream: str = "gaze ps1") -> GazeTrack:
    """Neon gaze of ``stream`` in the square scene crop. Non-finite or not-worn samples are
    invalid and counted."""
    folder = Path(folder)
    dtype = _read_dtype(folder / "gaze.dtype")
    for field in ("x", "y"):
        if field not in dtype.names:
            raise ValueError(f"{folder / 'gaze.dtype'}: missing field {field!r}, has {dtype.names}")
    raw_path = folder / f"{stream}.raw"
    if not raw_path.is_file():
        raise FileNotFoundError(f"{raw_path}: gaze records not found")
    raw = raw_path.read_bytes()
    if len(raw) % dtype.itemsize:
        raise ValueError(
            f"{raw_path}: size {len(raw)} is not a multiple of the record size "
            f"{dtype.itemsize}; the file is truncated"
        )
    rec = np.frombuffer(raw, dtype=dtype)
    ts = _read_times(folder / f"{stream}.time")
    if len(ts) != len(rec):
        raise ValueError(f"{raw_path}: {len(rec)} records but {len(ts)} timestamps")
    xy_px = np.stack([rec["x"], rec["y"]], axis=1).astype(np.float64)  # (N, 2)
    valid = np.isfinite(xy_px).all(axis=1)
    masked = {"gaze_nonfinite": int((~valid).sum())}
    worn_path = folder / stream.replace("gaze", "worn", 1)
    worn_raw = worn_path.with_suffix(".raw") if worn_path.suffix else Path(f"{worn_path}.raw")
    if worn_raw.is_file():
        worn = np.frombuffer(worn_raw.read_bytes(), dtype=np.uint8)
        if len(worn) == len(rec):
            masked["gaze_not_worn"] = int((valid & (worn == 0)).sum())
            valid &= worn > 0
    w, h = NEON_SCENE_SIZE
    xy = gaze_px_to_crop_norm(xy_px, h, w)
    xy[~valid] = np.nan
    return GazeTrack(ts, xy, valid, masked)


def load_neon(folder: str | Path, name: str | None = None) -> Recording:
    """A gaze-only recording from a Neon native recording folder."""
    folder = Path(folder)
    meta: dict = {"scene_size": list(NEON_SCENE_SIZE), "gaze_stream": "gaze ps1"}
    info = folder / "info.json"
    if info.is_file():
        try:
            d = json.loads(info.read_text(encoding="utf-8"))
            meta.update(recording_id=d.get("recording_id"), gaze_frequency=d.get("gaze_frequency"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{info}: not valid JSON ({exc})") from None
    scene = folder / "Neon Scene Camera v1 ps1.time"
    if scene.is_file():
        meta["scene_frames"] = int(len(_read_times(scene)))
    return Recording(
        name or folder.name, "neon", NEON_LICENCE, gaze=read_neon_gaze(folder), meta=meta
    )


def read_neon_scene_times(folder: str | Path) -> np.ndarray:
    """Scene camera frame timestamps (ns). (F,) int64."""
    return _read_times(Path(folder) / "Neon Scene Camera v1 ps1.time")
