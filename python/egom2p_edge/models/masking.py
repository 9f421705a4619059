"""Masked multimodal sampling for training: Dirichlet-mixture token budgets, input/target masks.

Facts (EGOM2P_SPEC.md section 3): per sample one mixture component is drawn (weights
``mixture_weights``) and used for both the input and the target side; each side splits its
budget over the sample's present modalities with a symmetric Dirichlet of that component's alpha
(official: 0.01, 0.1, 1, 10): ``floor(share * budget)``, the remainder given one token at a time
to the argmax of further Dirichlet draws, then clamped to the modality's token count. Targets are
clamped to ``num_tokens - input_budget`` so input and target sets are disjoint. Per modality a
random permutation gives the first ``input_budget`` positions to the input and the next
``target_budget`` to the target. A missing modality is all False (neither input nor target).

All randomness comes from one ``numpy.random.Generator`` (pass a seed or a generator); the
functions are pure: same arguments and seed, same result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class MaskingConfig:
    """Token budgets of one training sample (official ego-b: 2048 / 2048, alphas 0.01..10)."""

    input_budget: int = 2048  # input tokens per sample, over all modalities
    target_budget: int = 2048  # target tokens per sample, over all modalities
    alphas: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)  # symmetric Dirichlet per component
    mixture_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)  # component probabilities (any scale)

    def __post_init__(self) -> None:
        for name in ("input_budget", "target_budget"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                raise ValueError(f"MaskingConfig.{name} must be an int >= 0, got {v!r}")
        if not self.alphas or any(not (a > 0 and np.isfinite(a)) for a in self.alphas):
            raise ValueError(f"MaskingConfig.alphas must be finite and > 0, got {self.alphas}")
        if len(self.mixture_weights) != len(self.alphas):
            raise ValueError(
                f"MaskingConfig.mixture_weights needs one weight per alpha ({len(self.alphas)}), "
                f"got {len(self.mixture_weights)}"
            )
        w = np.asarray(self.mixture_weights, dtype=np.float64)
        if np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError(
                f"MaskingConfig.mixture_weights must be >= 0 with a positive sum, "
                f"got {self.mixture_weights}"
            )


@dataclass(frozen=True)
class TokenMasks:
    """Masks of one modality. Each Shape (B, N) bool, disjoint; True = used as input / target."""

    is_input: torch.Tensor
    is_target: torch.Tensor


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def dirichlet_split(
    budget: int, caps: Sequence[int], alpha: float, rng: np.random.Generator
) -> list[int]:
    """Split ``budget`` tokens over modalities with a symmetric Dirichlet; clamp to ``caps``."""
    k = len(caps)
    if k == 0:
        return []
    share = rng.dirichlet([alpha] * k)
    counts = np.floor(share * budget).astype(np.int64)
    remainder = int(budget - counts.sum())
    if remainder > 0:
        extra = rng.dirichlet([alpha] * k, size=remainder).argmax(axis=1)
        counts += np.bincount(extra, minlength=k)
    return [int(min(c, cap)) for c, cap in zip(counts, caps)]


def sample_budgets(
    num_tokens: Mapping[str, int],
    config: MaskingConfig,
    seed: int | np.random.Generator,
) -> tuple[dict[str, int], dict[str, int]]:
    """(input budget, target budget) per present modality for one sample.

    num_tokens: token count of each modality present in the sample.
    """
    rng = _rng(seed)
    names = list(num_tokens)
    w = np.asarray(config.mixture_weights, dtype=np.float64)
    alpha = config.alphas[int(rng.choice(len(w), p=w / w.sum()))]
    caps = [int(num_tokens[n]) for n in names]
    inp = dirichlet_split(config.input_budget, caps, alpha, rng)
    tgt = dirichlet_split(config.target_budget, [c - i for c, i in zip(caps, inp)], alpha, rng)
    return dict(zip(names, inp)), dict(zip(names, tgt))


def random_token_masks(
    num_tokens: int, n_input: int, n_target: int, seed: int | np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(is_input, is_target), each (N,) bool: a random permutation's first n_input positions are
    input, the next n_target target."""
    if n_input < 0 or n_target < 0 or n_input + n_target > num_tokens:
        raise ValueError(
            f"random_token_masks: need 0 <= n_input, n_target and n_input + n_target <= "
            f"{num_tokens}, got {n_input} + {n_target}"
        )
    perm = _rng(seed).permutation(num_tokens)
    is_input = np.zeros(num_tokens, dtype=bool)
    is_target = np.zeros(num_tokens, dtype=bool)
    is_input[perm[:n_input]] = True
    is_target[perm[n_input : n_input + n_target]] = True
    return is_input, is_target


def sample_masks(
    num_tokens: Mapping[str, int],
    present: Sequence[Sequence[str]],
    config: MaskingConfig,
    seed: int | np.random.Generator,
) -> dict[str, TokenMasks]:
    """Masks for a batch.

    num_tokens: every modality of the batch -> its token count; present[b]: the modalities
    sample b has (the others are empty: all False). Samples are drawn in order b = 0, 1, ...
    from one generator. Returns name -> TokenMasks with (B, N) tensors.
    """
    rng = _rng(seed)
    B = len(present)
    out_in = {n: np.zeros((B, c), dtype=bool) for n, c in num_tokens.items()}
    out_tg = {n: np.zeros((B, c), dtype=bool) for n, c in num_tokens.items()}
    for b, mods in enumerate(present):
        unknown = [m for m in mods if m not in num_tokens]
        if unknown:
            raise ValueError(
                f"sample_masks: sample {b} names modalities {unknown} missing from num_tokens "
                f"{sorted(num_tokens)}"
            )
        here = {n: num_tokens[n] for n in num_tokens if n in mods}
        inp, tgt = sample_budgets(here, config, rng)
        for n in here:
            out_in[n][b], out_tg[n][b] = random_token_masks(here[n], inp[n], tgt[n], rng)
    return {
        n: TokenMasks(torch.from_numpy(out_in[n]), torch.from_numpy(out_tg[n])) for n in num_tokens
    }
