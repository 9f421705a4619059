"""Decoding one window with the bundle's backbone stages (Python ONNX Runtime, numpy).

For each plan step ``s`` (numbered from 0 within the window): ``rng.begin_step(s)``; each ROAR
target in step order draws its decoding order (``rng.order``) and takes the first
``num_tokens`` unknown positions; a MaskGIT target queries every unknown position (ascending).
Encoder slots hold every known token (modalities in modality-table order, positions ascending);
with guidance, row 1 is the unconditional pass (the step's emptied modalities left out).

How the rows run (``PassLayout``):

- ``official`` mode (``separate_rows`` False): both rows are padded to a common length N >= 1
  (id 0, modality -1, position -1, valid False); one ``backbone_encoder`` run and one
  ``backbone_decoder`` run (queries of every target of the step, in step order) serve both rows.
  This is the paper's recipe as exported, unchanged.
- ``joint`` / ``single_pass`` (``separate_rows`` True): each row runs alone, unpadded (batch 1,
  N >= 1): the unconditional row holds a few dozen slots instead of being padded to the
  condition's thousands, which halves the encoder's work. Same semantics, other float rounding.
- ``reuse_condition`` (an approximation, only in ``joint``/``single_pass``): the encoder output
  of the inputs (the modalities that are not targets, e.g. ``tok_rgb``) is computed once, at
  step 0 when nothing else is known, and reused: from step 1 on the encoder runs only on the
  known target tokens (one small pass, which is also the unconditional row when the step empties
  exactly the inputs), and the conditional context is [targets' encodings, the inputs' cached
  encodings] (context order does not matter to attention). The targets are then encoded without
  seeing the video; the runtime benchmark (``benchmarks/``) reports its token agreement with
  ``official``.

Each target's logits are cut to its own vocabulary, guided, filtered and sampled
(``numerics.choose_tokens``, rows in query order); MaskGIT keeps the ``num_tokens`` most probable
(ties: earlier query first). The C++ twin is ``cpp/src/window_decoder.cc``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egom2p_edge.bundle import names
from egom2p_edge.pipeline import numerics
from egom2p_edge.pipeline.plan import PlanStep
from egom2p_edge.streaming.timings import StreamTimers, step_name


@dataclass
class TokenState:
    """One modality's tokens while decoding. Each Shape (N,)."""

    index: int  # modality index
    ids: np.ndarray  # int64
    known: np.ndarray  # bool
    probs: np.ndarray  # float32, NaN where given or undecided


@dataclass(frozen=True)
class PassLayout:
    """How a step's conditional and unconditional rows run (see the module docstring)."""

    separate_rows: bool = False
    reuse_condition: bool = False

    @staticmethod
    def for_mode(mode: str, reuse_condition: bool = False) -> PassLayout:
        fast = mode != "official"
        return PassLayout(separate_rows=fast, reuse_condition=fast and reuse_condition)


Slots = tuple[np.ndarray, np.ndarray, np.ndarray]  # (ids, modality, positions), each (n,) int64


def _slots(states: dict[str, TokenState], keep) -> Slots:
    """Slots of the known tokens of the modalities ``keep(name)`` accepts."""
    ids, mods, pos = [], [], []
    for name, st in sorted(states.items(), key=lambda kv: kv[1].index):
        if not keep(name):
            continue
        p = np.flatnonzero(st.known)
        ids.append(st.ids[p])
        mods.append(np.full(p.size, st.index, dtype=np.int64))
        pos.append(p.astype(np.int64))
    return tuple(np.concatenate(a).astype(np.int64) for a in (ids, mods, pos))


def _encoder_feeds(rows: list[Slots]) -> dict[str, np.ndarray]:
    """Pad the rows' slots to a common length N >= 1. Each feed Shape (B, N)."""
    n = max(max(r[0].size for r in rows), 1)
    b = len(rows)
    feeds = {
        names.INPUT_IDS: np.full((b, n), names.PAD_ID, dtype=np.int64),
        names.INPUT_MODALITY: np.full((b, n), names.PAD_MODALITY, dtype=np.int64),
        names.INPUT_POSITIONS: np.full((b, n), names.PAD_POSITION, dtype=np.int64),
        names.INPUT_VALID: np.zeros((b, n), dtype=bool),
    }
    for i, (ids, mods, pos) in enumerate(rows):
        feeds[names.INPUT_IDS][i, : ids.size] = ids
        feeds[names.INPUT_MODALITY][i, : ids.size] = mods
        feeds[names.INPUT_POSITIONS][i, : ids.size] = pos
        feeds[names.INPUT_VALID][i, : ids.size] = True
    return feeds


class WindowDecoder:
    """Runs decoding plans with the backbone sessions (one per pipeline; holds no state)."""

    def __init__(self, encoder_session, decoder_session) -> None:
        self.encoder = encoder_session
        self.decoder = decoder_session

    def _encode(self, rows: list[Slots]) -> tuple[np.ndarray, np.ndarray]:
        """(context (B, N, D), valid (B, N)) of padded rows."""
        feeds = _encoder_feeds(rows)
        (context,) = self.encoder.run([names.CONTEXT], feeds)
        return context, feeds[names.INPUT_VALID]

    def _decode(self, context, valid, tm, tp) -> np.ndarray:
        b = context.shape[0]
        (logits,) = self.decoder.run(
            [names.LOGITS],
            {
                names.CONTEXT: context,
                names.CONTEXT_VALID: valid,
                names.TARGET_MODALITY: np.tile(tm, (b, 1)),  # (B, M)
                names.TARGET_POSITIONS: np.tile(tp, (b, 1)),
            },
        )
        return logits  # (B, M, V)

    def decode(
        self,
        states: dict[str, TokenState],
        plan: list[PlanStep],
        rng,
        timers: StreamTimers | None = None,
        layout: PassLayout = PassLayout(),
    ) -> None:
        """Decode in place into ``states`` (the targets' states start all unknown)."""
        timers = timers or StreamTimers()
        targets = {e.target.name for step in plan for e in step.entries}
        inputs = tuple(n for n in states if n not in targets)
        cached: np.ndarray | None = None  # (1, N_inputs, D): the inputs' encodings
        for s, step in enumerate(plan):
            with timers.measure(step_name(s)):
                rng.begin_step(s)
                queries = []  # (entry, positions (n,))
                for e in step.entries:
                    st = states[e.target.name]
                    if e.target.scheme == "roar":
                        pos = numerics.roar_order(rng, st.known)[: e.num_tokens]
                    else:
                        pos = np.flatnonzero(~st.known).astype(np.int64)
                    queries.append((e, pos))
                tm = np.concatenate([np.full(p.size, e.target.modality_index) for e, p in queries])
                tp = np.concatenate([p for _, p in queries])
                tm, tp = tm.astype(np.int64), tp.astype(np.int64)  # (M,)
                if not layout.separate_rows:
                    logits = self._batched(states, step, tm, tp, timers)
                else:
                    logits, cached = self._separate(
                        states, step, inputs, tm, tp, timers, layout, cached
                    )
                with timers.measure("sample"):
                    self._sample(states, step, queries, logits, rng)

    def _batched(self, states, step: PlanStep, tm, tp, timers) -> list[np.ndarray]:
        rows = [_slots(states, lambda n: True)]
        if step.guided:
            rows.append(_slots(states, lambda n: n not in step.emptied))
        with timers.measure("encode"):
            context, valid = self._encode(rows)
        with timers.measure("decode"):
            logits = self._decode(context, valid, tm, tp)
        return [logits[i] for i in range(len(rows))]

    def _separate(self, states, step: PlanStep, inputs, tm, tp, timers, layout, cached):
        """Each row alone; returns ([cond logits (M, V), uncond logits], the inputs' cache)."""
        rows = []  # (context (1, N, D), valid (1, N)) per row
        uncond = (lambda n: n not in step.emptied) if step.guided else None
        with timers.measure("encode"):
            if layout.reuse_condition and cached is not None:
                own = self._encode([_slots(states, lambda n: n not in inputs)])
                ctx = np.concatenate([own[0], cached], axis=1)  # (1, N_own + N_inputs, D)
                rows.append((ctx, np.concatenate([own[1], np.ones(cached.shape[:2], bool)], 1)))
                if step.guided:
                    same = set(step.emptied) == set(inputs)
                    rows.append(own if same else self._encode([_slots(states, uncond)]))
            else:
                rows.append(self._encode([_slots(states, lambda n: True)]))
                only_inputs = all(bool(states[n].known.any()) == (n in inputs) for n in states)
                if layout.reuse_condition and only_inputs:
                    cached = rows[0][0]
                if step.guided:
                    rows.append(self._encode([_slots(states, uncond)]))
        with timers.measure("decode"):
            logits = [self._decode(c, v, tm, tp)[0] for c, v in rows]
        return logits, cached

    @staticmethod
    def _sample(states, step: PlanStep, queries, logits: list[np.ndarray], rng) -> None:
        start = 0
        for e, pos in queries:
            t = e.target
            rows_l = [lg[start : start + pos.size, : t.vocab_size] for lg in logits]  # (n, V_t)
            start += pos.size
            guided = numerics.guide(
                rows_l[0], rows_l[1] if step.guided else None, step.guidance_scale
            )
            tok, prob = numerics.choose_tokens(guided, e.temperature, t.top_k, t.top_p, rng)
            if t.scheme == "maskgit":
                keep = np.argsort(-prob, kind="stable")[: e.num_tokens]
                pos, tok, prob = pos[keep], tok[keep], prob[keep]
            st = states[t.name]
            st.ids[pos] = tok
            st.known[pos] = True
            st.probs[pos] = prob
