"""Random streams for parallel decoding: the ``DecodingRng`` protocol and ``PortableRng``.

A decoder draws randomness at two places per step: the order in which still-unknown target
positions are decoded (ROAR), and the sampled token of each decoded row. ``DecodingRng`` is that
interface; ``egom2p_edge.models.generation.torch_rng.TorchRng`` reproduces the official torch calls,
``PortableRng`` (here) is specified exactly so the C++ runtime can reproduce it bit for bit.

PortableRng, the algorithm (all integers unsigned 64-bit, arithmetic modulo 2**64):

1. Constants: ``GAMMA = 0x9E3779B97F4A7C15``, ``M1 = 0xBF58476D1CE4E5B9``,
   ``M2 = 0x94D049BB133111EB``. ``mix64(z)``: ``z ^= z >> 30; z *= M1; z ^= z >> 27; z *= M2;
   z ^= z >> 31``. (SplitMix64's output function; SplitMix64 seeded with ``s`` returns
   ``mix64(s + GAMMA * k)`` as its k-th output, k = 1, 2, ...)
2. Seed: the user's integer seed reduced modulo 2**64 (Python ``seed & (2**64 - 1)``).
3. Step stream: ``begin_step(step)`` sets ``key = mix64(seed + GAMMA * (step + 1))`` (the
   (step+1)-th SplitMix64 output of the seed) and resets a draw counter ``c = 0``. Each draw
   is ``c += 1; x = mix64(key + GAMMA * c)`` (the SplitMix64 stream seeded with ``key``).
4. ``order(known)`` for a target of N positions draws N values ``x_0 .. x_{N-1}`` (one per
   position in increasing position order, known positions included, so the draw count does not
   depend on the state). The result lists the unknown positions sorted by ascending ``x_i`` (ties
   by ascending position), followed by the known positions in ascending order.
5. ``sample(probs)`` for R rows of V float32 probabilities, rows in order: draw ``x``; ``u = x >>
   40`` (an integer in [0, 2**24)); ``cdf_j`` = the float32 running sum ``p_0 + ... + p_j``
   accumulated left to right in float32 (IEEE round-to-nearest-even, no fused operations);
   ``total = cdf_{V-1}``; ``t = u * total / 2**24`` computed in float64 (exact: a 24-bit integer
   times a float32 fits the 53-bit mantissa, and the division is a power of two). The sample is
   the smallest j with ``p_j > 0`` and ``cdf_j > t`` (it exists because ``t < total``). The row
   needs finite, non-negative probabilities with ``total > 0``.
6. ``uniform()`` (not used by the decoder itself) returns ``(x >> 40) * 2**-24``, exact in float32.

Probabilities reach ``sample`` from a softmax, so two implementations agree bit for bit only
when their probabilities do; the stream itself is exact integer arithmetic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # torch is needed only by the torch-facing wrappers, imported lazily
    import torch

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB


@runtime_checkable
class DecodingRng(Protocol):
    """The randomness a decoder needs, reset once per decoding step."""

    def begin_step(self, step: int) -> None:
        """Start the random stream of decoding step ``step`` (0-based, global over a schedule)."""

    def order(self, known: torch.Tensor) -> torch.Tensor:
        """known: (N,) bool. A permutation (N,) int64: unknown positions first in random order."""

    def sample(self, probs: torch.Tensor) -> torch.Tensor:
        """probs: (R, V) float32 rows summing to about 1. One token per row, Shape (R,) int64."""


def mix64(z: int) -> int:
    """SplitMix64's output function on a Python int (modulo 2**64)."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * M1) & MASK64
    z = ((z ^ (z >> 27)) * M2) & MASK64
    return z ^ (z >> 31)


def _mix64_np(z: np.ndarray) -> np.ndarray:
    """Vectorised ``mix64`` on uint64 arrays (numpy wraps modulo 2**64)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(M2)
    return z ^ (z >> np.uint64(31))


def step_key(seed: int, step: int) -> int:
    """The key of a step's stream: ``mix64(seed + GAMMA * (step + 1))``."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return mix64((seed & MASK64) + GAMMA * (step + 1))


class PortableRng:
    """Counter-based SplitMix64 streams, one per decoding step (algorithm: module docstring)."""

    def __init__(self, seed: int = 0) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"PortableRng: seed must be an int, got {seed!r}")
        self.seed = seed & MASK64
        self._key: int | None = None
        self._count = 0

    def begin_step(self, step: int) -> None:
        self._key = step_key(self.seed, step)
        self._count = 0

    def next_u64(self, n: int) -> np.ndarray:
        """The next ``n`` draws of the current step. Shape (n,) uint64."""
        if self._key is None:
            raise ValueError("PortableRng: call begin_step(step) before drawing")
        c = np.arange(self._count + 1, self._count + n + 1, dtype=np.uint64)
        self._count += n
        with np.errstate(over="ignore"):
            return _mix64_np(np.uint64(self._key) + np.uint64(GAMMA) * c)

    def uniform(self, n: int) -> np.ndarray:
        """n floats in [0, 1) with 24 random bits each. Shape (n,) float32."""
        return ((self.next_u64(n) >> np.uint64(40)).astype(np.float64) * 2.0**-24).astype(
            np.float32
        )

    def order_np(self, known: np.ndarray) -> np.ndarray:
        """``order`` on numpy: (N,) bool -> (N,) int64 permutation, unknown positions first."""
        known_np = np.asarray(known, dtype=bool).reshape(-1)
        keys = self.next_u64(known_np.size)
        pos = np.arange(known_np.size)
        unknown = pos[~known_np]
        # lexsort sorts by the last key first: key value, then position (stable tie-break).
        unknown = unknown[np.lexsort((unknown, keys[unknown]))]
        return np.concatenate([unknown, pos[known_np]]).astype(np.int64)

    def order(self, known: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.from_numpy(self.order_np(np.asarray(known.detach().cpu(), dtype=bool)))

    def sample(self, probs: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.from_numpy(self.sample_np(np.asarray(probs.detach().cpu())))

    def sample_np(self, probs: np.ndarray) -> np.ndarray:
        """``sample`` on numpy: (R, V) float32 probabilities -> (R,) int64 tokens."""
        p = np.asarray(probs, dtype=np.float32)
        if p.ndim != 2:
            raise ValueError(f"PortableRng.sample: probs must be (R, V), got {p.shape}")
        if not np.all(np.isfinite(p)) or np.any(p < 0):
            raise ValueError("PortableRng.sample: probabilities must be finite and >= 0")
        u = (self.next_u64(p.shape[0]) >> np.uint64(40)).astype(np.float64)  # (R,) in [0, 2^24)
        cdf = np.cumsum(p, axis=1, dtype=np.float32)  # sequential float32 running sums
        total = cdf[:, -1].astype(np.float64)
        if np.any(total <= 0):
            raise ValueError("PortableRng.sample: a row has no probability mass")
        t = u * total / 2.0**24  # exact in float64
        ok = (cdf.astype(np.float64) > t[:, None]) & (p > 0)
        return ok.argmax(axis=1).astype(np.int64)
