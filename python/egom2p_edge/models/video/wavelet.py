"""Haar wavelet patching: pixels <-> wavelet sub-bands, the tokenizer's first and last stage.

One level splits time, height and width each into a low (sum) and high (difference) half, giving
8 sub-bands ordered lll, llh, lhl, lhh, hll, hlh, hhl, hhh (time, height, width), concatenated on
channels (sub-band major), and divides by 2*sqrt(2) so the low band is a mean. ``log2(patch)``
levels are applied; the first frame is first repeated ``patch`` times so 1 + patch*k frames give
1 + k latent frames (the first latent frame sees only the first input frame).
"""

from __future__ import annotations

import math

import torch
from torch import nn

# float32 of 1/sqrt(2): the Haar filter taps as the official buffer stores them.
_TAP = float(torch.tensor(1.0 / math.sqrt(2.0), dtype=torch.float32))
# Per-level normalisation: float32(sqrt(2)) * 2 (exact scaling by a power of two).
_LEVEL_SCALE = float(torch.tensor(2.0, dtype=torch.float32).sqrt()) * 2.0


def _split(x: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(low, high) halves of a stride-2 Haar step along ``dim`` (size must be even)."""
    shape = list(x.shape)
    shape[dim : dim + 1] = [shape[dim] // 2, 2]
    pairs = x.reshape(shape)  # (..., n/2, 2, ...)
    a = pairs.select(dim + 1, 0)
    b = pairs.select(dim + 1, 1)
    return a * _TAP + b * _TAP, a * _TAP - b * _TAP


def _merge(low: torch.Tensor, high: torch.Tensor, dim: int) -> torch.Tensor:
    """Inverse of ``_split``: interleave ``low*h + high*g`` along ``dim`` (size doubles)."""
    a = low * _TAP + high * _TAP
    b = low * _TAP - high * _TAP
    out = torch.stack([a, b], dim=dim + 1)  # (..., n, 2, ...)
    shape = list(low.shape)
    shape[dim] = shape[dim] * 2
    return out.reshape(shape)  # (..., 2n, ...)


class HaarPatcher3d(nn.Module):
    """Video to Haar sub-bands.

    Shape (B, C, 1 + p*k, H, W) -> (B, C * p**3, 1 + k, H/p, W/p) for patch size p.
    """

    def __init__(self, patch_size: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.levels = int(math.log2(patch_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, T, H, W = x.shape
        if self.patch_size > 1:
            first = x[:, :, :1].expand(B, C, self.patch_size, H, W)  # (B, C, p, H, W)
            x = torch.cat([first, x[:, :, 1:]], dim=2)  # (B, C, T - 1 + p, H, W)
        for _ in range(self.levels):
            lo_t, hi_t = _split(x, 2)
            bands = []
            for band_t in (lo_t, hi_t):
                lo_h, hi_h = _split(band_t, 3)
                for band_h in (lo_h, hi_h):
                    bands.extend(_split(band_h, 4))
            x = torch.cat(bands, dim=1) / _LEVEL_SCALE  # (B, 8C, T/2, H/2, W/2)
        return x


class HaarUnpatcher3d(nn.Module):
    """Haar sub-bands back to video; drops the ``p - 1`` extra copies of the first frame.

    Shape (B, C * p**3, 1 + k, h, w) -> (B, C, 1 + p*k, h*p, w*p).
    """

    def __init__(self, patch_size: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.levels = int(math.log2(patch_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(self.levels):
            b = torch.chunk(x, 8, dim=1)  # 8 x (B, C/8, T, H, W): lll .. hhh
            ll = _merge(b[0], b[1], 4)
            lh = _merge(b[2], b[3], 4)
            hl = _merge(b[4], b[5], 4)
            hh = _merge(b[6], b[7], 4)
            lo = _merge(ll, lh, 3)
            hi = _merge(hl, hh, 3)
            x = _merge(lo, hi, 2) * _LEVEL_SCALE  # (B, C/8, 2T, 2H, 2W)
        return x[:, :, self.patch_size - 1 :]
