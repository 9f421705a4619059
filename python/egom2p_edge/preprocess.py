"""Frame preprocessing shared by curation and the runtime: square centre crop + exact area resize.

The algorithm (the C++ runtime reimplements it bit for bit):

1. Crop: side ``C = min(H, W)`` (or a given smaller ``crop_side``), top ``(H - C) // 2``, left
   ``(W - C) // 2``.
2. Resize C x C -> S x S by area (box) averaging with integer weights. Scale both axes by the
   other size: output pixel ``i`` covers ``[i*C, (i+1)*C)`` and source pixel ``j`` covers
   ``[j*S, (j+1)*S)``. The weight ``w[i, j]`` is the integer length of their overlap; each output
   row of weights sums to ``C``. ``area_taps(C, S)`` stores them as ``K`` taps per output pixel
   (source index, weight), ascending source index, zero-weight padding (index clamped to C-1).
3. Integer images: ``acc = sum_y sum_x w_y w_x v`` in int64 (the y pass first over all columns,
   then the x pass), output ``(acc + C*C // 2) // (C*C)`` (round half up; acc >= 0).
   Float images: the same weights and order in float64, output ``acc / (C*C)``.

This is the exact box filter: downscaling averages whole and partial source pixels, ``S == C`` is
the identity, upscaling (``S > C``) replicates or blends the two nearest source pixels.

Gaze: a point at continuous image coordinates (x, y), where the image spans ``[0, W) x [0, H)``,
maps to ``((x - left) / C, (y - top) / C)`` in the normalised crop (x right, y down). Resizing does
not change it. Coordinates from a pinhole/fisheye projection have pixel centres at integers (the
image spans ``[-0.5, W - 0.5)``): pass ``pixel_center_offset=0.5``. The official EgoM2P
conversion of HoloAssist pixels uses no offset (``x' = (x - 208) / 480``), the default here.
"""

from __future__ import annotations

import numpy as np


def crop_box(height: int, width: int, side: int | None = None) -> tuple[int, int, int]:
    """(top, left, side) of the square centre crop of an H x W image.

    ``side`` defaults to ``min(H, W)``; a smaller side crops tighter (EgoM2P crops HoloAssist's
    896 x 504 frames to 480 x 480).
    """
    if height < 1 or width < 1:
        raise ValueError(f"crop_box: image size must be >= 1, got {height}x{width}")
    if side is None:
        side = min(height, width)
    elif not 1 <= side <= min(height, width):
        raise ValueError(f"crop_box: side must be in [1, {min(height, width)}], got {side}")
    return (height - side) // 2, (width - side) // 2, side


def area_taps(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """Area-resampling taps from ``src`` to ``dst`` samples along one axis.

    Returns ``(index, weight)``, both int64 of shape (dst, K): output ``i`` is
    ``sum_k weight[i, k] * v[index[i, k]]`` / ``src`` (then / ``src`` again for the other axis).
    """
    if src < 1 or dst < 1:
        raise ValueError(f"area_taps: sizes must be >= 1, got src={src} dst={dst}")
    i = np.arange(dst, dtype=np.int64)
    lo = i * src  # output pixel i covers [lo, hi) in the scaled coordinate
    hi = lo + src
    j0 = lo // dst
    j1 = (hi - 1) // dst
    k = int((j1 - j0).max()) + 1
    j = j0[:, None] + np.arange(k, dtype=np.int64)[None, :]  # (dst, K)
    overlap = np.minimum(hi[:, None], (j + 1) * dst) - np.maximum(lo[:, None], j * dst)
    weight = np.maximum(overlap, 0)
    index = np.minimum(j, src - 1)  # padding taps have weight 0
    return index, weight


def area_matrix(src: int, dst: int) -> np.ndarray:
    """The dense (dst, src) int64 weight matrix of ``area_taps`` (for tests and documentation)."""
    index, weight = area_taps(src, dst)
    m = np.zeros((dst, src), dtype=np.int64)
    np.add.at(m, (np.repeat(np.arange(dst), index.shape[1]), index.ravel()), weight.ravel())
    return m


def _check_image(img: np.ndarray, name: str, size: int) -> None:
    if not isinstance(img, np.ndarray) or img.ndim not in (2, 3) or 0 in img.shape[:2]:
        shape = getattr(img, "shape", type(img).__name__)
        raise ValueError(f"{name}: expected an (H, W) or (H, W, C) array, got {shape}")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"{name}: size must be an int >= 1, got {size!r}")


def _resize_acc(crop: np.ndarray, size: int, dtype: type) -> np.ndarray:
    """Unnormalised area sums. Shape (C, C, ch) -> (size, size, ch), in ``dtype``."""
    c = crop.shape[0]
    index, weight = area_taps(c, size)
    w = weight.astype(dtype)
    v = crop.astype(dtype, copy=False)
    tmp = np.zeros((size, c, crop.shape[2]), dtype=dtype)  # y pass: (S, C, ch)
    for k in range(index.shape[1]):
        tmp += w[:, k, None, None] * v[index[:, k]]
    out = np.zeros((size, size, crop.shape[2]), dtype=dtype)  # x pass: (S, S, ch)
    for k in range(index.shape[1]):
        out += w[None, :, k, None] * tmp[:, index[:, k]]
    return out


def _crop(img: np.ndarray, crop_side: int | None = None) -> np.ndarray:
    top, left, side = crop_box(img.shape[0], img.shape[1], crop_side)
    crop = img[top : top + side, left : left + side]
    return crop if crop.ndim == 3 else crop[:, :, None]  # (C, C) -> (C, C, 1)


def center_crop_resize(img: np.ndarray, size: int, crop_side: int | None = None) -> np.ndarray:
    """Square centre crop + exact integer area resize of a uint8 image.

    ``crop_side`` (default ``min(H, W)``) as in ``crop_box``.

    Shape (H, W, 3) or (H, W) uint8 -> (size, size, 3) or (size, size) uint8.
    """
    _check_image(img, "center_crop_resize", size)
    if img.dtype != np.uint8:
        raise ValueError(
            f"center_crop_resize: expected uint8, got {img.dtype} "
            "(use center_crop_resize_float for depth)"
        )
    crop = _crop(img, crop_side)
    c = crop.shape[0]
    acc = _resize_acc(crop, size, np.int64)
    out = ((acc + (c * c) // 2) // (c * c)).astype(np.uint8)
    return out if img.ndim == 3 else out[:, :, 0]


def center_crop_resize_float(
    img: np.ndarray, size: int, crop_side: int | None = None
) -> np.ndarray:
    """The same crop and weights for float images (float64 accumulation, / C*C).

    Shape (H, W) or (H, W, ch) float -> (size, size[, ch]) of the input's dtype.
    """
    _check_image(img, "center_crop_resize_float", size)
    if not np.issubdtype(img.dtype, np.floating):
        raise ValueError(f"center_crop_resize_float: expected a float array, got {img.dtype}")
    crop = _crop(img, crop_side)
    c = crop.shape[0]
    out = (_resize_acc(crop, size, np.float64) / float(c * c)).astype(img.dtype)
    return out if img.ndim == 3 else out[:, :, 0]


def center_crop_resize_masked(
    values: np.ndarray,
    valid: np.ndarray,
    size: int,
    min_valid_fraction: float = 0.5,
    crop_side: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Area-resize a float map with holes: average over valid source pixels only.

    An output pixel is valid when its valid source area is at least ``min_valid_fraction`` of
    its footprint; invalid outputs are 0. Shape (H, W) -> (size, size) values and bool mask.
    """
    _check_image(values, "center_crop_resize_masked", size)
    if valid.shape != values.shape[:2]:
        raise ValueError(
            f"center_crop_resize_masked: valid shape {valid.shape} != values "
            f"shape {values.shape[:2]}"
        )
    v = np.where(valid, values, 0).astype(np.float64)
    num = center_crop_resize_float(v, size, crop_side).astype(np.float64)
    frac = center_crop_resize_float(valid.astype(np.float64), size, crop_side)
    ok = frac >= min_valid_fraction - 1e-12
    out = np.zeros_like(num)
    out[ok] = num[ok] / frac[ok]
    return out.astype(values.dtype), ok


def gaze_px_to_crop_norm(
    xy_px: np.ndarray,
    height: int,
    width: int,
    pixel_center_offset: float = 0.0,
    crop_side: int | None = None,
) -> np.ndarray:
    """Pixel coordinates of the original H x W image -> [0, 1] normalised square-crop coordinates.

    ``xy_norm = (xy_px + pixel_center_offset - (left, top)) / side`` with ``crop_box(H, W,
    crop_side)``. Shape (..., 2) -> (..., 2) float64; NaN stays NaN; points outside the crop fall
    outside [0, 1].
    """
    top, left, side = crop_box(height, width, crop_side)
    xy = np.asarray(xy_px, dtype=np.float64)
    if xy.shape[-1:] != (2,):
        raise ValueError(
            f"gaze_px_to_crop_norm: expected (..., 2) pixel coordinates, got shape {xy.shape}"
        )
    return (xy + pixel_center_offset - np.array([left, top], dtype=np.float64)) / side


def crop_norm_to_gaze_px(
    xy_norm: np.ndarray,
    height: int,
    width: int,
    pixel_center_offset: float = 0.0,
    crop_side: int | None = None,
) -> np.ndarray:
    """Inverse of ``gaze_px_to_crop_norm``. Shape (..., 2) -> (..., 2) float64."""
    top, left, side = crop_box(height, width, crop_side)
    xy = np.asarray(xy_norm, dtype=np.float64)
    if xy.shape[-1:] != (2,):
        raise ValueError(f"crop_norm_to_gaze_px: expected (..., 2) coordinates, got {xy.shape}")
    return xy * side + np.array([left, top], dtype=np.float64) - pixel_center_offset
