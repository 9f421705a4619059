"""Import an official EgoM2P backbone ``.pth`` into our backbone config + state_dict.

The architecture comes from ``args.model`` (the factory name, e.g.
``egom2p_base_12e_12d_swiglu_nobias``), the parity fixtures' ``parity_model_overrides`` /
``parity_vocab_overrides`` and the tensor shapes; everything is cross-checked, and any key or shape
that does not fit is reported in one ValueError. Our state_dict uses the official key names, so the
weights are taken over as they are; tied pairs (``to_logits``/``token_emb``, decoder/encoder
``mod_emb``) come back as one tensor object under both names.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any

import torch

from egom2p_edge.checkpoints.official import LICENCE_NOTICE, load_official_checkpoint
from egom2p_edge.modalities import MODALITIES
from egom2p_edge.models.backbone.config import BackboneConfig, ModalitySpec, swiglu_hidden
from egom2p_edge.models.backbone.embeddings import build_pos_emb

log = logging.getLogger(__name__)

KIND = "backbone"
FACTORY_RE = re.compile(r"^egom2p_(?P<size>[a-z]+)_(?P<enc>\d+)e_(?P<dec>\d+)d_swiglu_nobias$")
# Width and heads by factory size (official ego-b is "base"); other sizes take the width from the
# tensors and assume the 4M head width of 64.
SIZE_TABLE = {"base": (768, 12)}
HEAD_DIM_DEFAULT = 64
VIDEO_LATENT_FRAMES = 5  # the official video embedding hard-codes t = 5 latent frames
OVERRIDABLE = ("dim", "encoder_depth", "decoder_depth", "num_heads")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _architecture(args: dict[str, Any], state: dict[str, torch.Tensor], src: Path) -> dict:
    name = args.get("model")
    if not isinstance(name, str):
        raise ValueError(f"{src}: args.model (the factory name) is missing; not a backbone .pth")
    m = FACTORY_RE.match(name)
    if m is None:
        raise ValueError(
            f"{src}: unsupported model factory {name!r}; this SDK implements "
            f"egom2p_<size>_<E>e_<D>d_swiglu_nobias (ego-b: egom2p_base_12e_12d_swiglu_nobias)"
        )
    if "mask_token" not in state:
        raise ValueError(f"{src}: state_dict has no 'mask_token'; not an EgoM2P backbone")
    dim_t = int(state["mask_token"].shape[-1])
    dim, heads = SIZE_TABLE.get(m["size"], (dim_t, max(dim_t // HEAD_DIM_DEFAULT, 1)))
    arch = dict(dim=dim, encoder_depth=int(m["enc"]), decoder_depth=int(m["dec"]), num_heads=heads)
    overrides = args.get("parity_model_overrides") or {}
    if not isinstance(overrides, dict) or set(overrides) - set(OVERRIDABLE):
        raise ValueError(
            f"{src}: parity_model_overrides must be a dict with keys among {OVERRIDABLE}, "
            f"got {overrides!r}"
        )
    arch.update({k: int(v) for k, v in overrides.items()})
    return arch


def _modalities(args: dict[str, Any], state: dict[str, torch.Tensor], src: Path) -> list:
    in_d, out_d = args.get("in_domains"), args.get("out_domains")
    present = sorted({k.split(".")[1] for k in state if k.startswith("encoder_embeddings.")})
    if in_d is None and out_d is None:
        names = present
    else:
        if sorted(in_d or []) != sorted(out_d or []):
            raise ValueError(
                f"{src}: in_domains {in_d} and out_domains {out_d} differ; this SDK needs every "
                f"modality as both input and output"
            )
        names = sorted(in_d)
    vocab_over = args.get("parity_vocab_overrides") or {}
    if not isinstance(vocab_over, dict):
        raise ValueError(f"{src}: parity_vocab_overrides must be a dict, got {vocab_over!r}")
    specs = []
    for name in names:
        if name not in MODALITIES:
            raise ValueError(
                f"{src}: modality {name!r} is unknown to this SDK (known: {sorted(MODALITIES)})"
            )
        reg = MODALITIES[name]
        pos_key = f"encoder_embeddings.{name}.pos_emb"
        if pos_key not in state:
            raise ValueError(f"{src}: {pos_key} is missing; cannot tell the token layout")
        n = int(state[pos_key].shape[1])
        if reg.kind == "video":
            hw = n // VIDEO_LATENT_FRAMES
            side = int(round(hw**0.5))
            if side * side * VIDEO_LATENT_FRAMES != n:
                raise ValueError(
                    f"{src}: {pos_key} has {n} positions; expected 5 x h x h video tokens"
                )
            shape: tuple[int, ...] = (VIDEO_LATENT_FRAMES, side, side)
        else:
            shape = (n,)
        vocab = int(vocab_over.get(name, reg.vocab_size))
        specs.append(ModalitySpec(name, vocab, shape, reg.pos_emb))
    return specs


def config_from_official(
    args: dict[str, Any], state: dict[str, torch.Tensor], src: Path | str = "checkpoint"
) -> BackboneConfig:
    """Our ``BackboneConfig`` for an official backbone's ``args`` and state_dict."""
    src = Path(src)
    arch = _architecture(args, state, src)
    try:
        return BackboneConfig(
            **arch,
            mlp_hidden=swiglu_hidden(arch["dim"]),
            modalities=tuple(_modalities(args, state, src)),
        )
    except ValueError as exc:
        raise ValueError(f"{src}: the official args give an invalid backbone: {exc}") from None


def expected_manifest(config: BackboneConfig) -> dict[str, tuple[int, ...]]:
    """Key -> shape of our model's state_dict, built on the meta device (no memory)."""
    from egom2p_edge.models.backbone.model import EgoM2P

    with torch.device("meta"):
        model = EgoM2P(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def check_state_dict(
    config: BackboneConfig, state: dict[str, torch.Tensor], src: Path | str = "state_dict"
) -> None:
    """Strict key/shape check; one ValueError listing every missing, unexpected or misshapen key."""
    want = expected_manifest(config)
    missing = [k for k in want if k not in state]
    extra = [k for k in state if k not in want]
    shapes = [
        f"{k}: expected {list(want[k])}, got {list(state[k].shape)}"
        for k in want
        if k in state and tuple(state[k].shape) != want[k]
    ]
    if missing or extra or shapes:
        lines = [f"{src} does not match the backbone {config.dim=} {config.modality_names}:"]
        lines += [f"  missing key {k}" for k in missing]
        lines += [f"  unexpected key {k}" for k in extra]
        lines += [f"  shape of {s}" for s in shapes]
        raise ValueError("\n".join(lines))


def _check_buffers(config: BackboneConfig, state: dict[str, torch.Tensor], src: Path) -> None:
    for spec in config.modalities:
        ours = build_pos_emb(spec, config.dim)
        for side in ("encoder", "decoder"):
            key = f"{side}_embeddings.{spec.name}.pos_emb"
            if not torch.allclose(state[key].float(), ours, atol=1e-5, rtol=0):
                err = float((state[key].float() - ours).abs().max())
                raise ValueError(
                    f"{src}: {key} differs from the sin-cos table of layout {spec.token_shape} "
                    f"(max abs diff {err:.3g}); the token layout is not the one assumed"
                )


def import_official_backbone(
    path: str | Path,
) -> tuple[str, dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
    """Official backbone ``.pth`` -> ("backbone", config dict, state_dict, provenance dict).

    The state_dict has our (= official) key order; tied keys share one tensor object.
    """
    path = Path(path)
    ckpt = load_official_checkpoint(path)
    state = {k: v for k, v in ckpt.state_dict.items()}
    config = config_from_official(ckpt.args, state, path)
    check_state_dict(config, state, path)
    _check_buffers(config, state, path)
    order = list(expected_manifest(config))
    out: dict[str, torch.Tensor] = {}
    for key in order:
        t = state[key]
        if t.dtype != torch.float32:
            t = t.float()
        out[key] = t
    for name in config.modality_names:
        pairs = (
            (
                f"decoder_embeddings.{name}.to_logits.weight",
                f"decoder_embeddings.{name}.token_emb.weight",
            ),
            (f"decoder_embeddings.{name}.mod_emb", f"encoder_embeddings.{name}.mod_emb"),
        )
        for alias, kept in pairs:
            if not torch.equal(out[alias], out[kept]):
                raise ValueError(f"{path}: {alias} and {kept} must be tied (equal) but differ")
            out[alias] = out[kept]
    provenance = {
        "source": str(path),
        "source_sha256": _sha256(path),
        "source_format": "official EgoM2P .pth (torch.save dict: model, epoch, args)",
        "official_model": ckpt.args.get("model"),
        "epoch": ckpt.epoch,
        "parity_model_overrides": ckpt.args.get("parity_model_overrides"),
        "parity_vocab_overrides": ckpt.args.get("parity_vocab_overrides"),
        "licence": LICENCE_NOTICE,
    }
    log.info("imported %s: %s, %d tensors", path, ckpt.args.get("model"), len(out))
    return KIND, config.to_dict(), out, provenance
