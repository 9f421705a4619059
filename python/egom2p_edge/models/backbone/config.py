"""``BackboneConfig``: the one config of the EgoM2P encoder-decoder, its modalities and presets.

Facts (EGOM2P_SPEC.md section 2): ego-b is width 768, 12 + 12 pre-norm blocks, 12 heads, SwiGLU
hidden ``int(2 * 4 * dim / 3)`` = 2048, LayerNorm eps 1e-6 without bias, four modalities
(``tok_cam``, ``tok_depth``, ``tok_gaze``, ``tok_rgb``, sorted by name as the official
``in_domains``). ``ego-tiny`` is our CPU-sized model: 16 frames at 128x128 (5x16x16 video tokens),
4 + 4 blocks, width 192, 4 heads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from egom2p_edge.modalities import (
    VIDEO_CLIP_FRAMES,
    make_registry,
    modality_id,
    video_token_shape,
)

POS_EMB_KINDS = ("sincos_1d", "sincos_3d")


def swiglu_hidden(dim: int, mlp_ratio: float = 4.0) -> int:
    """SwiGLU hidden size of the official factory: ``int(2 * dim * mlp_ratio / 3)`` (768: 2048)."""
    return int(2 * int(dim * mlp_ratio) / 3)


@dataclass(frozen=True)
class ModalitySpec:
    """One modality as the backbone sees it.

    name: model key (``tok_rgb`` ...); vocab_size: token ids; token_shape: layout of one clip's
    tokens, flattened row-major ((t, h, w) for video, (n,) for gaze/camera); pos_emb: the fixed
    position-embedding kind (3-D interleaved sin-cos for video, 1-D for gaze/camera).
    """

    name: str
    vocab_size: int
    token_shape: tuple[int, ...]
    pos_emb: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "token_shape", tuple(int(d) for d in self.token_shape))
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"ModalitySpec.name must be a non-empty str, got {self.name!r}")
        if not isinstance(self.vocab_size, int) or self.vocab_size < 1:
            raise ValueError(
                f"ModalitySpec({self.name}).vocab_size must be a positive int, "
                f"got {self.vocab_size!r}"
            )
        if self.pos_emb not in POS_EMB_KINDS:
            raise ValueError(
                f"ModalitySpec({self.name}).pos_emb must be one of {POS_EMB_KINDS}, "
                f"got {self.pos_emb!r}"
            )
        if not self.token_shape or any(d < 1 for d in self.token_shape):
            raise ValueError(
                f"ModalitySpec({self.name}).token_shape must be non-empty positive dims, "
                f"got {self.token_shape}"
            )
        want = 3 if self.pos_emb == "sincos_3d" else 1
        if len(self.token_shape) != want:
            raise ValueError(
                f"ModalitySpec({self.name}): pos_emb {self.pos_emb} needs a {want}-D token_shape, "
                f"got {self.token_shape}"
            )

    @property
    def num_tokens(self) -> int:
        n = 1
        for d in self.token_shape:
            n *= d
        return n

    @property
    def id(self) -> int:
        """Official modality id (``sha256(name) % 2**15``)."""
        return modality_id(self.name)


def make_modalities(
    video_size: int = 256,
    video_frames: int = VIDEO_CLIP_FRAMES,
    video_vocab: int = 64000,
    traj_vocab: int = 256,
    names: tuple[str, ...] | None = None,
) -> tuple[ModalitySpec, ...]:
    """Backbone modalities from the registry, for a square video size and vocabulary sizes."""
    registry = make_registry(video_size=video_size, video_vocab=video_vocab)
    grid = video_token_shape(video_frames, video_size, video_size)
    specs = []
    for m in registry.values():
        if names is not None and m.name not in names:
            continue
        if m.kind == "video":
            specs.append(ModalitySpec(m.name, video_vocab, grid, m.pos_emb))
        else:
            specs.append(ModalitySpec(m.name, traj_vocab, m.token_shape, m.pos_emb))
    return tuple(sorted(specs, key=lambda s: s.name))


@dataclass(frozen=True)
class BackboneConfig:
    """EgoM2P backbone hyperparameters (defaults: the official ego-b)."""

    dim: int = 768  # transformer width; divisible by 6 when a video modality is present
    encoder_depth: int = 12  # encoder blocks
    decoder_depth: int = 12  # decoder blocks
    num_heads: int = 12  # attention heads (head dim = dim / num_heads)
    mlp_hidden: int = 2048  # SwiGLU hidden width (fc1, fc3 outputs)
    modalities: tuple[ModalitySpec, ...] = dataclasses.field(default_factory=make_modalities)
    norm_eps: float = 1e-6  # LayerNorm epsilon

    def __post_init__(self) -> None:
        mods = tuple(
            m if isinstance(m, ModalitySpec) else ModalitySpec(**m) for m in self.modalities
        )
        # The official model sorts its domains by name; module order and slot order follow it.
        object.__setattr__(self, "modalities", tuple(sorted(mods, key=lambda m: m.name)))
        for name in ("dim", "encoder_depth", "decoder_depth", "num_heads", "mlp_hidden"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"BackboneConfig.{name} must be a positive int, got {value!r}")
        if self.dim % self.num_heads != 0:
            raise ValueError(
                f"BackboneConfig.num_heads={self.num_heads} must divide dim={self.dim}"
            )
        if not self.modalities:
            raise ValueError("BackboneConfig.modalities must name at least one modality")
        names = [m.name for m in self.modalities]
        if len(set(names)) != len(names):
            raise ValueError(f"BackboneConfig.modalities has duplicate names: {names}")
        if self.dim % 2 != 0:
            raise ValueError(f"BackboneConfig.dim must be even (sin-cos), got {self.dim}")
        if any(m.pos_emb == "sincos_3d" for m in self.modalities) and self.dim % 6 != 0:
            raise ValueError(
                f"BackboneConfig.dim={self.dim} must be divisible by 6 with a video modality "
                f"(3-D sin-cos: 3 axes x sin/cos pairs); try {self.dim // 6 * 6 or 6}"
            )
        if not self.norm_eps > 0:
            raise ValueError(f"BackboneConfig.norm_eps must be > 0, got {self.norm_eps}")

    @property
    def head_dim(self) -> int:
        return self.dim // self.num_heads

    @property
    def modality_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.modalities)

    def index(self, name: str) -> int:
        """Position of a modality in ``modalities`` (the ``modality`` index tensors use)."""
        for i, m in enumerate(self.modalities):
            if m.name == name:
                return i
        raise ValueError(f"modality {name!r} is not in this backbone; it has {self.modality_names}")

    def spec(self, name: str) -> ModalitySpec:
        return self.modalities[self.index(name)]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["modalities"] = [
            {**dataclasses.asdict(m), "token_shape": list(m.token_shape)} for m in self.modalities
        ]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BackboneConfig:
        """Inverse of ``to_dict``; unknown fields are a ValueError naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(
                f"BackboneConfig: unknown fields {unknown}; known fields are {sorted(names)}"
            )
        d = dict(d)
        if "modalities" in d:
            d["modalities"] = tuple(
                ModalitySpec(
                    name=m["name"],
                    vocab_size=m["vocab_size"],
                    token_shape=tuple(m["token_shape"]),
                    pos_emb=m["pos_emb"],
                )
                for m in d["modalities"]
            )
        return cls(**d)


def _ego_b(**overrides: Any) -> BackboneConfig:
    return BackboneConfig(**overrides)


def _ego_tiny(**overrides: Any) -> BackboneConfig:
    kw: dict[str, Any] = dict(
        dim=192,
        encoder_depth=4,
        decoder_depth=4,
        num_heads=4,
        mlp_hidden=swiglu_hidden(192),
        modalities=make_modalities(video_size=128),
    )
    kw.update(overrides)
    return BackboneConfig(**kw)


PRESETS = {"ego-b": _ego_b, "ego-tiny": _ego_tiny}


def backbone_preset(name: str, **overrides: Any) -> BackboneConfig:
    """``ego-b`` (official size) or ``ego-tiny`` (CPU size), with optional field overrides."""
    if name not in PRESETS:
        raise ValueError(f"unknown backbone preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name](**overrides)
