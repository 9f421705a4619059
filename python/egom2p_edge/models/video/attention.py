"""Single-head attention of the tokenizer's middle blocks: spatial (per frame) and causal temporal.

Both project with 1x1x1 convolutions, scale the scores by ``C ** -0.5`` after the matmul and add
the projected result to the input.
"""

from __future__ import annotations

import torch
from torch import nn

from egom2p_edge.models.video.layers import CausalConv3d, FrameGroupNorm


class _AttnProjections(nn.Module):
    """Norm plus q, k, v and output projections shared by both attention kinds."""

    def __init__(self, channels: int, eps: float) -> None:
        super().__init__()
        self.norm = FrameGroupNorm(channels, eps)
        self.q = CausalConv3d(channels, channels, 1)
        self.k = CausalConv3d(channels, channels, 1)
        self.v = CausalConv3d(channels, channels, 1)
        self.proj_out = CausalConv3d(channels, channels, 1)
        self.scale = float(channels) ** -0.5


class SpatialAttention(_AttnProjections):
    """Attention over the H*W positions of each frame separately.

    Shape (B, C, T, H, W) -> (B, C, T, H, W).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, T, H, W = x.shape
        h = self.norm(x)

        def frames(t: torch.Tensor) -> torch.Tensor:
            return t.permute(0, 2, 1, 3, 4).reshape(B * T, C, H * W)  # (B*T, C, HW)

        q, k, v = frames(self.q(h)), frames(self.k(h)), frames(self.v(h))
        w = torch.bmm(q.transpose(1, 2), k) * self.scale  # (B*T, HW queries, HW keys)
        w = torch.softmax(w, dim=2)
        out = torch.bmm(v, w.transpose(1, 2))  # (B*T, C, HW)
        out = out.reshape(B, T, C, H, W).permute(0, 2, 1, 3, 4)  # (B, C, T, H, W)
        return x + self.proj_out(out)


class CausalTemporalAttention(_AttnProjections):
    """Attention over time at each spatial position; frame t attends to frames <= t.

    Shape (B, C, T, H, W) -> (B, C, T, H, W).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, T, H, W = x.shape
        h = self.norm(x)

        def columns(t: torch.Tensor) -> torch.Tensor:
            return t.permute(0, 3, 4, 2, 1).reshape(B * H * W, T, C)  # (B*H*W, T, C)

        q, k, v = columns(self.q(h)), columns(self.k(h)), columns(self.v(h))
        w = torch.bmm(q, k.transpose(1, 2)) * self.scale  # (BHW, T queries, T keys)
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)  # (T, T)
        w = w.masked_fill(future, float("-inf"))
        w = torch.softmax(w, dim=2)
        out = torch.bmm(w, v)  # (BHW, T, C)
        out = out.reshape(B, H, W, T, C).permute(0, 4, 3, 1, 2)  # (B, C, T, H, W)
        return x + self.proj_out(out)
