"""The tokenizers a token database is made with: loading them by path, and one set per database.

Roles: ``cam`` and ``gaze`` (VQ-VAE: our checkpoint format or an official ``.pth``) and ``video``
(the causal video tokenizer, our format or a folder with the released ``encoder.jit`` +
``decoder.jit``), which tokenises both RGB and depth (depth as a grey 3-channel video).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from egom2p_edge.checkpoints.sdk_format import checkpoint_paths, read_checkpoint_header
from egom2p_edge.models.video import VideoTokenizer, load_video_tokenizer
from egom2p_edge.models.vqvae import VQVAE, load_vqvae

ROLES = ("cam", "gaze", "video")
ROLE_MODALITIES = {"cam": ("tok_cam",), "gaze": ("tok_gaze",), "video": ("tok_rgb", "tok_depth")}


def _sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def describe_checkpoint(path: str | Path) -> dict[str, Any]:
    """Where a tokenizer came from: path, weights sha256 and (for our format) its provenance."""
    path = Path(path)
    info: dict[str, Any] = {"path": str(path.resolve())}
    if path.suffix == ".pth" or (path.is_dir() and (path / "encoder.jit").is_file()):
        target = path if path.suffix == ".pth" else path / "encoder.jit"
        info["sha256"] = _sha256(target)
        info["format"] = "official"
        return info
    weights, _ = checkpoint_paths(path)
    info["sha256"] = _sha256(weights)
    info["format"] = "egom2p-edge"
    info["provenance"] = read_checkpoint_header(path).get("provenance", {})
    return info


@dataclass
class TokenizerSet:
    """Tokenizers by role (None = that role is not tokenised) and where each came from."""

    cam: VQVAE | None = None
    gaze: VQVAE | None = None
    video: VideoTokenizer | None = None
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for role, want in (("cam", "cam"), ("gaze", "gaze")):
            model = getattr(self, role)
            if model is not None and model.config.domain != want:
                raise ValueError(
                    f"TokenizerSet.{role}: expected a {want} VQ-VAE, got a "
                    f"{model.config.domain} tokenizer"
                )

    @property
    def modalities(self) -> tuple[str, ...]:
        """Model keys these tokenizers produce, sorted."""
        out = [m for r in ROLES if getattr(self, r) is not None for m in ROLE_MODALITIES[r]]
        return tuple(sorted(out))

    def models(self) -> dict[str, nn.Module]:
        return {r: getattr(self, r) for r in ROLES if getattr(self, r) is not None}

    def to(self, device: str | torch.device) -> TokenizerSet:
        for m in self.models().values():
            m.to(device).eval()
        return self


def load_tokenizer_set(paths: Mapping[str, str | Path], device: str = "cpu") -> TokenizerSet:
    """Load ``{"cam": PATH, "gaze": PATH, "video": PATH}`` (any subset) into a TokenizerSet."""
    unknown = sorted(set(paths) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown tokenizer roles {unknown}: expected some of {ROLES}")
    if not paths:
        raise ValueError("no tokenizer given: pass at least one of cam=PATH gaze=PATH video=PATH")
    kw: dict[str, Any] = {}
    sources = {}
    for role, p in paths.items():
        p = Path(p)
        if not p.exists():
            raise FileNotFoundError(f"{role} tokenizer {p} does not exist")
        kw[role] = load_video_tokenizer(p, device) if role == "video" else load_vqvae(p, device)
        sources[role] = describe_checkpoint(p)
    return TokenizerSet(**kw, sources=sources)


def parse_tokenizer_args(items: list[str] | None) -> dict[str, Path]:
    """``["cam=PATH", "video=PATH"]`` -> ``{"cam": Path, "video": Path}`` (CLI form)."""
    out: dict[str, Path] = {}
    for item in items or []:
        role, sep, value = item.partition("=")
        if not sep or role not in ROLES or not value:
            raise ValueError(
                f"--tokenizers entry {item!r}: expected ROLE=PATH with ROLE one of {ROLES}"
            )
        if role in out:
            raise ValueError(f"--tokenizers names {role} twice")
        out[role] = Path(value)
    return out
