"""Token schedules (how many tokens each step decodes) and temperature schedules: numpy only,
shared by the PyTorch generator (``models.generation``) and the bundle pipeline (``pipeline.plan``).

``linear`` is the official one (EGOM2P_SPEC.md 4.1): ``diff(linspace(0, N, n + 1, dtype=int))``
sorted in descending order, trailing zeros trimmed (30 tokens in 3 steps -> [10, 10, 10]; 5120 in
3 -> [1707, 1707, 1706]). ``cosine`` (MaskGIT) is ours: after step i, ``floor(N * cos(pi/2 *
(i+1)/n))`` tokens stay unknown, so few tokens come first and more later; zero steps are dropped.

Temperature schedules give one temperature per step: ``constant``; ``linear`` (ours): from T at
the first step down to 0 at the last (which is then argmax); ``onex:MIN:POWER`` (ours, after the
4M name): ``MIN + (T - MIN) * (i + 1) ** -POWER``. The official eval scripts use ``constant``.
"""

from __future__ import annotations

import math

import numpy as np

TOKEN_SCHEDULES = ("linear", "cosine")


def linear_token_schedule(num_tokens: int, num_steps: int) -> list[int]:
    """The official linear schedule; sums to ``num_tokens``."""
    _check(num_tokens, num_steps)
    counts = np.diff(np.linspace(0, num_tokens, num_steps + 1, dtype=int))
    counts = sorted((int(c) for c in counts), reverse=True)
    while counts and counts[-1] == 0:
        counts.pop()
    return counts


def cosine_token_schedule(num_tokens: int, num_steps: int) -> list[int]:
    """MaskGIT cosine schedule (ours, see module docstring); sums to ``num_tokens``."""
    _check(num_tokens, num_steps)
    remaining = [
        int(math.floor(num_tokens * math.cos(math.pi / 2 * (i + 1) / num_steps)))
        for i in range(num_steps)
    ]
    remaining[-1] = 0
    counts, prev = [], num_tokens
    for r in remaining:
        counts.append(prev - r)
        prev = r
    return [c for c in counts if c > 0]


def token_schedule(kind: str, num_tokens: int, num_steps: int) -> list[int]:
    """``linear`` or ``cosine`` counts per step (fewer entries when steps > tokens)."""
    if kind == "linear":
        return linear_token_schedule(num_tokens, num_steps)
    if kind == "cosine":
        return cosine_token_schedule(num_tokens, num_steps)
    raise ValueError(f"unknown token schedule {kind!r}; choose one of {TOKEN_SCHEDULES}")


def temperature_schedule(kind: str, temperature: float, num_steps: int) -> list[float]:
    """Temperatures per step.

    ``constant``: T every step. ``linear``: ``T * (n - 1 - i) / (n - 1)`` (T down to 0 at the
    last step; T for a single step). ``onex:MIN:POWER``: ``MIN + (T - MIN) * (i + 1) ** -POWER``.
    """
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be finite and >= 0, got {temperature}")
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if kind == "constant":
        return [float(temperature)] * num_steps
    if kind == "linear":
        if num_steps == 1:
            return [float(temperature)]
        return [temperature * (num_steps - 1 - i) / (num_steps - 1) for i in range(num_steps)]
    if kind.startswith("onex:"):
        parts = kind.split(":")
        try:
            t_min, power = float(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            raise ValueError(
                f"temperature schedule {kind!r} must read onex:MIN:POWER, e.g. onex:0.5:1.0"
            ) from None
        if len(parts) != 3 or not (0 <= t_min <= temperature) or power < 0:
            raise ValueError(
                f"temperature schedule {kind!r}: need 3 fields, 0 <= MIN <= T={temperature} "
                f"and POWER >= 0"
            )
        return [t_min + (temperature - t_min) * (i + 1) ** -power for i in range(num_steps)]
    raise ValueError(
        f"unknown temperature schedule {kind!r}; choose constant, linear or onex:MIN:POWER"
    )


def _check(num_tokens: int, num_steps: int) -> None:
    if not isinstance(num_tokens, (int, np.integer)) or num_tokens < 1:
        raise ValueError(f"num_tokens must be a positive int, got {num_tokens!r}")
    if not isinstance(num_steps, (int, np.integer)) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive int, got {num_steps!r}")
