"""GazeGraph head-mounted gaze CSVs (Pupil Core, DesktopActivity): ``x,y`` rows at exactly 30 Hz.

Conventions chosen here (the dataset documents neither):

* Values are Pupil ``norm_pos``-like coordinates of the whole scene frame with the origin at the
  **bottom left** (Pupil's convention), so ``y_top = 1 - y``. Values slightly outside [0, 1]
  (gaze at the frame border) are kept; curation masks anything outside [-0.2, 1.2] of the crop.
* The scene camera is assumed to be Pupil Core's default world camera mode, 1280 x 720
  (``DEFAULT_SCENE_SIZE``); the normalised full-frame gaze is mapped into the square centre crop
  (``x_crop = (x W - (W - H) / 2) / H``). Pass ``scene_size=None`` to treat the frame as square.
* No timestamps: sample k is at ``round(k 1e9 / 30)`` ns from the file start.
* No licence file ships with the dataset (academic dataset, cite SenSys 2020).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from egom2p_edge.preprocess import gaze_px_to_crop_norm
from egom2p_edge.training.curate.resample import grid_ns
from egom2p_edge.training.sources.tables import read_table
from egom2p_edge.training.sources.types import GazeTrack, Recording

GAZEGRAPH_RATE_HZ = 30
DEFAULT_SCENE_SIZE = (1280, 720)  # (width, height) of Pupil Core's default world camera mode
GAZEGRAPH_LICENCE = "GazeGraph: no licence file (academic dataset, cite SenSys 2020)"


def read_gazegraph_csv(
    path: str | Path,
    scene_size: tuple[int, int] | None = DEFAULT_SCENE_SIZE,
    flip_y: bool = True,
) -> GazeTrack:
    """One GazeGraph CSV -> a gaze track in the square crop (top-left origin).

    Non-finite rows are marked invalid and counted (``gaze_nonfinite``).
    """
    table = read_table(path, {"x": "float", "y": "float"}, header=False, names=["x", "y"])
    xy = np.stack([table.columns["x"], table.columns["y"]], axis=1)  # (N, 2)
    finite = np.isfinite(xy).all(axis=1)
    if flip_y:
        xy[:, 1] = 1.0 - xy[:, 1]
    if scene_size is not None:
        w, h = scene_size
        xy = gaze_px_to_crop_norm(xy * np.array([w, h], dtype=np.float64), h, w)
    xy[~finite] = np.nan
    ts = grid_ns(0, len(xy), GAZEGRAPH_RATE_HZ)
    return GazeTrack(ts, xy, finite, {"gaze_nonfinite": int((~finite).sum())})


def load_gazegraph(
    path: str | Path, scene_size: tuple[int, int] | None = DEFAULT_SCENE_SIZE, flip_y: bool = True
) -> Recording:
    """A gaze-only recording from one GazeGraph CSV (name: ``P1_BROWSE`` ...)."""
    path = Path(path)
    return Recording(
        name=path.stem,
        source="gazegraph",
        licence=GAZEGRAPH_LICENCE,
        gaze=read_gazegraph_csv(path, scene_size, flip_y),
        meta={
            "file": path.name,
            "gaze_origin_flipped": flip_y,
            "scene_size": list(scene_size) if scene_size else None,
        },
    )


def gazegraph_files(paths: list[str | Path]) -> list[Path]:
    """CSV files given directly or found (recursively, sorted) in the given folders."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob("*.csv")))
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return out
