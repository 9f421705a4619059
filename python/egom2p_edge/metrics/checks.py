"""Input checks shared by the metrics: numeric arrays and validity masks, with named errors."""

from __future__ import annotations

import numpy as np


def as_float_array(name: str, x: object) -> np.ndarray:
    """``x`` as a float64 ndarray; a ValueError naming ``name`` for non-numeric input."""
    arr = np.asarray(x)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(
            f"{name} must be a real numeric array (float or int), got dtype {arr.dtype}; "
            f"convert it with np.asarray(..., dtype=np.float64)"
        )
    return arr.astype(np.float64, copy=False)


def as_bool_mask(name: str, valid: object, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A bool mask of ``shape`` from bools or 0/1 numbers; ``what`` says what one flag covers."""
    mask = np.asarray(valid)
    if mask.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (one flag per {what}), got {mask.shape}")
    if mask.dtype == bool:
        return mask
    if not (np.issubdtype(mask.dtype, np.integer) or np.issubdtype(mask.dtype, np.floating)):
        raise ValueError(f"{name} must be bool or 0/1 numbers, got dtype {mask.dtype}")
    if not np.isin(mask, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0/1 (or True/False), got other values")
    return mask.astype(bool)
