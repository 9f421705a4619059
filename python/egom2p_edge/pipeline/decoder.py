"""Decoding one window with the bundle's backbone stages (Python ONNX Runtime, numpy).

For each plan step ``s`` (numbered from 0 within the window): ``rng.begin_step(s)``; each ROAR
target in step order draws its decoding order (``rng.order``) and takes the first
``num_tokens`` unknown positions; a MaskGIT target queries every unknown position (ascending).
Encoder slots hold every known token (modalities in modality-table order, positions ascending);
with guidance, row 1 is the unconditional pass (the step's emptied modalities left out) and both
rows are padded to a common length N >= 1 (id 0, modality -1, position -1, valid False). One
``backbone_encoder`` run and one ``backbone_decoder`` run (queries of every target of the step,
in step order) serve both rows. Each target's logits are cut to its own vocabulary, guided,
filtered and sampled (``numerics.choose_tokens``, rows in query order); MaskGIT keeps the
``num_tokens`` most probable (ties: earlier query first). The C++ twin is
``cpp/src/window_decoder.cc``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egom2p_edge.bundle import names
from egom2p_edge.pipeline import numerics
from egom2p_edge.pipeline.plan import PlanStep
from egom2p_edge.streaming.timings import StreamTimers


@dataclass
class TokenState:
    """One modality's tokens while decoding. Each Shape (N,)."""

    index: int  # modality index
    ids: np.ndarray  # int64
    known: np.ndarray  # bool
    probs: np.ndarray  # float32, NaN where given or undecided


def _slots(states: dict[str, TokenState], emptied: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """(ids, modality, positions) of the selected tokens, each Shape (n,) int64."""
    ids, mods, pos = [], [], []
    for name, st in sorted(states.items(), key=lambda kv: kv[1].index):
        if name in emptied:
            continue
        p = np.flatnonzero(st.known)
        ids.append(st.ids[p])
        mods.append(np.full(p.size, st.index, dtype=np.int64))
        pos.append(p.astype(np.int64))
    return tuple(np.concatenate(a).astype(np.int64) for a in (ids, mods, pos))


def _encoder_feeds(rows: list[tuple[np.ndarray, ...]]) -> dict[str, np.ndarray]:
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

    def decode(
        self,
        states: dict[str, TokenState],
        plan: list[PlanStep],
        rng,
        timers: StreamTimers | None = None,
    ) -> None:
        """Decode in place into ``states`` (the targets' states start all unknown)."""
        timers = timers or StreamTimers()
        for s, step in enumerate(plan):
            rng.begin_step(s)
            queries = []  # (entry, positions (n,))
            for e in step.entries:
                st = states[e.target.name]
                if e.target.scheme == "roar":
                    pos = numerics.roar_order(rng, st.known)[: e.num_tokens]
                else:
                    pos = np.flatnonzero(~st.known).astype(np.int64)
                queries.append((e, pos))
            rows = [_slots(states, ())]
            if step.guided:
                rows.append(_slots(states, step.emptied))
            with timers.measure("encode"):
                feeds = _encoder_feeds(rows)
                (context,) = self.encoder.run([names.CONTEXT], feeds)
            b = len(rows)
            tm = np.concatenate([np.full(p.size, e.target.modality_index) for e, p in queries])
            tp = np.concatenate([p for _, p in queries])
            with timers.measure("decode"):
                (logits,) = self.decoder.run(
                    [names.LOGITS],
                    {
                        names.CONTEXT: context,
                        names.CONTEXT_VALID: feeds[names.INPUT_VALID],
                        names.TARGET_MODALITY: np.tile(tm.astype(np.int64), (b, 1)),  # (B, M)
                        names.TARGET_POSITIONS: np.tile(tp.astype(np.int64), (b, 1)),
                    },
                )
            with timers.measure("sample"):
                start = 0
                for e, pos in queries:
                    t = e.target
                    rows_l = logits[:, start : start + pos.size, : t.vocab_size]  # (B, n, V_t)
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
