"""Depth errors of the paper: AbsRel and delta < 1.25, optionally after a scale-and-shift fit."""

from __future__ import annotations

import logging

import numpy as np

from egom2p_edge.metrics.checks import as_bool_mask, as_float_array

logger = logging.getLogger(__name__)

DEPTH_ALIGNS = ("none", "depth", "inverse")


def fit_scale_shift(x: np.ndarray, y: np.ndarray, name: str = "depth_est") -> tuple[float, float]:
    """Least-squares ``(s, t) = argmin sum (s x + t - y)^2``.

    Shapes x (M,), y (M,). Solved on centred values (the normal equations of ``[x, 1]`` without
    their cancellation). Raises ValueError naming ``name`` when x is constant (no unique fit).
    """
    mean_x, mean_y = x.mean(), y.mean()
    xc = x - mean_x
    var_x = float(np.dot(xc, xc))
    if x.size < 2 or var_x == 0.0:
        raise ValueError(
            f"{name} is constant over the {x.size} valid pixel(s): a scale and shift cannot be "
            f"fit; use align='none' or give more valid pixels"
        )
    s = float(np.dot(xc, y - mean_y) / var_x)
    return s, float(mean_y - s * mean_x)


def _valid_mask(gt: np.ndarray, valid: object | None) -> np.ndarray:
    if valid is None:
        mask = np.isfinite(gt) & (gt != 0)
    else:
        mask = as_bool_mask("valid", valid, gt.shape, "pixel")
        bad = mask & ~(np.isfinite(gt) & (gt != 0))
        if bad.any():
            raise ValueError(
                f"depth_gt is 0 or non-finite at {int(bad.sum())} pixel(s) marked valid; "
                f"depth needs a positive ground truth there (set valid=False)"
            )
    if (gt[mask] < 0).any():
        raise ValueError(
            f"depth_gt has {int((gt[mask] < 0).sum())} negative value(s) on valid pixels; "
            f"depth must be positive metres (0 or NaN marks invalid pixels)"
        )
    return mask


def depth_errors(
    depth_gt: np.ndarray,
    depth_est: np.ndarray,
    valid: np.ndarray | None = None,
    align: str = "none",
) -> dict[str, float]:
    """AbsRel and delta < 1.25 of an estimated depth map (or video) against the ground truth.

    Shapes (H, W) or (T, H, W), metres (z-depth), the same for both; float32 is computed in
    float64. valid: a bool (or 0/1) mask of that shape; when None, ground truth equal to 0 or not
    finite is invalid. A video is scored as one set of pixels (one fit, one mean over all frames);
    score frames one by one for per-frame numbers.

    align: ``"none"`` (a = est); ``"depth"`` (a = s est + t, least squares against gt on valid
    pixels); ``"inverse"`` (s / est + t fit to 1 / gt, then a = 1 / (s / est + t)).

    Returns plain floats: ``abs_rel`` = mean |a - g| / g; ``delta_1_25`` = fraction with
    max(a / g, g / a) < 1.25 (strict; a <= 0 counts as a miss). No clipping of a: an alignment
    that leaves a <= 0 or infinite on valid pixels is logged and scored as is.

    Raises ValueError for wrong or mismatched shapes, non-finite estimates on valid pixels,
    negative ground truth, an estimate <= 0 with ``align="inverse"``, or no valid pixel.
    """
    if align not in DEPTH_ALIGNS:
        raise ValueError(f"align must be one of {', '.join(DEPTH_ALIGNS)}; got {align!r}")
    gt = as_float_array("depth_gt", depth_gt)
    est = as_float_array("depth_est", depth_est)
    if gt.ndim not in (2, 3):
        raise ValueError(f"depth_gt must have shape (H, W) or (T, H, W), got {gt.shape}")
    if est.shape != gt.shape:
        raise ValueError(
            f"depth_est has shape {est.shape} but depth_gt has {gt.shape}: resize the estimate "
            f"to the ground-truth resolution first"
        )
    mask = _valid_mask(gt, valid)
    if not mask.any():
        raise ValueError(
            f"depth_gt has no valid pixel among {gt.size} (all 0, non-finite or masked out)"
        )
    g, e = gt[mask], est[mask]  # (M,) valid pixels
    if not np.isfinite(e).all():
        raise ValueError(
            f"depth_est is non-finite at {int((~np.isfinite(e)).sum())} valid pixel(s); "
            f"fill them or mark them invalid"
        )

    if align == "none":
        a = e
    elif align == "depth":
        s, t = fit_scale_shift(e, g)
        a = s * e + t
    else:
        if (e <= 0).any():
            raise ValueError(
                f"depth_est is <= 0 at {int((e <= 0).sum())} valid pixel(s); align='inverse' "
                f"needs positive depth to invert"
            )
        s, t = fit_scale_shift(1.0 / e, 1.0 / g)
        with np.errstate(divide="ignore"):
            a = 1.0 / (s / e + t)
    if align != "none" and not ((a > 0) & np.isfinite(a)).all():
        logger.warning(
            "align=%s leaves %d of %d valid pixels with depth <= 0 or infinite; scored as is",
            align,
            int((~((a > 0) & np.isfinite(a))).sum()),
            a.size,
        )

    abs_rel = np.mean(np.abs(a - g) / g)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.maximum(a / g, g / a)
    delta = np.mean((a > 0) & (ratio < 1.25))
    return {"abs_rel": float(abs_rel), "delta_1_25": float(delta)}
