"""The curation sources by name: how a command-line input becomes Recordings."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from egom2p_edge.training.sources.types import Recording


@dataclass(frozen=True)
class Source:
    """A named source: ``expand(inputs, args)`` lists one item per recording, ``load(item,
    args)`` reads it. ``inputs`` describes what the command expects."""

    inputs: str
    expand: Callable[[list[str], argparse.Namespace], list[Path]]
    load: Callable[[Path, argparse.Namespace], Recording]


def _paths(inputs: list[str], _args) -> list[Path]:
    return [Path(p) for p in inputs]


def _gazegraph_paths(inputs: list[str], _args) -> list[Path]:
    from egom2p_edge.training.sources.gazegraph import gazegraph_files

    return gazegraph_files(inputs)


def _scene_size(text: str | None) -> tuple[int, int] | None:
    if text is None or text.lower() == "none":
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(
            f"--scene-size: expected WxH (e.g. 1280x720) or none, got {text!r}"
        ) from None
    return w, h


def _load_aria_mps(p: Path, a) -> Recording:
    from egom2p_edge.training.sources.aria import load_aria_mps

    return load_aria_mps(p, gaze=a.gaze)


def _load_aria_vrs(p: Path, a) -> Recording:
    from egom2p_edge.training.sources.aria import load_aria_vrs

    return load_aria_vrs(p, a.trajectory, a.eyegaze, a.depth_vrs)


def _load_hot3d(p: Path, a) -> Recording:
    from egom2p_edge.training.sources.hot3d import load_hot3d

    return load_hot3d(p, gaze=a.gaze)


def _load_tum(p: Path, a) -> Recording:
    from egom2p_edge.training.sources.tum import load_tum

    return load_tum(p, conventions=a.conventions or "opencv")


def _load_euroc(p: Path, _a) -> Recording:
    from egom2p_edge.training.sources.euroc import load_euroc

    return load_euroc(p)


def _load_gazegraph(p: Path, a) -> Recording:
    from egom2p_edge.training.sources.gazegraph import load_gazegraph

    return load_gazegraph(
        p, _scene_size(a.scene_size), flip_y=(a.gaze_origin or "bottom-left") == "bottom-left"
    )


def _load_neon(p: Path, _a) -> Recording:
    from egom2p_edge.training.sources.neon import load_neon

    return load_neon(p)


def _load_video_csv(p: Path, a) -> Recording:
    from egom2p_edge.training.sources.video_csv import load_video_csv

    if a.csv is None:
        raise ValueError("video-csv: --csv PATH is required (the CSV next to the video)")
    return load_video_csv(
        p,
        a.csv,
        a.time_offset_ns,
        a.conventions or "opencv",
        a.gaze_origin or "top-left",
        a.crop_side,
    )


def _load_example(p: Path, _a) -> Recording:
    from egom2p_edge.training.sources.egom2p_example import load_egom2p_example

    return load_egom2p_example(p)


SOURCES: dict[str, Source] = {
    "aria-mps": Source("MPS folders (trajectory/ or slam/, eye_gaze/)", _paths, _load_aria_mps),
    "aria-vrs": Source(
        "VRS files (+ --trajectory, --eyegaze, --depth-vrs)", _paths, _load_aria_vrs
    ),
    "hot3d": Source("HOT3D Aria sequence folders", _paths, _load_hot3d),
    "tum": Source("TUM trajectory files (t tx ty tz qx qy qz qw)", _paths, _load_tum),
    "euroc": Source("EuRoC ground-truth CSVs", _paths, _load_euroc),
    "gazegraph": Source("GazeGraph CSVs or folders of them", _gazegraph_paths, _load_gazegraph),
    "neon": Source("Pupil Neon native recording folders", _paths, _load_neon),
    "video-csv": Source("a video file (+ --csv)", _paths, _load_video_csv),
    "egom2p-example": Source("the official example_data folder", _paths, _load_example),
}


def iter_recordings(
    source: str, items: list[Path], args: argparse.Namespace
) -> Iterator[Recording]:
    """Load each item of a source in turn."""
    load = SOURCES[source].load
    for item in items:
        yield load(item, args)
