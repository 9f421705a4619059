"""Per-modality encoder and decoder embeddings of the backbone, and the mixed-modality lookups.

Encoder input per token: ``token_emb(id) + (pos_emb[pos] + mod_emb)``. Decoder query per target
token: ``mask_token + (pos_emb[pos] + mod_emb)`` (the official decoder computes ``token_emb`` but
replaces it by the mask token for these modality types). ``mod_emb`` is one Parameter shared by the
encoder and decoder embedding of a modality; the decoder's ``to_logits`` weight is its
``token_emb`` weight (both tied as in the official state_dict, which saves them under both names).
"""

from __future__ import annotations

import torch
from torch import nn

from egom2p_edge.models.backbone.config import BackboneConfig, ModalitySpec
from egom2p_edge.models.posemb import sincos_1d, sincos_3d


def build_pos_emb(spec: ModalitySpec, dim: int) -> torch.Tensor:
    """Fixed sin-cos table of a modality. Shape (1, num_tokens, dim)."""
    if spec.pos_emb == "sincos_3d":
        t, h, w = spec.token_shape
        return sincos_3d(t, h, w, dim)
    return sincos_1d(spec.num_tokens, dim)


class EncoderEmbedding(nn.Module):
    """``mod_emb`` (1, 1, D), ``pos_emb`` buffer (1, N, D), ``token_emb`` (V, D)."""

    def __init__(self, spec: ModalitySpec, dim: int) -> None:
        super().__init__()
        self.mod_emb = nn.Parameter(torch.zeros(1, 1, dim))
        self.register_buffer("pos_emb", build_pos_emb(spec, dim))
        self.token_emb = nn.Embedding(spec.vocab_size, dim)


class DecoderEmbedding(nn.Module):
    """Same tensors as the encoder embedding plus ``to_logits`` tied to ``token_emb``.

    ``mod_emb`` is the encoder's Parameter object (shared, saved under both names).
    """

    def __init__(self, spec: ModalitySpec, dim: int, mod_emb: nn.Parameter) -> None:
        super().__init__()
        self.mod_emb = mod_emb
        self.register_buffer("pos_emb", build_pos_emb(spec, dim))
        self.token_emb = nn.Embedding(spec.vocab_size, dim)
        self.to_logits = nn.Linear(dim, spec.vocab_size, bias=False)
        self.to_logits.weight = self.token_emb.weight


def mixed_lookup(
    config: BackboneConfig,
    embeddings: nn.ModuleDict,
    positions: torch.Tensor,
    modality: torch.Tensor,
    ids: torch.Tensor | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor]:
    """Token and (position + modality) embeddings of slots that mix modalities.

    positions, modality (index into ``config.modalities``), ids: (B, N) int64. Each modality's
    tables are read with clamped indices and selected with ``where``, so the graph has static
    shapes (ONNX-friendly). Returns (tokens (B, N, D) or None without ids, emb (B, N, D)); slots
    whose modality index matches no modality get zeros.
    """
    B, N = positions.shape
    dtype = embeddings[config.modalities[0].name].mod_emb.dtype
    emb = torch.zeros((B, N, config.dim), dtype=dtype, device=positions.device)
    tok = None if ids is None else emb.clone()
    for m, spec in enumerate(config.modalities):
        e = embeddings[spec.name]
        sel = (modality == m)[..., None]  # (B, N, 1)
        pos = positions.clamp(0, spec.num_tokens - 1)
        pe = e.pos_emb[0][pos] + e.mod_emb[0]  # (B, N, D): pos + mod, official order
        emb = torch.where(sel, pe, emb)
        if ids is not None:
            tok = torch.where(sel, e.token_emb(ids.clamp(0, spec.vocab_size - 1)), tok)
    return tok, emb
