"""Cosine-similarity vector quantizer with an EMA codebook (the official "lucid" quantizer).

Search: argmax of ``l2norm(z) @ l2norm(embed)^T``. Lookup: the *stored* row ``embed[i]``, not
renormalised (rows are EMAs of unit vectors, so their norms are a little under 1).
Training (``module.train()``): straight-through estimator ``z + (q - z).detach()``, commitment
loss ``beta * mse(q, z)``, EMA update of cluster sizes and codebook, restart of codes whose EMA
cluster size fell under the threshold with normalised latents drawn from the batch. The codebook
is made of buffers, never of parameters; it changes only through these updates.
Module and buffer names (``quantize._codebook.embed`` ...) are those of the official state_dict.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from egom2p_edge.models.vqvae import codebook_sync


def l2norm(t: torch.Tensor) -> torch.Tensor:
    """Unit vectors along the last axis (``F.normalize`` with its eps 1e-12)."""
    return F.normalize(t, p=2, dim=-1)


class QuantizerOutput(NamedTuple):
    quantized: torch.Tensor  # (B, Dz, N): codebook rows (eval) or straight-through (train)
    loss: torch.Tensor  # (1,): commitment loss (0 in eval mode)
    indices: torch.Tensor  # (B, N) int64


class CosineCodebook(nn.Module):
    """The codebook buffers and their updates. ``embed`` is (K, Dz); ``cluster_size`` (K,)."""

    def __init__(
        self,
        codebook_size: int,
        dim: int,
        decay: float,
        dead_code_threshold: float,
        sync: bool,
    ) -> None:
        super().__init__()
        self.codebook_size = codebook_size
        self.decay = decay
        self.dead_code_threshold = dead_code_threshold
        self.sync_enabled = sync
        # Buffer order and names match the official state_dict; ``initted`` is always 1 here
        # (the official k-means init is unused by the EgoM2P tokenizers) and kept for loading.
        self.register_buffer("initted", torch.ones(1))
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed", torch.zeros(codebook_size, dim))

    @torch.no_grad()
    def reset(self, generator: torch.Generator | None) -> None:
        """Official init: kaiming-uniform rows, l2-normalised; cluster sizes 0 (so every code is
        restarted from data on the first training step)."""
        nn.init.kaiming_uniform_(self.embed, generator=generator)
        self.embed.copy_(l2norm(self.embed))
        self.cluster_size.zero_()
        self.initted.fill_(1.0)

    def sync(self, t: torch.Tensor) -> torch.Tensor:
        """All-reduce (sum) ``t`` in place across processes when sync is on and a
        torch.distributed group is initialised; the hook trainers rely on for DDP."""
        if self.sync_enabled:
            codebook_sync.all_reduce_sum_(t)
        return t

    def search(self, z_flat: torch.Tensor) -> torch.Tensor:
        """Nearest code by cosine similarity. Shape (M, Dz) -> (M,) int64."""
        sim = l2norm(z_flat) @ l2norm(self.embed).t()  # (M, K)
        return sim.argmax(dim=-1)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Stored codebook rows. Shape (...) -> (..., Dz)."""
        return F.embedding(indices, self.embed)

    @torch.no_grad()
    def ema_update(self, z_flat: torch.Tensor, indices: torch.Tensor) -> None:
        """EMA of cluster sizes and of the mean normalised latent per code.

        z_flat (M, Dz) latents (un-normalised), indices (M,) their codes. Codes with no latent in
        the (all-reduced) batch move toward their own normalised row.
        """
        z_unit = l2norm(z_flat.float())  # (M, Dz)
        onehot = F.one_hot(indices, self.codebook_size).to(z_unit.dtype)  # (M, K)
        bins = self.sync(onehot.sum(0))  # (K,)
        self.cluster_size.mul_(self.decay).add_(bins, alpha=1 - self.decay)
        empty = bins == 0
        bins = bins.masked_fill(empty, 1.0)
        embed_sum = self.sync(z_unit.t() @ onehot)  # (Dz, K)
        mean_unit = l2norm((embed_sum / bins.unsqueeze(0)).t())  # (K, Dz)
        mean_unit = torch.where(empty[:, None], l2norm(self.embed), mean_unit)
        self.embed.mul_(self.decay).add_(mean_unit, alpha=1 - self.decay)

    def expired(self) -> torch.Tensor:
        """Codes whose EMA cluster size is under the threshold. Shape (K,) bool."""
        return self.cluster_size < self.dead_code_threshold

    @torch.no_grad()
    def replace_dead_codes(
        self, z_flat: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Restart expired codes with normalised latents drawn from the batch (of all processes
        when sync is on). z_flat (M, Dz). Returns the expired mask (K,) bool.

        Draws one row per expired code, assigned in increasing code order, using ``generator``
        (torch's default stream when None); nothing is drawn when no code expired.
        """
        expired = self.expired()
        num = int(expired.sum())
        if self.dead_code_threshold == 0 or num == 0:
            return expired
        z_unit = l2norm(z_flat.float())  # (M, Dz)
        if self.sync_enabled:
            drawn = codebook_sync.sample_rows_synced(z_unit, num, generator)  # (num, Dz)
        else:
            drawn = codebook_sync.sample_rows(z_unit, num, generator)  # (num, Dz)
        self.embed[expired] = drawn.to(self.embed.dtype)
        return expired


class VectorQuantizer(nn.Module):
    """Channels-first wrapper: latents (B, Dz, N) -> ``QuantizerOutput``."""

    def __init__(
        self,
        codebook_size: int,
        dim: int,
        decay: float,
        dead_code_threshold: float,
        commitment_weight: float,
        sync: bool,
    ) -> None:
        super().__init__()
        self.commitment_weight = commitment_weight
        self._codebook = CosineCodebook(codebook_size, dim, decay, dead_code_threshold, sync)

    @property
    def codebook(self) -> CosineCodebook:
        return self._codebook

    def indices(self, z: torch.Tensor) -> torch.Tensor:
        """Token ids only (the export path). Shape (B, Dz, N) -> (B, N) int64."""
        B, Dz, N = z.shape
        z_flat = z.transpose(1, 2).reshape(B * N, Dz)  # (B*N, Dz)
        return self._codebook.search(z_flat).reshape(B, N)  # (B*N,) -> (B, N)

    def embed_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """Stored codebook rows, channels first. Shape (B, N) -> (B, Dz, N)."""
        return self._codebook.lookup(indices).transpose(1, 2)

    def forward(
        self,
        z: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        replace_dead_codes: bool = True,
    ) -> QuantizerOutput:
        """Quantize latents (B, Dz, N). In training mode also update the codebook (EMA, then
        dead-code restarts with ``generator`` unless ``replace_dead_codes`` is False)."""
        B, Dz, N = z.shape
        z_tok = z.transpose(1, 2).float()  # (B, N, Dz)
        z_flat = z_tok.reshape(B * N, Dz)  # (B*N, Dz)
        idx_flat = self._codebook.search(z_flat)  # (B*N,)
        q = self._codebook.lookup(idx_flat).reshape(B, N, Dz)  # rows before any update
        indices = idx_flat.reshape(B, N)  # (B*N,) -> (B, N)
        if not self.training:
            return QuantizerOutput(q.transpose(1, 2), z.new_zeros(1), indices)
        self._codebook.ema_update(z_flat.detach(), idx_flat)
        if replace_dead_codes:
            self._codebook.replace_dead_codes(z_flat.detach(), generator)
        q = z_tok + (q - z_tok).detach()  # straight-through: forward q, gradient to z
        loss = z.new_zeros(1)
        if self.commitment_weight > 0:
            loss = loss + F.mse_loss(q.detach(), z_tok) * self.commitment_weight
        return QuantizerOutput(q.transpose(1, 2), loss, indices)
