"""The camera's image formation after the scene: motion-blur timing, exposure, vignetting, sensor
noise, tone curve and 8-bit quantisation."""

from __future__ import annotations

import numpy as np

from egom2p_edge.training.synth.geometry import PinholeIntrinsics

TARGET_MEDIAN_LUMA = 0.2  # auto-exposure aims the median linear luminance here
LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722])


def blur_offsets_s(
    exposure_s: float,
    T_before: np.ndarray,
    T_after: np.ndarray,
    K: PinholeIntrinsics,
    max_subframes: int,
) -> np.ndarray:
    """Sub-frame time offsets (s) around a frame time, centred on 0 (odd count).

    Enough sub-frames to space them ~1.5 px apart along the image motion during the exposure
    (rotation, plus translation seen at 1.5 m), capped at ``max_subframes``; one (no blur) when
    the image moves less than 1.5 px.
    T_before, T_after: (4, 4) poses at the start and end of the exposure.
    """
    if exposure_s <= 0 or max_subframes <= 1:
        return np.zeros(1)
    R_rel = T_before[:3, :3].T @ T_after[:3, :3]
    angle = np.arccos(np.clip((np.trace(R_rel) - 1.0) / 2.0, -1.0, 1.0))
    shift_m = np.linalg.norm(T_after[:3, 3] - T_before[:3, 3])
    motion_px = K.fx * (angle + shift_m / 1.5)
    n = int(np.ceil(motion_px / 1.5))  # sub-frames at most ~1.5 px apart
    if n <= 1:
        return np.zeros(1)
    n = min(max_subframes, n | 1)  # odd, so one sub-frame sits exactly at the frame time
    return np.linspace(-0.5, 0.5, n) * exposure_s


def auto_exposure_gain(radiance: np.ndarray, bias: float) -> float:
    """Gain that brings the median luminance of a linear frame (S, S, 3) to the target, x bias."""
    luma = radiance.reshape(-1, 3) @ LUMA_WEIGHTS  # (S, S, 3) -> (S*S,)
    return float(bias * TARGET_MEDIAN_LUMA / max(float(np.median(luma)), 1e-4))


def _vignette(size: int, strength: float) -> np.ndarray:
    """Radial fall-off 1 - strength * r^2 (r = 1 at the corners). Shape (S, S, 1)."""
    c = (np.arange(size) - (size - 1) / 2) / ((size - 1) / 2)
    r2 = (c[None, :] ** 2 + c[:, None] ** 2) / 2.0
    return (1.0 - strength * r2)[..., None]


def _tone(x: np.ndarray) -> np.ndarray:
    """Soft-shoulder tone curve (linear near 0, highlights compress toward 1), then sRGB gamma."""
    y = np.clip(x * (1.0 + x / 6.0) / (1.0 + x), 0.0, 1.0)
    return np.where(y <= 0.0031308, 12.92 * y, 1.055 * np.power(y, 1 / 2.4) - 0.055)


def develop(
    radiance: np.ndarray, gain: float, noise_level: float, vignette: float, rng: np.random.Generator
) -> np.ndarray:
    """Linear radiance -> 8-bit RGB. Shape (S, S, 3) float -> (S, S, 3) uint8.

    Noise is added in linear space: shot noise (variance proportional to the signal) and read
    noise, both scaled by ``noise_level`` (0 = clean).
    """
    x = radiance * gain * _vignette(radiance.shape[0], vignette)
    if noise_level > 0:
        shot = np.sqrt(np.maximum(x, 0.0) * 0.002 * noise_level)
        read = 0.004 * noise_level
        x = x + rng.standard_normal(x.shape) * np.sqrt(shot**2 + read**2)
    return np.round(_tone(np.maximum(x, 0.0)) * 255.0).astype(np.uint8)
