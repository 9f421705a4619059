"""The training-style forward of the backbone and its per-modality loss (official ``mod`` loss).

Per modality: mean cross-entropy over that modality's target tokens in the batch (0 when it has
none); total = sum over modalities / number of modalities in the batch dict, empty ones included
(EGOM2P_SPEC.md 2.4). Decoder self-attention stays within a modality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from egom2p_edge.models.backbone.model import EgoM2P, EncoderOutputs
from egom2p_edge.models.backbone.slots import Slots, gather_slots


@dataclass(frozen=True)
class ModalityBatch:
    """One modality of a training batch.

    ids: (B, N) or (B, *token_shape) int64; is_input, is_target: (B, N) bool, disjoint. A missing
    modality is all False in both (the official ``make_empty_mod_dict``).
    """

    ids: torch.Tensor
    is_input: torch.Tensor
    is_target: torch.Tensor


@dataclass(frozen=True)
class TargetRows:
    """The decoder rows of one modality, sample first then increasing position. Each (R, ...)."""

    logits: torch.Tensor  # (R, V)
    hidden: torch.Tensor  # (R, D), after decoder_norm
    batch_index: torch.Tensor  # (R,)
    position: torch.Tensor  # (R,)
    target: torch.Tensor  # (R,)


@dataclass(frozen=True)
class TrainOutputs:
    loss: torch.Tensor  # scalar
    mod_loss: dict[str, torch.Tensor]  # scalar per modality
    rows: dict[str, TargetRows]
    encoder: EncoderOutputs
    encoder_slots: Slots
    decoder_slots: Slots


def modality_loss(
    rows: Mapping[str, TargetRows], num_modalities: int
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(total, per-modality) official ``mod`` loss from the target rows of each modality."""
    per_mod: dict[str, torch.Tensor] = {}
    for name, r in rows.items():
        if r.target.numel() == 0:
            per_mod[name] = r.logits.new_zeros(())
        else:
            per_mod[name] = F.cross_entropy(r.logits.float(), r.target.long(), reduction="mean")
    total = torch.stack(list(per_mod.values())).sum() / num_modalities
    return total, per_mod


def forward_train(
    model: EgoM2P,
    batch: Mapping[str, ModalityBatch],
    num_encoder_tokens: int | None = None,
    num_decoder_tokens: int | None = None,
    decoder_order: Sequence[str] | None = None,
) -> TrainOutputs:
    """Encoder over the input tokens, decoder over the target tokens, the ``mod`` loss.

    num_encoder_tokens / num_decoder_tokens: slots kept (official 2048 each in training);
    default: the largest count in the batch. Slots follow the order of ``batch`` (the official
    sorted order when built from the config), then position; tokens beyond a limit are dropped.
    decoder_order: modality order of the decoder slots (default: the order of ``batch``); the
    official decoder shuffles it with Python's ``random.sample`` before truncating, which only
    matters when ``num_decoder_tokens`` truncates.
    """
    config = model.config
    if not batch:
        raise ValueError("forward_train: the batch has no modality")
    for name, mb in batch.items():
        if name not in config.modality_names:
            raise ValueError(
                f"forward_train: modality {name!r} is not in this backbone {config.modality_names}"
            )
        if bool((mb.is_input & mb.is_target).any()):
            raise ValueError(f"forward_train: {name} has tokens that are both input and target")
        V = config.spec(name).vocab_size
        if mb.ids.numel() and (int(mb.ids.min()) < 0 or int(mb.ids.max()) >= V):
            raise ValueError(
                f"forward_train: {name} ids must be in [0, {V}), got "
                f"[{int(mb.ids.min())}, {int(mb.ids.max())}]"
            )
    ids = {n: mb.ids for n, mb in batch.items()}
    order = list(batch)  # slot order = the batch dict's order, as the official mod_dict
    enc = gather_slots(
        config, ids, {n: mb.is_input for n, mb in batch.items()}, order, num_encoder_tokens
    )
    dec_order = list(decoder_order) if decoder_order is not None else order
    if sorted(dec_order) != sorted(order):
        raise ValueError(f"forward_train: decoder_order {dec_order} must list the batch {order}")
    dec = gather_slots(
        config, ids, {n: mb.is_target for n, mb in batch.items()}, dec_order, num_decoder_tokens
    )
    enc_out = model.encode(enc.ids, enc.positions, enc.modality, enc.valid)
    hidden = model.decode_hidden(
        enc_out.context, enc.valid, dec.positions, dec.modality, query_valid=dec.valid
    )
    B = hidden.shape[0]
    sample = torch.arange(B, device=hidden.device)[:, None].expand_as(dec.valid)  # (B, Nd)
    rows: dict[str, TargetRows] = {}
    for name in batch:
        sel = dec.valid & (dec.modality == config.index(name))  # (B, Nd)
        h = hidden[sel]  # (R, D), sample-major then slot (= position) order
        rows[name] = TargetRows(
            logits=model.logits(h, name),
            hidden=h,
            batch_index=sample[sel],
            position=dec.positions[sel],
            target=dec.ids[sel],
        )
    loss, mod_loss = modality_loss(rows, num_modalities=len(batch))
    return TrainOutputs(loss, mod_loss, rows, enc_out, enc, dec)
