"""``VQVAEConfig``: the one config of the gaze/camera transformer VQ-VAE tokenizer, and presets.

Defaults are the official EgoM2P tokenizers (``official``): width 768, 12 encoder + 12 decoder
blocks, 12 heads, a 256-code cosine codebook of 32-d latents, 60 frames -> 30 tokens.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

Domain = Literal["cam", "gaze"]
DOMAINS: tuple[str, ...] = ("cam", "gaze")

# Per domain: (channels seen by the encoder conv, channels of the model input, decoder output).
# Gaze input is (x, y, validity); the conv sees (x, y) * validity and the decoder outputs (x, y).
_CHANNELS = {"cam": (9, 9, 9), "gaze": (2, 3, 2)}
_RECON_LOSS = {"cam": "mse", "gaze": "mse_mask"}


@dataclass(frozen=True)
class VQVAEConfig:
    """Gaze/camera VQ-VAE hyperparameters (facts: EGOM2P_SPEC.md section 1.1)."""

    domain: Domain  # "cam" (9-D poses) or "gaze" (x, y, validity)
    dim: int = 768  # transformer width (official class default)
    depth: int = 12  # blocks in the encoder, and in the decoder unless decoder_depth is set
    heads: int = 12  # attention heads; must divide dim
    mlp_ratio: float = 4.0  # MLP hidden = int(dim * mlp_ratio), also for the tanh post-MLP
    qkv_bias: bool = True  # bias on the fused qkv projection
    norm_eps: float = 1e-6  # LayerNorm epsilon
    post_mlp: bool = True  # x + tanh-MLP(LN(x)) after the blocks (official default; no final LN)
    latent_dim: int = 32  # codebook vector size (quant_proj output channels)
    codebook_size: int = 256  # number of codes = token vocabulary
    num_frames: int = 60  # samples per clip (2 s at 30 Hz)
    temporal_compress: int = 2  # conv kernel = stride over time: frames per token
    norm_latents: bool = False  # l2-normalise latents before quantising (official: off)
    ema_decay: float = 0.99  # codebook EMA decay
    dead_code_threshold: float = 2.0  # EMA cluster size under which a code is restarted
    commitment_weight: float = 1.0  # beta of the commitment loss mse(q.detach(), z)
    codebook_weight: float = 1.0  # weight of the quantizer loss in the total loss
    reconst_weight: float = 1.0  # weight of the reconstruction loss in the total loss
    sync_codebook: bool = True  # all-reduce EMA statistics when torch.distributed is initialised
    decoder_depth: int | None = None  # decoder blocks when different from depth

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ValueError(f"VQVAEConfig.domain must be one of {DOMAINS}, got {self.domain!r}")
        for name in ("dim", "depth", "heads", "latent_dim", "codebook_size", "num_frames"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"VQVAEConfig.{name} must be a positive int, got {value!r}")
        if self.decoder_depth is not None and (
            not isinstance(self.decoder_depth, int) or self.decoder_depth < 1
        ):
            raise ValueError(
                f"VQVAEConfig.decoder_depth must be None or a positive int, "
                f"got {self.decoder_depth!r}"
            )
        if self.dim % self.heads != 0:
            raise ValueError(
                f"VQVAEConfig.heads={self.heads} must divide dim={self.dim} "
                f"(head dim = dim / heads)"
            )
        if self.dim % 2 != 0:
            raise ValueError(f"VQVAEConfig.dim must be even (sin-cos embedding), got {self.dim}")
        if (
            not isinstance(self.temporal_compress, int)
            or self.temporal_compress < 1
            or self.num_frames % self.temporal_compress != 0
        ):
            raise ValueError(
                f"VQVAEConfig.temporal_compress={self.temporal_compress!r} must be a positive int "
                f"dividing num_frames={self.num_frames}"
            )
        if not (math.isfinite(self.mlp_ratio) and self.mlp_ratio > 0):
            raise ValueError(f"VQVAEConfig.mlp_ratio must be > 0, got {self.mlp_ratio}")
        if int(self.dim * self.mlp_ratio) < 1:
            raise ValueError(
                f"VQVAEConfig: dim*mlp_ratio = {self.dim * self.mlp_ratio} gives no MLP units"
            )
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"VQVAEConfig.ema_decay must be in [0, 1), got {self.ema_decay}")
        if not self.norm_eps > 0:
            raise ValueError(f"VQVAEConfig.norm_eps must be > 0, got {self.norm_eps}")
        for name in ("dead_code_threshold", "commitment_weight", "codebook_weight"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"VQVAEConfig.{name} must be a finite value >= 0, got {value}")
        if not (math.isfinite(self.reconst_weight) and self.reconst_weight >= 0):
            raise ValueError(
                f"VQVAEConfig.reconst_weight must be a finite value >= 0, got {self.reconst_weight}"
            )

    @property
    def conv_channels(self) -> int:
        """Channels the encoder conv reads (cam 9, gaze 2)."""
        return _CHANNELS[self.domain][0]

    @property
    def input_channels(self) -> int:
        """Channels of the model input (cam 9, gaze 3 = x, y, validity)."""
        return _CHANNELS[self.domain][1]

    @property
    def out_channels(self) -> int:
        """Channels of the decoder output (cam 9, gaze 2)."""
        return _CHANNELS[self.domain][2]

    @property
    def num_tokens(self) -> int:
        """Tokens per clip: num_frames / temporal_compress (30 for the official model)."""
        return self.num_frames // self.temporal_compress

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    @property
    def mlp_hidden(self) -> int:
        return int(self.dim * self.mlp_ratio)

    @property
    def dec_depth(self) -> int:
        return self.depth if self.decoder_depth is None else self.decoder_depth

    @property
    def recon_loss(self) -> str:
        """``mse`` (cam) or ``mse_mask`` (gaze: masked by the validity channel)."""
        return _RECON_LOSS[self.domain]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VQVAEConfig:
        """Inverse of ``to_dict``; unknown fields are a ValueError naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(
                f"VQVAEConfig: unknown fields {unknown}; known fields are {sorted(names)}"
            )
        if "domain" not in d:
            raise ValueError("VQVAEConfig: field 'domain' ('cam' or 'gaze') is required")
        return cls(**d)


# Named sizes. "official" is the released EgoM2P tokenizer; the others are for CPU work and tests.
PRESETS: dict[str, dict[str, Any]] = {
    "official": dict(dim=768, depth=12, heads=12),
    "small": dict(dim=256, depth=4, heads=4),
    "tiny": dict(dim=64, depth=2, heads=4),
}


def preset(name: str, domain: Domain, **overrides: Any) -> VQVAEConfig:
    """A config by preset name (``official``, ``small``, ``tiny``) and domain, with overrides."""
    if name not in PRESETS:
        raise ValueError(f"unknown VQ-VAE preset {name!r}; choose one of {sorted(PRESETS)}")
    return VQVAEConfig(domain=domain, **{**PRESETS[name], **overrides})
