"""Per-stage timers of a stream (the Python twin of the C++ ``StreamTimings``).

Stages, in the order a window runs them: ``preprocess`` (crop + resize of each used frame),
``tokenize`` (video encoder), ``encode`` (backbone encoder passes), ``decode`` (backbone decoder
passes), ``sample`` (guidance, filtering, sampling), ``detokenize`` (gaze/camera decoders) and
``window`` (one window end to end, tokenize to detokenize). ``as_dict`` gives, per stage,
``count``, ``total_ms``, ``mean_ms``, ``max_ms`` and ``last_ms``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

STAGES = ("preprocess", "tokenize", "encode", "decode", "sample", "detokenize", "window")


@dataclass
class StageTimer:
    """Accumulated durations of one stage, in nanoseconds."""

    count: int = 0
    total_ns: int = 0
    max_ns: int = 0
    last_ns: int = 0

    def add(self, duration_ns: int) -> None:
        self.count += 1
        self.total_ns += duration_ns
        self.max_ns = max(self.max_ns, duration_ns)
        self.last_ns = duration_ns

    def as_dict(self) -> dict[str, float]:
        mean = self.total_ns / self.count if self.count else 0.0
        return {
            "count": self.count,
            "total_ms": self.total_ns / 1e6,
            "mean_ms": mean / 1e6,
            "max_ms": self.max_ns / 1e6,
            "last_ms": self.last_ns / 1e6,
        }


class StreamTimers:
    """One ``StageTimer`` per stage of ``STAGES``."""

    def __init__(self) -> None:
        self.stages = {name: StageTimer() for name in STAGES}

    @contextmanager
    def measure(self, stage: str):
        start = time.perf_counter_ns()
        try:
            yield
        finally:
            self.stages[stage].add(time.perf_counter_ns() - start)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {name: t.as_dict() for name, t in self.stages.items()}


def timings_from_us(raw: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    """The ``as_dict`` layout from the C++ timers (``count``, ``total_us``, ``max_us``,
    ``last_us`` per stage)."""
    out = {}
    for name in STAGES:
        r = raw[name]
        count = int(r["count"])
        out[name] = {
            "count": count,
            "total_ms": r["total_us"] / 1e3,
            "mean_ms": (r["total_us"] / count / 1e3) if count else 0.0,
            "max_ms": r["max_us"] / 1e3,
            "last_ms": r["last_us"] / 1e3,
        }
    return out
