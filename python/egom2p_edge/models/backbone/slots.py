"""Gathering per-modality tokens into the fixed-shape slot tensors of the encoder and decoder.

The official model concatenates the modalities in a fixed order (sorted names), stably sorts the
selected tokens first (``argsort(mask + arange * 1e-6)``, i.e. a stable sort), keeps the first
``max_slots`` and zeroes the rest (EGOM2P_SPEC.md 2.3). ``gather_slots`` does the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from egom2p_edge.models.backbone.config import BackboneConfig


@dataclass(frozen=True)
class Slots:
    """Slot tensors, each Shape (B, S).

    ids: token ids (0 in padding); positions: position inside the modality (-1 in padding);
    modality: index into ``config.modalities`` (-1 in padding); valid: False in padding.
    """

    ids: torch.Tensor
    positions: torch.Tensor
    modality: torch.Tensor
    valid: torch.Tensor

    @property
    def all_valid(self) -> bool:
        return bool(self.valid.all())

    def count(self) -> torch.Tensor:
        """Valid slots per sample. Shape (B,)."""
        return self.valid.sum(dim=1)


def gather_slots(
    config: BackboneConfig,
    ids: Mapping[str, torch.Tensor],
    select: Mapping[str, torch.Tensor],
    order: Sequence[str] | None = None,
    max_slots: int | None = None,
) -> Slots:
    """Selected tokens of several modalities, in official slot order.

    ids[name]: (B, N_m) int64 token ids; select[name]: (B, N_m) bool (True = goes into a slot);
    order: modality concatenation order (default: ``config.modalities`` order, the official
    sorted order); max_slots: slots kept (default: the largest selected count in the batch, at
    least 1 so an empty input still has a fixed shape). Names missing from ``select`` count as
    unselected.
    """
    names = [n for n in (order or config.modality_names) if n in select]
    if not names:
        raise ValueError("gather_slots: no modality given; pass at least one (possibly empty)")
    B = next(iter(select[n] for n in names)).shape[0]
    id_parts, pos_parts, mod_parts, sel_parts = [], [], [], []
    for name in names:
        spec = config.spec(name)
        sel = select[name]
        tok = ids[name].reshape(B, -1)  # (B, N_m): flatten a (B, t, h, w) grid row-major
        if sel.shape != (B, spec.num_tokens) or tok.shape != (B, spec.num_tokens):
            raise ValueError(
                f"gather_slots: modality {name} needs ids and mask of shape "
                f"({B}, {spec.num_tokens}), got {tuple(ids[name].shape)} and {tuple(sel.shape)}"
            )
        id_parts.append(tok.long())
        pos_parts.append(torch.arange(spec.num_tokens, device=sel.device).expand(B, -1))
        mod_parts.append(torch.full_like(tok, config.index(name), dtype=torch.long))
        sel_parts.append(sel.bool())
    sel_all = torch.cat(sel_parts, dim=1)  # (B, T)
    if max_slots is None:
        max_slots = max(int(sel_all.sum(dim=1).max()), 1)
    # Stable sort puts the selected tokens first, keeping modality and position order.
    order_idx = torch.sort((~sel_all).to(torch.int8), dim=1, stable=True).indices
    keep = order_idx[:, :max_slots]  # (B, S)
    if keep.shape[1] < max_slots:  # fewer tokens than slots: pad with index 0 (masked below)
        pad = keep.new_zeros((B, max_slots - keep.shape[1]))
        keep = torch.cat([keep, pad], dim=1)
    valid = torch.gather(sel_all, 1, keep)
    if sel_all.shape[1] < max_slots:
        valid[:, sel_all.shape[1] :] = False
    ids_s = torch.where(valid, torch.gather(torch.cat(id_parts, dim=1), 1, keep), 0)
    pos_s = torch.where(valid, torch.gather(torch.cat(pos_parts, dim=1), 1, keep), -1)
    mod_s = torch.where(valid, torch.gather(torch.cat(mod_parts, dim=1), 1, keep), -1)
    return Slots(ids_s, pos_s, mod_s, valid)
