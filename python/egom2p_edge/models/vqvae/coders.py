"""Encoder and decoder of the gaze/camera VQ-VAE (transformers over 30 temporal tokens).

Encoder: Conv1d(C -> D, kernel = stride = temporal_compress) over time, + fixed sin-cos position
embedding, pre-norm blocks, tanh post-MLP residual, no final LayerNorm; output channels first.
Gaze input is (x, y, validity); the conv sees (x, y) * validity, so invalid frames read as 0.
Decoder: + position embedding, blocks, tanh post-MLP, ``out_proj`` Linear(D -> C * tc) and the
official unpacking ``'b n (c pt) -> b (n pt) c'`` (feature index = c * tc + pt).
"""

from __future__ import annotations

import torch
from torch import nn

from egom2p_edge.models.posemb import sincos_1d
from egom2p_edge.models.vqvae.blocks import add_trunk, run_trunk
from egom2p_edge.models.vqvae.config import VQVAEConfig


def _frozen_posemb(cfg: VQVAEConfig) -> nn.Parameter:
    # A frozen Parameter (not a buffer): that is how the official state_dict stores it.
    return nn.Parameter(sincos_1d(cfg.num_tokens, cfg.dim), requires_grad=False)


class TrajEncoder(nn.Module):
    """(B, T, C_in) -> (B, D, N) with N = T / temporal_compress."""

    def __init__(self, cfg: VQVAEConfig) -> None:
        super().__init__()
        self.masked_input = cfg.domain == "gaze"
        self.position_embeddings = _frozen_posemb(cfg)
        tc = cfg.temporal_compress
        self.conv = nn.Conv1d(cfg.conv_channels, cfg.dim, kernel_size=tc, stride=tc)
        add_trunk(self, cfg, cfg.depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.masked_input:
            x = x[..., :2] * x[..., 2:3]  # (B, T, 2): invalid frames become 0
        h = self.conv(x.transpose(1, 2))  # (B, C, T) -> (B, D, N)
        h = h.transpose(1, 2) + self.position_embeddings  # (B, N, D)
        h = run_trunk(self, h)
        return h.transpose(1, 2)  # (B, D, N)


class TrajDecoder(nn.Module):
    """(B, D, N) -> (B, T, C_out) with T = N * temporal_compress."""

    def __init__(self, cfg: VQVAEConfig) -> None:
        super().__init__()
        self.position_embeddings = _frozen_posemb(cfg)
        self.out_channels = cfg.out_channels
        self.temporal_compress = cfg.temporal_compress
        add_trunk(self, cfg, cfg.dec_depth)
        self.out_proj = nn.Linear(cfg.dim, cfg.out_channels * cfg.temporal_compress)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = (h + self.position_embeddings.transpose(1, 2)).transpose(1, 2)  # (B, N, D)
        h = run_trunk(self, h)
        out = self.out_proj(h)  # (B, N, C * tc)
        B, N, _ = out.shape
        C, tc = self.out_channels, self.temporal_compress
        out = out.reshape(B, N, C, tc).transpose(2, 3)  # (B, N, tc, C)
        return out.reshape(B, N * tc, C)  # (B, T, C)
