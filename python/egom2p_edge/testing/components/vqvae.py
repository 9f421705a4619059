"""Parity component for the gaze and camera tokenizers (``cam_tokenizer/``, ``gaze_tokenizer/``).

Recomputes every non-input tensor of ``fixtures.safetensors`` (preprocessing, encoder, quantizer,
decoder, postprocessing, eval loss) and ``train_step.safetensors`` (one training forward from the
saved codebook: straight-through decode, losses, EMA state, dead-code restarts drawn with a
generator seeded by ``train_step_torch_seed``) from the saved inputs and ``checkpoint.pth``.
Only shapes and names come from the folder; nothing is specific to one fixture set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from egom2p_edge.testing.parity import EXACT, ComponentResult, Tolerance

log = logging.getLogger(__name__)

FIXTURES = "fixtures"
TRAIN = "train_step"
DEFAULT_TRAIN_SEED = 1234

INPUTS = {
    f"{FIXTURES}/c2w_input",
    f"{FIXTURES}/cam_mean",
    f"{FIXTURES}/cam_std",
    f"{FIXTURES}/gaze_raw",
    f"{TRAIN}/input",
    f"{TRAIN}/embed_before",
    f"{TRAIN}/cluster_size_before",
}
ADVISORY = {f"{TRAIN}/embed_after_dead_code_replacement"}

# The fixture README's tolerance list, by tensor name.
_F64_PRE = Tolerance(1e-12, 0.0)
_MODEL_INPUT = Tolerance(1e-6, 0.0)
_LATENT = Tolerance(1e-5, 1e-4)
_DECODED = Tolerance(5e-5, 0.0)
_LOSS = Tolerance(0.0, 1e-5)
TOLERANCES: dict[str, Tolerance] = {
    f"{FIXTURES}/canonical_9d": _F64_PRE,
    f"{FIXTURES}/canonical_c2w_from_9d": _F64_PRE,
    f"{FIXTURES}/gaze_converted_f64": _F64_PRE,
    f"{FIXTURES}/normalized_9d": _MODEL_INPUT,
    f"{FIXTURES}/gaze_input": _MODEL_INPUT,
    f"{FIXTURES}/encoder_output": _LATENT,
    f"{FIXTURES}/latents_pre_quant": _LATENT,
    f"{FIXTURES}/decoded_normalized": _DECODED,
    f"{FIXTURES}/decoded_from_indices": _DECODED,
    f"{TRAIN}/decoded_train_mode": _DECODED,
    f"{FIXTURES}/denormalized_9d": _DECODED,
    f"{FIXTURES}/denormalized_9d_from_indices": _DECODED,
    f"{FIXTURES}/denormalized_xy": _DECODED,
    f"{FIXTURES}/denormalized_xy_from_indices": _DECODED,
    f"{FIXTURES}/recon_c2w": _DECODED,
    f"{FIXTURES}/quantized": EXACT,
    f"{FIXTURES}/codebook_rows_from_indices": EXACT,
    f"{FIXTURES}/indices": EXACT,
    f"{TRAIN}/expired_mask": EXACT,
}


def detect(fixture_dir: Path, config: dict) -> bool:
    return (
        (fixture_dir / f"{FIXTURES}.safetensors").is_file()
        and (fixture_dir / f"{TRAIN}.safetensors").is_file()
        and config.get("domain") in ("cam", "gaze")
    )


class _Recorder:
    """Collects outputs; a failing stage leaves its outputs None and adds a note."""

    def __init__(self, result: ComponentResult) -> None:
        self.result = result

    def stage(self, name: str, keys: list[str], fn: Callable[[], dict[str, Any]]) -> dict:
        try:
            values = fn()
        except Exception as exc:  # noqa: BLE001 - reported per tensor as inf, never hidden
            self.result.notes.append(f"{name} failed: {exc.__class__.__name__}: {exc}")
            log.warning("parity stage %s failed: %s", name, exc, exc_info=log.isEnabledFor(10))
            for k in keys:
                self.result.outputs.setdefault(k, None)
            return {}
        for k, v in values.items():
            self.result.outputs[k] = None if v is None else np.asarray(v)
        return values


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy()


def _cam_preprocess(fx: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from egom2p_edge.models.vqvae import preprocess as pp

    mean = fx.get("cam_mean", pp.CAM_MEAN)
    std = fx.get("cam_std", pp.CAM_STD)
    canonical = pp.camera_to_canonical_9d(fx["c2w_input"])  # (B, T, 9) float64
    return {
        f"{FIXTURES}/canonical_9d": canonical,
        f"{FIXTURES}/normalized_9d": pp.normalize_9d(canonical, mean, std),
        f"{FIXTURES}/canonical_c2w_from_9d": pp.nine_d_to_c2w(canonical),
    }


def _gaze_clip_params(config: dict, batch: int) -> list[dict[str, Any]]:
    """Per-clip ``convert`` parameters from config.json ``fixture_clips`` (by ``index``)."""
    clips = config.get("fixture_clips")
    if not isinstance(clips, list):
        raise ValueError("config.json has no 'fixture_clips' list with per-clip 'convert'")
    params: dict[int, dict] = {}
    for pos, clip in enumerate(clips):
        conv = clip.get("convert") if isinstance(clip, dict) else None
        if not isinstance(conv, dict):
            raise ValueError(f"config.json fixture_clips[{pos}] has no 'convert' dict")
        params[int(clip.get("index", pos))] = conv
    missing = [i for i in range(batch) if i not in params]
    if missing:
        raise ValueError(f"config.json fixture_clips gives no 'convert' for clips {missing}")
    return [params[i] for i in range(batch)]


def _gaze_preprocess(fx: dict[str, np.ndarray], config: dict) -> dict[str, np.ndarray]:
    from egom2p_edge.models.vqvae import preprocess as pp

    raw = fx["gaze_raw"]  # (B, T, 2)
    clips = _gaze_clip_params(config, raw.shape[0])
    converted = np.stack(
        [
            pp.convert_gaze(raw[i], c["orig_res"], c["resize_res"], c["new_res"])
            for i, c in enumerate(clips)
        ]
    )  # (B, T, 3) float64
    return {
        f"{FIXTURES}/gaze_converted_f64": converted,
        f"{FIXTURES}/gaze_input": converted.astype(np.float32),
    }


def _model_outputs(model, x_np: np.ndarray) -> dict[str, np.ndarray]:
    import torch

    from egom2p_edge.models.vqvae import preprocess as pp
    from egom2p_edge.models.vqvae.losses import reconstruction_loss

    cfg = model.config
    x = torch.from_numpy(np.ascontiguousarray(x_np, dtype=np.float32))
    with torch.no_grad():
        model.check_input(x)
        enc = model.encoder(x)  # (B, D, N)
        latents = model.quant_proj(enc)  # (B, Dz, N)
        z = torch.nn.functional.normalize(latents, dim=1) if cfg.norm_latents else latents
        q = model.quantize(z)
        rows = model.tokens_to_embedding(q.indices)
        decoded = model.decode_quant(q.quantized)
        decoded_idx = model.decode_tokens(q.indices)
        loss = reconstruction_loss(cfg.recon_loss, decoded, x)
    out = {
        "encoder_output": _np(enc),
        "latents_pre_quant": _np(latents),
        "indices": _np(q.indices),
        "quantized": _np(q.quantized),
        "codebook_rows_from_indices": _np(rows),
        "decoded_normalized": _np(decoded),
        "decoded_from_indices": _np(decoded_idx),
        "reconst_loss_eval": _np(loss),
    }
    if cfg.domain == "cam":
        den = pp.denormalize_9d(out["decoded_normalized"])
        out["denormalized_9d"] = den
        out["denormalized_9d_from_indices"] = pp.denormalize_9d(out["decoded_from_indices"])
        out["recon_c2w"] = pp.nine_d_to_c2w(den)
    else:
        out["denormalized_xy"] = pp.denormalize_gaze(out["decoded_normalized"])
        out["denormalized_xy_from_indices"] = pp.denormalize_gaze(out["decoded_from_indices"])
    return {f"{FIXTURES}/{k}": v for k, v in out.items()}


def _train_step(model, ts: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """One official training forward from the saved codebook state."""
    import torch

    cb = model.quantize.codebook
    with torch.no_grad():
        if "embed_before" in ts:
            cb.embed.copy_(torch.from_numpy(ts["embed_before"]))
        if "cluster_size_before" in ts:
            cb.cluster_size.copy_(torch.from_numpy(ts["cluster_size_before"]))
    x = torch.from_numpy(np.ascontiguousarray(ts["input"], dtype=np.float32))
    generator = torch.Generator().manual_seed(seed)
    model.train()
    try:
        out = model(x, generator=generator, replace_dead_codes=False)
        losses = model.losses(out, x)
        embed_ema = _np(cb.embed).copy()
        cluster_ema = _np(cb.cluster_size).copy()
        B, Dz, N = out.latents.shape
        z_flat = out.latents.detach().transpose(1, 2).reshape(B * N, Dz)  # (B*N, Dz)
        expired = cb.replace_dead_codes(z_flat, generator)
    finally:
        model.eval()
    return {
        f"{TRAIN}/decoded_train_mode": _np(out.recon),
        f"{TRAIN}/code_loss": _np(losses["code"]),
        f"{TRAIN}/reconst_loss": _np(losses["reconst"]),
        f"{TRAIN}/total_loss": _np(losses["total"]),
        f"{TRAIN}/embed_after_ema": embed_ema,
        f"{TRAIN}/cluster_size_after_ema": cluster_ema,
        f"{TRAIN}/expired_mask": _np(expired),
        f"{TRAIN}/embed_after_dead_code_replacement": _np(cb.embed).copy(),
    }


def compute(fixture_dir: Path, config: dict, files: dict[str, dict[str, np.ndarray]]):
    """Recompute every non-input tensor; a stage that fails leaves its tensors None (inf)."""
    import torch

    from egom2p_edge.checkpoints.vqvae_import import load_official_vqvae

    result = ComponentResult(inputs=set(INPUTS), advisory=set(ADVISORY))
    result.tolerances.update(TOLERANCES)
    for stem, name in ((TRAIN, "code_loss"), (TRAIN, "reconst_loss"), (TRAIN, "total_loss"),
                       (FIXTURES, "reconst_loss_eval")):  # fmt: skip
        result.tolerances[f"{stem}/{name}"] = _LOSS
    rec = _Recorder(result)
    fx = files.get(FIXTURES, {})
    ts = files.get(TRAIN, {})
    try:
        model = load_official_vqvae(fixture_dir / "checkpoint.pth")
    except (ValueError, FileNotFoundError) as exc:
        result.notes.append(f"checkpoint.pth could not be imported: {exc}")
        return result
    domain = model.config.domain
    if domain != config.get("domain"):
        result.notes.append(
            f"checkpoint.pth is a {domain} tokenizer but config.json says {config.get('domain')}"
        )
    fx_keys = [f"{FIXTURES}/{n}" for n in fx]
    seed = int(config.get("train_step_torch_seed", DEFAULT_TRAIN_SEED))
    # The fixtures were generated single-threaded; matching that makes float sums reproducible.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if domain == "cam":
            pre = rec.stage("camera preprocessing", fx_keys, lambda: _cam_preprocess(fx))
            x_np = pre.get(f"{FIXTURES}/normalized_9d")
        else:
            pre = rec.stage("gaze conversion", fx_keys, lambda: _gaze_preprocess(fx, config))
            x_np = pre.get(f"{FIXTURES}/gaze_input")
        if x_np is None:  # keep checking the model on the official input
            x_np = fx.get("normalized_9d" if domain == "cam" else "gaze_input")
            if x_np is not None:
                result.notes.append("preprocessing failed: the model ran on the saved input")
        if x_np is not None:
            rec.stage("tokenizer forward", fx_keys, lambda: _model_outputs(model, x_np))
        if "input" in ts:
            train_keys = [f"{TRAIN}/{n}" for n in ts]
            rec.stage("train step", train_keys, lambda: _train_step(model, ts, seed))
    finally:
        torch.set_num_threads(threads)
    cfg = model.config
    result.notes.append(
        f"{domain} tokenizer: width {cfg.dim}, {cfg.depth}+{cfg.dec_depth} blocks, "
        f"{cfg.heads} heads; train-step seed {seed}"
    )
    return result
