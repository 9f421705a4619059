"""Transformer pieces of the EgoM2P backbone: bias-free LayerNorm, SwiGLU, masked attention, blocks.

Parameter names (``norm1``, ``attn.qkv``, ``cross_attn.kv``, ``mlp.fc3`` ...) and registration
order are those of the official state_dict. No block Linear has a bias (EGOM2P_SPEC.md 2.1).
Attention runs through ``scaled_dot_product_attention`` with boolean masks (True = may attend);
a query with no valid key returns exactly 0, as the official code does for an empty context.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm(nn.Module):
    """LayerNorm with a learned weight and a persistent zero ``bias`` buffer (official keys)."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.register_buffer("bias", torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)


class SwiGLU(nn.Module):
    """``fc2(SiLU(fc1 x) * fc3 x)``; Shape (..., D) -> (..., D)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, dim, bias=False)
        self.fc3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.silu(self.fc1(x)) * self.fc3(x))


def masked_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """Fused attention; rows without any allowed key give exactly 0.

    q: (B, H, Nq, Dh); k, v: (B, H, Nk, Dh); mask: bool, True = may attend, broadcastable to
    (B, 1, Nq, Nk) (e.g. (B, 1, 1, Nk) for key padding), or None for full attention.
    Shape (B, H, Nq, Dh).
    """
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v)
    has_key = mask.any(dim=-1, keepdim=True)  # (B, 1, Nq or 1, 1)
    # A fully masked row would give NaN (softmax over nothing); let it attend everything, then
    # zero it, so neither the output nor its gradient ever sees a NaN.
    safe = mask | ~has_key
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=safe)
    return torch.where(has_key, out, torch.zeros((), dtype=out.dtype, device=out.device))


class SelfAttention(nn.Module):
    """Multi-head self-attention, fused qkv (rows [q | k | v]), no biases. Shape (B, N, D)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        B, N, D = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, D // self.heads)  # (B, N, 3, H, Dh)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, H, N, Dh)
        out = masked_attention(q, k, v, mask)
        return self.proj(out.transpose(1, 2).reshape(B, N, D))  # (B, H, N, Dh) -> (B, N, D)


class CrossAttention(nn.Module):
    """Queries from x, keys/values from the context (kv rows [k | v]), no biases.

    x: (B, Nq, D); context: (B, Nk, D); mask as in ``masked_attention``. Shape (B, Nq, D).
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, 2 * dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        B, Nq, D = x.shape
        Nk = context.shape[1]
        Dh = D // self.heads
        q = self.q(x).reshape(B, Nq, self.heads, Dh).transpose(1, 2)  # (B, H, Nq, Dh)
        kv = self.kv(context).reshape(B, Nk, 2, self.heads, Dh)  # (B, Nk, 2, H, Dh)
        k, v = kv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, H, Nk, Dh)
        out = masked_attention(q, k, v, mask)
        return self.proj(out.transpose(1, 2).reshape(B, Nq, D))  # -> (B, Nq, D)


class EncoderBlock(nn.Module):
    """``x += attn(norm1 x); x += mlp(norm2 x)``. Shape (B, N, D)."""

    def __init__(self, dim: int, heads: int, mlp_hidden: int, eps: float) -> None:
        super().__init__()
        self.norm1 = LayerNorm(dim, eps)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = LayerNorm(dim, eps)
        self.mlp = SwiGLU(dim, mlp_hidden)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), mask)
        return x + self.mlp(self.norm2(x))


class DecoderBlock(nn.Module):
    """Self-attention, cross-attention over the context, SwiGLU; all pre-norm. Shape (B, Nq, D)."""

    def __init__(self, dim: int, heads: int, mlp_hidden: int, eps: float) -> None:
        super().__init__()
        # Registration order reproduces the official state_dict order.
        self.norm1 = LayerNorm(dim, eps)
        self.self_attn = SelfAttention(dim, heads)
        self.cross_attn = CrossAttention(dim, heads)
        self.query_norm = LayerNorm(dim, eps)
        self.context_norm = LayerNorm(dim, eps)
        self.norm2 = LayerNorm(dim, eps)
        self.mlp = SwiGLU(dim, mlp_hidden)

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor,
        self_mask: torch.Tensor | None,
        cross_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        x = x + self.self_attn(self.norm1(x), self_mask)
        x = x + self.cross_attn(self.query_norm(x), self.context_norm(context), cross_mask)
        return x + self.mlp(self.norm2(x))
