"""Residual block and the hybrid (conv + pooling) spatial down/up-samplers of the tokenizer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from egom2p_edge.models.video.layers import CausalConv3d, FrameGroupNorm, factorized_conv, swish


class ResBlock(nn.Module):
    """Pre-norm residual block with factorised causal convolutions.

    Shape (B, Cin, T, H, W) -> (B, Cout, T, H, W); a 1x1x1 shortcut when Cin != Cout.
    """

    def __init__(self, in_channels: int, out_channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = FrameGroupNorm(in_channels, eps)
        self.conv1 = factorized_conv(in_channels, out_channels)
        self.norm2 = FrameGroupNorm(out_channels, eps)
        self.conv2 = factorized_conv(out_channels, out_channels)
        self.nin_shortcut = (
            CausalConv3d(in_channels, out_channels, 1) if in_channels != out_channels else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(swish(self.norm2(h)))  # dropout is 0 in every released config
        shortcut = x if self.nin_shortcut is None else self.nin_shortcut(x)
        return shortcut + h


class HybridDownsample(nn.Module):
    """Between two encoder levels: 2x spatial down-sampling, or nothing.

    The down-sampled value is a strided (1,3,3) convolution plus a 2x2 average pool (both of the
    input zero-padded by one row and column at the far edge), followed by a 1x1x1 convolution.
    All three convolutions exist in the checkpoint even when the level does not down-sample
    (``conv2`` would be the temporal one, unused at temporal compression = patch size).
    Shape (B, C, T, H, W) -> (B, C, T, H/2, W/2) when ``spatial_down`` else unchanged.
    """

    def __init__(self, channels: int, spatial_down: bool) -> None:
        super().__init__()
        self.spatial_down = spatial_down
        self.conv1 = CausalConv3d(channels, channels, (1, 3, 3), stride=(1, 2, 2))
        self.conv2 = CausalConv3d(channels, channels, (3, 1, 1), stride=(2, 1, 1))
        self.conv3 = CausalConv3d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.spatial_down:
            return x
        x = F.pad(x, (0, 1, 0, 1, 0, 0))  # (B, C, T, H+1, W+1)
        x = self.conv1(x) + F.avg_pool3d(x, kernel_size=(1, 2, 2), stride=(1, 2, 2))
        return self.conv3(x)


class HybridUpsample(nn.Module):
    """Between two decoder levels: 2x spatial up-sampling, or nothing.

    Nearest-neighbour repeat, then a residual (1,3,3) convolution and a 1x1x1 convolution.
    ``conv1`` (temporal) exists in the checkpoint but is unused at temporal compression = patch.
    Shape (B, C, T, H, W) -> (B, C, T, 2H, 2W) when ``spatial_up`` else unchanged.
    """

    def __init__(self, channels: int, spatial_up: bool) -> None:
        super().__init__()
        self.spatial_up = spatial_up
        self.conv1 = CausalConv3d(channels, channels, (3, 1, 1))
        self.conv2 = CausalConv3d(channels, channels, (1, 3, 3), spatial_padding=1)
        self.conv3 = CausalConv3d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.spatial_up:
            return x
        B, C, T, H, W = x.shape
        x = x[:, :, :, :, None, :, None].expand(B, C, T, H, 2, W, 2)  # (B, C, T, H, 2, W, 2)
        x = x.reshape(B, C, T, 2 * H, 2 * W)  # nearest neighbour: (B, C, T, 2H, 2W)
        x = self.conv2(x) + x
        return self.conv3(x)
