"""Camera trajectory errors of the paper: ATE (with a choice of alignment), RTE and RRE."""

from __future__ import annotations

import numpy as np

from egom2p_edge.metrics.alignment import fit_alignment
from egom2p_edge.metrics.rotations import check_poses, relative_motions, rotation_angle_rad

CAMERA_ALIGNS = ("none", "se3", "sim3", "rotation")


def camera_errors(
    T_world_camera_gt: np.ndarray, T_world_camera_est: np.ndarray, align: str = "none"
) -> dict[str, float]:
    """ATE, RTE and RRE of an estimated camera trajectory against the ground truth.

    Shapes (N, 4, 4) each: camera-to-world poses in metres, frame k of one matched to frame k of
    the other. The inputs are used as given (no re-canonicalisation).

    align (ATE only): ``"none"``; ``"se3"`` (Umeyama rotation + translation of the estimate
    positions onto the ground truth); ``"sim3"`` (Umeyama with scale); ``"rotation"`` (the EgoM2P
    example: Kabsch rotation of the centred sets, applied about the origin, no translation/scale).

    Returns plain floats:
      ``ate_m``: RMSE over frames of ``|| aligned p_est,k - p_gt,k ||``.
      ``rte_m``, ``rre_deg``: for the N-1 consecutive pairs, ``Q = inv(G_k) G_k+1``,
      ``P = inv(E_k) E_k+1``, ``X = inv(Q) P``; RMSE of ``||t(X)||`` and of the rotation angle of
      ``R(X)`` in degrees. Never aligned (they do not depend on the world frame).

    Raises ValueError for a bad array (shape, non-finite values, rotation blocks off by more than
    1e-5), mismatched lengths, fewer than 2 poses, or fewer than 3 poses with an alignment.
    """
    if align not in CAMERA_ALIGNS:
        raise ValueError(f"align must be one of {', '.join(CAMERA_ALIGNS)}; got {align!r}")
    gt = check_poses("T_world_camera_gt", T_world_camera_gt)
    est = check_poses("T_world_camera_est", T_world_camera_est)
    if gt.shape[0] != est.shape[0]:
        raise ValueError(
            f"T_world_camera_gt has {gt.shape[0]} poses but T_world_camera_est has "
            f"{est.shape[0]}: associate the trajectories (same timestamps) first"
        )
    n = gt.shape[0]
    if n < 2:
        raise ValueError(
            f"T_world_camera_gt/T_world_camera_est have {n} pose(s); RTE/RRE need at least 2"
        )
    if align != "none" and n < 3:
        raise ValueError(
            f"T_world_camera_gt/T_world_camera_est have {n} poses; an aligned ATE "
            f"(align={align!r}) needs at least 3 (use align='none')"
        )

    p_gt, p_est = gt[:, :3, 3], est[:, :3, 3]
    p_aligned = fit_alignment(p_est, p_gt, align).apply(p_est)  # (N, 3)
    ate_m = np.sqrt(np.mean(np.sum((p_aligned - p_gt) ** 2, axis=1)))

    R_q, t_q = relative_motions(gt)  # (N-1, 3, 3), (N-1, 3)
    R_p, t_p = relative_motions(est)
    R_q_T = np.swapaxes(R_q, 1, 2)
    R_x = R_q_T @ R_p  # rotation of inv(Q) P
    t_x = np.einsum("nij,nj->ni", R_q_T, t_p - t_q)  # translation of inv(Q) P, (N-1, 3)
    rte_m = np.sqrt(np.mean(np.sum(t_x**2, axis=1)))
    rre_deg = np.degrees(np.sqrt(np.mean(rotation_angle_rad(R_x) ** 2)))
    return {"ate_m": float(ate_m), "rte_m": float(rte_m), "rre_deg": float(rre_deg)}
