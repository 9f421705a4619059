"""Encoder of the causal video tokenizer: Haar patches -> levels of res blocks -> latent z."""

from __future__ import annotations

import torch
from torch import nn

from egom2p_edge.models.video.attention import CausalTemporalAttention, SpatialAttention
from egom2p_edge.models.video.blocks import HybridDownsample, ResBlock
from egom2p_edge.models.video.config import VideoTokenizerConfig
from egom2p_edge.models.video.layers import FrameGroupNorm, factorized_conv, swish
from egom2p_edge.models.video.wavelet import HaarPatcher3d


class EncoderLevel(nn.Module):
    """Res blocks of one resolution level, then the down-sampler to the next (if any)."""

    def __init__(self, blocks: list[ResBlock], downsample: HybridDownsample | None) -> None:
        super().__init__()
        self.block = nn.ModuleList(blocks)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.block:
            x = blk(x)
        return x if self.downsample is None else self.downsample(x)


class MidBlock(nn.Module):
    """Res block, spatial attention, causal temporal attention, res block (constant width)."""

    def __init__(self, channels: int, eps: float) -> None:
        super().__init__()
        self.block_1 = ResBlock(channels, channels, eps)
        self.attn_1 = nn.Sequential(
            SpatialAttention(channels, eps), CausalTemporalAttention(channels, eps)
        )
        self.block_2 = ResBlock(channels, channels, eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block_2(self.attn_1(self.block_1(x)))


class VideoEncoder(nn.Module):
    """Video in [-1, 1] to the latent z.

    Shape (B, 3, 1 + p*k, H, W) -> (B, z_channels, 1 + k, H/s, W/s) for patch p and spatial
    compression s.
    """

    def __init__(self, cfg: VideoTokenizerConfig) -> None:
        super().__init__()
        eps = cfg.norm_eps
        self.patcher3d = HaarPatcher3d(cfg.patch_size)
        in_ch = cfg.in_channels * cfg.patch_size**3
        self.conv_in = factorized_conv(in_ch, cfg.channels)
        in_mult = (1,) + cfg.channels_mult
        levels = []
        block_in = cfg.channels
        for i, mult in enumerate(cfg.channels_mult):
            block_in = cfg.channels * in_mult[i]
            block_out = cfg.channels * mult
            blocks = []
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResBlock(block_in, block_out, eps))
                block_in = block_out
            down = None
            if i != cfg.num_levels - 1:
                # The lowest levels do the spatial down-sampling.
                down = HybridDownsample(block_in, spatial_down=i < cfg.num_spatial_down)
            levels.append(EncoderLevel(blocks, down))
        self.down = nn.ModuleList(levels)
        self.mid = MidBlock(block_in, eps)
        self.norm_out = FrameGroupNorm(block_in, eps)
        self.conv_out = factorized_conv(block_in, cfg.z_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(self.patcher3d(x))
        for level in self.down:
            h = level(h)
        h = self.mid(h)
        return self.conv_out(swish(self.norm_out(h)))
