"""The official EgoM2P ``example_data``: a camera clip, a HoloAssist gaze clip, 8-fps videos.

* ``cam.npy``: (60, 4, 4) OpenCV camera-to-world poses at 30 Hz in an absolute world frame
  (EgoGen, synthetic): sample k at ``round(k 1e9 / 30)`` ns.
* ``gaze.npy``: (60, 2) HoloAssist gaze in pixels of an 896 x 504 frame (NaN rows unknown),
  converted exactly as EgoM2P does: a 480 x 480 centre crop, ``x' = (x - 208) / 480``,
  ``y' = (y - 12) / 480``, no half-pixel offset (``HOLOASSIST_FRAME``, ``HOLOASSIST_CROP``).
* ``*.mp4``: 16 frames, 256 x 256, 8 fps (already cropped and resized).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from egom2p_edge.preprocess import gaze_px_to_crop_norm
from egom2p_edge.training.curate.resample import grid_ns
from egom2p_edge.training.sources.types import GazeTrack, PoseTrack, Recording
from egom2p_edge.training.sources.video import video_track

HOLOASSIST_FRAME = (896, 504)  # (width, height) of HoloAssist PV frames in EgoM2P
HOLOASSIST_CROP = 480  # EgoM2P's square crop side for HoloAssist video and gaze
EXAMPLE_LICENCE = "EgoM2P example_data (Apache-2.0 repo; EgoGen/HoloAssist/H2O terms)"


def _load_npy(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        a = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path}: not a readable .npy array ({exc})") from None
    if a.shape != shape:
        raise ValueError(f"{path}: expected shape {shape}, found {a.shape}")
    return a.astype(np.float64)


def holoassist_gaze_to_crop(gaze_px: np.ndarray) -> np.ndarray:
    """HoloAssist 896 x 504 pixel gaze -> EgoM2P's 480-crop normalised gaze. (N, 2) -> (N, 2)."""
    w, h = HOLOASSIST_FRAME
    return gaze_px_to_crop_norm(gaze_px, h, w, crop_side=HOLOASSIST_CROP)


def load_example_camera(path: str | Path) -> PoseTrack:
    """``cam.npy`` as a 30-Hz camera track (OpenCV, absolute world frame)."""
    T = _load_npy(Path(path), (60, 4, 4))
    if not np.isfinite(T).all():
        raise ValueError(f"{path}: non-finite poses")
    return PoseTrack.fixed(grid_ns(0, 60, 30), T, conventions=("opencv",))


def load_example_gaze(path: str | Path) -> GazeTrack:
    """``gaze.npy`` as a 30-Hz gaze track in the 480 crop; NaN rows invalid."""
    g = _load_npy(Path(path), (60, 2))
    valid = np.isfinite(g).all(axis=1)
    return GazeTrack(
        grid_ns(0, 60, 30),
        holoassist_gaze_to_crop(g),
        valid,
        {"gaze_nonfinite": int((~valid).sum())},
    )


def load_egom2p_example(folder: str | Path, video: str | None = "rgb2dep_h2o.mp4") -> Recording:
    """Camera + gaze (+ one 16-frame video) of ``example_data`` as one recording.

    The three come from different clips (EgoGen, HoloAssist, H2O): use it for format and
    pipeline checks, not as an aligned recording.
    """
    folder = Path(folder)
    rec = Recording(
        "egom2p_example",
        "egom2p_example",
        EXAMPLE_LICENCE,
        poses=load_example_camera(folder / "cam.npy"),
        gaze=load_example_gaze(folder / "gaze.npy"),
        meta={"note": "camera, gaze and video come from different clips"},
    )
    if video is not None:
        rec.video = video_track(folder / video)
    return rec
