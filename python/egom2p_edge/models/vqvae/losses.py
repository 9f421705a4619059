"""Reconstruction losses of the gaze/camera VQ-VAE, as the official training computes them."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mse_loss(recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over every element (camera). Shapes (B, T, C) -> (1,)."""
    if recon.shape != target.shape:
        raise ValueError(f"mse_loss: recon {tuple(recon.shape)} != target {tuple(target.shape)}")
    return F.mse_loss(recon, target).reshape(1)  # () -> (1,)


def masked_mse_loss(recon_xy: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Gaze loss: ``sum(((recon - xy)**2) * valid) / sum(valid)``. Shape (1,).

    recon_xy (B, T, 2); target (B, T, 3) = (x, y, validity). The numerator sums both coordinates
    of the valid frames and the denominator counts valid frames, so the value is twice a
    per-element mean (as in the official code). NaN when no frame is valid.
    """
    if target.ndim != 3 or target.shape[-1] != 3 or recon_xy.shape != target[..., :2].shape:
        raise ValueError(
            f"masked_mse_loss: expected recon (B, T, 2) and target (B, T, 3), got "
            f"{tuple(recon_xy.shape)} and {tuple(target.shape)}"
        )
    valid = target[..., 2:]  # (B, T, 1)
    return (((recon_xy - target[..., :2]) ** 2) * valid).sum().reshape(1) / valid.sum()  # (1,)


def reconstruction_loss(kind: str, recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``mse`` or ``mse_mask`` by name (``VQVAEConfig.recon_loss``). Shape (1,)."""
    if kind == "mse":
        return mse_loss(recon, target)
    if kind == "mse_mask":
        return masked_mse_loss(recon, target)
    raise ValueError(f"unknown reconstruction loss {kind!r}: expected 'mse' or 'mse_mask'")
