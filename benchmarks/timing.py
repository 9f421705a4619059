"""Timing shared by the benchmark scripts (imported as a sibling module: the scripts run as
``python benchmarks/bench_*.py``, which puts this folder on ``sys.path``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def repeat_timed(fn: Callable[[], object], repeats: int) -> tuple[list[float], list[float]]:
    """Call ``fn`` once to warm up, then ``repeats`` times; return the wall and process-CPU
    seconds of each timed call."""
    fn()
    wall_s, cpu_s = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall_s.append(time.perf_counter() - w0)
        cpu_s.append(time.process_time() - c0)
    return wall_s, cpu_s
