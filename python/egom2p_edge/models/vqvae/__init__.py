"""Gaze and camera VQ-VAE tokenizers (60 samples <-> 30 tokens), faithful to the official code."""

from egom2p_edge.models.vqvae.config import PRESETS, VQVAEConfig, preset
from egom2p_edge.models.vqvae.io import load_vqvae, save_vqvae
from egom2p_edge.models.vqvae.model import VQVAE, VQVAEOutput

__all__ = [
    "PRESETS",
    "VQVAE",
    "VQVAEConfig",
    "VQVAEOutput",
    "load_vqvae",
    "preset",
    "save_vqvae",
]
