"""Vectorised ray intersection with the room, oriented boxes and spheres, and surface attributes.

Rays are ``origin + t * direction``; directions need not be unit length, and ``t`` is in units
of the direction's length (with camera rays scaled to z = 1, ``t`` is the z-depth in metres).
A miss is ``t = inf``. Rays start inside the room and outside every primitive.
"""

from __future__ import annotations

import numpy as np

from egom2p_edge.training.synth.scene import (
    CEILING_ID,
    FLOOR_ID,
    NO_HIT_ID,
    WALL_IDS,
    Primitive,
    Scene,
)

_EPS_T = 1e-6


def _safe_inverse(d: np.ndarray) -> np.ndarray:
    """1 / d with exact zeros nudged, so axis-parallel rays give +-inf slab distances, not NaN."""
    return 1.0 / np.where(np.abs(d) < 1e-12, 1e-12, d)


def intersect_room(size_m: tuple, origin: np.ndarray, dirs: np.ndarray) -> tuple:
    """Where rays leave the room box. origin (3,) or (N, 3), dirs (N, 3) -> t (N,), ids (N,)."""
    inv = _safe_inverse(dirs)
    t_lo = (0.0 - origin) * inv  # (N, 3): distances to the x = 0, y = 0, z = 0 planes
    t_hi = (np.asarray(size_m) - origin) * inv
    t_exit = np.maximum(t_lo, t_hi)  # the plane each axis leaves through
    axis = np.argmin(t_exit, axis=1)
    t = np.take_along_axis(t_exit, axis[:, None], axis=1)[:, 0]
    positive = np.take_along_axis(dirs, axis[:, None], axis=1)[:, 0] > 0
    # face ids per (axis, leaving through the high plane): x: 3/4, y: 5/6, z: floor 1/ceiling 2
    table = np.array(
        [[WALL_IDS[0], WALL_IDS[1]], [WALL_IDS[2], WALL_IDS[3]], [FLOOR_ID, CEILING_ID]]
    )
    ids = table[axis, positive.astype(int)]
    ids = np.where(np.isfinite(t) & (t > 0), ids, NO_HIT_ID)
    return np.where(ids == NO_HIT_ID, np.inf, t), ids


def intersect_primitive(
    prim: Primitive, origin: np.ndarray, dirs: np.ndarray, t_s: float
) -> np.ndarray:
    """Nearest positive hit of rays with a primitive at time t_s. (3,)|(N,3), (N,3) -> t (N,)."""
    center = prim.center_at(t_s)
    if prim.kind == "sphere":
        oc = origin - center  # (3,) or (N, 3)
        a = np.einsum("ij,ij->i", dirs, dirs)
        b = dirs @ oc if oc.ndim == 1 else np.einsum("ij,ij->i", dirs, oc)
        c = (oc @ oc if oc.ndim == 1 else np.einsum("ij,ij->i", oc, oc)) - prim.half_m[0] ** 2
        disc = b * b - a * c
        root = np.sqrt(np.maximum(disc, 0.0))
        t = (-b - root) / a
        return np.where((disc > 0) & (t > _EPS_T), t, np.inf)
    rot = prim.rotation()
    o_local = (origin - center) @ rot  # world -> local: R^T x, for row vectors x @ R
    d_local = dirs @ rot
    half = np.asarray(prim.half_m)
    # Slab test one axis at a time on 1-D columns: reductions over a length-3 axis are slow.
    t_near = np.full(len(d_local), -np.inf)
    t_far = np.full(len(d_local), np.inf)
    for k in range(3):
        inv = _safe_inverse(d_local[:, k])
        o_k = o_local[..., k]
        t1 = (-half[k] - o_k) * inv
        t2 = (half[k] - o_k) * inv
        np.maximum(t_near, np.minimum(t1, t2), out=t_near)
        np.minimum(t_far, np.maximum(t1, t2), out=t_far)
    return np.where((t_far >= t_near) & (t_near > _EPS_T), t_near, np.inf)


def cast_rays(scene: Scene, origins: np.ndarray, dirs: np.ndarray, t_s: float) -> tuple:
    """First hit of arbitrary rays with the whole scene. (N, 3), (N, 3) -> t (N,), ids (N,)."""
    t, ids = intersect_room(scene.size_m, origins, dirs)
    for i, prim in enumerate(scene.primitives):
        tp = intersect_primitive(prim, origins, dirs, t_s)
        closer = tp < t
        t = np.where(closer, tp, t)
        ids = np.where(closer, scene.primitive_id(i), ids)
    return t, ids


def room_surface(scene: Scene, face_id: int, points: np.ndarray) -> tuple:
    """Normal (3,) and surface coordinates (N, 2) in metres of room-face points (N, 3)."""
    normals = {
        FLOOR_ID: (0.0, 0.0, 1.0),
        CEILING_ID: (0.0, 0.0, -1.0),
        WALL_IDS[0]: (1.0, 0.0, 0.0),
        WALL_IDS[1]: (-1.0, 0.0, 0.0),
        WALL_IDS[2]: (0.0, 1.0, 0.0),
        WALL_IDS[3]: (0.0, -1.0, 0.0),
    }
    if face_id in (FLOOR_ID, CEILING_ID):
        uv = points[:, :2]
    elif face_id in WALL_IDS[:2]:
        uv = points[:, 1:]
    else:
        uv = points[:, [0, 2]]
    return np.asarray(normals[face_id]), uv


def primitive_surface(prim: Primitive, points: np.ndarray, t_s: float) -> tuple:
    """World normals (N, 3) and surface coordinates (N, 2) in metres of points on a primitive."""
    rot = prim.rotation()
    local = (points - prim.center_at(t_s)) @ rot  # (N, 3)
    if prim.kind == "sphere":
        r = prim.half_m[0]
        n_local = local / np.linalg.norm(local, axis=1, keepdims=True)
        lon = np.arctan2(n_local[:, 1], n_local[:, 0])
        lat = np.arcsin(np.clip(n_local[:, 2], -1.0, 1.0))
        return n_local @ rot.T, np.stack([r * lon, r * lat], axis=1)
    half = np.asarray(prim.half_m)
    rel = np.abs(local) / half
    axis = np.argmax(rel, axis=1)  # the face each point lies on
    sign = np.sign(np.take_along_axis(local, axis[:, None], axis=1)[:, 0])
    n_local = np.zeros_like(local)
    n_local[np.arange(len(axis)), axis] = sign
    # Surface coordinates: the two local axes orthogonal to the face normal (z last for sides).
    u_axis = np.where(axis == 0, 1, 0)
    v_axis = np.where(axis == 2, 1, 2)
    rows = np.arange(len(axis))
    uv = np.stack([local[rows, u_axis], local[rows, v_axis]], axis=1)
    return n_local @ rot.T, uv
