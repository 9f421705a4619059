"""``VideoTokenizer``: the causal video tokenizer (Cosmos DV layout) with the official I/O rules.

``encode`` maps uint8 frames (B, T, H, W, 3) to ids (B, 1 + (T'-1)/4, H'/8, W'/8) after the
official padding (T', H', W'); ``decode`` maps ids back to uint8 frames. ``encode_tensor`` /
``decode_tensor`` are the padded float paths an exporter traces (static shapes per window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from egom2p_edge.models.video.config import VideoTokenizerConfig
from egom2p_edge.models.video.decoder import VideoDecoder
from egom2p_edge.models.video.encoder import VideoEncoder
from egom2p_edge.models.video.fsq import FSQ
from egom2p_edge.models.video.layers import CausalConv3d
from egom2p_edge.models.video.preprocess import (
    CropRegion,
    as_frames_uint8,
    crop_frames,
    frames_to_tensor,
    pad_frames,
    split_windows,
    tensor_to_frames,
)


@dataclass
class EncodeStages:
    """Every intermediate of one encode, for parity checks.

    encoder_output (B, z, t, h, w); latents (B, D, t, h, w) before FSQ; codes (B, D, t, h, w);
    ids (B, t, h, w) int64.
    """

    encoder_output: torch.Tensor
    latents: torch.Tensor
    codes: torch.Tensor
    ids: torch.Tensor


class VideoTokenizer(nn.Module):
    """Encoder, ``quant_conv``, FSQ, ``post_quant_conv`` and decoder (official key names)."""

    def __init__(self, config: VideoTokenizerConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = VideoEncoder(config)
        self.decoder = VideoDecoder(config)
        self.quant_conv = CausalConv3d(config.z_channels, config.embedding_dim, 1)
        self.post_quant_conv = CausalConv3d(config.embedding_dim, config.z_channels, 1)
        self.quantizer = FSQ(config.levels)

    # ----- float paths (padded input) -------------------------------------------------------

    def _check_video(self, x: torch.Tensor) -> None:
        cfg = self.config
        if not isinstance(x, torch.Tensor) or x.ndim != 5 or x.shape[1] != cfg.in_channels:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"video: expected a float tensor (B, {cfg.in_channels}, T, H, W), got {shape}"
            )
        if not x.is_floating_point():
            raise ValueError(f"video: expected a float tensor in [-1, 1], got dtype {x.dtype}")
        _, _, T, H, W = x.shape
        tc, sc = cfg.temporal_compression, cfg.spatial_compression
        if (T - 1) % tc or H % sc or W % sc:
            raise ValueError(
                f"video: T, H, W = {T}, {H}, {W}; the tokenizer needs (T - 1) % {tc} == 0 and "
                f"H, W multiples of {sc}; pad with egom2p_edge.models.video.pad_frames (or use "
                f"encode(), which pads)"
            )

    def encode_stages(self, x: torch.Tensor) -> EncodeStages:
        """All intermediates. Shape (B, 3, T, H, W) float32 in [-1, 1] -> see ``EncodeStages``."""
        self._check_video(x)
        h = self.encoder(x)
        latents = self.quant_conv(h)
        ids, codes = self.quantizer(latents)
        return EncodeStages(h, latents, codes, ids)

    def encode_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Shape (B, 3, 1 + 4k, H, W) float32 in [-1, 1] -> ids (B, 1 + k, H/8, W/8) int64."""
        return self.encode_stages(x).ids

    def _check_ids(self, ids: torch.Tensor, check_range: bool) -> None:
        if not isinstance(ids, torch.Tensor) or ids.ndim != 4:
            shape = tuple(ids.shape) if hasattr(ids, "shape") else type(ids).__name__
            raise ValueError(f"ids: expected an integer tensor (B, t, h, w), got {shape}")
        if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
            raise ValueError(f"ids: expected an integer dtype, got {ids.dtype}")
        if check_range and ids.numel():
            lo, hi = int(ids.min()), int(ids.max())
            if lo < 0 or hi >= self.quantizer.vocab_size:
                raise ValueError(
                    f"ids: values must be in [0, {self.quantizer.vocab_size}), got [{lo}, {hi}]"
                )

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Shape (B, D, t, h, w) -> video (B, 3, 1 + 4(t-1), 8h, 8w) float32, not clamped."""
        return self.decoder(self.post_quant_conv(codes))

    def decode_tensor(self, ids: torch.Tensor) -> torch.Tensor:
        """Shape (B, t, h, w) ids -> video (B, 3, 1 + 4(t-1), 8h, 8w) float32, not clamped.

        Ids are not range-checked here (no data-dependent branch, so it traces for export);
        ``decode`` checks them.
        """
        self._check_ids(ids, check_range=False)
        return self.decode_codes(self.quantizer.ids_to_codes(ids))

    # ----- uint8 paths (official preprocessing) ---------------------------------------------

    @torch.no_grad()
    def encode(
        self, frames_uint8: np.ndarray | torch.Tensor, temporal_window: int | None = None
    ) -> torch.Tensor:
        """Frames (B, T, H, W, 3) uint8 -> ids (B, 1 + (T'-1)/4, H'/8, W'/8) int64.

        T', H', W' are the padded sizes (``pad_frames``, which also gives the crop region for
        ``decode``). With ``temporal_window`` (the official tokeniser uses 17), the frames are
        split into official windows, each padded and tokenised alone, and the ids concatenated
        in time (32 frames -> 5 + 5 latent frames); 16 or 17 frames are one window either way.
        """
        frames = as_frames_uint8(frames_uint8, "frames_uint8")
        windows = [frames] if temporal_window is None else split_windows(frames, temporal_window)
        ids = []
        for window in windows:
            padded, _ = pad_frames(window)
            ids.append(self.encode_tensor(frames_to_tensor(padded).to(self._device())))
        return torch.cat(ids, dim=1)  # (B, sum of t_i, h, w)

    @torch.no_grad()
    def decode(
        self, ids: torch.Tensor | np.ndarray, crop: CropRegion | None = None
    ) -> torch.Tensor:
        """Ids (B, t, h, w) -> uint8 frames (B, 1 + 4(t-1), 8h, 8w, 3), cropped to ``crop``."""
        if isinstance(ids, np.ndarray):
            ids = torch.from_numpy(ids)
        self._check_ids(ids, check_range=True)
        frames = tensor_to_frames(self.decode_tensor(ids.to(self._device())))
        return frames if crop is None else crop_frames(frames, crop)

    def _device(self) -> torch.device:
        return self.quant_conv.conv3d.weight.device
