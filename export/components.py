"""Loading the components of an export (backbone, camera/gaze tokenizers, video tokenizer).

Each is given as our checkpoint format (a folder with ``model.safetensors`` + ``config.json``, or
``X.safetensors`` + ``X.json``) or in its official form (a ``.pth`` for the backbone and the
trajectory tokenizers; a folder with the released ``encoder.jit`` + ``decoder.jit`` for the video
tokenizer). A checkpoint whose config does not fit its tensors is a ValueError naming the file.
Provenance records the source files' sha256 and whether the weights are trained.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

BACKBONE = "backbone"
CAM_TOKENIZER = "cam_tokenizer"
GAZE_TOKENIZER = "gaze_tokenizer"
VIDEO_TOKENIZER = "video_tokenizer"
ROLES = (BACKBONE, CAM_TOKENIZER, GAZE_TOKENIZER, VIDEO_TOKENIZER)

FORMAT_OURS = "egom2p-edge checkpoint"
FORMAT_PTH = "official .pth"
FORMAT_JIT = "released Cosmos TorchScript pair"


@dataclass
class Component:
    """A loaded component: eval-mode model plus where it came from."""

    role: str
    model: nn.Module
    source: Path
    source_format: str
    sha256: dict[str, str]  # source file name -> sha256
    training: str  # "trained", "untrained" or "unknown"
    provenance: dict[str, Any] = field(default_factory=dict)  # the checkpoint's own record

    def describe(self) -> dict[str, Any]:
        """The manifest's provenance entry for this component."""
        return {
            "source": str(self.source),
            "format": self.source_format,
            "sha256": self.sha256,
            "training": self.training,
            "checkpoint_provenance": self.provenance,
        }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def training_status(provenance: dict[str, Any], epoch: int | None = None) -> str:
    """ "trained", "untrained" or "unknown" from a checkpoint's provenance.

    An explicit ``training`` field wins; text saying "untrained" or "random init" means
    untrained; an official checkpoint saved after epoch > 0 is trained; anything else unknown.
    """
    explicit = provenance.get("training")
    if explicit in ("trained", "untrained"):
        return explicit
    text = json.dumps(provenance).lower()
    if "untrained" in text or "random init" in text:
        return "untrained"
    ep = provenance.get("epoch", epoch)
    if isinstance(ep, int) and not isinstance(ep, bool) and ep > 0:
        return "trained"
    return "unknown"


def _ours(path: Path, kind: str, role: str) -> tuple[dict, dict, dict, dict[str, str]]:
    from egom2p_edge.checkpoints.sdk_format import checkpoint_paths, load_checkpoint

    got_kind, config, state, provenance = load_checkpoint(path)
    if got_kind != kind:
        raise ValueError(
            f"{path} holds a {got_kind!r} checkpoint, but the {role} must be a {kind!r} one; "
            f"check which file goes with which option"
        )
    files = {p.name: _sha256(p) for p in checkpoint_paths(path)}
    return config, state, provenance, files


def _load_state(model: nn.Module, state: dict, path: Path) -> None:
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise ValueError(f"{path}: the weights do not match the config: {exc}") from None
    if missing or unexpected:
        raise ValueError(
            f"{path}: the weights do not match the config: missing {missing[:10]}, unexpected "
            f"{unexpected[:10]}"
        )


def load_backbone(path: str | Path) -> Component:
    """The EgoM2P backbone from our format or an official ``.pth``."""
    from egom2p_edge.models.backbone.config import BackboneConfig
    from egom2p_edge.models.backbone.model import EgoM2P

    path = Path(path)
    if path.suffix == ".pth":
        from egom2p_edge.checkpoints.backbone_import import import_official_backbone

        _, config, state, prov = import_official_backbone(path)
        fmt, files = FORMAT_PTH, {path.name: prov.get("source_sha256") or _sha256(path)}
    else:
        config, state, prov, files = _ours(path, "backbone", "backbone (--model)")
        fmt = FORMAT_OURS
    try:
        cfg = BackboneConfig.from_dict(config)
        model = EgoM2P.from_state_dict(cfg, state)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: the backbone config does not fit its tensors: {exc}") from None
    return Component(BACKBONE, model.eval(), path, fmt, files, training_status(prov), prov)


def load_traj_tokenizer(path: str | Path, domain: str) -> Component:
    """The camera (``domain="cam"``) or gaze VQ-VAE from our format or an official ``.pth``."""
    from egom2p_edge.models.vqvae.config import VQVAEConfig
    from egom2p_edge.models.vqvae.model import VQVAE

    role = CAM_TOKENIZER if domain == "cam" else GAZE_TOKENIZER
    option = "--cam-tokenizer" if domain == "cam" else "--gaze-tokenizer"
    path = Path(path)
    if path.suffix == ".pth":
        from egom2p_edge.checkpoints.vqvae_import import import_official_vqvae

        _, config, state, prov = import_official_vqvae(path)
        fmt, files = FORMAT_PTH, {path.name: prov.get("sha256") or _sha256(path)}
    else:
        config, state, prov, files = _ours(path, "vqvae", f"{role} ({option})")
        fmt = FORMAT_OURS
    try:
        cfg = VQVAEConfig.from_dict(config)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: invalid tokenizer config: {exc}") from None
    if cfg.domain != domain:
        raise ValueError(
            f"{path} is a {cfg.domain} tokenizer, but {option} needs a {domain} tokenizer"
        )
    model = VQVAE(cfg, seed=None)
    _load_state(model, state, path)
    return Component(role, model.eval(), path, fmt, files, training_status(prov), prov)


def load_video_tokenizer(path: str | Path) -> Component:
    """The video tokenizer from our format or a folder with ``encoder.jit`` + ``decoder.jit``."""
    from egom2p_edge.checkpoints.video_import import ENCODER_FILE
    from egom2p_edge.models.video.config import VideoTokenizerConfig
    from egom2p_edge.models.video.tokenizer import VideoTokenizer

    path = Path(path)
    if path.is_dir() and (path / ENCODER_FILE).exists():
        from egom2p_edge.checkpoints.video_import import import_released_jit

        _, config, state, prov = import_released_jit(path)
        fmt = FORMAT_JIT
        files = {n: v["sha256"] for n, v in prov.get("files", {}).items()}
    else:
        config, state, prov, files = _ours(path, "video_tokenizer", "video tokenizer")
        fmt = FORMAT_OURS
    try:
        cfg = VideoTokenizerConfig.from_dict(config)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: invalid video tokenizer config: {exc}") from None
    with torch.random.fork_rng(devices=[]):  # the default init must not move the global RNG
        model = VideoTokenizer(cfg)
    _load_state(model, state, path)
    return Component(VIDEO_TOKENIZER, model.eval(), path, fmt, files, training_status(prov), prov)
