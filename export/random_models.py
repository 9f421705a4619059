"""Random-weight checkpoints of a whole model set, for tests and the demo (never for predictions).

``write_random_checkpoints(out_dir, preset="ego-tiny", seed=0)`` writes, in our format, the
backbone, the camera and gaze tokenizers and the video tokenizer that fit it, each with provenance
"untrained (random init, seed N)". ``ego-tiny``: 16 frames at 128x128 -> 5x16x16 video tokens
(video tokenizer ``tiny128``), tokenizers ``tiny``; ``ego-b``: the official sizes.
"""

from __future__ import annotations

from pathlib import Path

import torch

from egom2p_edge.export.components import (
    BACKBONE,
    CAM_TOKENIZER,
    GAZE_TOKENIZER,
    VIDEO_TOKENIZER,
)

# backbone preset -> (VQ-VAE preset, video tokenizer preset)
MODEL_SETS = {"ego-tiny": ("tiny", "tiny128"), "ego-b": ("official", "dv4x8x8")}


def _provenance(seed: int, what: str, preset: str) -> dict:
    return {
        "training": "untrained",
        "description": f"untrained (random init, seed {seed})",
        "seed": seed,
        "model": what,
        "preset": preset,
        "created_by": "egom2p_edge.export.random_models",
    }


def write_random_checkpoints(
    out_dir: str | Path, preset: str = "ego-tiny", seed: int = 0
) -> dict[str, Path]:
    """Write the four components under ``out_dir``; returns role -> checkpoint folder.

    Roles: ``backbone``, ``cam_tokenizer``, ``gaze_tokenizer``, ``video_tokenizer``. Each
    component draws its weights from its own seed (``seed``, ``seed + 1`` ...); the global torch
    RNG is left as it was.
    """
    from egom2p_edge.checkpoints.sdk_format import save_checkpoint
    from egom2p_edge.models.backbone.config import backbone_preset
    from egom2p_edge.models.backbone.model import EgoM2P
    from egom2p_edge.models.video.config import preset as video_preset
    from egom2p_edge.models.video.tokenizer import VideoTokenizer
    from egom2p_edge.models.vqvae.config import preset as vqvae_preset
    from egom2p_edge.models.vqvae.io import save_vqvae
    from egom2p_edge.models.vqvae.model import VQVAE

    if preset not in MODEL_SETS:
        raise ValueError(f"unknown model preset {preset!r}; choose one of {sorted(MODEL_SETS)}")
    vq_name, video_name = MODEL_SETS[preset]
    out = Path(out_dir)
    paths = {
        role: out / role for role in (BACKBONE, CAM_TOKENIZER, GAZE_TOKENIZER, VIDEO_TOKENIZER)
    }

    cfg = backbone_preset(preset)
    with torch.random.fork_rng(devices=[]):  # nn.Linear's default init runs before EgoM2P's own
        model = EgoM2P(cfg, seed=seed)
    save_checkpoint(
        paths[BACKBONE],
        "backbone",
        cfg.to_dict(),
        model.state_dict(),
        _provenance(seed, "backbone", preset),
    )
    del model
    for k, (role, domain) in enumerate(((CAM_TOKENIZER, "cam"), (GAZE_TOKENIZER, "gaze")), 1):
        vq = VQVAE(vqvae_preset(vq_name, domain), seed=seed + k)
        save_vqvae(vq, paths[role], _provenance(seed + k, f"{domain} tokenizer", vq_name))
    vcfg = video_preset(video_name)
    with torch.random.fork_rng(devices=[]):  # PyTorch's default init draws from the global RNG
        torch.manual_seed(seed + 3)
        video = VideoTokenizer(vcfg)
    save_checkpoint(
        paths[VIDEO_TOKENIZER],
        "video_tokenizer",
        vcfg.to_dict(),
        video.state_dict(),
        _provenance(seed + 3, "video tokenizer", video_name),
    )
    return paths
