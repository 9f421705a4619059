"""One job per stage: the module to export, its golden inputs, the golden outputs computed by the
PyTorch reference's public API (not by the export wrapper), and extra inputs along the dynamic
axes that the exported graph must also get right.

Golden outputs come from ``VideoTokenizer.encode/decode``, ``VQVAE.encode/decode_tokens`` with
the numpy post-processing of ``egom2p_edge.models.vqvae.preprocess``, ``EgoM2P.encode`` and the
decoder pass of the generation code (``decode_hidden`` then each modality's tied head).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from egom2p_edge.bundle import names
from egom2p_edge.export import golden_inputs as gi
from egom2p_edge.export import stage_modules as sm
from egom2p_edge.export.components import Component
from egom2p_edge.export.layout import BundlePlan
from egom2p_edge.models.video.preprocess import pad_frames
from egom2p_edge.models.vqvae.preprocess import denormalize_9d, denormalize_gaze, nine_d_to_c2w

Arrays = dict[str, np.ndarray]


@dataclass
class StageJob:
    """Everything needed to export and check one stage."""

    stage: str
    module: nn.Module
    sizes: dict[str, int]  # values of the static shape symbols (names.SHAPE_SYMBOLS)
    inputs: Arrays  # golden inputs, in graph order
    outputs: Arrays  # golden outputs (PyTorch reference), in graph order
    extra_inputs: list[Arrays] = field(default_factory=list)  # other sizes of the dynamic axes


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


@torch.no_grad()
def _video_jobs(comp: Component, plan: BundlePlan, seed: int) -> list[StageJob]:
    tok, video = comp.model, plan.video
    t, h, w = video.token_grid
    sizes = {"F": video.frames, "S": video.size, "t": t, "h": h, "w": w}
    frames = gi.video_frames(video.size, video.frames, seed)
    ids = _np(tok.encode(frames))  # (1, t, h, w) int64
    _, crop = pad_frames(torch.from_numpy(frames))
    decoded = _np(tok.decode(torch.from_numpy(ids), crop))  # (1, F, S, S, 3) uint8
    return [
        StageJob(
            names.VIDEO_ENCODER,
            sm.VideoEncoderStage(tok, video.frames).eval(),
            sizes,
            {names.FRAMES_UINT8: frames},
            {names.VIDEO_IDS: ids.astype(np.int64)},
        ),
        StageJob(
            names.VIDEO_DECODER,
            sm.VideoDecoderStage(tok, video.frames).eval(),
            sizes,
            {names.VIDEO_IDS: ids.astype(np.int64)},
            {names.FRAMES_UINT8: decoded},
        ),
    ]


@torch.no_grad()
def _traj_jobs(comp: Component, seed: int) -> list[StageJob]:
    model = comp.model
    cfg = model.config
    sizes = {"T": cfg.num_frames, "K": cfg.num_tokens}
    rng = np.random.default_rng(seed + 1)
    if cfg.domain == "cam":
        x = gi.camera_windows(2, cfg.num_frames, seed)
        enc, dec = names.CAM_ENCODER, names.CAM_DECODER
        x_name, ids_name = names.CAM_9D_NORM, names.CAM_IDS
    else:
        x = gi.gaze_windows(2, cfg.num_frames, seed)
        enc, dec = names.GAZE_ENCODER, names.GAZE_DECODER
        x_name, ids_name = names.GAZE_INPUT, names.GAZE_IDS
    ids = _np(model.encode(torch.from_numpy(x)))  # (2, K) int64
    recon = _np(model.decode_tokens(torch.from_numpy(ids)))  # (2, T, C) normalised
    if cfg.domain == "cam":
        nine = denormalize_9d(recon)  # float32, official formula
        dec_out = {
            names.CAM_9D: nine,
            names.T_WINDOW_CAMERA: nine_d_to_c2w(nine).astype(np.float32),
        }
        dec_module = sm.CamDecoderStage(model)
    else:
        dec_out = {names.GAZE_XY_NORM: denormalize_gaze(recon).astype(np.float32)}
        dec_module = sm.GazeDecoderStage(model)
    extra_x = [
        rng.normal(0, 1, (b, cfg.num_frames, cfg.input_channels)).astype(np.float32) for b in (1, 3)
    ]
    if cfg.domain == "gaze":
        for e in extra_x:
            e[..., 2] = (rng.random(e.shape[:2]) > 0.1).astype(np.float32)
    extra_ids = [rng.integers(0, cfg.codebook_size, (b, cfg.num_tokens)) for b in (1, 3)]
    return [
        StageJob(
            enc,
            sm.TrajEncoderStage(model).eval(),
            sizes,
            {x_name: x},
            {ids_name: ids},
            [{x_name: e} for e in extra_x],
        ),
        StageJob(
            dec,
            dec_module.eval(),
            sizes,
            {ids_name: ids},
            dec_out,
            [{ids_name: e.astype(np.int64)} for e in extra_ids],
        ),
    ]


def _reference_logits(model, ctx, ctx_valid, modality, positions, targets, vmax) -> np.ndarray:
    """The generation code's decoder pass: hidden states, then each target's tied head."""
    hidden = model.decode_hidden(ctx, ctx_valid, positions, modality)  # (B, M, D)
    out = torch.full((*hidden.shape[:2], vmax), float("-inf"))
    for name in targets:
        lg = model.logits(hidden, name)  # (B, M, V_name)
        sel = modality == model.config.index(name)  # (B, M)
        out[..., : lg.shape[-1]] = torch.where(sel[..., None], lg, out[..., : lg.shape[-1]])
    return _np(out)


def _random_slots(config, B: int, N: int, rng: np.random.Generator, all_invalid: bool) -> Arrays:
    mod = rng.integers(0, len(config.modalities), (B, N))
    pos = np.zeros((B, N), dtype=np.int64)
    ids = np.zeros((B, N), dtype=np.int64)
    for i, spec in enumerate(config.modalities):
        sel = mod == i
        pos[sel] = rng.integers(0, spec.num_tokens, int(sel.sum()))
        ids[sel] = rng.integers(0, spec.vocab_size, int(sel.sum()))
    valid = np.zeros((B, N), dtype=bool) if all_invalid else rng.random((B, N)) > 0.3
    return {
        names.INPUT_IDS: ids,
        names.INPUT_MODALITY: mod.astype(np.int64),
        names.INPUT_POSITIONS: pos,
        names.INPUT_VALID: valid,
    }


@torch.no_grad()
def _backbone_jobs(comp: Component, plan: BundlePlan, seed: int) -> list[StageJob]:
    model, cfg = comp.model, comp.model.config
    targets, vmax = plan.backbone.decoder_targets, plan.backbone.decoder_vocab_size
    sizes = {"D": cfg.dim, "V": vmax}
    known = {t: max(1, cfg.spec(t).num_tokens // 3) for t in targets[:1]}
    slots = gi.encoder_slots(cfg, plan.decoding.condition, known, seed)
    t = {k: torch.from_numpy(v) for k, v in slots.items()}
    ctx = model.encode(t["ids"], t["positions"], t["modality"], t["valid"]).context
    enc_in = {
        names.INPUT_IDS: slots["ids"],
        names.INPUT_MODALITY: slots["modality"],
        names.INPUT_POSITIONS: slots["positions"],
        names.INPUT_VALID: slots["valid"],
    }
    q = gi.decoder_queries(cfg, targets, ctx.shape[0], seed + 2)
    modality, positions = torch.from_numpy(q["modality"]), torch.from_numpy(q["positions"])
    logits = _reference_logits(model, ctx, t["valid"], modality, positions, targets, vmax)
    rng = np.random.default_rng(seed + 3)
    extra_enc = [_random_slots(cfg, 1, 1, rng, True), _random_slots(cfg, 2, 7, rng, False)]
    extra_dec = []
    for B, N, M, empty in ((1, 1, 1, True), (2, 9, 13, False)):
        s = _random_slots(cfg, B, N, rng, empty)
        tm = rng.choice([cfg.index(x) for x in targets], (B, M)).astype(np.int64)
        tp = np.array([[rng.integers(0, cfg.modalities[i].num_tokens) for i in row] for row in tm])
        extra_dec.append(
            {
                names.CONTEXT: rng.normal(0, 1, (B, N, cfg.dim)).astype(np.float32),
                names.CONTEXT_VALID: s[names.INPUT_VALID],
                names.TARGET_MODALITY: tm,
                names.TARGET_POSITIONS: tp.astype(np.int64),
            }
        )
    dec_in = {
        names.CONTEXT: _np(ctx),
        names.CONTEXT_VALID: slots["valid"],
        names.TARGET_MODALITY: q["modality"],
        names.TARGET_POSITIONS: q["positions"],
    }
    return [
        StageJob(
            names.BACKBONE_ENCODER,
            sm.BackboneEncoderStage(model).eval(),
            sizes,
            enc_in,
            {names.CONTEXT: _np(ctx)},
            extra_enc,
        ),
        StageJob(
            names.BACKBONE_DECODER,
            sm.BackboneDecoderStage(model, targets).eval(),
            sizes,
            dec_in,
            {names.LOGITS: logits},
            extra_dec,
        ),
    ]


def build_jobs(components: dict[str, Component], plan: BundlePlan, seed: int = 0) -> list[StageJob]:
    """The jobs of every stage of ``plan``, in ``plan.stages`` order."""
    from egom2p_edge.export.components import (
        BACKBONE,
        CAM_TOKENIZER,
        GAZE_TOKENIZER,
        VIDEO_TOKENIZER,
    )

    jobs: list[StageJob] = []
    if VIDEO_TOKENIZER in components:
        jobs += _video_jobs(components[VIDEO_TOKENIZER], plan, seed)
    for role in (CAM_TOKENIZER, GAZE_TOKENIZER):
        if role in components:
            jobs += _traj_jobs(components[role], seed)
    if BACKBONE in components:
        jobs += _backbone_jobs(components[BACKBONE], plan, seed)
    order = list(plan.stages)
    return sorted(jobs, key=lambda j: order.index(j.stage))
