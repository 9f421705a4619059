"""The ``nn.Module`` of each exported stage: the reference model's tensor path plus the bundle I/O.

Each wrapper's ``forward`` takes and returns exactly the tensors of its stage in
``egom2p_edge.bundle.names.STAGE_TENSORS`` (same order), so the ONNX graph is the wrapper traced.
The arithmetic around the models follows the reference: uint8 -> ``x/255*2-1`` as a 256-entry
table computed in float64 and cast once (bit-identical to ``frames_to_tensor``), the official time
padding, the official float32 denormalisation and Gram-Schmidt.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from egom2p_edge.models.backbone.model import EgoM2P
from egom2p_edge.models.video.preprocess import SPATIAL_ALIGN, TEMPORAL_ALIGN
from egom2p_edge.models.video.tokenizer import VideoTokenizer
from egom2p_edge.models.vqvae.model import VQVAE
from egom2p_edge.models.vqvae.preprocess import CAM_MEAN, CAM_STD, GAZE_MEAN, GAZE_STD


def time_padding(frames: int) -> tuple[int, int]:
    """Official time padding of a window: (copies of the first frame before, of the last after)."""
    pad = (TEMPORAL_ALIGN - (frames - 1) % TEMPORAL_ALIGN) % TEMPORAL_ALIGN
    return pad >> 1, pad - (pad >> 1)


def check_video_size(size: int) -> None:
    """ValueError unless the square side needs no spatial padding (a multiple of 16)."""
    if size < SPATIAL_ALIGN or size % SPATIAL_ALIGN:
        raise ValueError(
            f"video size {size} must be a positive multiple of {SPATIAL_ALIGN} (the tokenizer's "
            f"spatial alignment); resize the centre crop to e.g. 128 or 256"
        )


def _denorm_constants(mean, std) -> tuple[torch.Tensor, torch.Tensor]:
    """(shift, scale) float32 of the official ``(x - fl32(-mean/std)) / fl32(1/std)``."""
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    shift = torch.from_numpy((-mean / std).astype(np.float32))
    scale = torch.from_numpy((1.0 / std).astype(np.float32))
    return shift, scale


def gram_schmidt_poses(nine_d: torch.Tensor) -> torch.Tensor:
    """9-D ``[a1, a2, t]`` -> 4x4 poses with columns b1, b2, b1 x b2 and translation t.

    Shape (..., 9) -> (..., 4, 4), in the input's dtype (float32 as the official evaluation).
    """
    a1, a2, t = nine_d[..., 0:3], nine_d[..., 3:6], nine_d[..., 6:9]
    b1 = a1 / torch.sqrt((a1 * a1).sum(dim=-1, keepdim=True))
    b2 = a2 - (b1 * a2).sum(dim=-1, keepdim=True) * b1
    b2 = b2 / torch.sqrt((b2 * b2).sum(dim=-1, keepdim=True))
    x1, y1, z1 = b1[..., 0:1], b1[..., 1:2], b1[..., 2:3]
    x2, y2, z2 = b2[..., 0:1], b2[..., 1:2], b2[..., 2:3]
    b3 = torch.cat([y1 * z2 - z1 * y2, z1 * x2 - x1 * z2, x1 * y2 - y1 * x2], dim=-1)
    top = torch.stack([b1, b2, b3, t], dim=-1)  # (..., 3, 4): columns b1, b2, b3, t
    last = torch.zeros_like(top[..., :1, :])  # (..., 1, 4)
    last = torch.cat([last[..., :3], torch.ones_like(last[..., 3:])], dim=-1)  # [0, 0, 0, 1]
    return torch.cat([top, last], dim=-2)  # (..., 4, 4)


class VideoEncoderStage(nn.Module):
    """``frames_uint8`` (1, F, S, S, 3) uint8 -> ``video_ids`` (1, t, h, w) int64."""

    def __init__(self, tokenizer: VideoTokenizer, frames: int) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.pad_before, self.pad_after = time_padding(frames)
        # Exactly frames_to_tensor: float64 arithmetic, one cast to float32.
        lut = (torch.arange(256, dtype=torch.float64) / 255.0 * 2.0 - 1.0).to(torch.float32)
        self.register_buffer("lut", lut, persistent=False)

    def forward(self, frames_uint8: torch.Tensor) -> torch.Tensor:
        x = self.lut[frames_uint8.to(torch.int64)]  # (1, F, S, S, 3) float32 in [-1, 1]
        parts = [x]
        if self.pad_before:
            parts.insert(0, x[:, :1].repeat(1, self.pad_before, 1, 1, 1))
        if self.pad_after:
            parts.append(x[:, -1:].repeat(1, self.pad_after, 1, 1, 1))
        x = torch.cat(parts, dim=1)  # (1, F', S, S, 3), F' = 1 + 4k
        x = x.permute(0, 4, 1, 2, 3)  # (1, 3, F', S, S)
        tok = self.tokenizer
        ids, _ = tok.quantizer(tok.quant_conv(tok.encoder(x)))
        return ids  # (1, t, h, w)


class VideoDecoderStage(nn.Module):
    """``video_ids`` (1, t, h, w) int64 -> ``frames_uint8`` (1, F, S, S, 3) uint8."""

    def __init__(self, tokenizer: VideoTokenizer, frames: int) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.frames = frames
        self.pad_before, _ = time_padding(frames)

    def forward(self, video_ids: torch.Tensor) -> torch.Tensor:
        tok = self.tokenizer
        video = tok.decode_codes(tok.quantizer.ids_to_codes(video_ids))  # (1, 3, F', S, S)
        video = video[:, :, self.pad_before : self.pad_before + self.frames]  # (1, 3, F, S, S)
        x = torch.clamp((video + 1.0) / 2.0, 0.0, 1.0) * 255.0
        # floor then cast: the same values as tensor_to_frames' truncating cast (x + 0.5 > 0).
        frames = torch.floor(x + 0.5).to(torch.uint8)
        return frames.permute(0, 2, 3, 4, 1)  # (1, F, S, S, 3)


class TrajEncoderStage(nn.Module):
    """Gaze or camera tokenizer encoder: (B, T, C) float32 -> ids (B, K) int64."""

    def __init__(self, model: VQVAE) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.quantize.indices(self.model.encode_latents(x))


class CamDecoderStage(nn.Module):
    """``cam_ids`` (B, K) -> ``cam_9d`` (B, T, 9) and ``T_window_camera`` (B, T, 4, 4)."""

    def __init__(self, model: VQVAE) -> None:
        super().__init__()
        self.model = model
        shift, scale = _denorm_constants(CAM_MEAN, CAM_STD)
        self.register_buffer("shift", shift, persistent=False)
        self.register_buffer("scale", scale, persistent=False)

    def forward(self, cam_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model.decode_quant(self.model.tokens_to_embedding(cam_ids))  # (B, T, 9)
        cam_9d = (out - self.shift) / self.scale
        return cam_9d, gram_schmidt_poses(cam_9d)


class GazeDecoderStage(nn.Module):
    """``gaze_ids`` (B, K) -> ``gaze_xy_norm`` (B, T, 2) in [0, 1] crop units."""

    def __init__(self, model: VQVAE) -> None:
        super().__init__()
        self.model = model
        shift, scale = _denorm_constants((GAZE_MEAN, GAZE_MEAN), (GAZE_STD, GAZE_STD))
        self.register_buffer("shift", shift, persistent=False)
        self.register_buffer("scale", scale, persistent=False)

    def forward(self, gaze_ids: torch.Tensor) -> torch.Tensor:
        out = self.model.decode_quant(self.model.tokens_to_embedding(gaze_ids))  # (B, T, 2)
        return (out - self.shift) / self.scale


class BackboneEncoderStage(nn.Module):
    """(input_ids, input_modality, input_positions, input_valid) (B, N) -> context (B, N, D)."""

    def __init__(self, model: EgoM2P) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        input_modality: torch.Tensor,
        input_positions: torch.Tensor,
        input_valid: torch.Tensor,
    ) -> torch.Tensor:
        return self.model.forward_encoder(input_ids, input_positions, input_modality, input_valid)


class BackboneDecoderStage(nn.Module):
    """(context (B, N, D), context_valid (B, N), target_modality, target_positions (B, M)) ->
    logits (B, M, V) over the vocabularies of ``targets``."""

    def __init__(self, model: EgoM2P, targets: tuple[str, ...]) -> None:
        super().__init__()
        if not targets:
            raise ValueError("BackboneDecoderStage: targets is empty")
        self.model = model
        self.targets = tuple(targets)

    def forward(
        self,
        context: torch.Tensor,
        context_valid: torch.Tensor,
        target_modality: torch.Tensor,
        target_positions: torch.Tensor,
    ) -> torch.Tensor:
        return self.model.forward_decoder(
            context, context_valid, target_positions, target_modality, self.targets
        )
