"""AdamW with decay only on weight matrices, and the warmup-then-cosine learning-rate schedule.

The schedule is a pure function of the step, so a resumed run needs only the step number.
Weight decay skips 1-D parameters (biases, norm weights), frozen ones (fixed position tables)
and the embedding-like tensors (``mask_token``, ``mod_emb``, ``pos_emb``), the usual ViT/MAE
grouping (the spec names the decay, not the grouping).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from egom2p_edge.training.trainers.config import OptimConfig

NO_DECAY_SUFFIXES = ("mask_token", "mod_emb", "pos_emb", "position_embeddings")


def lr_at(step: int, total_steps: int, peak_lr: float, cfg: OptimConfig) -> float:
    """Learning rate of optimiser step ``step`` (0-based): linear warmup from 0 over
    ``cfg.warmup_steps``, then cosine from ``peak_lr`` to ``cfg.min_lr`` at ``total_steps``."""
    warm = cfg.warmup_steps
    if step < warm:
        return peak_lr * step / warm
    span = max(1, total_steps - warm)
    progress = min(1.0, (step - warm) / span)
    return cfg.min_lr + (peak_lr - cfg.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: decayed weight matrices and everything else trainable."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or name.endswith(NO_DECAY_SUFFIXES):
            no_decay.append(p)
        else:
            decay.append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.AdamW:
    """AdamW over ``param_groups`` (the lr is set every step from ``lr_at``)."""
    return torch.optim.AdamW(
        param_groups(model, cfg.weight_decay), lr=0.0, betas=cfg.betas, eps=cfg.eps
    )


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for g in optimizer.param_groups:
        g["lr"] = lr
