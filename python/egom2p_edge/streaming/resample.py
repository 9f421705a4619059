"""Streaming resampling of timestamped frames onto a fixed-rate grid, cut into overlapping windows.

The C++ runtime (``cpp/src/resample.cc``) implements exactly these rules; tests feed both the same
timestamps and require identical decisions.

- Frames get arrival indices 0, 1, 2, ... A ``timestamp_ns`` not strictly greater than the
  previous one is rejected (ValueError naming both timestamps) and gets no index.
- Grid times are ``t_g = t_0 + g * period_ns`` (integer nanoseconds), ``t_0`` the first frame's
  timestamp. The default period is 125 000 000 ns (8 fps).
- Sample ``g`` takes the input frame nearest to ``t_g``; a tie (one frame exactly as far before
  ``t_g`` as the other is after) goes to the earlier frame.
- The sample is valid only when that frame is strictly less than ``max_gap_ns`` from ``t_g``;
  otherwise it is missing (frame index -1) instead of duplicating a frame across a gap. The
  default ``max_gap_ns`` is half the grid period, so no input frame ever fills two grid times.
- Sample ``g`` is decided when the first frame at or after ``t_g`` arrives (until then a nearer
  frame could still come), or by ``finish()`` at the end of the stream, which decides the grid
  times less than ``max_gap_ns`` after the last frame (filled with it).
- Window ``w`` holds samples ``[w * hop_frames, w * hop_frames + window_frames)`` and is emitted
  as soon as its last sample is decided.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "FrameResampler",
    "PushResult",
    "ResampleConfig",
    "ResampledSample",
    "ResampledWindow",
    "resample_timestamps",
]


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class ResampleConfig:
    """Grid and window geometry of the resampler."""

    period_ns: int = 125_000_000  # grid period: 8 fps
    window_frames: int = 16  # grid samples per window (2 s at 8 fps)
    hop_frames: int = 4  # grid samples between window starts (0.5 s)
    max_gap_ns: int | None = None  # a frame must be < this far from t_g; None: period_ns // 2

    def __post_init__(self) -> None:
        for name in ("period_ns", "window_frames", "hop_frames"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"ResampleConfig.{name} must be an int >= 1, got {value!r}")
        if self.max_gap_ns is not None and (not _is_int(self.max_gap_ns) or self.max_gap_ns < 1):
            raise ValueError(
                f"ResampleConfig.max_gap_ns must be an int >= 1 or None (half the period), "
                f"got {self.max_gap_ns!r}"
            )

    @property
    def effective_max_gap_ns(self) -> int:
        return self.period_ns // 2 if self.max_gap_ns is None else int(self.max_gap_ns)


@dataclass(frozen=True)
class ResampledSample:
    """One decided grid sample; ``frame_index`` is -1 when missing."""

    grid_index: int
    grid_timestamp_ns: int
    frame_index: int


@dataclass(frozen=True)
class ResampledWindow:
    """One window of ``window_frames`` grid samples (frame index -1 = missing)."""

    window_index: int
    first_grid_index: int
    grid_timestamps_ns: tuple[int, ...]
    frame_indices: tuple[int, ...]

    @property
    def num_valid(self) -> int:
        return sum(1 for f in self.frame_indices if f >= 0)


@dataclass
class PushResult:
    """What one ``push`` or ``finish`` decided, in grid order."""

    samples: list[ResampledSample] = field(default_factory=list)
    windows: list[ResampledWindow] = field(default_factory=list)


class FrameResampler:
    """Per-stream resampling state (see the module docstring for the rules)."""

    def __init__(self, config: ResampleConfig | None = None) -> None:
        self.config = ResampleConfig() if config is None else config
        self._max_gap_ns = self.config.effective_max_gap_ns
        self._finished = False
        self._frames_pushed = 0
        self._first_timestamp_ns = 0
        self._last_timestamp_ns = 0
        self._next_grid = 0  # the first undecided grid sample
        self._next_window = 0
        self._kept_first_grid = 0  # grid index of _kept[0]
        self._kept: deque[int] = deque()  # decided samples from the next window's start on

    @property
    def frames_pushed(self) -> int:
        return self._frames_pushed

    @property
    def samples_decided(self) -> int:
        return self._next_grid

    @property
    def windows_emitted(self) -> int:
        return self._next_window

    @property
    def finished(self) -> bool:
        return self._finished

    def _grid_time(self, g: int) -> int:
        return self._first_timestamp_ns + g * self.config.period_ns

    def push(self, timestamp_ns: int) -> PushResult:
        """Add the next frame; returns the samples and windows it decided."""
        if not _is_int(timestamp_ns):
            raise ValueError(f"push: timestamp_ns must be an int, got {timestamp_ns!r}")
        t = int(timestamp_ns)
        if self._finished:
            raise ValueError(
                f"push: frame timestamp_ns {t} pushed after finish(); "
                "create a new FrameResampler for a new stream"
            )
        if self._frames_pushed > 0 and t <= self._last_timestamp_ns:
            raise ValueError(
                f"push: frame timestamp_ns {t} is not after the previous frame's timestamp_ns "
                f"{self._last_timestamp_ns} (timestamps must strictly increase; drop or reorder "
                "the frame)"
            )
        out = PushResult()
        index = self._frames_pushed
        if index == 0:
            self._first_timestamp_ns = t
        # Every undecided grid time at or before this frame is decided now: its candidates are
        # this frame and the previous one (before t_g, else t_g would have been decided).
        while (t_g := self._grid_time(self._next_grid)) <= t:
            chosen, distance_ns = index, t - t_g
            if index > 0 and t_g - self._last_timestamp_ns <= distance_ns:  # ties: earlier frame
                chosen, distance_ns = index - 1, t_g - self._last_timestamp_ns
            self._decide(chosen if distance_ns < self._max_gap_ns else -1, out)
        self._last_timestamp_ns = t
        self._frames_pushed += 1
        self._emit_windows(out)
        return out

    def finish(self) -> PushResult:
        """End of stream: decide what the last frame can still fill; later pushes fail."""
        out = PushResult()
        if self._finished:
            return out
        self._finished = True
        if self._frames_pushed == 0:
            return out
        while self._grid_time(self._next_grid) - self._last_timestamp_ns < self._max_gap_ns:
            self._decide(self._frames_pushed - 1, out)
        self._emit_windows(out)
        return out

    def min_frame_index_needed(self) -> int:
        """The oldest arrival index a future sample or window can refer to; -1 before any frame."""
        if self._frames_pushed == 0:
            return -1
        needed = self._frames_pushed if self._finished else self._frames_pushed - 1
        start = self._next_window * self.config.hop_frames
        for i, frame in enumerate(self._kept):
            if self._kept_first_grid + i >= start and frame >= 0:
                needed = min(needed, frame)
        return needed

    def _decide(self, frame_index: int, out: PushResult) -> None:
        g = self._next_grid
        out.samples.append(ResampledSample(g, self._grid_time(g), frame_index))
        self._kept.append(frame_index)  # invariant: _kept_first_grid + len(_kept) == _next_grid
        self._next_grid += 1

    def _emit_windows(self, out: PushResult) -> None:
        hop, length = self.config.hop_frames, self.config.window_frames
        while self._next_window * hop + length <= self._next_grid:
            first = self._next_window * hop
            offset = first - self._kept_first_grid
            frames = tuple(self._kept[offset + k] for k in range(length))
            times = tuple(self._grid_time(first + k) for k in range(length))
            out.windows.append(ResampledWindow(self._next_window, first, times, frames))
            self._next_window += 1
            # Samples before the next window's start are in no future window.
            while self._kept and self._kept_first_grid < self._next_window * hop:
                self._kept.popleft()
                self._kept_first_grid += 1


def resample_timestamps(
    timestamps_ns: Iterable[int], config: ResampleConfig | None = None, finish: bool = True
) -> PushResult:
    """Push every timestamp (then ``finish()`` when asked); all samples and windows, in order."""
    resampler = FrameResampler(config)
    total = PushResult()
    for t in timestamps_ns:
        r = resampler.push(int(t) if isinstance(t, np.integer) else t)
        total.samples.extend(r.samples)
        total.windows.extend(r.windows)
    if finish:
        r = resampler.finish()
        total.samples.extend(r.samples)
        total.windows.extend(r.windows)
    return total
