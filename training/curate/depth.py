"""Sensor depth to clip depth: range check, masked area resize, hole filling, median filter.

The paper names the steps (hole filling, median filtering) but not their parameters; ours, at
the clip resolution S (after the resize, so they do not depend on the sensor resolution):

1. Pixels outside ``[min_depth_m, max_depth_m]`` or not finite are invalid.
2. ``center_crop_resize_masked``: each output pixel averages the valid source pixels it
   covers; it is valid when at least ``min_valid_fraction`` of its footprint is valid.
3. Hole filling: an invalid pixel within ``fill_max_px`` (Euclidean, output pixels) of a valid
   one takes the nearest valid pixel's depth and becomes valid; larger holes stay invalid.
4. Median filter ``median_px`` x ``median_px`` over the filled map (invalid pixels first set to
   their nearest valid depth so that they do not pull medians to 0), then invalid pixels are
   reset to 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from egom2p_edge.preprocess import center_crop_resize_masked


@dataclass(frozen=True)
class DepthCleaning:
    """Parameters of sensor-depth cleaning (see the module docstring)."""

    min_depth_m: float = 0.05  # below: sensor artefact (the ADT SLAM depth has 1-300 mm junk)
    max_depth_m: float = 20.0  # indoor egocentric range
    min_valid_fraction: float = 0.5  # of an output pixel's footprint
    fill_max_px: float = 2.0  # fill holes up to ~4 px wide at the clip resolution
    median_px: int = 3  # odd; 1 disables the filter

    def __post_init__(self) -> None:
        if not 0 <= self.min_depth_m < self.max_depth_m:
            raise ValueError(
                f"DepthCleaning: need 0 <= min_depth_m < max_depth_m, got "
                f"{self.min_depth_m}, {self.max_depth_m}"
            )
        if not 0 < self.min_valid_fraction <= 1:
            raise ValueError(
                f"DepthCleaning.min_valid_fraction must be in (0, 1], got {self.min_valid_fraction}"
            )
        if self.fill_max_px < 0:
            raise ValueError(f"DepthCleaning.fill_max_px must be >= 0, got {self.fill_max_px}")
        if self.median_px < 1 or self.median_px % 2 == 0:
            raise ValueError(f"DepthCleaning.median_px must be odd and >= 1, got {self.median_px}")


def clean_depth_frame(
    depth_m: np.ndarray, size: int, cfg: DepthCleaning, crop_side: int | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """One sensor depth frame -> clip depth. (H, W) float metres (0 = unknown) ->
    ((size, size) float32 metres, (size, size) bool valid, counts of filled/invalid pixels)."""
    d = np.asarray(depth_m, dtype=np.float64)
    if d.ndim != 2:
        raise ValueError(f"clean_depth_frame: expected an (H, W) depth map, got {d.shape}")
    valid = np.isfinite(d) & (d >= cfg.min_depth_m) & (d <= cfg.max_depth_m)
    out, ok = center_crop_resize_masked(
        np.where(valid, d, 0.0), valid, size, cfg.min_valid_fraction, crop_side
    )
    counts = {"depth_px_filled": 0, "depth_px_invalid": int((~ok).sum())}
    if not ok.any():
        return np.zeros((size, size), np.float32), ok, counts
    dist, (iy, ix) = ndimage.distance_transform_edt(~ok, return_indices=True)
    filled = out[iy, ix]  # every pixel: its nearest valid depth
    fill = ~ok & (dist <= cfg.fill_max_px)
    valid_out = ok | fill
    if cfg.median_px > 1:
        filled = ndimage.median_filter(filled, size=cfg.median_px, mode="nearest")
    result = np.where(valid_out, filled, 0.0).astype(np.float32)
    counts = {"depth_px_filled": int(fill.sum()), "depth_px_invalid": int((~valid_out).sum())}
    return result, valid_out & (result > 0), counts
