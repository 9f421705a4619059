"""The modality registry: every fact about a modality the SDK needs, in one place.

Values follow the official EgoM2P code (``egom2p/data/modality_info.py``): vocabulary sizes,
maximum token counts, token layouts, position-embedding kinds and the modality ids
(``sha256(name) % 2**15``) used in decoder self-attention masks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

PosEmbKind = Literal["sincos_1d", "sincos_3d"]

VIDEO_TEMPORAL_COMPRESSION = 4  # Cosmos DV4x8x8: 1 + 4k frames -> 1 + k latent frames
VIDEO_SPATIAL_COMPRESSION = 8  # Cosmos DV4x8x8: H/8 x W/8 latent grid
VIDEO_CLIP_FRAMES = 16  # 2 s at 8 fps
TRAJ_CLIP_SAMPLES = 60  # 2 s at 30 Hz (gaze, camera)


def modality_id(name: str) -> int:
    """The official modality id: ``int(sha256(name).hexdigest(), 16) % 2**15``."""
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest(), 16) % (2**15)


@dataclass(frozen=True)
class Modality:
    """One tokenised modality.

    name: the model key (``tok_rgb`` ...); short: the user-facing name (``rgb`` ...);
    vocab_size: number of token ids; token_shape: layout of one clip's tokens (row-major);
    pos_emb: position-embedding kind; kind: ``video`` or ``trajectory``.
    """

    name: str
    short: str
    vocab_size: int
    token_shape: tuple[int, ...]
    pos_emb: PosEmbKind
    kind: Literal["video", "trajectory"]

    @property
    def id(self) -> int:
        return modality_id(self.name)

    @property
    def num_tokens(self) -> int:
        n = 1
        for d in self.token_shape:
            n *= d
        return n


def video_token_shape(
    num_frames: int = VIDEO_CLIP_FRAMES, height: int = 256, width: int = 256
) -> tuple[int, int, int]:
    """Token grid (t, h, w) of a video clip after the official padding (to 1 + 4k frames).

    Shape (1 + ceil((T-1)/4), ceil(H/16)*2, ceil(W/16)*2); 16 frames at 256x256 -> (5, 32, 32).
    """
    if num_frames < 1 or height < 1 or width < 1:
        raise ValueError(
            f"video_token_shape: frames, height and width must be >= 1, got "
            f"{num_frames}, {height}, {width}"
        )
    t = 1 + -(-(num_frames - 1) // 8) * 8 // VIDEO_TEMPORAL_COMPRESSION
    h = -(-height // 16) * 16 // VIDEO_SPATIAL_COMPRESSION
    w = -(-width // 16) * 16 // VIDEO_SPATIAL_COMPRESSION
    return (t, h, w)


def make_registry(video_size: int = 256, video_vocab: int = 64000) -> dict[str, Modality]:
    """The four EgoM2P modalities for a given square video size (256 for the official model)."""
    grid = video_token_shape(VIDEO_CLIP_FRAMES, video_size, video_size)
    return {
        "tok_rgb": Modality("tok_rgb", "rgb", video_vocab, grid, "sincos_3d", "video"),
        "tok_depth": Modality("tok_depth", "depth", video_vocab, grid, "sincos_3d", "video"),
        "tok_gaze": Modality("tok_gaze", "gaze", 256, (30,), "sincos_1d", "trajectory"),
        "tok_cam": Modality("tok_cam", "cam", 256, (30,), "sincos_1d", "trajectory"),
    }


MODALITIES: dict[str, Modality] = make_registry()
SHORT_TO_NAME: dict[str, str] = {m.short: m.name for m in MODALITIES.values()}


def resolve(name: str) -> str:
    """Map ``"gaze"`` or ``"tok_gaze"`` to the model key ``"tok_gaze"``; ValueError otherwise."""
    if name in MODALITIES:
        return name
    if name in SHORT_TO_NAME:
        return SHORT_TO_NAME[name]
    raise ValueError(
        f"unknown modality {name!r}: expected one of {sorted(MODALITIES)} "
        f"or {sorted(SHORT_TO_NAME)}"
    )
