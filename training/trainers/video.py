"""``train_video_tokenizer``: train a small causal video tokenizer on the videos of a clip dataset.

Our CPU recipe (the released tokenizer's training recipe is not part of EgoM2P): loss = mean L1
between the decoded video and the input in [-1, 1] over the original frames (the padding frame
and pixels excluded), through FSQ's straight-through codes; no perceptual or adversarial term.
AdamW betas (0.9, 0.99), weight decay 0.05, warmup then cosine, clipping at 1.0. Items are the
RGB video of every clip and, by default, its depth as grey RGB (the paper tokenises depth with
the RGB tokenizer). Evaluation on held-out clips through the token ids (uint8 in, uint8 out, as
at inference): PSNR in dB of RGB and of depth videos, and the L1 loss.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from egom2p_edge.models.video import (
    VideoTokenizer,
    VideoTokenizerConfig,
    frames_to_tensor,
    pad_frames,
    preset,
)
from egom2p_edge.training.trainers.config import OptimConfig, RunConfig
from egom2p_edge.training.trainers.data import VideoClipDataset, dataset_info, split_indices
from egom2p_edge.training.trainers.distributed import DistContext
from egom2p_edge.training.trainers.loop import TrainResult, TrainTask, run_training

log = logging.getLogger(__name__)

CPU_BLR = 5e-2  # lr 8e-4 at batch 4 (chosen on synthetic clips)
EVAL_CHUNK = 4


def default_optim(steps: int, **overrides: Any) -> OptimConfig:
    kw = dict(blr=CPU_BLR, betas=(0.9, 0.99), weight_decay=0.05, warmup_steps=max(1, steps // 20))
    kw.update(overrides)
    return OptimConfig(**kw)


def build_video_tokenizer(config: VideoTokenizerConfig, seed: int) -> VideoTokenizer:
    """A freshly initialised tokenizer; PyTorch's default init drawn from ``seed`` (the global
    generator is forked, so the caller's random state is untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return VideoTokenizer(config)


def reconstruction_l1(model: VideoTokenizer, frames: torch.Tensor) -> torch.Tensor:
    """Mean L1 in [-1, 1] units over the original frames. frames (B, T, H, W, 3) uint8."""
    padded, crop = pad_frames(frames)  # (B, T', H', W', 3)
    x = frames_to_tensor(padded)  # (B, 3, T', H', W')
    y = model.decode_codes(model.encode_stages(x).codes)  # (B, 3, T', H', W')
    diff = (y - x)[:, :, crop.t0 : crop.t1, crop.h0 : crop.h1, crop.w0 : crop.w1]
    return diff.abs().mean()


def psnr_db(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of two uint8 arrays in dB (inf when equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


class _VideoTrainModule(nn.Module):
    def __init__(self, model: VideoTokenizer) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        device = self.model.quant_conv.conv3d.weight.device
        return {"loss": reconstruction_l1(self.model, frames.to(device))}


class _Subset(torch.utils.data.Dataset):
    def __init__(self, base: VideoClipDataset, items: list[int]) -> None:
        self.base, self.items = base, items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k: int) -> torch.Tensor:
        return self.base[self.items[k]]


class VideoTask(TrainTask):
    """A video tokenizer training run."""

    kind = "video_tokenizer"
    name = "video-tokenizer"

    def __init__(self, model: VideoTokenizer, videos: VideoClipDataset, run: RunConfig) -> None:
        self.model = model
        self.videos = videos
        train_clips, val_clips = split_indices(videos.num_clips, run.val_fraction)
        train_set = set(train_clips)
        val_set = set(val_clips[: run.max_eval_samples])
        items = videos.items
        self.train_items = [k for k, (c, _) in enumerate(items) if c in train_set]
        self.val_items = [k for k, (c, _) in enumerate(items) if c in val_set]
        if not self.train_items:
            raise ValueError(f"{videos.path}: no training video left after the held-out split")
        self.train_data = _Subset(videos, self.train_items)
        self.train_module = _VideoTrainModule(model)
        self.ddp_kwargs: dict[str, Any] = {}

    def data_info(self) -> dict[str, Any]:
        return {
            **dataset_info(self.videos.clips),
            "train_videos": len(self.train_items),
            "eval_videos": len(self.val_items),
            "frame_size": self.videos.size,
        }

    def evaluate(self) -> dict[str, float]:
        by_kind: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"rgb": [], "depth": []}
        l1, n = 0.0, 0
        for i in range(0, len(self.val_items), EVAL_CHUNK):
            ks = self.val_items[i : i + EVAL_CHUNK]
            frames = torch.stack([self.videos[k] for k in ks])  # (b, 16, S, S, 3)
            device = self.model.quant_conv.conv3d.weight.device
            l1 += float(reconstruction_l1(self.model, frames.to(device))) * len(ks)
            n += len(ks)
            _, crop = pad_frames(frames)
            ids = self.model.encode(frames)  # (b, t, h, w)
            back = self.model.decode(ids, crop).cpu().numpy()  # (b, 16, S, S, 3)
            for j, k in enumerate(ks):
                by_kind[self.videos.items[k][1]].append((frames[j].numpy(), back[j]))
        out = {"val_loss": l1 / max(n, 1)}
        for kind, pairs in by_kind.items():
            if pairs:
                out[f"psnr_{kind}_db"] = float(np.mean([psnr_db(a, b) for a, b in pairs]))
        return out

    def extra_provenance(self) -> dict[str, Any]:
        return {"loss": "L1 (no perceptual term)"}


def train_video_tokenizer(
    data: str | Path,
    run: RunConfig,
    config: VideoTokenizerConfig | None = None,
    optim: OptimConfig | None = None,
    *,
    preset_name: str = "tiny128",
    include_depth: bool = True,
    limit_clips: int | None = None,
    ctx: DistContext | None = None,
) -> TrainResult:
    """Train a video tokenizer (default preset ``tiny128``) on a clip dataset's videos."""
    ctx = ctx or DistContext.setup(run.device)
    try:
        videos = VideoClipDataset(data, include_depth=include_depth, limit=limit_clips)
        config = config or preset(preset_name)
        model = build_video_tokenizer(config, run.seed)
        task = VideoTask(model, videos, run)
        return run_training(task, optim or default_optim(run.steps), run, ctx)
    finally:
        ctx.close()
