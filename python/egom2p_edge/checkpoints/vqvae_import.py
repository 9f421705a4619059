"""Official gaze/camera tokenizer ``.pth`` -> our ``VQVAE`` (config, weights, provenance).

The architecture comes from the checkpoint's ``args`` and its tensor shapes. Sizes the official
code keeps only as class defaults (width 768, 12 blocks, 12 heads, MLP ratio 4) come from those
defaults; a ``parity_overrides`` dict in ``args`` (used by reduced-size fixture checkpoints)
overrides them; width, depth, MLP size, qkv bias and post-MLP are also read from the tensors when
no override names them. The weights must then match the model exactly (keys and shapes), or a
ValueError lists every difference.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import re
from pathlib import Path
from typing import Any

from egom2p_edge.checkpoints.official import (
    LICENCE_NOTICE,
    OfficialCheckpoint,
    load_official_checkpoint,
)
from egom2p_edge.models.vqvae.config import VQVAEConfig

log = logging.getLogger(__name__)

KIND = "vqvae"
ENCODER_TYPES = {"CamTransformer": "cam", "GazeTransformer": "gaze"}
# Class defaults of the official CamEncoder/GazeEncoder (and decoders); not stored in args.
OFFICIAL_CLASS_DEFAULTS: dict[str, Any] = {
    "dim": 768,
    "depth": 12,
    "heads": 12,
    "mlp_ratio": 4.0,
    "qkv_bias": True,
    "norm_eps": 1e-6,
    "post_mlp": True,
}
# Hard-coded in the official get_model (the yaml's coef_ema_dead_code is never read).
OFFICIAL_DEAD_CODE_THRESHOLD = 2.0
# Names the official constructors use for the overridable sizes -> our config fields.
OVERRIDE_ALIASES = {
    "dim_tokens": "dim",
    "num_heads": "heads",
    "threshold_ema_dead_code": "dead_code_threshold",
}


def is_official_vqvae(args: dict[str, Any]) -> bool:
    """True when an official checkpoint's args describe a gaze/camera tokenizer."""
    return "encoder_type" in args


def _require(args: dict[str, Any], name: str, source: str) -> Any:
    if name not in args or args[name] is None:
        raise ValueError(
            f"{source}: args has no {name!r}; is this an official tokenizer checkpoint?"
        )
    return args[name]


def _overrides(args: dict[str, Any], source: str) -> dict[str, Any]:
    """``parity_overrides`` mapped onto VQVAEConfig field names (unknown names are logged)."""
    raw = args.get("parity_overrides") or {}
    if not isinstance(raw, dict):
        raise ValueError(
            f"{source}: args.parity_overrides must be a dict, got {type(raw).__name__}"
        )
    fields = {f.name for f in dataclasses.fields(VQVAEConfig)}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = OVERRIDE_ALIASES.get(key, key)
        if name in fields and name != "domain":
            out[name] = value
        else:
            log.warning("%s: ignoring unknown parity_overrides entry %r=%r", source, key, value)
    return out


def _sizes_from_tensors(sd: dict[str, Any], source: str) -> dict[str, Any]:
    """Sizes visible in the tensors: width, block counts, MLP ratio, qkv bias, post-MLP."""
    if "encoder.conv.weight" not in sd:
        raise ValueError(f"{source}: no 'encoder.conv.weight' tensor; not a gaze/camera tokenizer")
    dim = int(sd["encoder.conv.weight"].shape[0])
    found: dict[str, Any] = {"dim": dim}
    for part, field in (("encoder", "depth"), ("decoder", "decoder_depth")):
        pattern = re.compile(rf"^{part}\.blocks\.(\d+)\.")
        ids = {int(m.group(1)) for k in sd if (m := pattern.match(k))}
        found[field] = max(ids) + 1 if ids else 0
    fc1 = sd.get("encoder.blocks.0.mlp.fc1.weight", sd.get("encoder.post_mlp.fc1.weight"))
    if fc1 is not None:
        found["mlp_ratio"] = int(fc1.shape[0]) / dim
    if found["depth"] > 0:
        found["qkv_bias"] = "encoder.blocks.0.attn.qkv.bias" in sd
    found["post_mlp"] = "encoder.post_mlp.fc1.weight" in sd
    return found


def vqvae_config_from_official(
    args: dict[str, Any], state_dict: dict[str, Any], source: str = "checkpoint"
) -> VQVAEConfig:
    """Our config for an official tokenizer checkpoint (``args`` as a dict, its state_dict)."""
    enc = _require(args, "encoder_type", source)
    if enc not in ENCODER_TYPES:
        raise ValueError(
            f"{source}: encoder_type {enc!r} is not supported; expected one of "
            f"{sorted(ENCODER_TYPES)}"
        )
    domain = ENCODER_TYPES[enc]
    dec = args.get("decoder_type", enc)
    if dec != enc:
        raise ValueError(f"{source}: decoder_type {dec!r} differs from encoder_type {enc!r}")
    if args.get("domain") not in (None, domain):
        raise ValueError(f"{source}: args.domain {args['domain']!r} contradicts encoder {enc!r}")
    if args.get("quantizer_type", "lucid") != "lucid" or not args.get("norm_codes", True):
        raise ValueError(
            f"{source}: only the cosine-similarity 'lucid' quantizer (norm_codes=True) is "
            f"supported, got quantizer_type={args.get('quantizer_type')!r}, "
            f"norm_codes={args.get('norm_codes')!r}"
        )
    if int(args.get("num_codebooks", 1)) != 1:
        raise ValueError(f"{source}: num_codebooks must be 1, got {args.get('num_codebooks')}")
    expected_loss = {"cam": "mse", "gaze": "mse_mask"}[domain]
    if args.get("loss_fn", expected_loss) != expected_loss:
        log.warning(
            "%s: args.loss_fn=%r; the %s tokenizer is trained with %r here",
            source,
            args.get("loss_fn"),
            domain,
            expected_loss,
        )
    sizes = dict(OFFICIAL_CLASS_DEFAULTS)
    overrides = _overrides(args, source)
    if "depth" in overrides and "decoder_depth" not in overrides:
        overrides["decoder_depth"] = overrides["depth"]  # the official override binds both
    for name, value in _sizes_from_tensors(state_dict, source).items():
        if name not in overrides:
            sizes[name] = value
    sizes.update(overrides)
    if sizes.get("decoder_depth") == sizes["depth"]:
        sizes["decoder_depth"] = None
    values: dict[str, Any] = {
        "num_frames": int(_require(args, "num_frames", source)),
        "temporal_compress": int(_require(args, "temporal_downsampling", source)),
        "latent_dim": int(_require(args, "latent_dim", source)),
        "codebook_size": int(_require(args, "codebook_size", source)),
        "norm_latents": bool(args.get("norm_latents", False)),
        "ema_decay": float(args.get("quantizer_ema_decay", 0.99)),
        "dead_code_threshold": OFFICIAL_DEAD_CODE_THRESHOLD,
        "commitment_weight": float(args.get("commitment_weight", 1.0)),
        "codebook_weight": float(args.get("codebook_weight", 1.0)),
        "reconst_weight": float(args.get("reconst_weight", 1.0)),
    }
    values.update(sizes)  # class defaults < tensor shapes < parity_overrides
    return VQVAEConfig(domain=domain, **values)


def check_state_dict(config: VQVAEConfig, state_dict: dict[str, Any], source: str) -> None:
    """ValueError listing every missing/unexpected key and shape mismatch against ``config``."""
    import torch

    from egom2p_edge.models.vqvae.model import VQVAE

    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in VQVAE(config, seed=None).state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state_dict.items()}
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    shapes = [
        f"{k}: expected {expected[k]}, found {got[k]}"
        for k in expected
        if k in got and expected[k] != got[k]
    ]
    if missing or unexpected or shapes:
        lines = [f"{source} does not match the tokenizer its args describe ({config}):"]
        if missing:
            lines.append(f"  missing keys ({len(missing)}): {missing[:20]}")
        if unexpected:
            lines.append(f"  unexpected keys ({len(unexpected)}): {unexpected[:20]}")
        if shapes:
            lines.append(f"  shape mismatches ({len(shapes)}): " + "; ".join(shapes[:20]))
        lines.append("  check args.parity_overrides and that the file is complete")
        raise ValueError("\n".join(lines))


def _jsonable(value: Any) -> Any:
    """Args values as JSON (tuples -> lists, non-finite floats and objects -> strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_official_vqvae(source: str | Path | OfficialCheckpoint):
    """An eval-mode ``VQVAE`` with the weights of an official tokenizer checkpoint."""
    from egom2p_edge.models.vqvae.model import VQVAE

    ckpt = source if isinstance(source, OfficialCheckpoint) else load_official_checkpoint(source)
    name = str(ckpt.path)
    if not is_official_vqvae(ckpt.args):
        raise ValueError(f"{name}: args has no 'encoder_type'; not a gaze/camera tokenizer")
    config = vqvae_config_from_official(ckpt.args, ckpt.state_dict, name)
    check_state_dict(config, ckpt.state_dict, name)
    model = VQVAE(config, seed=None)
    model.load_state_dict(ckpt.state_dict, strict=True)
    return model.eval()


def import_official_vqvae(
    source: str | Path | OfficialCheckpoint,
) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(kind, config dict, state_dict, provenance) for ``save_checkpoint``."""
    from egom2p_edge._version import __version__

    ckpt = source if isinstance(source, OfficialCheckpoint) else load_official_checkpoint(source)
    model = load_official_vqvae(ckpt)
    provenance = {
        "source": "official EgoM2P tokenizer checkpoint",
        "file": ckpt.path.name,
        "sha256": _sha256(ckpt.path),
        "epoch": ckpt.epoch,
        "official_args": _jsonable(ckpt.args),
        "licence": LICENCE_NOTICE,
        "converted_by": f"egom2p-edge {__version__} (egom2p_edge.checkpoints.vqvae_import)",
    }
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return KIND, model.config.to_dict(), state, provenance
