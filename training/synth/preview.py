"""A gallery PNG of clips: sample RGB frames with the gaze overlaid, and a depth frame."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from egom2p_edge.clips import Clip


def gaze_at_frames(clip: Clip) -> tuple[np.ndarray, np.ndarray]:
    """Gaze at each video frame's time, interpolated from the 30 Hz samples.

    Returns xy_norm (16, 2) and valid (16,): valid where both neighbouring samples are valid.
    """
    t_video = clip.rgb_timestamps_ns.astype(np.float64)
    t_gaze = clip.gaze_timestamps_ns.astype(np.float64)
    j = np.clip(np.searchsorted(t_gaze, t_video, side="right") - 1, 0, len(t_gaze) - 2)
    w = np.clip((t_video - t_gaze[j]) / (t_gaze[j + 1] - t_gaze[j]), 0.0, 1.0)
    g = clip.gaze_xy_norm
    xy = g[j] * (1 - w)[:, None] + g[j + 1] * w[:, None]
    exact = w < 1e-9
    valid = clip.gaze_valid[j] & (exact | clip.gaze_valid[j + 1])
    return np.where(exact[:, None], g[j], xy), valid


def write_gallery(
    clips: Sequence[Clip], path: str | Path, frames: Sequence[int] = (0, 5, 10, 15)
) -> Path:
    """Write a grid (one row per clip: the chosen RGB frames with gaze, then the last frame's
    inverse depth) to ``path`` (PNG). Returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not clips:
        raise ValueError("write_gallery needs at least one clip, got none")
    ncols = len(frames) + 1
    fig, axes = plt.subplots(
        len(clips), ncols, figsize=(2.0 * ncols, 2.0 * len(clips)), squeeze=False
    )
    for row, clip in enumerate(clips):
        if clip.rgb is None or clip.gaze_xy_norm is None:
            raise ValueError(f"write_gallery: clip {clip.clip_id} needs rgb and gaze")
        s = clip.rgb.shape[1]
        xy, valid = gaze_at_frames(clip)
        for col, k in enumerate(frames):
            ax = axes[row, col]
            ax.imshow(clip.rgb[k], interpolation="nearest")
            if valid[k]:
                u, v = xy[k] * s - 0.5  # normalised -> OpenCV pixel coordinates
                ax.plot(u, v, "o", ms=9, mfc="none", mec="lime", mew=1.8)
                ax.plot(u, v, "+", ms=5, color="red", mew=1.2)
            else:
                ax.text(0.03 * s, 0.1 * s, "blink", color="yellow", fontsize=7)
            ax.set_title(f"t={k / 8:.2f}s", fontsize=7)
        ax = axes[row, ncols - 1]
        if clip.depth_inv_norm is not None:
            ax.imshow(clip.depth_inv_norm[frames[-1]], cmap="magma", vmin=0, vmax=1)
        ax.set_title(str(clip.meta.get("behaviour", "depth")), fontsize=7)
        axes[row, 0].set_ylabel(clip.clip_id, fontsize=6)
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
