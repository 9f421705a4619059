"""Running a decoding schedule: ROAR / MaskGIT steps with classifier-free guidance.

A schedule is a list of ``DecodingStep``; each step decodes some tokens of one or more targets
with ONE conditional encoder pass (every known token of every modality) and, when guided, ONE
unconditional pass (the condition modalities emptied; the targets' own decoded tokens stay), then
one decoder batch holding that step's queries of all its targets (decoder self-attention stays
within a modality). Guidance is in logit space: ``uncond + (cond - uncond) * scale``
(EGOM2P_SPEC.md 4.2). With no known token at all the encoder has only padding and cross-attention
returns 0, as the official empty encoder does.

Randomness per step ``s`` (global index in the schedule): ``rng.begin_step(s)``; then, for each
ROAR target in step order, ``rng.order(known)``; after the decoder, for each target in step order,
one ``rng.sample`` call over its rows (sample-major, query order). With one target per step and
``TorchRng`` this is exactly the official sequence of torch calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch

from egom2p_edge.models.backbone.model import EgoM2P
from egom2p_edge.models.backbone.slots import Slots, gather_slots
from egom2p_edge.models.generation.sampling import choose_tokens
from egom2p_edge.rng import DecodingRng

SCHEMES = ("roar", "maskgit")


@dataclass
class TokenState:
    """Tokens of one modality during decoding. Each Shape (B, N).

    ids: int64 ids (meaningful where known); known: bool, True = given or decoded (encoder input);
    probs: float32 probability of each decoded token (NaN where given or not decoded yet).
    """

    ids: torch.Tensor
    known: torch.Tensor
    probs: torch.Tensor


@dataclass(frozen=True)
class TargetStep:
    """One target's share of a step: ``num_tokens`` new tokens by ``scheme`` at ``temperature``."""

    target: str
    num_tokens: int
    scheme: str = "roar"
    temperature: float = 0.0

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"TargetStep.scheme must be one of {SCHEMES}, got {self.scheme!r}")
        if not isinstance(self.num_tokens, int) or self.num_tokens < 1:
            raise ValueError(f"TargetStep.num_tokens must be >= 1, got {self.num_tokens!r}")
        if not self.temperature >= 0:
            raise ValueError(f"TargetStep.temperature must be >= 0, got {self.temperature}")


@dataclass(frozen=True)
class DecodingStep:
    """One encoder pass (two with guidance) and one decoder batch."""

    targets: tuple[TargetStep, ...]
    cfg_scale: float = 1.0
    cfg_cond_domains: tuple[str, ...] = ()

    @property
    def guided(self) -> bool:
        """The official rule: guidance needs a scale other than 1 and something to empty."""
        return self.cfg_scale != 1.0 and len(self.cfg_cond_domains) > 0


@dataclass
class StepRecord:
    """What one target saw and chose at one step (kept when ``record=True``)."""

    step: int
    target: str
    positions: torch.Tensor  # (B, n) decoded positions, in decoder query order
    logits_cond: torch.Tensor  # (B, n, V)
    logits_uncond: torch.Tensor | None  # (B, n, V), None without guidance
    logits_guided: torch.Tensor  # (B, n, V), before top-k / top-p
    tokens: torch.Tensor  # (B, n)
    probs: torch.Tensor  # (B, n)
    n_encoder_tokens_cond: torch.Tensor  # (B,)
    n_encoder_tokens_uncond: torch.Tensor | None  # (B,)


@dataclass
class ForcedDecoding:
    """Per target, per own step (0-based): positions (n,) to decode and/or tokens (B, n) to write.

    Forcing positions keeps the RNG stream aligned (the order is still drawn, then replaced), so
    the sampled tokens match the official run whenever the logits do. Forcing tokens (teacher
    forcing) is for parity checks of later steps.
    """

    positions: Mapping[str, Sequence[torch.Tensor]] = field(default_factory=dict)
    tokens: Mapping[str, Sequence[torch.Tensor]] = field(default_factory=dict)


def _encoder(
    model: EgoM2P, states: Mapping[str, TokenState], emptied: set[str]
) -> tuple[torch.Tensor, torch.Tensor | None, Slots]:
    ids = {n: s.ids for n, s in states.items()}
    select = {
        n: (s.known if n not in emptied else torch.zeros_like(s.known)) for n, s in states.items()
    }
    slots = gather_slots(model.config, ids, select)
    valid = None if slots.all_valid else slots.valid
    ctx = model.encode(slots.ids, slots.positions, slots.modality, valid).context
    return ctx, valid, slots


def _decode(
    model: EgoM2P,
    ctx: torch.Tensor,
    ctx_valid: torch.Tensor | None,
    queries: Sequence[tuple[str, torch.Tensor]],
) -> list[torch.Tensor]:
    """Logits (B, n_t, V_t) per (target, positions (B, n_t)) in one decoder batch."""
    config = model.config
    pos = torch.cat([p for _, p in queries], dim=1)  # (B, sum n)
    mod = torch.cat([torch.full_like(p, config.index(n)) for n, p in queries], dim=1)
    hidden = model.decode_hidden(ctx, ctx_valid, pos, mod)
    out, start = [], 0
    for name, p in queries:
        out.append(model.logits(hidden[:, start : start + p.shape[1]], name))
        start += p.shape[1]
    return out


def _roar_positions(
    st: TokenState, ts: TargetStep, rng: DecodingRng, forced: torch.Tensor | None
) -> torch.Tensor:
    if bool((st.known != st.known[:1]).any()):
        raise ValueError(
            f"ROAR decodes the same positions in every batch item, but {ts.target}'s known "
            f"tokens differ across the batch"
        )
    known = st.known[0]
    n_unknown = int((~known).sum())
    if ts.num_tokens > n_unknown:
        raise ValueError(
            f"step wants {ts.num_tokens} tokens of {ts.target} but only {n_unknown} are unknown"
        )
    order = rng.order(known).to(known.device)  # drawn even when forced: keeps the stream aligned
    pos = order[: ts.num_tokens]
    if forced is not None:
        forced = torch.as_tensor(forced, dtype=torch.long, device=known.device).reshape(-1)
        if (
            forced.numel() != ts.num_tokens
            or forced.unique().numel() != forced.numel()
            or bool(known[forced.clamp(0, known.numel() - 1)].any())
            or int(forced.min()) < 0
            or int(forced.max()) >= known.numel()
        ):
            raise ValueError(
                f"forced positions for {ts.target} must be {ts.num_tokens} distinct unknown "
                f"positions, got {forced.tolist()}"
            )
        pos = forced
    return pos[None].expand(st.ids.shape[0], -1)  # (B, n)


def run_schedule(
    model: EgoM2P,
    states: dict[str, TokenState],
    schedule: Sequence[DecodingStep],
    *,
    top_k: float,
    top_p: float,
    rng: DecodingRng,
    forced: ForcedDecoding | None = None,
    record: bool = False,
) -> list[StepRecord]:
    """Decode in place into ``states`` following ``schedule``; returns the records (or [])."""
    forced = forced or ForcedDecoding()
    own_step: dict[str, int] = {}
    records: list[StepRecord] = []
    with torch.inference_mode():
        for s, step in enumerate(schedule):
            rng.begin_step(s)
            queries: list[tuple[str, torch.Tensor]] = []
            for ts in step.targets:
                st = states[ts.target]
                k = own_step.get(ts.target, 0)
                if ts.scheme == "roar":
                    fp = forced.positions.get(ts.target)
                    pos = _roar_positions(st, ts, rng, None if fp is None else fp[k])
                else:
                    # MaskGIT predicts every unknown position (ascending), keeps the most confident.
                    n_unk = (~st.known).sum(dim=1)
                    if bool((n_unk != n_unk[0]).any()) or ts.num_tokens > int(n_unk[0]):
                        raise ValueError(
                            f"MaskGIT step for {ts.target}: needs {ts.num_tokens} tokens and the "
                            f"same unknown count in every batch item, got {n_unk.tolist()}"
                        )
                    pos = torch.sort((st.known).to(torch.int8), dim=1, stable=True).indices
                    pos = pos[:, : int(n_unk[0])]  # (B, n_unknown)
                queries.append((ts.target, pos))
            ctx, ctx_valid, slots = _encoder(model, states, set())
            cond = _decode(model, ctx, ctx_valid, queries)
            uncond, slots_u = None, None
            if step.guided:
                ctx_u, ctx_valid_u, slots_u = _encoder(model, states, set(step.cfg_cond_domains))
                uncond = _decode(model, ctx_u, ctx_valid_u, queries)
            for i, (ts, (name, pos)) in enumerate(zip(step.targets, queries)):
                lc = cond[i]
                guided = lc if uncond is None else uncond[i] + (lc - uncond[i]) * step.cfg_scale
                B, n, V = guided.shape
                tok, prob = choose_tokens(
                    guided.reshape(B * n, V), ts.temperature, top_k, top_p, rng
                )
                tok, prob = tok.reshape(B, n), prob.reshape(B, n)  # (B*n,) -> (B, n)
                sel = torch.arange(n, device=pos.device).expand(B, -1)  # rows written
                if ts.scheme == "maskgit":
                    sel = torch.topk(prob, ts.num_tokens, dim=1).indices  # (B, num_tokens)
                pos_w, tok_w, prob_w = (t.gather(1, sel) for t in (pos, tok, prob))
                ft = forced.tokens.get(name)
                k = own_step.get(name, 0)
                if ft is not None:
                    tok_w = torch.as_tensor(ft[k], dtype=torch.long, device=pos_w.device)
                    tok_w = tok_w.reshape(pos_w.shape)
                st = states[name]
                st.ids.scatter_(1, pos_w, tok_w)
                st.known.scatter_(1, pos_w, True)
                st.probs.scatter_(1, pos_w, prob_w.to(st.probs.dtype))
                own_step[name] = k + 1
                if record:
                    rows = sel[..., None].expand(-1, -1, V)  # (B, n_w, V)
                    records.append(
                        StepRecord(
                            step=s,
                            target=name,
                            positions=pos_w.clone(),
                            logits_cond=lc.gather(1, rows).clone(),
                            logits_uncond=None if uncond is None else uncond[i].gather(1, rows),
                            logits_guided=guided.gather(1, rows).clone(),
                            tokens=tok_w.clone(),
                            probs=prob_w.clone(),
                            n_encoder_tokens_cond=slots.count(),
                            n_encoder_tokens_uncond=None if slots_u is None else slots_u.count(),
                        )
                    )
    return records
