"""Finite scalar quantisation (FSQ): bounded latents rounded per dimension to an implicit codebook.

Dimension d has ``L_d`` levels; a code is the vector of levels, its id is
``sum_d level_d * basis_d`` with ``basis = cumprod([1, L_0, L_1, ...])`` (dimension 0 least
significant). For 8,8,8,5,5,5 that is 64,000 ids and basis 1, 8, 64, 512, 2560, 12800. Code
values are ``(level - L//2) / (L//2)``, i.e. in [-1, 1].
"""

from __future__ import annotations

import torch
from torch import nn

_EPS = 1e-3  # keeps tanh bounds just outside the outermost levels


class FSQ(nn.Module):
    """FSQ over the channel dimension of a (B, D, T, H, W) latent."""

    def __init__(self, levels: tuple[int, ...]) -> None:
        super().__init__()
        self.levels = tuple(int(v) for v in levels)
        basis = [1]
        for v in self.levels[:-1]:
            basis.append(basis[-1] * v)
        self.vocab_size = basis[-1] * self.levels[-1]
        self.register_buffer("_levels", torch.tensor(self.levels, dtype=torch.int64), False)
        self.register_buffer("_basis", torch.tensor(basis, dtype=torch.int64), False)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantise. Shape (B, D, T, H, W) float -> (ids (B, T, H, W) int64, codes like z).

        Codes carry a straight-through gradient (value of the rounded code, gradient of the
        bounded latent).
        """
        zl = z.permute(0, 2, 3, 4, 1)  # (B, T, H, W, D)
        levels = self._levels.to(zl.dtype)
        half_l = (levels - 1) * (1 + _EPS) / 2
        offset = torch.where(self._levels % 2 == 0, 0.5, 0.0).to(zl.dtype)
        shift = torch.atanh(offset / half_l)
        bounded = torch.tanh(zl + shift) * half_l - offset
        rounded = torch.round(bounded)
        quantized = bounded + (rounded - bounded).detach()
        half_width = (self._levels // 2).to(zl.dtype)
        codes = quantized / half_width  # (B, T, H, W, D)
        digits = (rounded + half_width).to(torch.int64)  # (B, T, H, W, D) in [0, L)
        ids = (digits * self._basis).sum(dim=-1)  # (B, T, H, W)
        return ids, codes.permute(0, 4, 1, 2, 3)

    def ids_to_codes(self, ids: torch.Tensor) -> torch.Tensor:
        """Shape (B, T, H, W) integer ids -> (B, D, T, H, W) float32 codes."""
        digits = (ids.to(torch.int64)[..., None] // self._basis) % self._levels  # (B,T,H,W,D)
        half_width = self._levels // 2
        codes = (digits - half_width).to(torch.float32) / half_width.to(torch.float32)
        return codes.permute(0, 4, 1, 2, 3)  # (B, D, T, H, W)
