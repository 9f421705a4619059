"""Live mode of a stream (``stream(..., realtime=True)``): the Python twin of the C++
``LiveStream`` (``cpp/src/stream_live.cc``), used by ``ReferencePipeline``.

``push`` does the cheap part in the caller's thread (checks, 8-fps resampling, crop + resize:
about a millisecond) and hands each completed window to one worker thread through a queue of at
most ``queue_windows`` windows. When the engines fall behind and the queue is full, the oldest
waiting window is dropped (its 16 frames are never run; counted in ``windows_dropped``), so a
window waits for at most ``queue_windows`` others and the latency stays bounded whatever the
input rate. ``push`` never blocks on the engines: it returns the predictions that became ready
since the previous call. ``flush`` waits for the queue to empty and returns the rest. Dropping
whole windows keeps every window's frames complete (dropping single frames would leave holes in
the 8-fps samples of the windows that do run); with the default 4-fold overlap the continuous
tracks still cover the stream when every other window is dropped.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from egom2p_edge.streaming.timings import PERCENTILES, StageTimer


@dataclass(frozen=True)
class LiveOptions:
    """queue_windows: completed windows that may wait for the engines (>= 1)."""

    queue_windows: int = 2

    def __post_init__(self) -> None:
        q = self.queue_windows
        if isinstance(q, bool) or not isinstance(q, int) or q < 1:
            raise ValueError(f"stream: queue_windows must be an int >= 1, got {q!r}")


def live_options(realtime: bool, queue_windows: int) -> LiveOptions | None:
    """``stream(realtime=..., queue_windows=...)`` checked (both, in either mode): the live
    options, or None for lossless synchronous pushing."""
    if not isinstance(realtime, bool):
        raise ValueError(f"stream: realtime must be True or False, got {realtime!r}")
    live = LiveOptions(queue_windows)
    return live if realtime else None


class LiveRunner:
    """A bounded queue of work items and one worker thread running ``run(item, arrival_ns)``
    (which records each item's latency in ``latency``, the timer ``stats`` reads)."""

    def __init__(self, run: Callable, options: LiveOptions, latency: StageTimer) -> None:
        self.options = options
        self._run_item = run
        self._latency = latency
        self._cv = threading.Condition()
        self._queue: deque = deque()
        self._ready: list = []
        self._busy = False
        self._stop = False
        self._error: BaseException | None = None
        self.windows_submitted = 0
        self.windows_dropped = 0
        self.windows_done = 0
        self._thread = threading.Thread(target=self._loop, name="egom2p-live", daemon=True)
        self._thread.start()

    def submit(self, items: list, arrival_ns: int) -> None:
        with self._cv:
            for item in items:
                self.windows_submitted += 1
                if len(self._queue) >= self.options.queue_windows:
                    self._queue.popleft()
                    self.windows_dropped += 1
                self._queue.append((item, arrival_ns))
            self._cv.notify_all()

    def take_ready(self) -> list:
        with self._cv:
            self._raise_error()
            out, self._ready = self._ready, []
            return out

    def drain(self) -> list:
        """Wait until every queued item ran; the ready results."""
        with self._cv:
            while (self._queue or self._busy) and self._error is None:
                self._cv.wait()
        return self.take_ready()

    def close(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._thread.join()

    def stats(self) -> dict:
        with self._cv:
            lat = self._latency.as_dict()
            out = {
                "queue_windows": self.options.queue_windows,
                "windows_submitted": self.windows_submitted,
                "windows_dropped": self.windows_dropped,
                "windows_done": self.windows_done,
                "windows_waiting": len(self._queue) + int(self._busy),
                "latency_max_ms": lat["max_ms"],
            }
            for q in PERCENTILES:
                out[f"latency_p{q}_ms"] = lat[f"p{q}_ms"]
            return out

    def _raise_error(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"live stream: the worker failed: {self._error}") from self._error

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._stop:
                    self._cv.wait()
                if not self._queue:
                    return
                item, arrival_ns = self._queue.popleft()
                self._busy = True
            try:
                result = self._run_item(item, arrival_ns)
                error = None
            except BaseException as exc:  # reported to the caller by the next push / flush
                result, error = None, exc
            with self._cv:
                self._busy = False
                if error is not None:
                    self._error = error
                else:
                    self._ready.append(result)
                    self.windows_done += 1
                self._cv.notify_all()
