"""Gaze error of the paper: mean squared error over the valid rows of normalised gaze."""

from __future__ import annotations

import numpy as np

from egom2p_edge.metrics.checks import as_bool_mask, as_float_array


def gaze_mse(gaze_gt: np.ndarray, gaze_est: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Mean of the squared errors over the x and y entries of the valid rows.

    Shapes gaze_gt, gaze_est (N, 2) in normalised units ([0, 1] over the crop, x right, y down;
    values outside are accepted as recorded); a leading clip axis (B, N, 2) pools all rows.
    valid: (N,) (or (B, N)) bool or 0/1 per row. When None, a row is invalid if either array has
    a NaN in it. Invalid rows may hold NaN; valid rows must be finite in both arrays.

    Raises ValueError for mismatched or wrong shapes, non-finite values in valid rows, or no
    valid row at all.
    """
    gt = as_float_array("gaze_gt", gaze_gt)
    est = as_float_array("gaze_est", gaze_est)
    for name, arr in (("gaze_gt", gt), ("gaze_est", est)):
        if arr.ndim < 2 or arr.shape[-1] != 2:
            raise ValueError(f"{name} must have shape (N, 2) (x, y per row), got {arr.shape}")
    if gt.shape != est.shape:
        raise ValueError(
            f"gaze_gt has shape {gt.shape} but gaze_est has {est.shape}: they must match row "
            f"for row"
        )
    rows = gt.shape[:-1]
    if valid is None:
        mask = ~(np.isnan(gt).any(axis=-1) | np.isnan(est).any(axis=-1))
    else:
        mask = as_bool_mask("valid", valid, rows, "row")
    for name, arr in (("gaze_gt", gt), ("gaze_est", est)):
        bad = mask & ~np.isfinite(arr).all(axis=-1)
        if bad.any():
            idx = np.argwhere(bad)[0].tolist()
            raise ValueError(
                f"{name} has non-finite values in {int(bad.sum())} valid row(s), first at "
                f"index {idx}; mark those rows invalid (valid=False) or use NaN for missing gaze"
            )
    if not mask.any():
        raise ValueError(
            f"no valid gaze rows among {int(np.prod(rows))}: every row is marked invalid or has "
            f"a NaN in gaze_gt or gaze_est"
        )
    return float(np.mean((est[mask] - gt[mask]) ** 2))
