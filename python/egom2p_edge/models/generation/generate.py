"""``generate``: any-to-any prediction with the backbone, in three decoding modes.

- ``official`` (default): targets one after another (a chain: rgb -> depth -> cam feeds each
  finished target to the next as input), each with its own token schedule, every step re-running
  the encoder on everything known so far. With ``grow_conditioning`` (official default) the
  unconditional pass of target k also empties the targets finished before it.
- ``joint``: all targets share each encoder pass. Step i decodes step i's tokens of every target
  still running in one decoder batch (attention stays within a modality); a target with fewer
  steps finishes early. The unconditional pass empties the condition only.
- ``single_pass``: ``joint`` with one step per target (one conditional and one unconditional
  encoder pass per window).

Defaults follow the official eval scripts (EGOM2P_SPEC.md 4.1): ROAR, linear token schedule,
steps cam 3 / gaze 5 / depth 3 / rgb 6, temperature 0.01 constant, guidance 2.0, top-p 0.8, no
top-k, seed 0 with the official torch random calls (``TorchRng``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch

from egom2p_edge.modalities import resolve
from egom2p_edge.models.backbone.model import EgoM2P
from egom2p_edge.models.generation.decode import (
    DecodingStep,
    ForcedDecoding,
    StepRecord,
    TargetStep,
    TokenState,
    run_schedule,
)
from egom2p_edge.models.generation.torch_rng import TorchRng
from egom2p_edge.rng import DecodingRng
from egom2p_edge.schedules import temperature_schedule, token_schedule

MODES = ("official", "joint", "single_pass")
DEFAULT_STEPS = {"tok_cam": 3, "tok_gaze": 5, "tok_depth": 3, "tok_rgb": 6}


@dataclass
class GenerationResult:
    """Decoded tokens of every target.

    tokens[name]: (B, N) int64 (flattened token layout); probs[name]: (B, N) float32, the
    probability of each chosen token under the distribution it was drawn from (NaN where the
    token was given); steps: per-step records when ``record=True``; schedule: what ran.
    """

    tokens: dict[str, torch.Tensor]
    probs: dict[str, torch.Tensor]
    schedule: list[DecodingStep]
    steps: list[StepRecord] = field(default_factory=list)


def build_schedule(
    mode: str,
    targets: Sequence[str],
    num_unknown: Mapping[str, int],
    steps: Mapping[str, int],
    cond_domains: Sequence[str],
    *,
    scheme: str = "roar",
    schedule: str = "linear",
    temperature: float = 0.01,
    temperature_schedule_kind: str = "constant",
    guidance_scale: float = 2.0,
    grow_conditioning: bool = True,
) -> list[DecodingStep]:
    """The list of decoding steps of a mode (see module docstring)."""
    if mode not in MODES:
        raise ValueError(f"unknown decoding mode {mode!r}; choose one of {MODES}")
    per_target: dict[str, list[TargetStep]] = {}
    for t in targets:
        n_steps = 1 if mode == "single_pass" else steps[t]
        counts = token_schedule(schedule, num_unknown[t], n_steps)
        temps = temperature_schedule(temperature_schedule_kind, temperature, len(counts))
        per_target[t] = [TargetStep(t, c, scheme, tp) for c, tp in zip(counts, temps)]
    out: list[DecodingStep] = []
    if mode == "official":
        for k, t in enumerate(targets):
            cond = tuple(cond_domains) + (tuple(targets[:k]) if grow_conditioning else ())
            out += [DecodingStep((ts,), guidance_scale, cond) for ts in per_target[t]]
        return out
    n = max(len(v) for v in per_target.values())
    for i in range(n):
        entries = tuple(per_target[t][i] for t in targets if i < len(per_target[t]))
        out.append(DecodingStep(entries, guidance_scale, tuple(cond_domains)))
    return out


def _initial_states(
    model: EgoM2P,
    cond_tokens: Mapping[str, torch.Tensor | tuple[torch.Tensor, torch.Tensor]],
    targets: Sequence[str],
) -> tuple[dict[str, TokenState], list[str]]:
    config = model.config
    device = _device_of(model)  # states live where the model runs (CPU or a GPU)
    states: dict[str, TokenState] = {}
    batch = None
    for raw_name, value in cond_tokens.items():
        name = resolve(raw_name)
        spec = config.spec(name)
        ids, known = value if isinstance(value, tuple) else (value, None)
        ids = torch.as_tensor(ids)
        if ids.dtype.is_floating_point or ids.dtype == torch.bool:
            raise ValueError(f"cond_tokens[{raw_name!r}]: ids must be integers, got {ids.dtype}")
        B = ids.shape[0] if ids.ndim >= 1 else 0
        if ids.ndim < 2 or ids[0].numel() != spec.num_tokens:
            raise ValueError(
                f"cond_tokens[{raw_name!r}]: expected (B, {spec.num_tokens}) or "
                f"(B, *{spec.token_shape}) ids, got {tuple(ids.shape)}"
            )
        ids = ids.reshape(B, spec.num_tokens).long()  # (B, *shape) -> (B, N)
        if int(ids.min()) < 0 or int(ids.max()) >= spec.vocab_size:
            raise ValueError(
                f"cond_tokens[{raw_name!r}]: ids must be in [0, {spec.vocab_size}), got "
                f"[{int(ids.min())}, {int(ids.max())}]"
            )
        known = (
            torch.ones_like(ids, dtype=torch.bool)
            if known is None
            else torch.as_tensor(known, dtype=torch.bool).reshape(B, spec.num_tokens)
        )
        if batch is not None and B != batch:
            raise ValueError(f"cond_tokens: batch sizes differ ({batch} vs {B} for {raw_name})")
        batch = B
        probs = torch.full(ids.shape, float("nan"), device=device)
        states[name] = TokenState(ids.to(device, copy=True), known.to(device, copy=True), probs)
    if batch is None:
        raise ValueError("generate: cond_tokens is empty; give at least one input modality")
    for t in targets:
        if t not in states:
            n = config.spec(t).num_tokens
            states[t] = TokenState(
                torch.zeros(batch, n, dtype=torch.long, device=device),
                torch.zeros(batch, n, dtype=torch.bool, device=device),
                torch.full((batch, n), float("nan"), device=device),
            )
    cond_domains = [n for n in config.modality_names if n in states and n not in targets]
    return states, cond_domains


def _device_of(model) -> torch.device:
    """The model's parameters' device; the CPU for a model without parameters (a duck-typed
    backbone such as the export's ONNX Runtime one)."""
    params = getattr(model, "parameters", None)
    if callable(params):
        for p in params():
            return p.device
    return torch.device("cpu")


def generate(
    model: EgoM2P,
    cond_tokens: Mapping[str, torch.Tensor | tuple[torch.Tensor, torch.Tensor]],
    targets: Sequence[str],
    *,
    mode: str = "official",
    steps: int | Mapping[str, int] | None = None,
    scheme: str = "roar",
    schedule: str = "linear",
    temperature: float = 0.01,
    temperature_schedule: str = "constant",
    guidance_scale: float = 2.0,
    top_p: float = 0.8,
    top_k: float = 0,
    seed: int = 0,
    rng: DecodingRng | None = None,
    grow_conditioning: bool = True,
    forced: ForcedDecoding | None = None,
    record: bool = False,
) -> GenerationResult:
    """Predict ``targets`` from ``cond_tokens``.

    cond_tokens: modality (``"rgb"`` or ``"tok_rgb"``) -> ids (B, *token_shape) or (B, N), all
    given; or a pair (ids, known (B, N) bool) for a partly given modality (a target may appear
    here too: only its unknown tokens are decoded). targets: modalities to predict, in chain
    order. steps: decoding steps per target (int for all, a mapping, or None = the official
    per-modality steps). temperature 0 = argmax. rng: a ``DecodingRng`` (default
    ``TorchRng(seed)``, the official torch calls; ``egom2p_edge.rng.PortableRng`` is the one the
    C++ runtime reproduces). forced: decoding positions/tokens to impose (parity).
    """
    if not targets:
        raise ValueError("generate: targets is empty; name at least one modality to predict")
    targets = [resolve(t) for t in targets]
    if len(set(targets)) != len(targets):
        raise ValueError(f"generate: targets repeat a modality: {targets}")
    for t in targets:
        model.config.spec(t)
    states, cond_domains = _initial_states(model, cond_tokens, targets)
    num_unknown = {}
    for t in targets:
        unk = (~states[t].known).sum(dim=1)
        if int(unk.max()) == 0:
            raise ValueError(f"generate: target {t} is fully given; nothing to decode")
        num_unknown[t] = int(unk.max())
    if steps is None:
        steps_map = {t: DEFAULT_STEPS.get(t, 1) for t in targets}
    elif isinstance(steps, int):
        steps_map = {t: steps for t in targets}
    else:
        steps_map = {resolve(k): int(v) for k, v in steps.items()}
        missing = [t for t in targets if t not in steps_map]
        if missing:
            raise ValueError(f"generate: steps has no entry for targets {missing}")
    plan = build_schedule(
        mode,
        targets,
        num_unknown,
        steps_map,
        cond_domains,
        scheme=scheme,
        schedule=schedule,
        temperature=temperature,
        temperature_schedule_kind=temperature_schedule,
        guidance_scale=guidance_scale,
        grow_conditioning=grow_conditioning,
    )
    records = run_schedule(
        model,
        states,
        plan,
        top_k=top_k,
        top_p=top_p,
        rng=rng if rng is not None else TorchRng(seed),
        forced=forced,
        record=record,
    )
    return GenerationResult(
        tokens={t: states[t].ids for t in targets},
        probs={t: states[t].probs for t in targets},
        schedule=plan,
        steps=records,
    )
