"""The decoding plan of one window: which tokens of which targets each step decodes.

Same semantics as the torch reference's ``build_schedule`` (``egom2p_edge.models.generation``),
with per-target settings from the bundle: ``official`` runs the targets one after another, each
with its own token schedule, and (``grow_conditioning``) target k's unconditional pass also
empties the targets before it; ``joint`` runs step i of every target still running in one
encoder pass; ``single_pass`` is ``joint`` with one step per target. A step is guided when its
scale is not 1 and it has something to empty. The C++ twin is ``cpp/src/decoding_plan.cc``.
"""

from __future__ import annotations

from dataclasses import dataclass

from egom2p_edge.schedules import temperature_schedule, token_schedule
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
