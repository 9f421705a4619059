"""Token samples -> the backbone's training batches, after the masking sampler.

A sample is a dict in the official ``mod_dict`` layout, one entry per backbone modality::

    {"tok_cam": {"tensor": (N,) int64 ids,
                 "input_mask": (N,) bool,   # True = NOT an encoder input (official convention)
                 "target_mask": (N,) bool,  # True = NOT a decoder target
                 "decoder_attention_mask": (N,) int64}, ...}

A modality the sample lacks is empty as in the official ``make_empty_mod_dict``: zero ids, both
masks all True (neither input nor target), a zero decoder attention mask. For a present modality
``decoder_attention_mask`` holds the modality's target count at its first target position (in
position order) and 0 elsewhere; the backbone separates modalities itself and does not read it.

Masks come from ``egom2p_edge.models.masking`` (per-sample Dirichlet-mixture budgets over the
sample's present modalities). Each sample's masks are drawn from its own generator seeded with
``(seed, epoch, index)``, so they do not depend on the batch, the worker or the process that
reads the sample: resumed and distributed runs see the same masks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from egom2p_edge.models.backbone import ModalityBatch
from egom2p_edge.models.masking import MaskingConfig, sample_masks
from egom2p_edge.training.tokens.reader import TokenDatabase


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of one sample's masks."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(epoch), int(index)]))


def empty_mod_dict(num_tokens: int) -> dict[str, torch.Tensor]:
    """A missing modality: neither input nor target (official ``make_empty_mod_dict``)."""
    return {
        "tensor": torch.zeros(num_tokens, dtype=torch.int64),
        "input_mask": torch.ones(num_tokens, dtype=torch.bool),
        "target_mask": torch.ones(num_tokens, dtype=torch.bool),
        "decoder_attention_mask": torch.zeros(num_tokens, dtype=torch.int64),
    }


def masked_sample(
    tokens: Mapping[str, np.ndarray],
    num_tokens: Mapping[str, int],
    config: MaskingConfig,
    rng: np.random.Generator,
) -> dict[str, dict[str, torch.Tensor]]:
    """One sample in the official layout. tokens: ids of the present modalities (any shape,
    flattened row-major); num_tokens: every modality of the backbone -> its token count."""
    present = [n for n in num_tokens if n in tokens]
    masks = sample_masks(num_tokens, [present], config, rng)
    out: dict[str, dict[str, torch.Tensor]] = {}
    for name, n in num_tokens.items():
        if name not in tokens:
            out[name] = empty_mod_dict(n)
            continue
        ids = torch.from_numpy(np.asarray(tokens[name], dtype=np.int64).reshape(-1))  # (N,)
        if ids.numel() != n:
            raise ValueError(
                f"masked_sample: {name} has {ids.numel()} tokens, the backbone expects {n}; "
                f"the token database and the backbone config do not fit together"
            )
        is_in, is_tg = masks[name].is_input[0], masks[name].is_target[0]  # (N,)
        dam = torch.zeros(n, dtype=torch.int64)
        if bool(is_tg.any()):
            dam[int(is_tg.nonzero()[0])] = int(is_tg.sum())
        out[name] = {
            "tensor": ids,
            "input_mask": ~is_in,
            "target_mask": ~is_tg,
            "decoder_attention_mask": dam,
        }
    return out


def to_model_batch(
    batch: Mapping[str, Mapping[str, torch.Tensor]], order: Sequence[str] | None = None
) -> dict[str, ModalityBatch]:
    """A collated batch (official layout, tensors (B, N)) -> the backbone's ``forward_train``
    input, in ``order`` (default: the batch's order)."""
    names = list(order) if order is not None else list(batch)
    out = {}
    for name in names:
        m = batch[name]
        ids = m["tensor"]
        B = ids.shape[0]
        out[name] = ModalityBatch(
            ids.reshape(B, -1).long(),  # (B, *shape) -> (B, N)
            ~m["input_mask"].reshape(B, -1),
            ~m["target_mask"].reshape(B, -1),
        )
    return out


class MaskedTokenDataset(Dataset):
    """A token database as masked training samples for a backbone.

    num_tokens: the backbone's modalities -> token counts (every one appears in each sample,
    absent ones empty); indices: the database samples to use (default all). Item ``k`` or
    ``(k, epoch)`` is database sample ``indices[k]`` with the masks of ``(seed, epoch, that
    sample's database index)``; a plain ``k`` means epoch 0.
    """

    def __init__(
        self,
        db: TokenDatabase,
        num_tokens: Mapping[str, int],
        masking: MaskingConfig,
        seed: int = 0,
        indices: Sequence[int] | None = None,
    ) -> None:
        self.db = db
        self.num_tokens = dict(num_tokens)
        self.masking = masking
        self.seed = int(seed)
        self.indices = list(range(len(db))) if indices is None else [int(i) for i in indices]
        for name, info in db.modalities.items():
            if name not in self.num_tokens:
                raise ValueError(
                    f"token database {db.path} holds {name}, which the backbone does not have "
                    f"({sorted(self.num_tokens)})"
                )
            if info.num_tokens != self.num_tokens[name]:
                raise ValueError(
                    f"token database {db.path}: {name} has {info.num_tokens} tokens per sample "
                    f"{info.token_shape}, the backbone expects {self.num_tokens[name]}; build "
                    f"the backbone for this video size (or re-tokenise)"
                )

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, dict[str, torch.Tensor]]:
        k, epoch = key if isinstance(key, tuple) else (key, 0)
        index = self.indices[k]
        sample = self.db[index]
        return masked_sample(
            sample.tokens, self.num_tokens, self.masking, sample_rng(self.seed, epoch, index)
        )
