"""Per-stage timers of a stream (the Python twin of the C++ ``StreamTimings``).

Stages, in the order a window runs them: ``preprocess`` (crop + resize of each used frame),
``tokenize`` (video encoder), ``encode`` (backbone encoder passes), ``decode`` (backbone decoder
passes), ``sample`` (guidance, filtering, sampling), ``detokenize`` (gaze/camera decoders) and
``window`` (one window end to end, tokenize to detokenize). Each decoding step also has its own
timer, ``step_0``, ``step_1``, ... (encode + decode + sample of step s of every window), and a
live stream (``realtime=True``) adds ``latency``: from the push of the frame that completed a
window to its prediction being ready (queueing included).

``as_dict`` gives, per timer, ``count``, ``total_ms``, ``mean_ms``, ``max_ms``, ``last_ms`` and
the percentiles ``p50_ms``, ``p90_ms``, ``p99_ms`` of the last ``RECENT`` durations (nearest
rank: the value at index ``ceil(q / 100 * n) - 1`` of the sorted durations; the C++ timers use
the same rule).
"""

from __future__ import annotations

import math
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field

STAGES = ("preprocess", "tokenize", "encode", "decode", "sample", "detokenize", "window")
PERCENTILES = (50, 90, 99)
RECENT = 1024  # durations kept per timer for the percentiles


def percentile(values: list[int] | list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values): sorted(values)[ceil(q/100 * n) - 1]."""
    if not values:
        return 0.0
    s = sorted(values)
    k = max(math.ceil(q / 100.0 * len(s)) - 1, 0)
    return float(s[min(k, len(s) - 1)])


def step_name(step: int) -> str:
    return f"step_{step}"


@dataclass
class StageTimer:
    """Accumulated durations of one stage, in nanoseconds."""

    count: int = 0
    total_ns: int = 0
    max_ns: int = 0
    last_ns: int = 0
    recent_ns: deque = field(default_factory=lambda: deque(maxlen=RECENT))

    def add(self, duration_ns: int) -> None:
        self.count += 1
        self.total_ns += duration_ns
        self.max_ns = max(self.max_ns, duration_ns)
        self.last_ns = duration_ns
        self.recent_ns.append(duration_ns)

    def as_dict(self) -> dict[str, float]:
        mean = self.total_ns / self.count if self.count else 0.0
        recent = list(self.recent_ns)
        out = {
            "count": self.count,
            "total_ms": self.total_ns / 1e6,
            "mean_ms": mean / 1e6,
            "max_ms": self.max_ns / 1e6,
            "last_ms": self.last_ns / 1e6,
        }
        for q in PERCENTILES:
            out[f"p{q}_ms"] = percentile(recent, q) / 1e6
        return out


class StreamTimers:
    """One ``StageTimer`` per stage of ``STAGES``, plus ``step_<s>`` timers made on first use."""

    def __init__(self) -> None:
        self.stages = {name: StageTimer() for name in STAGES}

    def timer(self, stage: str) -> StageTimer:
        if stage not in self.stages:
            self.stages[stage] = StageTimer()
        return self.stages[stage]

    @contextmanager
    def measure(self, stage: str):
        start = time.perf_counter_ns()
        try:
            yield
        finally:
            self.timer(stage).add(time.perf_counter_ns() - start)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {name: t.as_dict() for name, t in self.stages.items()}


def timings_from_us(raw: dict[str, dict]) -> dict[str, dict[str, float]]:
    """The ``as_dict`` layout from the C++ timers (per timer ``count``, ``total_us``, ``max_us``,
    ``last_us`` and ``p50_us``, ``p90_us``, ``p99_us``), in the C++ order (stages, steps,
    latency)."""
    out = {}
    for name, r in raw.items():
        count = int(r["count"])
        d = {
            "count": count,
            "total_ms": r["total_us"] / 1e3,
            "mean_ms": (r["total_us"] / count / 1e3) if count else 0.0,
            "max_ms": r["max_us"] / 1e3,
            "last_ms": r["last_us"] / 1e3,
        }
        for q in PERCENTILES:
            d[f"p{q}_ms"] = r[f"p{q}_us"] / 1e3
        out[name] = d
    return out
