"""``TorchRng``: the random calls of the official ROAR sampler, on a private ``torch.Generator``.

Per decoding step the official code calls ``torch.manual_seed(seed + step)``, draws
``rand(N)`` for the decoding order (``argsort(known + rand(N) * 1e-6)``; the conditional and the
unconditional pass each re-seed and draw the same values), then samples every decoded row with
``torch.multinomial(probs, 1)``. A CPU ``torch.Generator`` seeded with the same value gives the
same stream as the global one, so this reproduces the official positions and samples (same torch
build, CPU) without touching global state.
"""

from __future__ import annotations

import torch


class TorchRng:
    """The official torch random calls (see module docstring)."""

    def __init__(self, seed: int = 0) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"TorchRng: seed must be an int, got {seed!r}")
        self.seed = seed
        self._gen: torch.Generator | None = None

    def begin_step(self, step: int) -> None:
        self._gen = torch.Generator(device="cpu").manual_seed(self.seed + step)

    def _generator(self) -> torch.Generator:
        if self._gen is None:
            raise ValueError("TorchRng: call begin_step(step) before drawing")
        return self._gen

    def order(self, known: torch.Tensor) -> torch.Tensor:
        known = known.detach().cpu().reshape(1, -1)  # (1, N): the official batch-shared mask
        noise = torch.rand(known.shape[1], generator=self._generator()) * 1e-6
        return torch.argsort(known + noise, dim=1)[0]

    def sample(self, probs: torch.Tensor) -> torch.Tensor:
        return torch.multinomial(probs.detach().cpu(), 1, generator=self._generator())[:, 0]
