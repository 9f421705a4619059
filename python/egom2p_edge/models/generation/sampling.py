"""Choosing tokens from guided logits: top-k, top-p, temperature, argmax (EGOM2P_SPEC.md 4.2).

Official order: if the temperature is 0 (``isclose(T, 0)``), argmax of the guided logits;
otherwise top-k, then top-p on the raw guided logits (keep the smallest prefix of the sorted
tokens whose cumulative probability exceeds p, always the first), then ``softmax(logits / T)``
and one draw per row from the decoding RNG. Each chosen token also gets its probability (the
confidence the runtime reports and MaskGIT ranks by): under ``softmax(filtered / T)``, with T = 1
for argmax.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from egom2p_edge.rng import DecodingRng

ARGMAX_ATOL = 1e-8  # numpy.isclose(T, 0) default absolute tolerance, as the official check


def is_argmax(temperature: float) -> bool:
    return abs(temperature) <= ARGMAX_ATOL


def top_k_filter(logits: torch.Tensor, top_k: float) -> torch.Tensor:
    """Keep the k largest logits per row (ties at the k-th value kept), others -inf.

    top_k: 0 = off; an int >= 1 = k; a float in (0, 1) = that fraction of the vocabulary (at
    least 1). Shape (R, V) -> (R, V).
    """
    if top_k == 0:
        return logits
    V = logits.shape[-1]
    if 0 < top_k < 1:
        k = max(int(top_k * V), 1)
    elif top_k >= 1 and float(top_k).is_integer():
        k = min(int(top_k), V)
    else:
        raise ValueError(f"top_k must be 0, an int >= 1 or a fraction in (0, 1), got {top_k}")
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]  # (R, 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Nucleus filter on raw logits (0 = off). Shape (R, V) -> (R, V), removed tokens -inf."""
    if top_p <= 0:
        return logits
    if top_p > 1:
        raise ValueError(f"top_p must be in [0, 1], got {top_p}")
    sorted_logits, sorted_idx = torch.sort(logits, dim=-1, descending=True)
    cum = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)  # (R, V)
    remove = cum > top_p
    # Shift right: a token goes only when the prefix before it already exceeds p.
    remove = torch.cat([torch.zeros_like(remove[..., :1]), remove[..., :-1]], dim=-1)
    mask = remove.scatter(-1, sorted_idx, remove)
    return logits.masked_fill(mask, float("-inf"))


def choose_tokens(
    logits: torch.Tensor,
    temperature: float,
    top_k: float,
    top_p: float,
    rng: DecodingRng,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens (R,) int64, probability of each chosen token (R,) float32) from (R, V) logits."""
    if logits.ndim != 2:
        raise ValueError(f"choose_tokens: logits must be (R, V), got {tuple(logits.shape)}")
    logits = logits.float()
    if is_argmax(temperature):
        tokens = torch.argmax(logits, dim=-1)
        probs = F.softmax(top_p_filter(top_k_filter(logits, top_k), top_p), dim=-1)
    else:
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        filtered = top_p_filter(top_k_filter(logits, top_k), top_p)
        probs = F.softmax(filtered / temperature, dim=-1)
        tokens = rng.sample(probs).to(logits.device)
    chosen = probs.gather(-1, tokens[:, None])[:, 0]
    return tokens, chosen
