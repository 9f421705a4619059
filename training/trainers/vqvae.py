"""``train_vqvae``: train the camera or gaze VQ-VAE tokenizer on a clip dataset.

The official recipe (EGOM2P_SPEC.md 1.3, 1.6): loss = reconstruction (cam: MSE over the
normalised 9-D; gaze: the masked MSE) + commitment; the codebook moves only by its EMA and
dead-code restarts (all-reduced across processes when distributed: the tokenizer's own sync);
AdamW betas (0.9, 0.99), weight decay 0.05, ``lr = blr * batch / 256`` (blr cam 2.5e-5, gaze
5e-5), linear warmup then cosine, clipping at 1.0.

Evaluation (held-out clips, reconstructions through the token ids as at inference): ``val_loss``
(the reconstruction loss of the decoded tokens; no commitment term, so it sits below the train
loss);
cam: ATE / RTE / RRE (``egom2p_edge.metrics.camera_errors``, ATE with the EgoM2P example's
rotation-only alignment) of the decoded trajectory against the clip's, averaged over clips;
gaze: MSE of decoded gaze in [0, 1] crop units over the valid samples; the share of codes used.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from egom2p_edge.metrics import camera_errors, gaze_mse
from egom2p_edge.models.vqvae import VQVAE, VQVAEConfig, preset
from egom2p_edge.models.vqvae.losses import reconstruction_loss
from egom2p_edge.models.vqvae.preprocess import denormalize_9d, denormalize_gaze, nine_d_to_c2w
from egom2p_edge.training.trainers.config import OptimConfig, RunConfig
from egom2p_edge.training.trainers.data import (
    RowDataset,
    TrajectoryData,
    load_trajectories,
    split_indices,
)
from egom2p_edge.training.trainers.distributed import DistContext
from egom2p_edge.training.trainers.loop import TrainResult, TrainTask, run_training

log = logging.getLogger(__name__)

OFFICIAL_BLR = {"cam": 2.5e-5, "gaze": 5e-5}
# The official blr assumes 200 epochs over hundreds of thousands of clips; the small CPU presets
# train for a few hundred steps and need a larger rate (chosen on synthetic clips; see
# benchmarks/results/train_tiny_cpu.md).
CPU_BLR = {"cam": 2e-3, "gaze": 2e-3}
EVAL_CHUNK = 256


def default_optim(domain: str, preset_name: str, steps: int, **overrides: Any) -> OptimConfig:
    """The tokenizer recipe; 5 % linear warmup (official: 5 of 200 epochs is 2.5 %)."""
    blr = OFFICIAL_BLR[domain] if preset_name == "official" else CPU_BLR[domain]
    kw = dict(blr=blr, betas=(0.9, 0.99), weight_decay=0.05, warmup_steps=max(1, steps // 20))
    kw.update(overrides)
    return OptimConfig(**kw)


def _no_forward_buffer_sync() -> dict[str, bool]:
    """DDP option that stops the per-forward buffer broadcast (renamed in torch 2.13)."""
    params = inspect.signature(nn.parallel.DistributedDataParallel.__init__).parameters
    if "forward_sync_buffers" in params:
        return {"forward_sync_buffers": False}
    return {"broadcast_buffers": False}


class _VQTrainModule(nn.Module):
    """forward(x) -> loss terms; the dead-code restarts draw from this process's generator."""

    def __init__(self, model: VQVAE, generator: torch.Generator) -> None:
        super().__init__()
        self.model = model
        self.generator = generator

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.model(x, generator=self.generator)
        terms = self.model.losses(out, x)
        return {
            "loss": terms["total"].reshape(()),
            "reconst": terms["reconst"].reshape(()),
            "code": terms["code"].reshape(()),
        }


def _cam_metrics(recon: np.ndarray, T_gt: np.ndarray) -> dict[str, float]:
    T_est = nine_d_to_c2w(denormalize_9d(recon))  # (V, 60, 9) -> (V, 60, 4, 4)
    errs = [camera_errors(g, e, align="rotation") for g, e in zip(T_gt, T_est)]
    return {k: float(np.mean([e[k] for e in errs])) for k in ("ate_m", "rte_m", "rre_deg")}


def _gaze_metrics(recon: np.ndarray, xy: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    if not valid.any():
        return {}
    return {"gaze_mse": gaze_mse(xy, denormalize_gaze(recon).astype(np.float64), valid)}


class VQTask(TrainTask):
    """A VQ-VAE training run."""

    kind = "vqvae"

    def __init__(self, model: VQVAE, data: TrajectoryData, run: RunConfig, rank: int) -> None:
        self.model = model
        self.data = data
        self.name = f"{data.domain}-tokenizer"
        train_idx, val_idx = split_indices(len(data), run.val_fraction)
        self.val_idx = val_idx[: run.max_eval_samples]
        self.train_data = RowDataset(data.inputs, train_idx)
        self.generator = torch.Generator().manual_seed(run.seed * 1000 + rank)
        self.train_module = _VQTrainModule(model, self.generator)
        # The codebook is kept identical by its own all-reduce, not by DDP's buffer broadcast.
        self.ddp_kwargs = _no_forward_buffer_sync()
        self._num_train = len(train_idx)

    def data_info(self) -> dict[str, Any]:
        return {**self.data.info, "train_clips": self._num_train, "eval_clips": len(self.val_idx)}

    def evaluate(self) -> dict[str, float]:
        device = next(self.model.parameters()).device
        x = torch.from_numpy(self.data.inputs[self.val_idx])  # (V, 60, C)
        recon, ids = [], []
        for i in range(0, len(x), EVAL_CHUNK):
            xb = x[i : i + EVAL_CHUNK].to(device)
            tok = self.model.encode(xb)  # (b, 30)
            recon.append(self.model.decode_tokens(tok).float().cpu())  # (b, 60, C_out)
            ids.append(tok.cpu())
        rec = torch.cat(recon)
        tok = torch.cat(ids)
        val_loss = float(reconstruction_loss(self.model.config.recon_loss, rec, x))
        used = int(torch.unique(tok).numel())
        out = {
            "val_loss": val_loss,
            "codes_used": used / self.model.config.codebook_size,
        }
        r = rec.numpy()
        if self.data.domain == "cam":
            out |= _cam_metrics(r, self.data.truth["T_first_camera"][self.val_idx])
        else:
            out |= _gaze_metrics(
                r,
                self.data.truth["gaze_xy_norm"][self.val_idx],
                self.data.truth["gaze_valid"][self.val_idx],
            )
        return out

    def rng_state(self) -> dict[str, torch.Tensor]:
        return {"dead_code": self.generator.get_state()}

    def set_rng_state(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["dead_code"].cpu())

    def extra_provenance(self) -> dict[str, Any]:
        return {"domain": self.data.domain}


def build_vqvae_config(domain: str, preset_name: str = "small", **overrides: Any) -> VQVAEConfig:
    """A tokenizer config by preset (``official``, ``small``, ``tiny``) and domain."""
    return preset(preset_name, domain, **overrides)


def train_vqvae(
    data: str | Path | TrajectoryData,
    domain: str,
    run: RunConfig,
    config: VQVAEConfig | None = None,
    optim: OptimConfig | None = None,
    *,
    preset_name: str = "small",
    ctx: DistContext | None = None,
    limit_clips: int | None = None,
) -> TrainResult:
    """Train a ``domain`` (cam | gaze) tokenizer on a clip dataset (or preloaded trajectories).

    config: the model (default: ``preset_name``); optim: default ``default_optim``. Returns the
    ``TrainResult`` (checkpoint under ``run.out_dir/checkpoint``).
    """
    ctx = ctx or DistContext.setup(run.device)
    try:
        if not isinstance(data, TrajectoryData):
            data = load_trajectories(data, domain, limit=limit_clips)
        if data.domain != domain:
            raise ValueError(f"train_vqvae: data holds {data.domain}, asked to train {domain}")
        config = config or build_vqvae_config(domain, preset_name)
        if config.domain != domain:
            raise ValueError(f"train_vqvae: config is for {config.domain}, data is {domain}")
        optim = optim or default_optim(domain, preset_name, run.steps)
        model = VQVAE(config, seed=run.seed)
        task = VQTask(model, data, run, ctx.rank)
        return run_training(task, optim, run, ctx)
    finally:
        ctx.close()
