"""Decoder of the causal video tokenizer: latent z -> levels of res blocks -> Haar unpatching."""

from __future__ import annotations

import torch
from torch import nn

from egom2p_edge.models.video.blocks import HybridUpsample, ResBlock
from egom2p_edge.models.video.config import VideoTokenizerConfig
from egom2p_edge.models.video.encoder import MidBlock
from egom2p_edge.models.video.layers import FrameGroupNorm, factorized_conv, swish
from egom2p_edge.models.video.wavelet import HaarUnpatcher3d


class DecoderLevel(nn.Module):
    """Res blocks of one resolution level, then the up-sampler to the next (if any)."""

    def __init__(self, blocks: list[ResBlock], upsample: HybridUpsample | None) -> None:
        super().__init__()
        self.block = nn.ModuleList(blocks)
        self.upsample = upsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.block:
            x = blk(x)
        return x if self.upsample is None else self.upsample(x)


class VideoDecoder(nn.Module):
    """Latent z to video in (about) [-1, 1].

    Shape (B, z_channels, 1 + k, h, w) -> (B, 3, 1 + p*k, h*s, w*s). Levels are stored in
    encoder order (``up.0`` is the full-resolution level) and run from the last to the first.
    """

    def __init__(self, cfg: VideoTokenizerConfig) -> None:
        super().__init__()
        eps = cfg.norm_eps
        block_in = cfg.channels * cfg.channels_mult[-1]
        self.conv_in = factorized_conv(cfg.z_channels, block_in)
        self.mid = MidBlock(block_in, eps)
        levels: list[DecoderLevel] = []
        for i in reversed(range(cfg.num_levels)):
            block_out = cfg.channels * cfg.channels_mult[i]
            blocks = []
            for _ in range(cfg.num_res_blocks + 1):
                blocks.append(ResBlock(block_in, block_out, eps))
                block_in = block_out
            up = None
            if i != 0:
                # The first levels run (the coarsest) do the spatial up-sampling.
                up = HybridUpsample(block_in, spatial_up=i >= cfg.num_levels - cfg.num_spatial_down)
            levels.insert(0, DecoderLevel(blocks, up))
        self.up = nn.ModuleList(levels)
        self.norm_out = FrameGroupNorm(block_in, eps)
        self.conv_out = factorized_conv(block_in, cfg.out_channels * cfg.patch_size**3)
        self.unpatcher3d = HaarUnpatcher3d(cfg.patch_size)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.mid(self.conv_in(z))
        for level in reversed(self.up):
            h = level(h)
        h = self.conv_out(swish(self.norm_out(h)))
        return self.unpatcher3d(h)
