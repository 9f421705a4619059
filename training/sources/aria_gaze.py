"""Aria eye gaze (yaw/pitch in the Central Pupil Frame) projected into the upright RGB crop.

Steps per sample: the gaze point ``depth * normalize(tan(yaw), tan(pitch), 1)`` in CPF (the
MPS direction convention; ``depth_m`` from the file, or ``DEFAULT_GAZE_DEPTH_M`` when unknown),
then ``T_camera_device @ T_device_CPF`` into the raw RGB camera, the FISHEYE624 projection of
projectaria-tools (imported lazily), then the 90-degree clockwise turn to the upright image:
``(x', y') = (N - 1 - y, x)`` for an N x N image with pixel centres at integers, the same turn
as ``CW90`` on the pose. Finally ``gaze_px_to_crop_norm`` with ``pixel_center_offset=0.5`` (the
Aria RGB image is square, so the crop is the full frame: x' / N after the offset).
"""

from __future__ import annotations

import numpy as np

from egom2p_edge.preprocess import gaze_px_to_crop_norm

DEFAULT_GAZE_DEPTH_M = 1.0  # when MPS gives no vergence depth
HALF_IPD_M = 0.0315  # eye x-offset in CPF used by MPS vergence files (tx_left_eye_cpf)

# T_device_CPF of an Aria Gen1 device (factory calibration of the ADT test recording
# 1WM103600M1292); the MPS sample has no VRS, so no own CPF transform. Devices differ by
# millimetres, i.e. about a pixel at 1 m.
NOMINAL_T_DEVICE_CPF = np.array(
    [
        [
            -3.1860137253989063e-02,
            -9.9862953206225713e-01,
            -4.1520950702926107e-02,
            4.9930200205035719e-03,
        ],
        [
            7.9335340107158459e-01,
            1.7481547320841173e-09,
            -6.0876134979821916e-01,
            -5.1460090072811111e-02,
        ],
        [
            6.0792706195916857e-01,
            -5.2336007615386759e-02,
            7.9226613561641979e-01,
            -4.9949880698286153e-02,
        ],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


def require_projectaria_tools():
    """Import projectaria_tools.core or raise ImportError saying how to install it."""
    try:
        from projectaria_tools import core
    except ImportError as exc:
        raise ImportError(
            "projectaria-tools is needed for Aria VRS files and gaze projection: "
            "`pip install --no-deps projectaria-tools==2.3.0` (see DEPENDENCIES.md)"
        ) from exc
    return core


def combine_vergence_yaw(
    left_yaw: np.ndarray, right_yaw: np.ndarray, half_ipd_m: float = HALF_IPD_M
) -> np.ndarray:
    """Combined (cyclopean) yaw of the vergence point of two eye rays, radians. (N,) -> (N,).

    Eyes at x = +-half_ipd in CPF; rays ``x = x_eye + z tan(yaw)`` meet at
    ``z = 2 half_ipd / (tan r - tan l)``; the combined yaw is ``atan(x / z)``. Parallel rays
    give the mean yaw.
    """
    tl, tr = np.tan(left_yaw), np.tan(right_yaw)
    denom = tr - tl
    parallel = np.abs(denom) < 1e-9
    z = 2.0 * half_ipd_m / np.where(parallel, 1.0, denom)
    x = half_ipd_m + z * tl
    with np.errstate(invalid="ignore", divide="ignore"):
        yaw = np.arctan2(x, z)
    return np.where(parallel, 0.5 * (left_yaw + right_yaw), yaw)


def gaze_points_cpf(yaw: np.ndarray, pitch: np.ndarray, depth_m: np.ndarray | None) -> np.ndarray:
    """3-D gaze points in CPF. (N,), (N,), (N,) -> (N, 3); NaN depth -> DEFAULT_GAZE_DEPTH_M."""
    d = np.stack([np.tan(yaw), np.tan(pitch), np.ones_like(yaw)], axis=1)  # (N, 3)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    depth = np.full(len(yaw), DEFAULT_GAZE_DEPTH_M) if depth_m is None else depth_m
    depth = np.where(np.isfinite(depth) & (depth > 0), depth, DEFAULT_GAZE_DEPTH_M)
    return d * depth[:, None]


def rotate_pixels_cw90(uv: np.ndarray, size: int) -> np.ndarray:
    """Pixel coordinates (centres at integers) in the raw N x N Aria image -> upright image."""
    return np.stack([size - 1 - uv[:, 1], uv[:, 0]], axis=1)


def project_points_to_camera(points_camera: np.ndarray, camera_calibration) -> np.ndarray:
    """Project (N, 3) points (raw camera frame) with a projectaria-tools CameraCalibration.

    Returns (N, 2) pixels (centres at integers); NaN where the point is behind the camera or
    outside the valid projection area.
    """
    out = np.full((len(points_camera), 2), np.nan)
    for i, p in enumerate(points_camera):
        if not np.isfinite(p).all() or p[2] <= 0:
            continue
        uv = camera_calibration.project(p)
        if uv is not None:
            out[i] = np.asarray(uv, dtype=np.float64).ravel()[:2]
    return out


def project_gaze_upright_norm(
    yaw: np.ndarray,
    pitch: np.ndarray,
    depth_m: np.ndarray | None,
    T_device_cpf: np.ndarray,
    T_device_camera: np.ndarray,
    camera_calibration,
) -> np.ndarray:
    """Gaze into the upright RGB image's normalised square crop. Shape (N,) -> (N, 2) float64,
    NaN where the gaze is not projectable. ``T_device_camera`` is the raw (not rotated)
    extrinsic of ``camera_calibration``'s camera."""
    w, h = (int(v) for v in camera_calibration.get_image_size())
    if w != h:
        raise ValueError(
            f"project_gaze_upright_norm: expected a square Aria RGB image, got {w}x{h}"
        )
    pts = gaze_points_cpf(yaw, pitch, depth_m)
    T_cam_cpf = np.linalg.inv(T_device_camera) @ T_device_cpf
    pts_cam = pts @ T_cam_cpf[:3, :3].T + T_cam_cpf[:3, 3]  # (N, 3)
    uv = project_points_to_camera(pts_cam, camera_calibration)
    up = rotate_pixels_cw90(uv, w)
    return gaze_px_to_crop_norm(up, h, w, pixel_center_offset=0.5)
