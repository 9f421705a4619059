"""The decoding plan of one window: which tokens of which targets each step decodes.

Same semantics as the torch reference's ``build_schedule`` (``egom2p_edge.models.generation``),
with per-target settings from the bundle: ``official`` runs the targets one after another, each
with its own token schedule, and (``grow_conditioning``) target k's unconditional pass also
empties the targets before it; ``joint`` runs step i of every target still running in one
encoder pass; ``single_pass`` is ``joint`` with one step per target. A step is guided when its
scale is not 1 and it has something to empty. The C++ twin is ``cpp/src/decoding_plan.cc``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from egom2p_edge.streaming.options import ResolvedDecoding, TargetDecoding

MODES = ("official", "joint", "single_pass")


@dataclass(frozen=True)
class PlanEntry:
    """One target's share of a step."""

    target: TargetDecoding
    num_tokens: int
    temperature: float


@dataclass(frozen=True)
class PlanStep:
    """One encoder pass (two when guided) and one decoder batch."""

    entries: tuple[PlanEntry, ...]
    guidance_scale: float
    emptied: tuple[str, ...]  # modalities left out of the unconditional pass

    @property
    def guided(self) -> bool:
        return self.guidance_scale != 1.0 and len(self.emptied) > 0


def linear_token_schedule(num_tokens: int, num_steps: int) -> list[int]:
    """The official schedule: diff(linspace(0, N, n + 1) as int), descending, zeros dropped."""
    _check(num_tokens, num_steps)
    step = float(num_tokens) / num_steps  # numpy linspace: i * step, then truncation to int
    edges = [int(float(i) * step) for i in range(num_steps)] + [num_tokens]
    counts = sorted((b - a for a, b in zip(edges[:-1], edges[1:])), reverse=True)
    return [c for c in counts if c > 0]


def cosine_token_schedule(num_tokens: int, num_steps: int) -> list[int]:
    """MaskGIT cosine schedule: after step i, floor(N cos(pi/2 (i+1)/n)) tokens stay unknown."""
    _check(num_tokens, num_steps)
    counts, prev = [], num_tokens
    for i in range(num_steps):
        left = 0 if i == num_steps - 1 else int(math.floor(num_tokens * math.cos(
            math.pi / 2 * (i + 1) / num_steps)))  # fmt: skip
        counts.append(prev - left)
        prev = left
    return [c for c in counts if c > 0]


def token_schedule(kind: str, num_tokens: int, num_steps: int) -> list[int]:
    if kind == "linear":
        return linear_token_schedule(num_tokens, num_steps)
    if kind == "cosine":
        return cosine_token_schedule(num_tokens, num_steps)
    raise ValueError(f"unknown token schedule {kind!r}; choose linear or cosine")


def temperature_schedule(kind: str, temperature: float, num_steps: int) -> list[float]:
    """``constant``, ``linear`` (T down to 0 at the last step) or ``onex:MIN:POWER``."""
    if not (math.isfinite(temperature) and temperature >= 0) or num_steps < 1:
        raise ValueError(f"temperature {temperature} / steps {num_steps} out of range")
    if kind == "constant":
        return [float(temperature)] * num_steps
    if kind == "linear":
        if num_steps == 1:
            return [float(temperature)]
        return [temperature * (num_steps - 1 - i) / (num_steps - 1) for i in range(num_steps)]
    parts = kind.split(":")
    if len(parts) == 3 and parts[0] == "onex":
        try:
            t_min, power = float(parts[1]), float(parts[2])
        except ValueError:
            t_min, power = -1.0, -1.0
        if 0 <= t_min <= temperature and power >= 0:
            return [t_min + (temperature - t_min) * (i + 1) ** -power for i in range(num_steps)]
    raise ValueError(
        f"temperature schedule {kind!r} is not constant, linear or onex:MIN:POWER "
        f"(0 <= MIN <= T={temperature}, POWER >= 0)"
    )


def build_plan(decoding: ResolvedDecoding, present: tuple[str, ...]) -> list[PlanStep]:
    """The steps of one window. present: modalities given as input (e.g. ``("tok_rgb",)``);
    the condition emptied by guidance is the manifest's condition among them."""
    if decoding.mode not in MODES:
        raise ValueError(f"unknown decoding mode {decoding.mode!r}; choose one of {MODES}")
    cond = tuple(c for c in decoding.condition if c in present)
    per_target: list[list[PlanEntry]] = []
    for t in decoding.targets:
        n_steps = 1 if decoding.mode == "single_pass" else t.steps
        counts = token_schedule(t.schedule, t.num_tokens, n_steps)
        temps = temperature_schedule(t.temperature_schedule, t.temperature, len(counts))
        per_target.append([PlanEntry(t, c, tp) for c, tp in zip(counts, temps)])
    steps: list[PlanStep] = []
    if decoding.mode == "official":
        for k, (t, entries) in enumerate(zip(decoding.targets, per_target)):
            emptied = cond + (
                tuple(x.name for x in decoding.targets[:k]) if decoding.grow_conditioning else ()
            )
            steps += [PlanStep((e,), t.guidance_scale, emptied) for e in entries]
        return steps
    scale = decoding.targets[0].guidance_scale
    for i in range(max(len(e) for e in per_target)):
        entries = tuple(e[i] for e in per_target if i < len(e))
        steps.append(PlanStep(entries, scale, cond))
    return steps


def _check(num_tokens: int, num_steps: int) -> None:
    if not isinstance(num_tokens, (int, np.integer)) or num_tokens < 1:
        raise ValueError(f"num_tokens must be a positive int, got {num_tokens!r}")
    if not isinstance(num_steps, (int, np.integer)) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive int, got {num_steps!r}")
