"""Point-set alignments for ATE: Umeyama SE(3)/Sim(3) and the EgoM2P rotation-only fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Similarity:
    """``y ~ scale * R @ x + t``: maps estimate positions x onto ground-truth positions y.

    R: (3, 3) rotation; t: (3,) translation in metres; scale: 1.0 for SE(3) and rotation-only.
    """

    R: np.ndarray
    t: np.ndarray
    scale: float

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Shape (N, 3) -> (N, 3)."""
        return self.scale * points @ self.R.T + self.t

    def apply_to_poses(self, T_world_camera: np.ndarray) -> np.ndarray:
        """Move (N, 4, 4) camera-to-world poses: rotations by R, positions by scale, R and t."""
        out = np.array(T_world_camera, dtype=np.float64, copy=True)
        out[:, :3, :3] = self.R @ out[:, :3, :3]
        out[:, :3, 3] = self.apply(out[:, :3, 3])
        return out


def umeyama(x: np.ndarray, y: np.ndarray, with_scale: bool) -> Similarity:
    """Least-squares similarity (Umeyama 1991) taking points ``x`` onto points ``y``.

    Shapes x (N, 3) estimate, y (N, 3) ground truth. With ``with_scale`` False the scale is 1
    (SE(3)). Raises ValueError when a scale is asked for and ``x`` has no spread.
    """
    n = x.shape[0]
    mean_x, mean_y = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - mean_x, y - mean_y
    cov = yc.T @ xc / n  # (3, 3): cross-covariance of gt against estimate
    U, D, Vt = np.linalg.svd(cov)
    S = np.ones(3)
    # A reflection would fit better than any rotation: flip the weakest axis instead.
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        S[2] = -1.0
    R = (U * S) @ Vt
    scale = 1.0
    if with_scale:
        var_x = float((xc**2).sum() / n)
        if var_x == 0.0:
            raise ValueError(
                "T_world_camera_est positions are all identical: a Sim(3) scale cannot be fit; "
                "use align='se3' or 'none'"
            )
        scale = float((D * S).sum() / var_x)
    t = mean_y - scale * R @ mean_x
    return Similarity(R=R, t=t, scale=scale)


def rotation_about_origin(x: np.ndarray, y: np.ndarray) -> Similarity:
    """The EgoM2P example's rotation-only fit: Kabsch rotation of the centred sets, t = 0.

    Shapes x (N, 3) estimate, y (N, 3) ground truth. The rotation is estimated on centred points
    but applied to the uncentred estimate, i.e. about the origin (the first camera centre after
    canonicalisation); no translation, no scale.
    """
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    U, _, Vt = np.linalg.svd(yc.T @ xc)  # (3, 3) each
    R = U @ Vt
    if np.linalg.det(R) < 0:
        Vt = Vt.copy()
        Vt[-1] *= -1.0
        R = U @ Vt
    return Similarity(R=R, t=np.zeros(3), scale=1.0)


def fit_alignment(x: np.ndarray, y: np.ndarray, align: str) -> Similarity:
    """The alignment named by ``align`` ("none", "se3", "sim3", "rotation") of x onto y."""
    if align == "none":
        return Similarity(R=np.eye(3), t=np.zeros(3), scale=1.0)
    if align == "se3":
        return umeyama(x, y, with_scale=False)
    if align == "sim3":
        return umeyama(x, y, with_scale=True)
    if align == "rotation":
        return rotation_about_origin(x, y)
    raise ValueError(f"align must be one of none, se3, sim3, rotation; got {align!r}")
