"""Rigid-pose helpers for the metrics: input checks, inverses, relative poses, rotation angles."""

from __future__ import annotations

import numpy as np

from egom2p_edge.metrics.checks import as_float_array

# A rotation block may deviate this much from orthonormal (max |R^T R - I|, |det R - 1|): float32
# Gram-Schmidt leaves ~4e-7, a corrupt or non-rigid matrix is far beyond it.
ROTATION_TOL = 1e-5


def check_poses(name: str, T: object) -> np.ndarray:
    """Validate camera-to-world poses and return them as float64.

    Shape (N, 4, 4). Raises a ValueError naming ``name`` when the shape is wrong, a value is not
    finite, the last row is not [0, 0, 0, 1], or a rotation block is not a rotation (beyond
    ``ROTATION_TOL``). The poses are returned as given (no re-orthonormalisation).
    """
    poses = as_float_array(name, T)
    if poses.ndim != 3 or poses.shape[1:] != (4, 4):
        raise ValueError(f"{name} must have shape (N, 4, 4) (camera-to-world), got {poses.shape}")
    bad = ~np.isfinite(poses).all(axis=(1, 2))
    if bad.any():
        idx = np.flatnonzero(bad)
        raise ValueError(
            f"{name} has non-finite values (NaN or inf) in {idx.size} pose(s), first at index "
            f"{idx[0]}; drop or interpolate those poses first"
        )
    last_row_err = np.abs(poses[:, 3, :] - np.array([0.0, 0.0, 0.0, 1.0])).max(axis=1)
    if (last_row_err > ROTATION_TOL).any():
        i = int(np.argmax(last_row_err))
        raise ValueError(
            f"{name}[{i}] last row is {poses[i, 3].tolist()}, expected [0, 0, 0, 1]: "
            f"poses must be homogeneous 4x4 rigid transforms"
        )
    R = poses[:, :3, :3]
    orth_err = np.abs(np.swapaxes(R, 1, 2) @ R - np.eye(3)).max(axis=(1, 2))
    det_err = np.abs(np.linalg.det(R) - 1.0)
    err = np.maximum(orth_err, det_err)
    if (err > ROTATION_TOL).any():
        i = int(np.argmax(err))
        raise ValueError(
            f"{name}[{i}] rotation block is not a rotation: max |R^T R - I| = {orth_err[i]:.3g}, "
            f"|det R - 1| = {det_err[i]:.3g} (tolerance {ROTATION_TOL:g}); "
            f"{int((err > ROTATION_TOL).sum())} pose(s) affected. Re-orthonormalise the "
            f"rotations (e.g. SVD or Gram-Schmidt) or check the matrix layout (camera-to-world)"
        )
    return poses


def relative_motions(T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative motions ``inv(T_k) @ T_{k+1}`` between consecutive poses.

    Shape (N, 4, 4) -> rotations (N-1, 3, 3) and translations (N-1, 3). The inverse uses the
    transpose of the rotation block, as rigid-motion tools do.
    """
    R, t = T[:, :3, :3], T[:, :3, 3]
    R_prev_T = np.swapaxes(R[:-1], 1, 2)  # (N-1, 3, 3)
    R_rel = R_prev_T @ R[1:]
    t_rel = np.einsum("nij,nj->ni", R_prev_T, t[1:] - t[:-1])  # (N-1, 3)
    return R_rel, t_rel


def rotation_angle_rad(R: np.ndarray) -> np.ndarray:
    """Rotation angle in radians of each rotation matrix, in [0, pi].

    Shape (..., 3, 3) -> (...). ``atan2(sin, cos)`` with ``2 sin = |vee(R - R^T)|`` and
    ``2 cos = tr R - 1`` stays accurate near 0 (where ``arccos`` loses half the digits) and near pi.
    """
    skew = np.stack(
        [R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]],
        axis=-1,
    )  # (..., 3)
    two_sin = np.linalg.norm(skew, axis=-1)
    two_cos = np.trace(R, axis1=-2, axis2=-1) - 1.0
    return np.arctan2(two_sin, two_cos)
