"""Tiny model configs shared by the training tests (and their spawned worker processes)."""

from __future__ import annotations

from egom2p_edge.models.video import VideoTokenizerConfig
from egom2p_edge.models.vqvae import VQVAEConfig

CLIP_SIZE = 32  # the smallest frame the 8x8 video grid takes: a 5x4x4 token grid
NUM_CLIPS = 8


def tiny_vq_config(domain: str) -> VQVAEConfig:
    return VQVAEConfig(domain, dim=32, depth=1, heads=2, codebook_size=32, latent_dim=8)


def tiny_video_config() -> VideoTokenizerConfig:
    """1 down-sampler after the Haar patch: 8x8 spatial compression, 4x in time."""
    return VideoTokenizerConfig(
        channels=4, channels_mult=(1, 1), num_res_blocks=1, levels=(4, 4, 4), embedding_dim=3
    )
