"""From timestamped RGB frames to windows of preprocessed video frames (the stream's input side).

Each pushed frame (any H x W, uint8 RGB) is checked, then its timestamp goes through the 8-fps
``FrameResampler``; a grid sample that picks a frame gets that frame centre-cropped and
area-resized to S x S (``egom2p_edge.preprocess.center_crop_resize``), once. A window is emitted
when its last sample is decided. A missing sample (a gap in the input) takes the nearest earlier
filled sample of the window, or the first filled one when none is earlier; a window with no
filled sample is skipped (nothing can be predicted from it). The C++ twin is
``cpp/src/stream_frames.cc``.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import numpy as np

from egom2p_edge.preprocess import center_crop_resize
from egom2p_edge.streaming.resample import FrameResampler, ResampleConfig, ResampledWindow
from egom2p_edge.streaming.timings import StreamTimers

log = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000
# A larger jump between two frames is refused (a clock reset, not a pause): resampling across it
# would walk every 8-fps grid time in between.
MAX_JUMP_NS = 3600 * NS_PER_S


def check_rgb(rgb: object) -> np.ndarray:
    """The frame as a C-contiguous (H, W, 3) uint8 array; ValueError otherwise."""
    if not isinstance(rgb, np.ndarray):
        raise ValueError(
            f"push: rgb must be a numpy (H, W, 3) uint8 array, got {type(rgb).__name__}"
        )
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
        raise ValueError(
            f"push: rgb must be an (H, W, 3) uint8 RGB image, got a {rgb.dtype} array of shape "
            f"{rgb.shape} (convert with np.asarray(img, dtype=np.uint8); grey images need 3 "
            f"channels)"
        )
    return np.ascontiguousarray(rgb)


def check_timestamp(timestamp_ns: object) -> int:
    if isinstance(timestamp_ns, bool) or not isinstance(timestamp_ns, (int, np.integer)):
        raise ValueError(f"push: timestamp_ns must be an int (nanoseconds), got {timestamp_ns!r}")
    t = int(timestamp_ns)
    if not -(1 << 63) <= t < (1 << 63):
        raise ValueError(f"push: timestamp_ns {t} does not fit a signed 64-bit integer")
    return t


@dataclass(frozen=True)
class VideoWindow:
    """One window's preprocessed frames. frames: Shape (F, S, S, 3) uint8; image_size: (height,
    width) of the input frame of its last filled sample (to map gaze back to pixels)."""

    window: ResampledWindow
    frames: np.ndarray
    missing_frames: int
    image_size: tuple[int, int] = (0, 0)


class WindowAssembler:
    """Per-stream input state: resampler, the last raw frame, decided samples."""

    def __init__(self, size: int, fps: int, window_frames: int, hop_frames: int) -> None:
        self.size = size
        self.resampler = FrameResampler(
            ResampleConfig(
                period_ns=NS_PER_S // fps, window_frames=window_frames, hop_frames=hop_frames
            )
        )
        self._prev: np.ndarray | None = None  # the last pushed frame (a copy)
        self._samples: dict[int, np.ndarray | None] = {}  # grid index -> S x S x 3 or None
        self._sizes: dict[int, tuple[int, int]] = {}  # grid index -> its frame's (H, W)
        self._last_ns = 0

    def push(self, rgb: object, timestamp_ns: object, timers: StreamTimers) -> list[VideoWindow]:
        frame = check_rgb(rgb)
        t = check_timestamp(timestamp_ns)
        index = self.resampler.frames_pushed
        if index > 0 and t - self._last_ns > MAX_JUMP_NS:
            raise ValueError(
                f"push: timestamp_ns {t} is {(t - self._last_ns) / NS_PER_S:.0f} s after the "
                f"previous frame (more than {MAX_JUMP_NS // NS_PER_S} s): start a new stream"
            )
        res = self.resampler.push(t)  # ValueError for a timestamp out of order
        with timers.measure("preprocess") if res.samples else contextlib.nullcontext():
            for sample in res.samples:
                src = frame if sample.frame_index == index else self._prev
                self._samples[sample.grid_index] = (
                    None if sample.frame_index < 0 else center_crop_resize(src, self.size)
                )
                if sample.frame_index >= 0:
                    self._sizes[sample.grid_index] = src.shape[:2]
        self._prev = frame.copy()
        self._last_ns = t
        return self._windows(res.windows)

    def finish(self, timers: StreamTimers) -> list[VideoWindow]:
        res = self.resampler.finish()
        with timers.measure("preprocess") if res.samples else contextlib.nullcontext():
            for sample in res.samples:
                self._samples[sample.grid_index] = (
                    None if sample.frame_index < 0 else center_crop_resize(self._prev, self.size)
                )
                if sample.frame_index >= 0:
                    self._sizes[sample.grid_index] = self._prev.shape[:2]
        return self._windows(res.windows)

    def _windows(self, windows: list[ResampledWindow]) -> list[VideoWindow]:
        out = []
        for w in windows:
            imgs = [self._samples[w.first_grid_index + k] for k in range(len(w.frame_indices))]
            filled = [k for k, im in enumerate(imgs) if im is not None]
            if not filled:
                log.warning("window %d has no input frame (a gap); skipped", w.window_index)
            else:
                for k in range(len(imgs)):
                    if imgs[k] is None:
                        imgs[k] = imgs[k - 1] if k > 0 else imgs[filled[0]]
                size = self._sizes[w.first_grid_index + filled[-1]]
                out.append(VideoWindow(w, np.stack(imgs), len(imgs) - len(filled), size))
            start = (w.window_index + 1) * self.resampler.config.hop_frames
            for g in [g for g in self._samples if g < start]:
                del self._samples[g]
                self._sizes.pop(g, None)
        return out
