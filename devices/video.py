"""``VideoFileSource``: RGB frames of a video file decoded with PyAV, stamped with the container's
presentation timestamps (PTS) in nanoseconds, optionally paced to wall-clock time."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av

from egom2p_edge.devices.frame import BaseFrameSource, Frame, SourceInfo

log = logging.getLogger(__name__)

__all__ = ["VideoFileSource", "pts_to_ns"]

NS_PER_S = 1_000_000_000


def pts_to_ns(pts: int, time_base: Fraction) -> int:
    """``pts * time_base`` seconds as integer nanoseconds, rounded half up (exact arithmetic)."""
    num = int(pts) * time_base.numerator * NS_PER_S
    den = time_base.denominator
    return (2 * num + den) // (2 * den)


class VideoFileSource(BaseFrameSource):
    """Frames of the first video stream of ``path`` (any container and codec FFmpeg reads).

    ``timestamp_ns`` is the frame's PTS in the container's clock (it need not start at 0).
    ``start_s``: skip to this many seconds after the stream's first PTS (seeks to the keyframe
    before it, then drops the frames before it). ``max_frames``: stop after that many frames.
    ``realtime``: yield each frame no earlier than its PTS offset after the first frame was
    yielded (wall clock, ``time.monotonic_ns``), as a live camera would; a slow consumer is
    never skipped ahead (a file source drops nothing). ``meta`` holds ``pts``, ``time_base``
    and ``index`` (0-based position among the yielded frames).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        realtime: bool = False,
        start_s: float = 0.0,
        max_frames: int | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: video file not found")
        if not start_s >= 0:
            raise ValueError(f"VideoFileSource: start_s must be >= 0 seconds, got {start_s}")
        if max_frames is not None and (not isinstance(max_frames, int) or max_frames < 1):
            raise ValueError(f"VideoFileSource: max_frames must be >= 1 or None, got {max_frames}")
        try:
            self._container = av.open(str(self.path))
        except av.FFmpegError as exc:
            raise ValueError(
                f"{self.path}: FFmpeg cannot open this file as a video ({exc})"
            ) from None
        if not self._container.streams.video:
            self._container.close()
            raise ValueError(f"{self.path}: the file has no video stream")
        self._stream = self._container.streams.video[0]
        rate = self._stream.average_rate or self._stream.guessed_rate
        ctx = self._stream.codec_context
        super().__init__(
            SourceInfo(
                width=int(ctx.width) or None,
                height=int(ctx.height) or None,
                nominal_fps=float(rate) if rate else None,
                device=f"video file {self.path.name} ({ctx.name})",
            )
        )
        self.realtime = bool(realtime)
        self.start_s = float(start_s)
        self.max_frames = max_frames

    def _decoded(self) -> Iterator[av.VideoFrame]:
        stream = self._stream
        time_base = stream.time_base
        first_pts = stream.start_time if stream.start_time is not None else 0
        start_pts = first_pts + int(Fraction(self.start_s).limit_denominator(10**9) / time_base)
        if self.start_s > 0:
            # Seeks land on the keyframe at or before start_pts; frames before it are dropped.
            self._container.seek(start_pts, stream=stream, backward=True, any_frame=False)
        for frame in self._container.decode(stream):
            if frame.pts is None:
                raise ValueError(
                    f"{self.path}: a decoded frame has no presentation timestamp (a raw "
                    "elementary stream?); remux it into MP4/MKV, e.g. "
                    "`ffmpeg -i in -c copy out.mp4`"
                )
            if frame.pts < start_pts:
                continue
            yield frame

    def _frames(self) -> Iterator[Frame]:
        time_base = self._stream.time_base
        wall0_ns = ts0_ns = None
        for index, vf in enumerate(self._decoded()):
            if self.max_frames is not None and index >= self.max_frames:
                return
            timestamp_ns = pts_to_ns(vf.pts, time_base)
            rgb = vf.to_ndarray(format="rgb24")  # Shape (H, W, 3) uint8
            if self.realtime:
                if wall0_ns is None:
                    wall0_ns, ts0_ns = time.monotonic_ns(), timestamp_ns
                wait_ns = wall0_ns + (timestamp_ns - ts0_ns) - time.monotonic_ns()
                if wait_ns > 0:
                    time.sleep(wait_ns / NS_PER_S)
            meta = {"pts": int(vf.pts), "time_base": str(time_base), "index": index}
            yield Frame(rgb, timestamp_ns, str(self.path), meta)

    def _close(self) -> None:
        self._container.close()
