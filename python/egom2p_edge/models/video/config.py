"""``VideoTokenizerConfig``: the sizes of the Cosmos-DV4x8x8-compatible causal video tokenizer.

The released tokenizer (``dv4x8x8``) has 112,472,182 parameters; the small presets keep the
structure (Haar patching, factorised causal convolutions, middle-block attention, FSQ) and shrink
the widths so the tokenizer trains on a CPU.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

# Fields of the official ``tokenizer_config`` dict whose only supported value is fixed here:
# other values select code paths (legacy layers, non-Haar patching, VQ/LFQ quantisers,
# non-factorised blocks, grouped normalisation over time) that this implementation does not have.
_OFFICIAL_FIXED = {
    "patch_method": "haar",
    "quantizer": "FSQ",
    "encoder": "FACTORIZED",
    "decoder": "FACTORIZED",
    "num_groups": 1,
    "z_factor": 1,
    "legacy_mode": False,
}


def _is_pow2(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


@dataclass(frozen=True)
class VideoTokenizerConfig:
    """Sizes of the causal video tokenizer (Cosmos DV layout).

    in_channels / out_channels: RGB in and out.
    channels: base width; level ``i`` of the encoder has ``channels * channels_mult[i]`` channels.
    channels_mult: width multipliers per resolution level (one down/up-sampler between levels).
    num_res_blocks: residual blocks per encoder level (the decoder has one more per level).
    z_channels: width of the encoder output / decoder input.
    embedding_dim: FSQ dimensions (``quant_conv`` maps z_channels to this).
    levels: FSQ levels per dimension; the vocabulary is their product (64,000 for 8,8,8,5,5,5).
    patch_size: Haar wavelet patch size in time, height and width (log2 of it wavelet levels).
    spatial_compression / temporal_compression: latent grid stride in pixels / frames.
    norm_eps: GroupNorm epsilon.
    """

    in_channels: int = 3
    out_channels: int = 3
    channels: int = 128
    channels_mult: tuple[int, ...] = (2, 4, 4)
    num_res_blocks: int = 2
    z_channels: int = 16
    embedding_dim: int = 6
    levels: tuple[int, ...] = (8, 8, 8, 5, 5, 5)
    patch_size: int = 4
    spatial_compression: int = 8
    temporal_compression: int = 4
    norm_eps: float = 1e-6

    def __post_init__(self) -> None:
        # Accept lists (from JSON) but store tuples so the config stays hashable and frozen.
        object.__setattr__(self, "channels_mult", tuple(int(m) for m in self.channels_mult))
        object.__setattr__(self, "levels", tuple(int(v) for v in self.levels))
        for name in ("in_channels", "out_channels", "channels", "num_res_blocks", "z_channels"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"VideoTokenizerConfig.{name} must be an int >= 1, got {value!r}")
        if not self.channels_mult or any(m < 1 for m in self.channels_mult):
            raise ValueError(
                f"VideoTokenizerConfig.channels_mult must be a non-empty list of ints >= 1, "
                f"got {self.channels_mult!r}"
            )
        if len(self.levels) != self.embedding_dim:
            raise ValueError(
                f"VideoTokenizerConfig.levels has {len(self.levels)} entries but embedding_dim is "
                f"{self.embedding_dim}: FSQ needs one level per latent dimension"
            )
        if any(v < 2 for v in self.levels):
            raise ValueError(f"VideoTokenizerConfig.levels must all be >= 2, got {self.levels!r}")
        if math.prod(self.levels) >= 2**31:
            raise ValueError(
                f"VideoTokenizerConfig.levels {self.levels!r} give {math.prod(self.levels)} codes; "
                f"token ids must fit in int32"
            )
        if not _is_pow2(self.patch_size):
            raise ValueError(
                f"VideoTokenizerConfig.patch_size must be a power of two, got {self.patch_size!r}"
            )
        ratio = self.spatial_compression // self.patch_size
        if self.spatial_compression % self.patch_size or not _is_pow2(ratio):
            raise ValueError(
                f"VideoTokenizerConfig.spatial_compression must be patch_size ({self.patch_size}) "
                f"times a power of two, got {self.spatial_compression!r}"
            )
        if self.num_spatial_down > len(self.channels_mult) - 1:
            raise ValueError(
                f"VideoTokenizerConfig.spatial_compression {self.spatial_compression} needs "
                f"{self.num_spatial_down} down-samplers but channels_mult "
                f"{self.channels_mult!r} has only {len(self.channels_mult) - 1}"
            )
        if self.temporal_compression != self.patch_size:
            raise ValueError(
                f"VideoTokenizerConfig.temporal_compression must equal patch_size "
                f"({self.patch_size}): temporal down/up-sampling beyond the wavelet patch is not "
                f"implemented, got {self.temporal_compression!r}"
            )
        if not self.norm_eps > 0:
            raise ValueError(f"VideoTokenizerConfig.norm_eps must be > 0, got {self.norm_eps!r}")

    @property
    def num_levels(self) -> int:
        """Resolution levels of the encoder and decoder."""
        return len(self.channels_mult)

    @property
    def num_spatial_down(self) -> int:
        """Spatial 2x down-samplings after the Haar patcher (1 for DV4x8x8)."""
        return int(math.log2(self.spatial_compression // self.patch_size))

    @property
    def wavelet_levels(self) -> int:
        """Haar levels of the patcher (2 for patch size 4)."""
        return int(math.log2(self.patch_size))

    @property
    def vocab_size(self) -> int:
        """Number of token ids: the product of the FSQ levels."""
        return math.prod(self.levels)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (lists for tuples); ``from_dict`` reverses it."""
        d = asdict(self)
        d["channels_mult"] = list(self.channels_mult)
        d["levels"] = list(self.levels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VideoTokenizerConfig:
        """Build from ``to_dict`` output; ValueError names unknown fields."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(
                f"VideoTokenizerConfig: unknown fields {unknown}; expected a subset of "
                f"{sorted(known)}"
            )
        return cls(**d)

    @classmethod
    def from_official(cls, tokenizer_config: dict[str, Any]) -> VideoTokenizerConfig:
        """Build from the official Cosmos ``tokenizer_config`` dict (``config.json`` of a fixture).

        ValueError when the dict selects a variant this implementation does not have.
        """
        for key, expected in _OFFICIAL_FIXED.items():
            if key in tokenizer_config and tokenizer_config[key] != expected:
                raise ValueError(
                    f"tokenizer_config[{key!r}] is {tokenizer_config[key]!r}; only {expected!r} "
                    f"is supported (Cosmos DV factorised tokenizer with FSQ)"
                )
        try:
            cfg = cls(
                in_channels=int(tokenizer_config.get("in_channels", 3)),
                out_channels=int(tokenizer_config.get("out_channels", 3)),
                channels=int(tokenizer_config["channels"]),
                channels_mult=tuple(tokenizer_config["channels_mult"]),
                num_res_blocks=int(tokenizer_config["num_res_blocks"]),
                z_channels=int(tokenizer_config["z_channels"]),
                embedding_dim=int(tokenizer_config["embedding_dim"]),
                levels=tuple(tokenizer_config["levels"]),
                patch_size=int(tokenizer_config["patch_size"]),
                spatial_compression=int(tokenizer_config["spatial_compression"]),
                temporal_compression=int(tokenizer_config["temporal_compression"]),
            )
        except KeyError as exc:
            raise ValueError(f"tokenizer_config lacks the field {exc.args[0]!r}") from None
        _check_no_level_attention(cfg, tokenizer_config)
        return cfg


def _check_no_level_attention(cfg: VideoTokenizerConfig, tokenizer_config: dict[str, Any]) -> None:
    """Refuse configs whose ``attn_resolutions`` would add attention inside the resolution levels.

    Only the middle blocks carry attention in the supported layout; an official config with
    ``resolution / patch_size / 2**k`` in ``attn_resolutions`` would add more.
    """
    resolution = tokenizer_config.get("resolution")
    attn = set(tokenizer_config.get("attn_resolutions", []))
    if resolution is None or not attn:
        return
    res = int(resolution) // cfg.patch_size
    seen = set()
    for level in range(cfg.num_levels):
        seen.add(res)
        if level < cfg.num_spatial_down:
            res //= 2
    hit = sorted(seen & attn)
    if hit:
        raise ValueError(
            f"tokenizer_config attn_resolutions {sorted(attn)} with resolution {resolution} puts "
            f"attention inside the resolution levels (at {hit}); only middle-block attention "
            f"is implemented"
        )


PRESETS: dict[str, VideoTokenizerConfig] = {
    # The released Cosmos-0.1-Tokenizer-DV4x8x8 (112,472,182 parameters).
    "dv4x8x8": VideoTokenizerConfig(),
    # CPU-trainable sizes with the same structure and vocabulary.
    "small": VideoTokenizerConfig(channels=32, num_res_blocks=1),
    # For ego-tiny's 128x128 input: 16 frames at 128x128 -> (5, 16, 16) ids.
    "tiny128": VideoTokenizerConfig(channels=8, num_res_blocks=1),
}


def preset(name: str) -> VideoTokenizerConfig:
    """A named preset; ValueError lists the names."""
    if name not in PRESETS:
        raise ValueError(
            f"unknown video tokenizer preset {name!r}: expected one of {list(PRESETS)}"
        )
    return PRESETS[name]
