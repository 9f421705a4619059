"""Parity of the backbone: recompute ``train_forward`` and every ``gen_*`` file of a fixture folder.

Everything is derived from ``config.json`` and ``checkpoint.pth`` (sizes, slot limits, schedules,
seeds), so other fixture sets with other sizes and inputs run unchanged. Generation first runs
free with ``TorchRng`` (the official torch calls); when that does not reproduce the stored
decoding positions (and, for sampled runs, the stored tokens), it runs again with them forced,
and reports the positions (and everything of a sampled run) as advisory.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import torch

from egom2p_edge.checkpoints.backbone_import import import_official_backbone
from egom2p_edge.models.backbone import BackboneConfig, EgoM2P, ModalityBatch, forward_train
from egom2p_edge.models.generation import (
    DecodingStep,
    ForcedDecoding,
    TargetStep,
    TokenState,
    TorchRng,
    run_schedule,
)
from egom2p_edge.models.generation.sampling import is_argmax
from egom2p_edge.testing.parity import ComponentResult, Tolerance

TRAIN = "train_forward"
ENCODER_TOL = Tolerance(atol=1e-5, rtol=0.0)
LOGIT_TOL = Tolerance(atol=1e-4, rtol=1e-4)
LOSS_TOL = Tolerance(atol=0.0, rtol=1e-5)


def detect(fixture_dir: Path, config: dict) -> bool:
    return (Path(fixture_dir) / f"{TRAIN}.safetensors").is_file()


def _load_model(fixture_dir: Path) -> EgoM2P:
    ckpt = Path(fixture_dir) / "checkpoint.pth"
    if not ckpt.is_file():
        raise FileNotFoundError(f"{ckpt} is missing: the backbone fixture needs its checkpoint")
    _, cfg, state, _ = import_official_backbone(ckpt)
    return EgoM2P.from_state_dict(BackboneConfig.from_dict(cfg), state).eval()


def _call_int(call: str, name: str) -> int | None:
    m = re.search(rf"{name}\s*=\s*(\d+)", call or "")
    return int(m.group(1)) if m else None


def _train_forward(
    model: EgoM2P, config: dict, t: dict[str, np.ndarray], res: ComponentResult
) -> None:
    cfg = model.config
    tf = config.get(TRAIN, {})
    names = [n for n in tf.get("mod_dict_order", cfg.modality_names) if f"batch.{n}.tensor" in t]
    names += [n for n in cfg.modality_names if f"batch.{n}.tensor" in t and n not in names]
    res.inputs |= {f"{TRAIN}/{k}" for k in t if k.startswith("batch.")}
    n_enc = _call_int(tf.get("call", ""), "num_encoder_tokens")
    if n_enc is None and "encoder_input" in t:
        n_enc = t["encoder_input"].shape[1]
    n_dec = _call_int(tf.get("call", ""), "num_decoder_tokens")
    # The official decoder shuffles the modality order with random.sample right after
    # random.seed(python_random_seed_before_forward); it matters only when slots truncate.
    seed = tf.get("python_random_seed_before_forward")
    dec_order = None if seed is None else random.Random(seed).sample(names, len(names))
    batch = {}
    for n in names:
        ids = torch.from_numpy(t[f"batch.{n}.tensor"]).long()
        B = ids.shape[0]
        batch[n] = ModalityBatch(
            ids.reshape(B, -1),  # (B, *shape) -> (B, N)
            ~torch.from_numpy(t[f"batch.{n}.input_mask"]),  # official: False = used
            ~torch.from_numpy(t[f"batch.{n}.target_mask"]),
        )
    with torch.no_grad():
        out = forward_train(model, batch, n_enc, n_dec, dec_order)
    o = res.outputs
    o[f"{TRAIN}/encoder_input"] = out.encoder.tokens_in.numpy()
    o[f"{TRAIN}/encoder_output"] = out.encoder.output.numpy()
    slots = out.encoder_slots
    ids_table = torch.tensor([s.id for s in cfg.modalities], dtype=torch.int32)
    mod_id = torch.where(slots.valid, ids_table[slots.modality.clamp(min=0)], -1)
    o[f"{TRAIN}/encoder_slot_modality_id"] = mod_id.to(torch.int32).numpy()
    o[f"{TRAIN}/encoder_slot_position"] = slots.positions.numpy()
    for n, r in out.rows.items():
        o[f"{TRAIN}/logits.{n}"] = r.logits.numpy()
        o[f"{TRAIN}/decoder_output_rows.{n}"] = r.hidden.numpy()
        o[f"{TRAIN}/logit_rows_batch_index.{n}"] = r.batch_index.numpy()
        o[f"{TRAIN}/logit_rows_position.{n}"] = r.position.numpy()
        o[f"{TRAIN}/logit_rows_target.{n}"] = r.target.numpy()
        o[f"{TRAIN}/mod_loss.{n}"] = out.mod_loss[n].reshape(1).numpy()
        res.tolerances[f"{TRAIN}/logits.{n}"] = LOGIT_TOL
        res.tolerances[f"{TRAIN}/mod_loss.{n}"] = LOSS_TOL
    o[f"{TRAIN}/loss"] = out.loss.reshape(1).numpy()
    res.tolerances[f"{TRAIN}/loss"] = LOSS_TOL
    for k in ("encoder_input", "encoder_output"):
        res.tolerances[f"{TRAIN}/{k}"] = ENCODER_TOL


def _initial_states(model: EgoM2P, t: dict[str, np.ndarray]) -> dict[str, TokenState]:
    states = {}
    for key in t:
        m = re.fullmatch(r"input\.(\w+)\.tensor", key)
        if not m:
            continue
        name = m.group(1)
        ids = torch.from_numpy(t[key]).long()
        B = ids.shape[0]
        ids = ids.reshape(B, -1).clone()  # (B, *shape) -> (B, N)
        mask_key = f"input.{name}.input_mask"
        known = (
            ~torch.from_numpy(t[mask_key]).reshape(B, -1)
            if mask_key in t
            else torch.ones_like(ids, dtype=torch.bool)
        )
        states[name] = TokenState(ids, known.clone(), torch.full(ids.shape, float("nan")))
    return states


def _run(model, t, plan, gc, forced):
    states = _initial_states(model, t)
    B = next(iter(states.values())).ids.shape[0]
    for step in plan:  # a target without saved input starts empty (init_empty_target_modality)
        for ts in step.targets:
            if ts.target not in states:
                n = model.config.spec(ts.target).num_tokens
                states[ts.target] = TokenState(
                    torch.zeros(B, n, dtype=torch.long),
                    torch.zeros(B, n, dtype=torch.bool),
                    torch.full((B, n), float("nan")),
                )
    recs = run_schedule(
        model,
        states,
        plan,
        top_k=gc.get("top_k", 0.0),
        top_p=gc.get("top_p", 0.0),
        rng=TorchRng(int(gc.get("seed", 0))),
        forced=forced,
        record=True,
    )
    return states, recs


def _generation(
    model: EgoM2P, stem: str, config: dict, t: dict[str, np.ndarray], res: ComponentResult
) -> None:
    g = config.get("generation", {}).get(stem[len("gen_") :])
    res.inputs |= {f"{stem}/{k}" for k in t if k.startswith("input.")}
    if g is None:
        res.notes.append(f"{stem}: no entry in config.json 'generation'; nothing computed")
        return
    gc = g.get("generate_call", {})
    plan = [
        DecodingStep(
            (TargetStep(s["target_domain"], int(s["num_tokens"]), s["scheme"], s["temperature"]),),
            float(s["cfg_scale"]),
            tuple(s.get("cfg_cond_domains", ())),
        )
        for s in g["schedule"]
    ]
    sampled = any(not is_argmax(s.targets[0].temperature) for s in plan)
    states, recs = _run(model, t, plan, gc, None)

    def same(i: int, what: str, rec_attr: str) -> bool:
        key = f"step{i}.{what}"
        return key not in t or np.array_equal(getattr(recs[i], rec_attr).numpy(), t[key])

    pos_ok = all(same(i, "selected_positions", "positions") for i in range(len(plan)))
    tok_ok = all(same(i, "sampled_tokens", "tokens") for i in range(len(plan)))
    free_positions = [r.positions.numpy() for r in recs]
    reproduced = pos_ok and (tok_ok or not sampled)
    if reproduced:
        res.notes.append(f"{stem}: torch RNG calls reproduced; positions and tokens exact")
    else:
        positions: dict[str, list] = {}
        tokens: dict[str, list] = {}
        for i, s in enumerate(plan):
            name = s.targets[0].target
            positions.setdefault(name, []).append(
                torch.from_numpy(t[f"step{i}.selected_positions"])
            )
            if sampled:
                tokens.setdefault(name, []).append(torch.from_numpy(t[f"step{i}.sampled_tokens"]))
        states, recs = _run(model, t, plan, gc, ForcedDecoding(positions, tokens))
        res.notes.append(
            f"{stem}: RNG not reproduced; recomputed with the stored positions"
            + (" and tokens forced (all advisory)" if sampled else " forced")
        )
    o = res.outputs
    for i, r in enumerate(recs):
        o[f"{stem}/step{i}.selected_positions"] = free_positions[i]
        o[f"{stem}/step{i}.logits_cond"] = r.logits_cond.numpy()
        o[f"{stem}/step{i}.logits_uncond"] = (
            None if r.logits_uncond is None else r.logits_uncond.numpy()
        )
        o[f"{stem}/step{i}.logits_guided"] = r.logits_guided.numpy()
        o[f"{stem}/step{i}.sampled_tokens"] = r.tokens.numpy()
        for k in ("logits_cond", "logits_uncond", "logits_guided"):
            res.tolerances[f"{stem}/step{i}.{k}"] = LOGIT_TOL
        if not pos_ok:
            res.advisory.add(f"{stem}/step{i}.selected_positions")
    for name, st in states.items():
        ref = t.get(f"final.{name}.tensor")
        shape = ref.shape if ref is not None else st.ids.shape
        o[f"{stem}/final.{name}.tensor"] = st.ids.reshape(shape).numpy()
        o[f"{stem}/final.{name}.input_mask"] = (~st.known).numpy()
        o[f"{stem}/final.{name}.target_mask"] = st.known.numpy()
    if sampled and not reproduced:
        res.advisory |= {f"{stem}/{k}" for k in t if not k.startswith("input.")}


def compute(fixture_dir: Path, config: dict, files: dict[str, dict[str, np.ndarray]]):
    """Recompute every non-input tensor of ``train_forward`` and the ``gen_*`` files."""
    model = _load_model(Path(fixture_dir))
    res = ComponentResult()
    if TRAIN in files:
        _train_forward(model, config, files[TRAIN], res)
    for stem, tensors in files.items():
        if stem.startswith("gen_"):
            _generation(model, stem, config, tensors, res)
    return res
