"""Camera geometry for the synthetic generator: head rotations, pinhole intrinsics, projection.

World frame: metres, z up, the room's floor at z = 0. Camera frame: OpenCV (x right, y down,
z forward). A camera-to-world rotation ``R_world_camera`` has the camera axes as its columns.
Pixel convention: integer pixel coordinates sit at pixel centres (OpenCV), the image spans
[-0.5, S - 0.5], and a normalised coordinate is ``(u + 0.5) / S``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PinholeIntrinsics:
    """A square pinhole camera of ``size`` x ``size`` pixels; focal lengths and centre in pixels."""

    size: int
    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"PinholeIntrinsics.size must be >= 8 pixels, got {self.size}")
        if not (self.fx > 0 and self.fy > 0):
            raise ValueError(
                f"PinholeIntrinsics focal lengths must be > 0, got {self.fx}, {self.fy}"
            )

    @classmethod
    def from_hfov(cls, size: int, hfov_deg: float) -> PinholeIntrinsics:
        """A centred camera whose horizontal field of view is ``hfov_deg`` (edge to edge)."""
        if not 20.0 <= hfov_deg <= 150.0:
            raise ValueError(f"hfov_deg must be in [20, 150] degrees, got {hfov_deg}")
        f = 0.5 * size / np.tan(np.deg2rad(hfov_deg) / 2.0)
        c = (size - 1) / 2.0
        return cls(size=size, fx=float(f), fy=float(f), cx=c, cy=c)

    def as_meta(self) -> dict:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "size": self.size}

    def rays_camera(self) -> np.ndarray:
        """Ray directions through every pixel centre, scaled so that z = 1. Shape (S, S, 3).

        With z = 1 the ray parameter of a hit is its z-depth, which is what the depth maps hold.
        """
        s = self.size
        u = (np.arange(s) - self.cx) / self.fx
        v = (np.arange(s) - self.cy) / self.fy
        rays = np.empty((s, s, 3))
        rays[..., 0] = u[None, :]
        rays[..., 1] = v[:, None]
        rays[..., 2] = 1.0
        return rays

    def project(self, points_camera: np.ndarray) -> np.ndarray:
        """Pixel coordinates (u, v) of camera-frame points. Shape (..., 3) -> (..., 2)."""
        z = points_camera[..., 2]
        u = self.fx * points_camera[..., 0] / z + self.cx
        v = self.fy * points_camera[..., 1] / z + self.cy
        return np.stack([u, v], axis=-1)

    def backproject(self, u: np.ndarray, v: np.ndarray, z_m: np.ndarray) -> np.ndarray:
        """Camera-frame points of pixels (u, v) at z-depth ``z_m``. Shapes (...) -> (..., 3)."""
        x = (np.asarray(u, float) - self.cx) / self.fx * z_m
        y = (np.asarray(v, float) - self.cy) / self.fy * z_m
        return np.stack([x, y, np.asarray(z_m, float)], axis=-1)

    def pixel_to_norm(self, uv: np.ndarray) -> np.ndarray:
        """OpenCV pixel coordinates -> [0, 1] normalised image coordinates. Shape (..., 2)."""
        return (uv + 0.5) / self.size


def rotation_world_camera(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Camera-to-world rotations of a head. Angles in radians, shapes (N,) -> (N, 3, 3).

    yaw: heading of the optical axis about world z (0 looks along +x, positive turns left);
    pitch: elevation of the optical axis (positive looks up); roll: about the optical axis
    (positive turns the camera's x axis toward its y axis: the right ear goes down).
    """
    yaw, pitch, roll = (np.atleast_1d(np.asarray(a, float)) for a in (yaw, pitch, roll))
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    forward = np.stack([cp * cy, cp * sy, sp], axis=-1)  # (N, 3)
    right0 = np.stack([sy, -cy, np.zeros_like(yaw)], axis=-1)  # level right vector
    down0 = np.cross(forward, right0)  # right x down = forward  =>  down = forward x right
    cr, sr = np.cos(roll)[:, None], np.sin(roll)[:, None]
    right = cr * right0 + sr * down0
    down = -sr * right0 + cr * down0
    return np.stack([right, down, forward], axis=-1)  # columns are the camera axes


def pose_matrices(rotation: np.ndarray, position: np.ndarray) -> np.ndarray:
    """4x4 camera-to-world transforms. Shapes (N, 3, 3), (N, 3) -> (N, 4, 4)."""
    n = rotation.shape[0]
    T = np.zeros((n, 4, 4))
    T[:, :3, :3] = rotation
    T[:, :3, 3] = position
    T[:, 3, 3] = 1.0
    return T


def invert_poses(T: np.ndarray) -> np.ndarray:
    """Inverse of rigid 4x4 transforms. Shape (..., 4, 4)."""
    R = T[..., :3, :3]
    t = T[..., :3, 3]
    Ti = np.zeros_like(T)
    Rt = np.swapaxes(R, -1, -2)
    Ti[..., :3, :3] = Rt
    Ti[..., :3, 3] = -np.einsum("...ij,...j->...i", Rt, t)
    Ti[..., 3, 3] = 1.0
    return Ti


def direction_yaw_pitch(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Yaw and pitch (radians) of world direction vectors. Shape (..., 3) -> (...), (...)."""
    yaw = np.arctan2(d[..., 1], d[..., 0])
    pitch = np.arctan2(d[..., 2], np.hypot(d[..., 0], d[..., 1]))
    return yaw, pitch


def wrap_angle(a: np.ndarray | float) -> np.ndarray | float:
    """Angles wrapped to (-pi, pi]."""
    return -((-np.asarray(a) + np.pi) % (2 * np.pi) - np.pi)


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (radians) between vectors. Shapes (..., 3), (..., 3) -> (...)."""
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    return np.arctan2(cross, np.sum(a * b, axis=-1))


def slerp_directions(a: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Spherical interpolation between unit vectors a and b at fractions s. (..., 3) -> (..., 3)."""
    omega = angle_between(a, b)[..., None]
    s = np.asarray(s, float)[..., None]
    small = omega < 1e-9
    sin_o = np.where(small, 1.0, np.sin(omega))
    wa = np.where(small, 1.0 - s, np.sin((1.0 - s) * omega) / sin_o)
    wb = np.where(small, s, np.sin(s * omega) / sin_o)
    out = wa * a + wb * b
    return out / np.linalg.norm(out, axis=-1, keepdims=True)
