"""The scene description of a synthetic room: materials, primitives (boxes, spheres), lights.

World frame: metres, z up; the room is the axis-aligned box [0, W] x [0, L] x [0, H] seen from
inside. Every surface has an integer object id: 0 no hit, 1 floor, 2 ceiling, 3..6 the walls
(x = 0, x = W, y = 0, y = L), and ``FIRST_PRIMITIVE_ID + i`` for primitive i.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NO_HIT_ID = 0
FLOOR_ID = 1
CEILING_ID = 2
WALL_IDS = (3, 4, 5, 6)  # x = 0, x = W, y = 0, y = L
FIRST_PRIMITIVE_ID = 7

TEXTURE_KINDS = ("solid", "checker", "stripes", "noise", "planks", "tiles", "cells", "sky")


@dataclass(frozen=True)
class Material:
    """A procedural surface texture; colours are linear RGB albedos in [0, 1].

    kind: one of TEXTURE_KINDS; scale_m: pattern period in metres; angle_rad: pattern rotation
    in the surface plane; noise_amp: relative brightness noise; seed: texture hash seed;
    emissive: radiance added independently of the lights (lamps, windows).
    """

    kind: str
    color_a: tuple[float, float, float]
    color_b: tuple[float, float, float]
    scale_m: float = 0.2
    angle_rad: float = 0.0
    noise_amp: float = 0.1
    seed: int = 0
    emissive: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in TEXTURE_KINDS:
            raise ValueError(f"Material.kind must be one of {TEXTURE_KINDS}, got {self.kind!r}")
        if not self.scale_m > 0:
            raise ValueError(f"Material.scale_m must be > 0 metres, got {self.scale_m}")


@dataclass(frozen=True)
class Primitive:
    """A box (oriented by a yaw about z) or a sphere, possibly moving at constant velocity.

    center_m: centre at t = 0; half_m: half extents along the local axes (a sphere: radius in
    all three); yaw_rad: rotation of the local axes about world z; role: what it is, used to pick
    gaze targets (``small``, ``furniture``, ``decor``, ``floor_object``, ``structure``, ``rug``,
    ``lamp``, ``window``); blocks_walk: the wearer walks around it; velocity_m_s: for a moving
    object, its constant velocity.
    """

    kind: str
    center_m: tuple[float, float, float]
    half_m: tuple[float, float, float]
    material: Material
    role: str
    yaw_rad: float = 0.0
    blocks_walk: bool = False
    velocity_m_s: tuple[float, float, float] = (0.0, 0.0, 0.0)
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("box", "sphere"):
            raise ValueError(f"Primitive.kind must be 'box' or 'sphere', got {self.kind!r}")
        if min(self.half_m) <= 0:
            raise ValueError(f"Primitive.half_m must be > 0, got {self.half_m}")

    @property
    def moving(self) -> bool:
        return any(v != 0.0 for v in self.velocity_m_s)

    def center_at(self, t_s: float) -> np.ndarray:
        """World centre at time t_s. Shape (3,)."""
        return np.asarray(self.center_m) + float(t_s) * np.asarray(self.velocity_m_s)

    def rotation(self) -> np.ndarray:
        """Local-to-world rotation (about z). Shape (3, 3)."""
        c, s = np.cos(self.yaw_rad), np.sin(self.yaw_rad)
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    def bounding_radius(self) -> float:
        return float(np.linalg.norm(self.half_m)) if self.kind == "box" else self.half_m[0]

    def signed_distance(self, points: np.ndarray, t_s: float = 0.0) -> np.ndarray:
        """Signed distance (metres, negative inside) of world points. Shape (N, 3) -> (N,)."""
        local = (points - self.center_at(t_s)) @ self.rotation()  # world -> local, (N, 3)
        if self.kind == "sphere":
            return np.linalg.norm(local, axis=1) - self.half_m[0]
        q = np.abs(local) - np.asarray(self.half_m)
        outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
        return outside + np.minimum(q.max(axis=1), 0.0)


@dataclass(frozen=True)
class Lighting:
    """Lights of a room, radiometric values in linear RGB.

    lamp_pos_m: a point light; lamp_rgb: its intensity (irradiance at 1 m); sun_dir: unit
    direction the window light travels along; sun_rgb: its irradiance; ambient_rgb: a diffuse
    term; exposure: the camera's exposure multiplier chosen for this room.
    """

    lamp_pos_m: tuple[float, float, float]
    lamp_rgb: tuple[float, float, float]
    sun_dir: tuple[float, float, float]
    sun_rgb: tuple[float, float, float]
    ambient_rgb: tuple[float, float, float]
    exposure: float = 1.0


@dataclass(frozen=True)
class Scene:
    """A room: its size, surface materials, primitives and lights."""

    size_m: tuple[float, float, float]
    floor: Material
    ceiling: Material
    walls: tuple[Material, Material, Material, Material]
    primitives: tuple[Primitive, ...]
    lighting: Lighting
    table_index: int = -1  # index into primitives of the table top, -1 when there is none
    info: dict = field(default_factory=dict)

    def primitive_id(self, index: int) -> int:
        return FIRST_PRIMITIVE_ID + index

    def primitive_of_id(self, object_id: int) -> Primitive | None:
        i = object_id - FIRST_PRIMITIVE_ID
        return self.primitives[i] if 0 <= i < len(self.primitives) else None

    def is_free(self, xy: np.ndarray, margin_m: float) -> np.ndarray:
        """Whether floor points are walkable: see ``floor_is_free``. Shape (N, 2) -> (N,) bool."""
        return floor_is_free(self.size_m, self.primitives, xy, margin_m)

    def room_signed_distance(self, points: np.ndarray) -> np.ndarray:
        """Distance (metres) of points to the nearest room face; 0 on the faces. (N, 3) -> (N,)."""
        size = np.asarray(self.size_m)
        return np.minimum(points, size - points).min(axis=1)


def floor_is_free(size_m, primitives, xy: np.ndarray, margin_m: float) -> np.ndarray:
    """Whether floor points are at least ``margin_m`` from walls and walk-blocking primitives.

    Shape (N, 2) -> (N,) bool.
    """
    xy = np.atleast_2d(xy)
    w, l_, _ = size_m
    free = (
        (xy[:, 0] > margin_m)
        & (xy[:, 0] < w - margin_m)
        & (xy[:, 1] > margin_m)
        & (xy[:, 1] < l_ - margin_m)
    )
    for p in primitives:
        if not p.blocks_walk:
            continue
        local = (xy - np.asarray(p.center_m[:2])) @ p.rotation()[:2, :2]  # world -> local, (N, 2)
        if p.kind == "sphere":
            inside = np.linalg.norm(local, axis=1) < p.half_m[0] + margin_m
        else:
            inside = np.all(np.abs(local) < np.asarray(p.half_m[:2]) + margin_m, axis=1)
        free &= ~inside
    return free
