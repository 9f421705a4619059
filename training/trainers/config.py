"""The two configs every trainer takes: ``OptimConfig`` (optimiser, schedule) and ``RunConfig``.

Official recipes (EGOM2P_SPEC.md 1.6, 2.5): tokenizers AdamW betas (0.9, 0.99), backbone
(0.9, 0.95); weight decay 0.05; ``lr = blr * global_batch / 256``; linear warmup from 0 then
cosine to ``min_lr``; gradient clipping at norm 1.0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class OptimConfig:
    """AdamW and its learning-rate schedule."""

    blr: float = 1e-4  # base lr; the lr is blr * global_batch / 256 unless ``lr`` is set
    lr: float | None = None  # absolute peak lr (overrides blr)
    betas: tuple[float, float] = (0.9, 0.95)  # AdamW betas (tokenizers: (0.9, 0.99))
    eps: float = 1e-8  # AdamW epsilon
    weight_decay: float = 0.05  # on weight matrices; never on biases, norms, embeddings tables
    warmup_steps: int = 0  # linear warmup from 0 to the peak lr
    min_lr: float = 0.0  # cosine floor
    clip_grad: float | None = 1.0  # max global gradient norm (None = no clipping)

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        for name in ("blr", "eps", "weight_decay", "min_lr"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"OptimConfig.{name} must be a finite number >= 0, got {v!r}")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"OptimConfig.lr must be None or > 0, got {self.lr!r}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"OptimConfig.betas must be two values in [0, 1), got {self.betas}")
        if not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise ValueError(
                f"OptimConfig.warmup_steps must be an int >= 0, got {self.warmup_steps}"
            )
        if self.clip_grad is not None and not self.clip_grad > 0:
            raise ValueError(f"OptimConfig.clip_grad must be None or > 0, got {self.clip_grad}")

    def peak_lr(self, global_batch: int) -> float:
        """``lr`` if set, else ``blr * global_batch / 256``."""
        return float(self.lr) if self.lr is not None else self.blr * global_batch / 256.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d


@dataclass(frozen=True)
class RunConfig:
    """How long, on what, where to write, how often to evaluate, log and checkpoint."""

    out_dir: Path  # checkpoint, train_state.pt, logs and the loss curve go here
    steps: int = 1000  # optimiser steps of the whole schedule
    batch_size: int = 32  # samples per process and step (global batch = this x processes)
    seed: int = 0  # model init, data order, masks, codebook restarts
    device: str = "cpu"  # "cpu", "cuda", "cuda:1" (under torchrun: the local GPU)
    eval_every: int = 0  # steps between evaluations (0 = only before and after)
    ckpt_every: int = 0  # steps between resumable checkpoints (0 = only at the end)
    log_every: int = 1  # steps between train-log lines
    workers: int = 0  # DataLoader worker processes
    stop_at: int | None = None  # checkpoint and stop at this step (the schedule keeps ``steps``)
    resume: bool = False  # continue from out_dir's checkpoint and train_state.pt
    overwrite: bool = False  # start over in an out_dir that already holds a run
    bf16: bool = False  # bf16 autocast (CUDA only; ignored on the CPU)
    progress: bool = True  # tqdm bar on rank 0
    val_fraction: float = 0.1  # share of the data held out for evaluation (at least 1 sample)
    max_eval_samples: int = 256  # evaluation uses at most this many held-out samples

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        for name in ("steps", "batch_size", "log_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"RunConfig.{name} must be an int >= 1, got {v!r}")
        for name in ("eval_every", "ckpt_every", "workers", "max_eval_samples"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                raise ValueError(f"RunConfig.{name} must be an int >= 0, got {v!r}")
        if self.stop_at is not None and not 1 <= self.stop_at <= self.steps:
            raise ValueError(
                f"RunConfig.stop_at must be in [1, steps={self.steps}] or None, got {self.stop_at}"
            )
        if self.resume and self.overwrite:
            raise ValueError("RunConfig: resume and overwrite exclude each other; choose one")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"RunConfig.val_fraction must be in [0, 1), got {self.val_fraction}")

    @property
    def last_step(self) -> int:
        """The step this run ends at (``stop_at`` or ``steps``)."""
        return self.steps if self.stop_at is None else self.stop_at

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        return d
