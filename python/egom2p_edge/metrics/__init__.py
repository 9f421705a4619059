"""The paper's metrics on numpy arrays: camera ATE/RTE/RRE, gaze MSE, depth AbsRel and delta.

Numpy arrays in, plain Python floats out, checked against evo (camera) and numpy references in
``../shared/fixtures/metrics``::

    from egom2p_edge.metrics import camera_errors, depth_errors, gaze_mse
    camera_errors(T_world_camera_gt, T_world_camera_est, align="sim3")  # ate_m, rte_m, rre_deg
    gaze_mse(gaze_gt, gaze_est)                                          # float
    depth_errors(depth_gt, depth_est, align="inverse")                   # abs_rel, delta_1_25
"""

from egom2p_edge.metrics.alignment import Similarity, fit_alignment
from egom2p_edge.metrics.camera import CAMERA_ALIGNS, camera_errors
from egom2p_edge.metrics.depth import DEPTH_ALIGNS, depth_errors, fit_scale_shift
from egom2p_edge.metrics.gaze import gaze_mse

__all__ = [
    "CAMERA_ALIGNS",
    "DEPTH_ALIGNS",
    "Similarity",
    "camera_errors",
    "depth_errors",
    "fit_alignment",
    "fit_scale_shift",
    "gaze_mse",
]
