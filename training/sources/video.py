"""Video files through PyAV: frame timestamps from the container, frames decoded on demand.

A frame's timestamp is its presentation time ``pts * time_base`` in exact integer ns, plus
``time_offset_ns`` (the recording-clock time of pts 0). Frames are numbered in presentation
order. ``read(indices)`` seeks to the keyframe before the first wanted frame and decodes forward,
so windows read in time order cost one pass. Frames come back as (H, W, 3) uint8 RGB.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from egom2p_edge.training.sources.types import FrameTrack


def _av():
    import av  # PyAV: a core dependency, imported here to keep module import light

    return av


def _pts_to_ns(pts: int, time_base: Fraction) -> int:
    return round(Fraction(pts) * time_base * 1_000_000_000)


def _open(path: Path):
    av = _av()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: video file not found")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{path}: cannot open as a video ({exc}); is it corrupt or truncated?"
        ) from None
    if not container.streams.video:
        container.close()
        raise ValueError(f"{path}: no video stream")
    return container


def probe_frames(path: str | Path) -> tuple[np.ndarray, int, int, Fraction]:
    """(pts (F,) int64 sorted, height, width, time_base) of the first video stream, from the
    packets (no decoding)."""
    path = Path(path)
    av = _av()
    container = _open(path)
    try:
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.pts is not None and p.size > 0]
        h, w, tb = stream.codec_context.height, stream.codec_context.width, stream.time_base
    except av.error.FFmpegError as exc:
        raise ValueError(f"{path}: cannot read packets ({exc}); truncated?") from None
    finally:
        container.close()
    if not pts:
        raise ValueError(f"{path}: the video stream has no frames")
    arr = np.sort(np.asarray(pts, dtype=np.int64))
    if np.any(np.diff(arr) == 0):
        raise ValueError(
            f"{path}: duplicate frame timestamps (pts {int(arr[np.argmax(np.diff(arr) == 0)])})"
        )
    return arr, int(h), int(w), Fraction(tb)


def video_track(
    path: str | Path, time_offset_ns: int = 0, crop_side: int | None = None
) -> FrameTrack:
    """A FrameTrack over a video file (see the module docstring)."""
    path = Path(path)
    av = _av()
    pts, h, w, tb = probe_frames(path)
    index_of = {int(p): i for i, p in enumerate(pts)}
    ts = np.array([_pts_to_ns(int(p), tb) for p in pts], dtype=np.int64) + int(time_offset_ns)

    def read(indices: list[int]) -> list[np.ndarray]:
        want = {int(i) for i in indices}
        if not want:
            return []
        if min(want) < 0 or max(want) >= len(pts):
            raise IndexError(f"{path}: frame index out of range 0..{len(pts) - 1}")
        got: dict[int, np.ndarray] = {}
        container = _open(path)
        try:
            stream = container.streams.video[0]
            container.seek(int(pts[min(want)]), stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                i = index_of.get(frame.pts)
                if i is None:
                    continue
                if i in want:
                    got[i] = frame.to_ndarray(format="rgb24")
                if len(got) == len(want) or i >= max(want):
                    break
        except av.error.FFmpegError as exc:
            raise ValueError(f"{path}: decoding failed ({exc}); is the file corrupt?") from None
        finally:
            container.close()
        missing = sorted(want - set(got))
        if missing:
            raise ValueError(
                f"{path}: frames {missing[:5]} could not be decoded (truncated or corrupt video)"
            )
        return [got[int(i)] for i in indices]

    return FrameTrack(ts, h, w, read, kind="rgb", crop_side=crop_side)
