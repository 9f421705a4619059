"""Causal building blocks of the video tokenizer: causal 3-D convolution, per-frame GroupNorm.

Causality in time comes from padding only at the start, with copies of the first frame, so frame
``t`` of an output depends on input frames ``<= t`` (and the first frame's result does not
depend on how many frames follow).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CausalConv3d(nn.Module):
    """Conv3d with causal time padding (first frame repeated) and zero spatial padding.

    Shape (B, Cin, T, H, W) -> (B, Cout, T', H', W'); with stride 1 and ``spatial_padding``
    ``k // 2`` the output keeps T, H and W.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple[int, int, int] | int = 1,
        stride: tuple[int, int, int] | int = 1,
        spatial_padding: int = 0,
    ) -> None:
        super().__init__()
        if isinstance(kernel_size, int):
            kernel_size = (kernel_size,) * 3
        self.time_pad = kernel_size[0] - 1
        # Zero padding in space is the convolution's own (same arithmetic as padding first).
        p = spatial_padding
        self.conv3d = nn.Conv3d(in_channels, out_channels, kernel_size, stride, padding=(0, p, p))
        # A (kt, 1, 1) kernel is a 2-D (kt, 1) convolution over (T, H*W): faster on CPU than the
        # generic conv3d kernel PyTorch picks for it, same result up to summation order.
        self.pointwise_in_space = (
            kernel_size[1:] == (1, 1) and self.conv3d.stride == (1, 1, 1) and p == 0
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.time_pad > 0:
            B, C, _, H, W = x.shape
            first = x[:, :, :1].expand(B, C, self.time_pad, H, W)  # (B, C, time_pad, H, W)
            x = torch.cat([first, x], dim=2)  # (B, C, time_pad + T, H, W)
        if not self.pointwise_in_space:
            return self.conv3d(x)
        B, C, Tp, H, W = x.shape
        w = self.conv3d.weight[..., 0]  # (O, C, kt, 1)
        y = F.conv2d(x.reshape(B, C, Tp, H * W), w, self.conv3d.bias)  # (B, O, T, H*W)
        return y.reshape(B, -1, y.shape[2], H, W)  # (B, O, T, H, W)


def factorized_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """A 3x3x3 convolution factorised as spatial (1,3,3) then causal temporal (3,1,1).

    Shape (B, Cin, T, H, W) -> (B, Cout, T, H, W).
    """
    return nn.Sequential(
        CausalConv3d(in_channels, out_channels, (1, 3, 3), spatial_padding=1),
        CausalConv3d(out_channels, out_channels, (3, 1, 1)),
    )


class FrameGroupNorm(nn.Module):
    """GroupNorm with one group applied to each frame separately (statistics over C, H, W).

    Shape (B, C, T, H, W) -> (B, C, T, H, W).
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(num_groups=1, num_channels=channels, eps=eps, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, T, H, W = x.shape
        y = x.permute(0, 2, 1, 3, 4).reshape(B * T, C, H, W)  # (B*T, C, H, W)
        y = self.norm(y)
        return y.reshape(B, T, C, H, W).permute(0, 2, 1, 3, 4)  # (B, C, T, H, W)


def swish(x: torch.Tensor) -> torch.Tensor:
    """x * sigmoid(x), written out as the official graph does."""
    return x * torch.sigmoid(x)
