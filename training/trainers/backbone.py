"""``train_backbone``: train the EgoM2P encoder-decoder on a token database.

The official recipe (EGOM2P_SPEC.md 2.4, 2.5, 3): per sample a Dirichlet-mixture split of the
input and target budgets over the sample's modalities (``MaskedTokenDataset``), the per-modality
``mod`` loss (sum of per-modality mean cross-entropies / number of modalities, absent ones
included), AdamW betas (0.9, 0.95), weight decay 0.05, ``lr = blr * batch / 256`` (blr 1e-4),
warmup then cosine, clipping at 1.0, bf16 autocast (on CUDA, ``RunConfig.bf16``).

The backbone's token layouts follow the database: the preset (``ego-tiny``, ``ego-b``) gives the
sizes, the database the video grid and the vocabularies.

Evaluation on held-out samples with fixed masks: the loss, the loss and target-token accuracy
per modality; and, when the database records its gaze/camera tokenizers and stores ground truth,
the paper's metrics of rgb -> cam and rgb -> gaze predictions (``generate``, official mode,
argmax) decoded by those tokenizers: ATE / RTE / RRE and gaze MSE (``gen_eval_samples`` clips).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import default_collate

from egom2p_edge.metrics import camera_errors, gaze_mse
from egom2p_edge.models.backbone import (
    BackboneConfig,
    EgoM2P,
    ModalitySpec,
    backbone_preset,
    forward_train,
)
from egom2p_edge.models.masking import MaskingConfig
from egom2p_edge.training.tokens import MaskedTokenDataset, TokenDatabase, to_model_batch
from egom2p_edge.training.trainers.config import OptimConfig, RunConfig
from egom2p_edge.training.trainers.data import split_indices
from egom2p_edge.training.trainers.distributed import DistContext
from egom2p_edge.training.trainers.loop import TrainResult, TrainTask, run_training

log = logging.getLogger(__name__)

OFFICIAL_BLR = 1e-4
CPU_BLR = 2e-2  # ego-tiny on a CPU trains for hundreds, not 10^5, of steps (see the benchmark)
DEFAULT_BUDGETS = {"ego-b": 2048, "ego-tiny": 256}
EVAL_SEED_OFFSET = 7919  # held-out masks use seed + this (fixed across evaluations)
EVAL_BATCH = 16


def default_optim(preset_name: str, steps: int, **overrides: Any) -> OptimConfig:
    blr = OFFICIAL_BLR if preset_name == "ego-b" else CPU_BLR
    kw = dict(blr=blr, betas=(0.9, 0.95), weight_decay=0.05, warmup_steps=max(1, steps // 20))
    kw.update(overrides)
    return OptimConfig(**kw)


def backbone_config_for(
    db: TokenDatabase, preset_name: str, only_data_modalities: bool = False, **overrides: Any
) -> BackboneConfig:
    """The preset with the database's video grid and vocabularies.

    With ``only_data_modalities`` the backbone has only the modalities the database holds (e.g.
    a camera + gaze model without the large video tables); the official model always has all
    four, and its loss divides by four.
    """
    base = backbone_preset(preset_name, **overrides)
    video = next((db.modalities[n] for n in ("tok_rgb", "tok_depth") if n in db.modalities), None)
    specs = []
    for m in base.modalities:
        if only_data_modalities and m.name not in db.modalities:
            continue
        info = db.modalities.get(m.name)
        if m.pos_emb == "sincos_3d" and video is not None:
            info = info or video  # both video modalities share the tokenizer's grid
        if info is None:
            specs.append(m)
            continue
        specs.append(ModalitySpec(m.name, info.vocab_size, info.token_shape, m.pos_emb))
    return replace(base, modalities=tuple(specs))


def default_masking(config: BackboneConfig, preset_name: str) -> MaskingConfig:
    """The preset's budgets (ego-b: the official 2048 / 2048), at most half of the model's tokens
    each: budgets at or above the token count make every token an input and leave no target."""
    total = sum(m.num_tokens for m in config.modalities)
    budget = max(1, min(DEFAULT_BUDGETS.get(preset_name, 256), total // 2))
    return MaskingConfig(input_budget=budget, target_budget=budget)


def slot_counts(config: BackboneConfig, masking: MaskingConfig) -> tuple[int, int]:
    """Encoder and decoder slots: the budgets (official: 2048 each), capped at the tokens the
    model has in all (a small model must not pad 60 camera + gaze tokens to 256 slots)."""
    total = sum(m.num_tokens for m in config.modalities)
    return max(1, min(masking.input_budget, total)), max(1, min(masking.target_budget, total))


class _BackboneTrainModule(nn.Module):
    """forward(batch in the official layout) -> the mod loss and its per-modality terms."""

    def __init__(self, model: EgoM2P, masking: MaskingConfig) -> None:
        super().__init__()
        self.model = model
        self.slots = slot_counts(model.config, masking)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        names = self.model.config.modality_names
        device = self.model.mask_token.device
        mb = to_model_batch(
            {n: {k: v.to(device) for k, v in batch[n].items()} for n in names}, names
        )
        out = forward_train(self.model, mb, *self.slots)
        loss = out.loss
        if not loss.requires_grad:  # no target in the whole batch: a zero loss, still a graph
            loss = loss + sum(r.logits.sum() for r in out.rows.values()) * 0.0
        return {"loss": loss, **{f"loss_{n}": v for n, v in out.mod_loss.items()}}


class BackboneTask(TrainTask):
    """A backbone training run. No random state of its own: masks are functions of (seed,
    epoch, index), and nothing else draws."""

    kind = "backbone"
    name = "backbone"

    def __init__(
        self,
        model: EgoM2P,
        db: TokenDatabase,
        masking: MaskingConfig,
        run: RunConfig,
        gen_eval_samples: int,
    ) -> None:
        self.model = model
        self.db = db
        self.masking = masking
        cfg = model.config
        num_tokens = {m.name: m.num_tokens for m in cfg.modalities}
        train_idx, val_idx = split_indices(len(db), run.val_fraction)
        self.train_data = MaskedTokenDataset(db, num_tokens, masking, run.seed, train_idx)
        self.val_data = MaskedTokenDataset(
            db, num_tokens, masking, run.seed + EVAL_SEED_OFFSET, val_idx[: run.max_eval_samples]
        )
        self.train_module = _BackboneTrainModule(model, masking)
        self.ddp_kwargs: dict[str, Any] = {}
        self.gen_eval_samples = gen_eval_samples
        self._gen_tokenizers: dict | None = None

    def data_info(self) -> dict[str, Any]:
        src = self.db.manifest.get("source", {})
        return {
            "path": str(self.db.path.resolve()),
            "name": src.get("name") or self.db.path.name,
            "num_samples": len(self.db),
            "train_samples": len(self.train_data),
            "eval_samples": len(self.val_data),
            "modalities": {n: m.count for n, m in self.db.modalities.items()},
            "source": src,
            "masking": {
                "input_budget": self.masking.input_budget,
                "target_budget": self.masking.target_budget,
                "alphas": list(self.masking.alphas),
            },
        }

    def sampler_blocks(self) -> list[int]:
        """Shard sizes over the training items (a prefix of the database), so that the
        sampler shuffles shard by shard and the reader keeps one shard decoded at a time."""
        left, blocks = len(self.train_data), []
        for size in self.db.shard_sizes:
            if left <= 0:
                break
            blocks.append(min(size, left))
            left -= blocks[-1]
        return blocks

    def sampler_with_epoch(self) -> bool:
        return True

    def collate(self):
        return default_collate

    def evaluate(self) -> dict[str, float]:
        names = self.model.config.modality_names
        device = self.model.mask_token.device
        tot_loss, tot_w = 0.0, 0
        per_loss = {n: [0.0, 0] for n in names}
        correct = {n: [0, 0] for n in names}
        for i in range(0, len(self.val_data), EVAL_BATCH):
            items = [self.val_data[k] for k in range(i, min(i + EVAL_BATCH, len(self.val_data)))]
            batch = default_collate(items)
            mb = to_model_batch(
                {n: {k: v.to(device) for k, v in batch[n].items()} for n in names}, names
            )
            out = forward_train(self.model, mb, *slot_counts(self.model.config, self.masking))
            tot_loss += float(out.loss) * len(items)
            tot_w += len(items)
            for n, rows in out.rows.items():
                r = int(rows.target.numel())
                if r:
                    per_loss[n][0] += float(out.mod_loss[n]) * r
                    per_loss[n][1] += r
                    pred = rows.logits.argmax(-1)
                    correct[n][0] += int((pred == rows.target).sum())
                    correct[n][1] += r
        metrics = {"val_loss": tot_loss / max(tot_w, 1)}
        for n in names:
            if per_loss[n][1]:
                metrics[f"val_loss_{n}"] = per_loss[n][0] / per_loss[n][1]
                metrics[f"val_acc_{n}"] = correct[n][0] / correct[n][1]
        metrics |= self._generation_metrics()
        return metrics

    def _load_gen_tokenizers(self) -> dict:
        if self._gen_tokenizers is not None:
            return self._gen_tokenizers
        from egom2p_edge.models.vqvae import load_vqvae

        found = {}
        for name in ("tok_cam", "tok_gaze"):
            info = self.db.manifest.get("tokenizers", {}).get(name, {})
            path = info.get("path")
            if path and Path(path).exists():
                try:
                    found[name] = load_vqvae(path).to(self.model.mask_token.device)
                except (ValueError, FileNotFoundError) as exc:
                    log.warning("generation eval: cannot load %s tokenizer %s: %s", name, path, exc)
        self._gen_tokenizers = found
        return found

    def _generation_metrics(self) -> dict[str, float]:
        if self.gen_eval_samples <= 0 or "tok_rgb" not in self.db.modalities:
            return {}
        from egom2p_edge.models.generation import generate
        from egom2p_edge.models.vqvae.preprocess import (
            denormalize_9d,
            denormalize_gaze,
            nine_d_to_c2w,
        )

        toks = self._load_gen_tokenizers()
        device = self.model.mask_token.device
        out: dict[str, float] = {}
        for target, truth_key in (("tok_cam", "T_first_camera"), ("tok_gaze", "gaze_xy_norm")):
            if target not in toks:
                continue
            usable = (
                s
                for s in (self.db[i] for i in self.val_data.indices)
                if "tok_rgb" in s.tokens and truth_key in s.truth
            )
            samples = list(itertools.islice(usable, self.gen_eval_samples))
            if not samples:
                continue
            rgb = torch.from_numpy(np.stack([s.tokens["tok_rgb"] for s in samples])).long()
            res = generate(self.model, {"tok_rgb": rgb.to(device)}, [target], temperature=0.0)
            recon = toks[target].decode_tokens(res.tokens[target].to(device)).float().cpu().numpy()
            if target == "tok_cam":
                est = nine_d_to_c2w(denormalize_9d(recon))
                errs = [
                    camera_errors(s.truth["T_first_camera"], e, align="rotation")
                    for s, e in zip(samples, est)
                ]
                for k in ("ate_m", "rte_m", "rre_deg"):
                    out[f"rgb2cam_{k}"] = float(np.mean([e[k] for e in errs]))
            else:
                xy = np.stack([s.truth["gaze_xy_norm"] for s in samples])
                valid = np.stack([s.truth["gaze_valid"] for s in samples])
                if valid.any():
                    est = denormalize_gaze(recon).astype(np.float64)
                    out["rgb2gaze_mse"] = gaze_mse(xy, est, valid)
        return out

    def extra_provenance(self) -> dict[str, Any]:
        return {"tokenizers": self.db.manifest.get("tokenizers", {})}


def train_backbone(
    data: str | Path | TokenDatabase,
    run: RunConfig,
    config: BackboneConfig | None = None,
    optim: OptimConfig | None = None,
    masking: MaskingConfig | None = None,
    *,
    preset_name: str = "ego-tiny",
    gen_eval_samples: int = 4,
    ctx: DistContext | None = None,
) -> TrainResult:
    """Train a backbone on a token database (see the module docstring).

    config: default ``backbone_config_for(db, preset_name)``; masking: default
    ``default_masking`` (the official alphas); optim: ``default_optim``.
    """
    ctx = ctx or DistContext.setup(run.device)
    try:
        db = data if isinstance(data, TokenDatabase) else TokenDatabase(data)
        config = config or backbone_config_for(db, preset_name)
        masking = masking or default_masking(config, preset_name)
        optim = optim or default_optim(preset_name, run.steps)
        model = EgoM2P(config, seed=run.seed)
        task = BackboneTask(model, db, masking, run, gen_eval_samples)
        return run_training(task, optim, run, ctx)
    finally:
        ctx.close()
