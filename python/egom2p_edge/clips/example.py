"""A small, valid clip with every modality, for tests and documentation examples."""

from __future__ import annotations

import numpy as np

from egom2p_edge.clips.clip import Clip

FRAME_PERIOD_NS = 125_000_000  # 8 fps
SAMPLE_PERIOD_NS = 33_333_333  # 30 Hz (rounded to the nanosecond)


def example_clip(size: int = 8, seed: int = 0) -> Clip:
    """Random RGB, metric depth with one unknown pixel, gaze, and a 1-m walk along x.

    Deterministic for a seed; ``clip_id`` is ``"example-{seed}"``.
    """
    rng = np.random.default_rng(seed)
    T = np.tile(np.eye(4), (60, 1, 1))  # (60, 4, 4)
    T[:, 0, 3] = np.linspace(0.0, 1.0, 60)
    traj_ns = np.arange(60, dtype=np.int64) * SAMPLE_PERIOD_NS
    clip = Clip(
        clip_id=f"example-{seed}",
        source="example",
        licence="CC0-1.0",
        rgb=rng.integers(0, 256, (16, size, size, 3), dtype=np.uint8),
        rgb_timestamps_ns=np.arange(16, dtype=np.int64) * FRAME_PERIOD_NS,
        gaze_xy_norm=rng.random((60, 2)),
        gaze_valid=np.ones(60, dtype=bool),
        gaze_timestamps_ns=traj_ns.copy(),
        T_first_camera=T,
        camera_timestamps_ns=traj_ns.copy(),
        meta={"note": "example clip"},
    )
    depth = (0.5 + 4.0 * rng.random((16, size, size))).astype(np.float32)
    depth[0, 0, 0] = 0.0  # one unknown pixel
    return clip.set_depth_from_metric(depth)
