"""The EgoM2P encoder-decoder: the encoder pass and the decoder pass as separate fixed-shape calls.

Encoder: slots of (token id, position, modality index, valid) from all input modalities, embedded
as ``token + (pos + mod)``, padded slots zeroed and masked as keys, 12 pre-norm blocks, final
norm. Context for the decoder: ``decoder_proj_context(enc_out) + (pos + mod)`` (the only biased
Linear). Decoder: queries ``mask_token + (pos + mod)``, self-attention only within a modality,
cross-attention over the valid context slots, final norm, logits through the tied ``to_logits``.
Facts: EGOM2P_SPEC.md sections 2.1-2.3.
"""

from __future__ import annotations

import logging
import math
from typing import NamedTuple

import torch
from torch import nn

from egom2p_edge.models.backbone.blocks import DecoderBlock, EncoderBlock, LayerNorm
from egom2p_edge.models.backbone.config import BackboneConfig
from egom2p_edge.models.backbone.embeddings import DecoderEmbedding, EncoderEmbedding, mixed_lookup

log = logging.getLogger(__name__)


class EncoderOutputs(NamedTuple):
    """Everything the encoder pass computes. Each Shape (B, N, D)."""

    tokens_in: torch.Tensor  # token + pos + mod embeddings the first block sees (0 in padding)
    output: torch.Tensor  # after the blocks and encoder_norm
    context: torch.Tensor  # decoder_proj_context(output) + (pos + mod)
    emb: torch.Tensor  # pos + mod (0 in padding)


def _key_mask(valid: torch.Tensor | None) -> torch.Tensor | None:
    """(B, N) key validity -> (B, 1, 1, N) attention mask, or None when all keys are valid."""
    return None if valid is None else valid[:, None, None, :]


class EgoM2P(nn.Module):
    """The backbone. State_dict keys and shapes equal the official ``EgoM2P``'s."""

    def __init__(self, config: BackboneConfig, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        D = config.dim
        self.mask_token = nn.Parameter(torch.zeros(1, 1, D))
        self.encoder_embeddings = nn.ModuleDict(
            {m.name: EncoderEmbedding(m, D) for m in config.modalities}
        )
        self.decoder_embeddings = nn.ModuleDict(
            {
                m.name: DecoderEmbedding(m, D, self.encoder_embeddings[m.name].mod_emb)
                for m in config.modalities
            }
        )
        blk = (D, config.num_heads, config.mlp_hidden, config.norm_eps)
        self.encoder = nn.ModuleList([EncoderBlock(*blk) for _ in range(config.encoder_depth)])
        self.encoder_norm = LayerNorm(D, config.norm_eps)
        self.decoder_proj_context = nn.Linear(D, D, bias=True)
        self.decoder = nn.ModuleList([DecoderBlock(*blk) for _ in range(config.decoder_depth)])
        self.decoder_norm = LayerNorm(D, config.norm_eps)
        if self.mask_token.device.type != "meta":
            self.init_weights(torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def init_weights(self, generator: torch.Generator) -> None:
        """Random init after the official recipe (not bit-equal): xavier-uniform Linear weights
        (fused qkv / kv per part), zero biases, N(0, 0.02) embeddings, mod_emb and mask_token."""
        for name, mod in self.named_modules():
            if isinstance(mod, nn.Linear) and not name.endswith("to_logits"):
                w = mod.weight
                parts = 3 if name.endswith(".qkv") else 2 if name.endswith(".kv") else 1
                fan_out, fan_in = w.shape[0] // parts, w.shape[1]
                bound = math.sqrt(6.0 / (fan_in + fan_out))
                w.uniform_(-bound, bound, generator=generator)
                if mod.bias is not None:
                    mod.bias.zero_()
        for emb in self.encoder_embeddings.values():
            emb.mod_emb.normal_(0.0, 0.02, generator=generator)
            emb.token_emb.weight.normal_(0.0, 0.02, generator=generator)
        for emb in self.decoder_embeddings.values():
            emb.token_emb.weight.normal_(0.0, 0.02, generator=generator)  # also to_logits (tied)
        self.mask_token.normal_(0.0, 0.02, generator=generator)

    # ----------------------------------------------------------------------------- encoder
    def encode(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor,
        modality: torch.Tensor,
        valid: torch.Tensor | None = None,
    ) -> EncoderOutputs:
        """Encoder pass over input slots.

        ids, positions, modality (index into ``config.modalities``): (B, N) int64; valid: (B, N)
        bool (False = padding slot), or None when every slot is valid (faster attention).
        """
        tok, emb = mixed_lookup(self.config, self.encoder_embeddings, positions, modality, ids)
        if valid is not None:
            keep = valid[..., None]  # (B, N, 1)
            zero = torch.zeros((), dtype=emb.dtype, device=emb.device)
            tok = torch.where(keep, tok, zero)
            emb = torch.where(keep, emb, zero)
        x = tok + emb
        tokens_in = x
        mask = _key_mask(valid)
        for blk in self.encoder:
            x = blk(x, mask)
        out = self.encoder_norm(x)
        context = self.decoder_proj_context(out) + emb
        return EncoderOutputs(tokens_in, out, context, emb)

    def forward_encoder(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor,
        modality: torch.Tensor,
        valid: torch.Tensor,
    ) -> torch.Tensor:
        """The exported encoder graph: (ids, positions, modality, valid) -> context (B, N, D)."""
        return self.encode(ids, positions, modality, valid).context

    # ----------------------------------------------------------------------------- decoder
    def decode_hidden(
        self,
        context: torch.Tensor,
        context_valid: torch.Tensor | None,
        positions: torch.Tensor,
        modality: torch.Tensor,
        query_valid: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decoder pass for target queries.

        context: (B, Nc, D); context_valid: (B, Nc) bool or None (all valid); positions,
        modality: (B, Nq) int64; query_valid: (B, Nq) bool or None. A query attends to the
        valid queries of its own modality and to every valid context slot (none: output 0).
        Shape (B, Nq, D), after ``decoder_norm``.
        """
        _, emb = mixed_lookup(self.config, self.decoder_embeddings, positions, modality)
        x = self.mask_token + emb  # (B, Nq, D)
        same = modality[:, :, None] == modality[:, None, :]  # (B, Nq, Nq)
        if query_valid is not None:
            same = same & query_valid[:, None, :]
        self_mask = same[:, None]  # (B, 1, Nq, Nq)
        cross_mask = _key_mask(context_valid)
        for blk in self.decoder:
            x = blk(x, context, self_mask, cross_mask)
        return self.decoder_norm(x)

    def logits(self, hidden: torch.Tensor, name: str) -> torch.Tensor:
        """Logits of one modality through its tied head. Shape (..., D) -> (..., V)."""
        return self.decoder_embeddings[name].to_logits(hidden)

    def forward_decoder(
        self,
        context: torch.Tensor,
        context_valid: torch.Tensor,
        positions: torch.Tensor,
        modality: torch.Tensor,
        vocab_modalities: tuple[str, ...] | None = None,
    ) -> torch.Tensor:
        """The exported decoder graph: logits (B, Nq, Vmax) for queries of mixed modalities.

        Vmax is the largest vocabulary among ``vocab_modalities`` (default: all modalities);
        entries past a row's own vocabulary are -inf. Rows of a modality outside
        ``vocab_modalities`` are all -inf.
        """
        names = vocab_modalities or self.config.modality_names
        hidden = self.decode_hidden(context, context_valid, positions, modality)
        vmax = max(self.config.spec(n).vocab_size for n in names)
        out = torch.full(
            (*hidden.shape[:2], vmax), float("-inf"), dtype=hidden.dtype, device=hidden.device
        )
        for name in names:
            lg = self.logits(hidden, name)  # (B, Nq, V)
            pad = vmax - lg.shape[-1]
            if pad:
                lg = torch.cat([lg, lg.new_full((*lg.shape[:2], pad), float("-inf"))], dim=-1)
            sel = (modality == self.config.index(name))[..., None]  # (B, Nq, 1)
            out = torch.where(sel, lg, out)
        return out

    # ----------------------------------------------------------------------------- loading
    def tie_weights(self) -> None:
        """Re-tie ``to_logits`` to the decoder ``token_emb`` and the decoder ``mod_emb`` to the
        encoder's (after ``load_state_dict(assign=True)``, which replaces Parameters one key at
        a time)."""
        for name, dec in self.decoder_embeddings.items():
            dec.mod_emb = self.encoder_embeddings[name].mod_emb
            dec.to_logits.weight = dec.token_emb.weight

    @classmethod
    def from_state_dict(cls, config: BackboneConfig, state_dict: dict[str, torch.Tensor]) -> EgoM2P:
        """Build without a random init and load ``state_dict`` strictly (official key names).

        Tied pairs must hold equal values; a mismatch is a ValueError naming the keys.
        """
        for name in config.modality_names:
            for a, b in (
                (
                    f"decoder_embeddings.{name}.to_logits.weight",
                    f"decoder_embeddings.{name}.token_emb.weight",
                ),
                (f"decoder_embeddings.{name}.mod_emb", f"encoder_embeddings.{name}.mod_emb"),
            ):
                if (
                    a in state_dict
                    and b in state_dict
                    and not torch.equal(state_dict[a], state_dict[b])
                ):
                    raise ValueError(
                        f"state_dict: {a} and {b} must be the same (tied) tensor, but differ"
                    )
        with torch.device("meta"):
            model = cls(config)
        try:
            model.load_state_dict(state_dict, strict=True, assign=True)
        except RuntimeError as exc:
            raise ValueError(
                f"state_dict does not fit BackboneConfig(dim={config.dim}, "
                f"depths={config.encoder_depth}/{config.decoder_depth}, "
                f"modalities={config.modality_names}): {exc}"
            ) from None
        model.tie_weights()
        return model
