"""Rigid-transform helpers: quaternions to 4x4 poses, inverses, relative-to-first trajectories."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

QUAT_NORM_TOL = 1e-3  # |q| outside 1 +- this: not a rotation (a corrupt row)


def poses_from_translation_quaternion(t_xyz: np.ndarray, q_xyzw: np.ndarray) -> np.ndarray:
    """4x4 poses from translations and quaternions (x, y, z, w; renormalised).

    Shape (N, 3), (N, 4) -> (N, 4, 4) float64. Raises ValueError for quaternions whose norm is
    off by more than ``QUAT_NORM_TOL`` (filter such rows first with ``unit_quaternion_rows``).
    """
    t = np.asarray(t_xyz, dtype=np.float64)
    q = np.asarray(q_xyzw, dtype=np.float64)
    if t.ndim != 2 or t.shape[1] != 3 or q.shape != (t.shape[0], 4):
        raise ValueError(
            f"poses_from_translation_quaternion: expected (N, 3) and (N, 4), got "
            f"{t.shape} and {q.shape}"
        )
    bad = ~unit_quaternion_rows(q)
    if bad.any():
        raise ValueError(
            f"poses_from_translation_quaternion: {int(bad.sum())} quaternions are "
            f"not unit length (first: row {int(np.argmax(bad))})"
        )
    T = np.tile(np.eye(4), (len(t), 1, 1))  # (N, 4, 4)
    T[:, :3, :3] = Rotation.from_quat(q).as_matrix()
    T[:, :3, 3] = t
    return T


def unit_quaternion_rows(q_xyzw: np.ndarray) -> np.ndarray:
    """(N,) bool: finite quaternions with norm within ``QUAT_NORM_TOL`` of 1."""
    q = np.asarray(q_xyzw, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        n = np.linalg.norm(q, axis=-1)
    return np.isfinite(q).all(-1) & (np.abs(n - 1.0) <= QUAT_NORM_TOL)


def rigid_rows(T: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """(N,) bool: finite 4x4 matrices with an orthonormal, det +1 rotation (within ``tol``) and
    a bottom row [0, 0, 0, 1]."""
    T = np.asarray(T, dtype=np.float64)
    ok = np.isfinite(T).all(axis=(1, 2))
    Tf = np.where(ok[:, None, None], T, np.eye(4))
    R = Tf[:, :3, :3]
    ortho = np.abs(np.einsum("nji,njk->nik", R, R) - np.eye(3)).max(axis=(1, 2))
    bottom = np.abs(Tf[:, 3] - np.array([0.0, 0.0, 0.0, 1.0])).max(axis=1)
    return ok & (ortho <= tol) & (np.linalg.det(R) > 0) & (bottom <= 1e-9)


def invert_poses(T: np.ndarray) -> np.ndarray:
    """Inverse of rigid transforms. Shape (..., 4, 4) -> (..., 4, 4)."""
    R = T[..., :3, :3]
    t = T[..., :3, 3]
    out = np.zeros_like(T)
    Rt = np.swapaxes(R, -1, -2)
    out[..., :3, :3] = Rt
    out[..., :3, 3] = -np.einsum("...ij,...j->...i", Rt, t)
    out[..., 3, 3] = 1.0
    return out


def relative_to_first(T: np.ndarray) -> np.ndarray:
    """EgoM2P canonicalisation ``inv(T[0]) @ T[k]``, bottom rows set exactly to [0, 0, 0, 1].

    Shape (N, 4, 4) -> (N, 4, 4); the result's first pose is the identity (up to rounding).
    """
    out = np.linalg.inv(T[0]) @ T  # matches the metric fixtures' inv(P0) @ Pk
    out[:, 3, :] = (0.0, 0.0, 0.0, 1.0)
    return out
