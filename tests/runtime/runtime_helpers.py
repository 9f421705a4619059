"""Helpers of the runtime tests (a module of its own: test modules import it by name, which a
``conftest`` cannot safely be when several test folders are collected together)."""

from __future__ import annotations

import numpy as np


def synthetic_frames(seed: int, clips: int, size: int) -> list[tuple[np.ndarray, int]]:
    from egom2p_edge.devices import SyntheticSource

    with SyntheticSource(seed=seed, clips=clips, size=size) as source:
        return [(f.rgb, f.timestamp_ns) for f in source]


def run_stream(impl, frames, **options) -> list:
    """Push every frame, flush; all predictions in order."""
    stream = impl.stream(**options)
    out = []
    for rgb, t in frames:
        out += stream.push(rgb, t)
    return out + stream.flush()
