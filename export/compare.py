"""Comparing a stage output with its golden, by the output's compare kind (``names.COMPARE_*``).

``ids``: identical values. ``float``: same non-finite entries, finite ones within ``float_atol``.
``logits``: as ``float``, and the argmax over the last axis identical. ``frames``: uint8 images
within ``frames_max_diff`` levels (a float difference can move a value across a rounding edge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egom2p_edge.bundle import names
from egom2p_edge.bundle.manifest import Tolerances


@dataclass(frozen=True)
class TensorCheck:
    """The result of one comparison."""

    tensor: str
    compare: str
    ok: bool
    max_abs_diff: float  # over finite entries (levels for frames, count-free for ids)
    mismatches: int  # entries outside the tolerance (ids: differing; logits: + argmax rows)
    detail: str

    def line(self) -> str:
        status = "ok" if self.ok else "FAIL"
        return f"{self.tensor}: {status} ({self.detail})"


def _shape_check(tensor: str, kind: str, got: np.ndarray, want: np.ndarray) -> TensorCheck | None:
    if got.shape != want.shape or got.dtype != want.dtype:
        return TensorCheck(
            tensor,
            kind,
            False,
            float("inf"),
            int(want.size),
            f"got {got.dtype} {list(got.shape)}, expected {want.dtype} {list(want.shape)}",
        )
    return None


def compare_output(
    tensor: str, kind: str, got: np.ndarray, want: np.ndarray, tol: Tolerances
) -> TensorCheck:
    """Compare one output ``got`` with its golden ``want`` (see the module docstring)."""
    got, want = np.asarray(got), np.asarray(want)
    bad = _shape_check(tensor, kind, got, want)
    if bad is not None:
        return bad
    if kind == names.COMPARE_IDS:
        n = int(np.count_nonzero(got != want))
        return TensorCheck(tensor, kind, n == 0, float(n > 0), n, f"{n} of {want.size} ids differ")
    if kind == names.COMPARE_FRAMES:
        diff = np.abs(got.astype(np.int32) - want.astype(np.int32))
        worst = int(diff.max()) if diff.size else 0
        n = int(np.count_nonzero(diff > tol.frames_max_diff))
        moved = int(np.count_nonzero(diff))
        return TensorCheck(
            tensor,
            kind,
            n == 0,
            float(worst),
            n,
            f"max {worst} level(s), {moved} of {want.size} values differ, "
            f"tolerance {tol.frames_max_diff}",
        )
    if kind not in (names.COMPARE_FLOAT, names.COMPARE_LOGITS):
        raise ValueError(f"unknown compare kind {kind!r} for {tensor}")
    g, w = got.astype(np.float64), want.astype(np.float64)
    finite = np.isfinite(w)
    same_nonfinite = bool(np.array_equal(np.isfinite(g), finite)) and bool(
        np.array_equal(g[~finite], w[~finite], equal_nan=True)
    )
    diff = np.abs(g[finite] - w[finite]) if finite.any() else np.zeros(0)
    worst = float(diff.max()) if diff.size else 0.0
    n = int(np.count_nonzero(diff > tol.float_atol)) + int(not same_nonfinite)
    detail = f"max |diff| {worst:.3g}, tolerance {tol.float_atol:g}"
    if not same_nonfinite:
        detail += "; non-finite entries differ"
    if kind == names.COMPARE_LOGITS and want.ndim >= 1 and want.shape[-1] > 0:
        rows = int(np.count_nonzero(np.argmax(got, axis=-1) != np.argmax(want, axis=-1)))
        n += rows
        detail += f"; argmax differs in {rows} of {want.size // want.shape[-1]} rows"
    return TensorCheck(tensor, kind, n == 0, worst, n, detail)
