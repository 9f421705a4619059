"""Transformer pieces of the gaze/camera VQ-VAE: pre-norm ViT block, MLPs, the tanh post-MLP.

Parameter names (``norm1``, ``attn.qkv``, ``mlp.fc1`` ...) are those of the official state_dict,
so official weights load without renaming. Everything here is plain tensor algebra with static
shapes, so it traces to ONNX as is.
"""

from __future__ import annotations

import torch
from torch import nn

from egom2p_edge.models.vqvae.config import VQVAEConfig


class Attention(nn.Module):
    """Multi-head self-attention with one fused qkv projection (rows ordered [q | k | v]).

    Shape (B, N, D) -> (B, N, D). Scores are ``(q @ k^T) * head_dim**-0.5`` then softmax, in
    this order as in the official code (the scale is applied after the product).
    """

    def __init__(self, dim: int, heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        if dim % heads != 0:
            raise ValueError(f"Attention: heads={heads} must divide dim={dim}")
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, D // self.heads)  # (B, N, 3, H, Dh)
        qkv = qkv.permute(2, 0, 3, 1, 4)  # (3, B, H, N, Dh)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale  # (B, H, N, N)
        attn = attn.softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(B, N, D)  # (B, H, N, Dh) -> (B, N, D)
        return self.proj(out)


class Mlp(nn.Module):
    """``fc2(act(fc1(x)))``; GELU (exact erf) in the blocks, Tanh in the post-MLP."""

    def __init__(self, dim: int, hidden: int, act: type[nn.Module] = nn.GELU) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = act()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm ViT block: ``x += attn(norm1(x)); x += mlp(norm2(x))``. Shape (B, N, D)."""

    def __init__(self, dim: int, heads: int, mlp_hidden: int, qkv_bias: bool, eps: float) -> None:
        super().__init__()
        # Registration order norm1, norm2, attn, mlp reproduces the official state_dict order.
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads, qkv_bias)
        self.mlp = Mlp(dim, mlp_hidden, nn.GELU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def add_trunk(module: nn.Module, cfg: VQVAEConfig, depth: int) -> None:
    """Register ``blocks`` (+ ``norm_mlp``, ``post_mlp``) on ``module`` with official names."""
    hidden = cfg.mlp_hidden
    module.blocks = nn.ModuleList(
        [Block(cfg.dim, cfg.heads, hidden, cfg.qkv_bias, cfg.norm_eps) for _ in range(depth)]
    )
    if cfg.post_mlp:
        module.norm_mlp = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)
        module.post_mlp = Mlp(cfg.dim, hidden, nn.Tanh)
    else:
        module.norm_mlp = None
        module.post_mlp = None


def run_trunk(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply the blocks and the post-MLP registered by ``add_trunk``. Shape (B, N, D)."""
    for block in module.blocks:
        x = block(x)
    if module.post_mlp is not None:
        x = x + module.post_mlp(module.norm_mlp(x))
    return x
