"""The official video pre/post-processing around the tokenizer: padding, [-1, 1] scaling, uint8.

Padding (before tokenising): time is padded by edge replication until ``(T - 1) % 8 == 0`` and
height and width with zeros up to multiples of 16. Each pad is split as the official code splits
it: ``n >> 1`` before and the rest after (16 frames -> 17: 0 before, 1 after). The crop region
``(t0, h0, w0, t1, h1, w1)`` undoes it after decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

TEMPORAL_ALIGN = 8
SPATIAL_ALIGN = 16


@dataclass(frozen=True)
class CropRegion:
    """Where the original frames sit inside the padded ones (the official ``crop_region``)."""

    t0: int
    h0: int
    w0: int
    t1: int
    h1: int
    w1: int

    def as_list(self) -> list[int]:
        return [self.t0, self.h0, self.w0, self.t1, self.h1, self.w1]


def as_frames_uint8(frames: np.ndarray | torch.Tensor, name: str = "frames") -> torch.Tensor:
    """Validate and convert a (B, T, H, W, 3) uint8 video (numpy or torch) to a torch tensor."""
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(np.ascontiguousarray(frames))
    if not isinstance(frames, torch.Tensor):
        raise ValueError(f"{name}: expected a uint8 array (B, T, H, W, 3), got {type(frames)}")
    if frames.dtype != torch.uint8:
        raise ValueError(
            f"{name}: expected dtype uint8 (B, T, H, W, 3) RGB frames, got {frames.dtype}; "
            f"convert 0..255 images with .astype(np.uint8)"
        )
    if frames.ndim != 5 or frames.shape[-1] != 3:
        raise ValueError(
            f"{name}: expected shape (B, T, H, W, 3), got {tuple(frames.shape)}; "
            f"add a batch axis with frames[None] for a single clip"
        )
    if min(frames.shape[:4]) < 1:
        raise ValueError(f"{name}: every axis must be non-empty, got {tuple(frames.shape)}")
    return frames


def pad_frames(frames: torch.Tensor) -> tuple[torch.Tensor, CropRegion]:
    """Official padding. Shape (B, T, H, W, 3) uint8 -> (B, T', H', W', 3) uint8 and the crop."""
    B, T, H, W, _ = frames.shape
    pad_t = (TEMPORAL_ALIGN - (T - 1) % TEMPORAL_ALIGN) % TEMPORAL_ALIGN
    pad_h = (SPATIAL_ALIGN - H % SPATIAL_ALIGN) % SPATIAL_ALIGN
    pad_w = (SPATIAL_ALIGN - W % SPATIAL_ALIGN) % SPATIAL_ALIGN
    t0, h0, w0 = pad_t >> 1, pad_h >> 1, pad_w >> 1
    crop = CropRegion(t0, h0, w0, t0 + T, h0 + H, w0 + W)
    if pad_t:
        before = frames[:, :1].expand(B, t0, H, W, 3)
        after = frames[:, -1:].expand(B, pad_t - t0, H, W, 3)
        frames = torch.cat([before, frames, after], dim=1)  # (B, T', H, W, 3)
    if pad_h or pad_w:
        padded = frames.new_zeros(B, frames.shape[1], H + pad_h, W + pad_w, 3)
        padded[:, :, h0 : h0 + H, w0 : w0 + W] = frames
        frames = padded  # (B, T', H', W', 3)
    return frames, crop


def frames_to_tensor(frames: torch.Tensor) -> torch.Tensor:
    """uint8 (B, T, H, W, 3) -> float32 (B, 3, T, H, W) as ``x/255*2-1`` in float64, cast once."""
    x = frames.to(torch.float64) / 255.0 * 2.0 - 1.0
    return x.to(torch.float32).permute(0, 4, 1, 2, 3).contiguous()  # (B, 3, T, H, W)


def tensor_to_frames(video: torch.Tensor) -> torch.Tensor:
    """float (B, 3, T, H, W) in [-1, 1] -> uint8 (B, T, H, W, 3): clamp((x+1)/2)*255 + 0.5, cut."""
    x = torch.clamp((video.to(torch.float32) + 1.0) / 2.0, 0.0, 1.0) * 255.0
    return (x + 0.5).to(torch.uint8).permute(0, 2, 3, 4, 1).contiguous()  # (B, T, H, W, 3)


def split_windows(frames: torch.Tensor, temporal_window: int) -> list[torch.Tensor]:
    """The official temporal windows: ``(T - 1) // w + 1`` chunks of ``w`` frames (the last may
    be shorter; each is padded and tokenised on its own). 16 or 17 frames with ``w = 17`` are one
    window; 32 frames are 17 + 15. Shape (B, T, H, W, 3) -> list of (B, T_i, H, W, 3).
    """
    if temporal_window < 1:
        raise ValueError(f"temporal_window must be >= 1, got {temporal_window}")
    T = frames.shape[1]
    n = (T - 1) // temporal_window + 1
    return [frames[:, i * temporal_window : (i + 1) * temporal_window] for i in range(n)]


def crop_frames(frames: torch.Tensor, crop: CropRegion) -> torch.Tensor:
    """Undo ``pad_frames``. Shape (B, T', H', W', 3) -> (B, T, H, W, 3)."""
    return frames[:, crop.t0 : crop.t1, crop.h0 : crop.h1, crop.w0 : crop.w1]
