"""Clip fields -> tokenizer inputs: the official camera/gaze preprocessing and the video frames.

Camera: ``T_first_camera`` (60, 4, 4) -> canonical 9-D, standardised with the official
CAM_MEAN/CAM_STD -> (60, 9) float32 (``vqvae.preprocess.camera_to_model_input``).
Gaze: ``gaze_xy_norm`` (60, 2) in [0, 1] over the crop + ``gaze_valid`` (60,) -> the official
``(x, y, validity)`` in [-1, 1] -> (60, 3) float32. Rows the clip marks invalid (blinks, gaps)
enter the official validity rule as NaN, so they get validity 0 exactly like NaN source rows.
Depth: the clip's per-clip normalised inverse depth (``depth_inv_norm``, near = 1) as uint8 grey
replicated to 3 channels, the way the paper feeds depth to the RGB video tokenizer
(EGOM2P_SPEC.md 5.3). The [0, 1] -> uint8 step rounds to nearest (the spec does not say how the
official pipeline rounds).
"""

from __future__ import annotations

import numpy as np

from egom2p_edge.clips import Clip
from egom2p_edge.models.vqvae.preprocess import camera_to_model_input, normalize_gaze_crop

CLIP_TO_MODALITY = {"rgb": "tok_rgb", "depth": "tok_depth", "gaze": "tok_gaze", "cam": "tok_cam"}
MODALITY_TO_CLIP = {v: k for k, v in CLIP_TO_MODALITY.items()}


def _need(clip: Clip, field: str, what: str) -> np.ndarray:
    value = getattr(clip, field)
    if value is None:
        raise ValueError(
            f"clip {clip.clip_id!r}: field {field} is None, so it has no {what}; check "
            f"clip.modalities before asking for {what} input"
        )
    return value


def cam_input(clip: Clip) -> np.ndarray:
    """Normalised canonical 9-D camera input of the VQ-VAE. Shape (60, 9) float32."""
    return camera_to_model_input(_need(clip, "T_first_camera", "camera trajectory"))


def gaze_input(clip: Clip) -> np.ndarray:
    """``(x, y, validity)`` gaze input of the VQ-VAE, x and y in [-1, 1]. Shape (60, 3) float32."""
    xy = _need(clip, "gaze_xy_norm", "gaze")
    valid = _need(clip, "gaze_valid", "gaze validity")
    xy = np.where(np.asarray(valid, dtype=bool)[:, None], xy, np.nan)  # (60, 2)
    return normalize_gaze_crop(xy).astype(np.float32)


def depth_frames(clip: Clip) -> np.ndarray:
    """Inverse depth as a grey video for the RGB tokenizer. Shape (16, S, S, 3) uint8."""
    inv = _need(clip, "depth_inv_norm", "depth")
    grey = np.clip(np.rint(inv.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)  # (16, S, S)
    return np.repeat(grey[..., None], 3, axis=-1)  # (16, S, S) -> (16, S, S, 3)


def rgb_frames(clip: Clip) -> np.ndarray:
    """The RGB video. Shape (16, S, S, 3) uint8."""
    return _need(clip, "rgb", "RGB video")


def model_input(clip: Clip, modality: str) -> np.ndarray:
    """The tokenizer input of one modality (``tok_cam`` ... or ``cam`` ...) of a clip."""
    short = MODALITY_TO_CLIP.get(modality, modality)
    fn = {"cam": cam_input, "gaze": gaze_input, "rgb": rgb_frames, "depth": depth_frames}.get(short)
    if fn is None:
        raise ValueError(
            f"unknown modality {modality!r}: expected one of {sorted(CLIP_TO_MODALITY)} or "
            f"{sorted(MODALITY_TO_CLIP)}"
        )
    return fn(clip)
