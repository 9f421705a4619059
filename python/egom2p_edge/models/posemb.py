"""Fixed sin-cos position embeddings, as the official EgoM2P code builds them.

1-D (gaze, camera tokens; the VQ-VAE tokenizers): ``omega_i = 1 / 10000**(i / (D/2))``,
``emb[p] = [sin(p*omega), cos(p*omega)]`` (all sines, then all cosines).
3-D (video tokens): each axis gets D/3 channels, ``inv_freq_j = 1 / 10000**(2j / (D/3))``,
interleaved ``[sin f0, cos f0, sin f1, cos f1, ...]``; channel blocks ``[t | h | w]``; positions
flattened in (t, h, w) order.
"""

from __future__ import annotations

import torch


def sincos_1d(num_positions: int, dim: int) -> torch.Tensor:
    """Shape (1, num_positions, dim) float32."""
    if dim % 2 != 0:
        raise ValueError(f"sincos_1d: dim must be even, got {dim}")
    half = dim // 2
    omega = 1.0 / (10000.0 ** (torch.arange(half, dtype=torch.float32) / half))  # (D/2,)
    pos = torch.arange(num_positions, dtype=torch.float32)  # (N,)
    angles = torch.einsum("n,d->nd", pos, omega)  # (N, D/2)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)[None]  # (1, N, D)


def _axis_interleaved(positions: torch.Tensor, channels: int) -> torch.Tensor:
    """(N,) positions -> (N, channels) with interleaved sin/cos pairs."""
    inv_freq = 1.0 / (10000.0 ** (torch.arange(0, channels, 2, dtype=torch.float32) / channels))
    angles = torch.einsum("n,c->nc", positions, inv_freq)  # (N, C/2)
    return torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(positions.shape[0], channels)


def sincos_3d(t: int, h: int, w: int, dim: int) -> torch.Tensor:
    """Shape (1, t*h*w, dim) float32; ``dim`` must be divisible by 6."""
    if dim % 6 != 0:
        raise ValueError(
            f"sincos_3d: dim must be divisible by 6 (3 axes x sin/cos pairs), got {dim}"
        )
    c = dim // 3
    gt, gh, gw = torch.meshgrid(
        torch.arange(t, dtype=torch.float32),
        torch.arange(h, dtype=torch.float32),
        torch.arange(w, dtype=torch.float32),
        indexing="ij",
    )  # each (t, h, w)
    parts = [_axis_interleaved(g.reshape(-1), c) for g in (gt, gh, gw)]  # 3 x (t*h*w, D/3)
    return torch.cat(parts, dim=1)[None]  # (1, t*h*w, D)
