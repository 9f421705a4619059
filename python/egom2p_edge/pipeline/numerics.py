"""Choosing tokens from logits with numerics the C++ runtime reproduces bit for bit.

The torch reference (``egom2p_edge.models.generation.sampling``) defines what happens; this is
the same algorithm with every floating-point operation pinned down, so that numpy here and C++
(``cpp/src/decoding_sampling.cc``) give identical probabilities, hence identical samples:

- ``portable_exp(x)`` (float64, x <= 0): 0 for x < -700 (and -inf); otherwise ``k = rint(x /
  ln 2)`` (round half to even, computed as ``x * INV_LN2``), ``r = (x - k * LN2_HI) - k * LN2_LO``,
  the degree-13 Taylor polynomial of exp(r) in Horner form, times 2**k (``ldexp``). Only IEEE
  +, -, * on doubles (no fused multiply-add, no libm), so every platform agrees.
- ``softmax_rows`` (R, V) float32 -> float32: ``m`` the row maximum; ``e_j = portable_exp(
  double(x_j) - double(m))``; ``s`` the float64 sum of ``e`` left to right; ``p_j =
  float32(e_j / s)``.
- Guidance: ``uncond + (cond - uncond) * float32(scale)`` in float32.
- ``top_k_filter``: keep logits >= the k-th largest (k as in the reference), others -inf.
- ``top_p_filter`` (0 = off): sort descending, ties by ascending index; ``e`` as in softmax of
  the sorted row (against its first value), ``q_j = e_j / s`` (float64), ``cum`` their float64
  running sum; the sorted entry j >= 1 is removed when ``cum_{j-1} > top_p``.
- ``choose_tokens``: temperature |T| <= 1e-8 is argmax (first maximum) of the guided logits, with
  the probability from ``softmax_rows(top_p(top_k(logits)))``; otherwise ``probs =
  softmax_rows(top_p(top_k(logits)) / float32(T))`` (float32 division) and one
  ``PortableRng.sample`` draw per row.
"""

from __future__ import annotations

import numpy as np

ARGMAX_ATOL = 1e-8  # the reference's isclose(T, 0)
EXP_MIN = -700.0  # below this portable_exp returns 0 (far under float32 resolution after / sum)
INV_LN2 = 1.4426950408889634  # 1 / ln 2
LN2_HI = 6.93147180369123816490e-01  # ln 2 split: k * LN2_HI is exact for |k| < 2**11
LN2_LO = 1.90821492927058770002e-10
# 1 / n! for n = 13 .. 0 (Horner order)
EXP_COEFFS = (
    1.0 / 6227020800.0,
    1.0 / 479001600.0,
    1.0 / 39916800.0,
    1.0 / 3628800.0,
    1.0 / 362880.0,
    1.0 / 40320.0,
    1.0 / 5040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    1.0 / 2.0,
    1.0,
    1.0,
)


def portable_exp(x: np.ndarray) -> np.ndarray:
    """exp of float64 values <= 0 (see the module docstring). Shape (...) -> (...) float64."""
    x = np.asarray(x, dtype=np.float64)
    if np.any(x > 0) or np.any(np.isnan(x)):
        raise ValueError("portable_exp: arguments must be <= 0 and not NaN")
    live = x >= EXP_MIN
    xs = np.where(live, x, 0.0)
    k = np.rint(xs * INV_LN2)
    r = (xs - k * LN2_HI) - k * LN2_LO
    p = np.full_like(r, EXP_COEFFS[0])
    for c in EXP_COEFFS[1:]:
        p = p * r + c
    return np.where(live, np.ldexp(p, k.astype(np.int32)), 0.0)


def _exp_shifted(rows: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """portable_exp(double(rows) - double(shift)); -inf entries give 0. Shape (R, V)."""
    if np.any(np.isnan(rows)) or np.any(np.isposinf(rows)):
        raise ValueError("logits must not be NaN or +inf")
    if np.any(np.isneginf(shift)):
        raise ValueError("a logits row is entirely -inf: nothing can be chosen")
    d = rows.astype(np.float64) - shift.astype(np.float64)[:, None]
    return portable_exp(d)


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Shape (R, V) float32 -> (R, V) float32 (see the module docstring)."""
    x = np.asarray(logits, dtype=np.float32)
    e = _exp_shifted(x, x.max(axis=1))
    s = np.cumsum(e, axis=1)[:, -1]  # left-to-right float64 sums (np.sum would be pairwise)
    return (e / s[:, None]).astype(np.float32)


def guide(cond: np.ndarray, uncond: np.ndarray | None, scale: float) -> np.ndarray:
    """Classifier-free guidance in logit space, float32. Shape (R, V) -> (R, V)."""
    cond = np.asarray(cond, dtype=np.float32)
    if uncond is None:
        return cond
    uncond = np.asarray(uncond, dtype=np.float32)
    return uncond + (cond - uncond) * np.float32(scale)


def top_k_count(top_k: float, vocab: int) -> int:
    """How many logits top-k keeps (0 = all), as the reference reads ``top_k``."""
    if top_k == 0:
        return 0
    if 0 < top_k < 1:
        return max(int(top_k * vocab), 1)
    if top_k >= 1 and float(top_k).is_integer():
        return min(int(top_k), vocab)
    raise ValueError(f"top_k must be 0, an int >= 1 or a fraction in (0, 1), got {top_k}")


def top_k_filter(logits: np.ndarray, top_k: float) -> np.ndarray:
    """Keep the k largest logits per row (ties at the k-th kept). Shape (R, V) -> (R, V)."""
    x = np.array(logits, dtype=np.float32, copy=True)
    k = top_k_count(top_k, x.shape[1])
    if k == 0:
        return x
    kth = -np.sort(-x, axis=1)[:, k - 1 : k]  # (R, 1) the k-th largest value
    x[x < kth] = -np.inf
    return x


def top_p_filter(logits: np.ndarray, top_p: float) -> np.ndarray:
    """Nucleus filter (0 = off). Shape (R, V) -> (R, V), removed entries -inf."""
    x = np.array(logits, dtype=np.float32, copy=True)
    if top_p <= 0:
        return x
    if top_p > 1:
        raise ValueError(f"top_p must be in [0, 1], got {top_p}")
    order = np.argsort(-x, axis=1, kind="stable")  # descending, ties by ascending index
    s_logits = np.take_along_axis(x, order, axis=1)
    e = _exp_shifted(s_logits, s_logits[:, 0])
    total = np.cumsum(e, axis=1)[:, -1:]
    cum = np.cumsum(e / total, axis=1)  # float64 running sums of the sorted probabilities
    remove = np.zeros_like(cum, dtype=bool)
    remove[:, 1:] = cum[:, :-1] > top_p
    np.put_along_axis(x, order, np.where(remove, -np.inf, s_logits).astype(np.float32), axis=1)
    return x


def is_argmax(temperature: float) -> bool:
    return abs(temperature) <= ARGMAX_ATOL


def choose_tokens(
    logits: np.ndarray, temperature: float, top_k: float, top_p: float, rng
) -> tuple[np.ndarray, np.ndarray]:
    """(tokens (R,) int64, probability of each (R,) float32) from guided logits (R, V) float32.

    rng: ``egom2p_edge.rng.PortableRng`` inside the current step (used unless argmax).
    """
    x = np.asarray(logits, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"choose_tokens: logits must be (R, V), got {x.shape}")
    filtered = top_p_filter(top_k_filter(x, top_k), top_p)
    if is_argmax(temperature):
        tokens = np.argmax(x, axis=1).astype(np.int64)
        probs = softmax_rows(filtered)
    else:
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        probs = softmax_rows(filtered / np.float32(temperature))
        tokens = sample_rows(rng, probs)
    chosen = np.take_along_axis(probs, tokens[:, None], axis=1)[:, 0]
    return tokens, chosen


def sample_rows(rng, probs: np.ndarray) -> np.ndarray:
    """One ``PortableRng.sample`` draw per row. Shape (R, V) float32 -> (R,) int64.

    A generator with numpy methods (``PortableRng``) needs no torch; others get torch tensors."""
    if hasattr(rng, "sample_np"):
        return np.asarray(rng.sample_np(probs), dtype=np.int64)
    import torch

    return rng.sample(torch.from_numpy(np.ascontiguousarray(probs))).numpy().astype(np.int64)


def roar_order(rng, known: np.ndarray) -> np.ndarray:
    """``PortableRng.order``: unknown positions first in random order. Shape (N,) -> (N,) int64."""
    if hasattr(rng, "order_np"):
        return np.asarray(rng.order_np(known), dtype=np.int64)
    import torch

    return rng.order(torch.from_numpy(np.asarray(known, dtype=bool))).numpy().astype(np.int64)
