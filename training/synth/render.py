"""The frame renderer: ray casting with screen-space culling, then deferred shading.

All rays of a frame share the camera centre. Each primitive is tested only against the pixels of
the screen rectangle its bounding sphere projects to (and skipped when it lies wholly behind what
is already drawn there), so cost grows with the pixels objects cover, not pixels x objects.
Shading: procedural albedo x (hemispheric ambient + a point lamp + a window light) x ambient
occlusion (contact shadows under objects, darkened room corners), plus emission.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egom2p_edge.training.synth.geometry import PinholeIntrinsics
from egom2p_edge.training.synth.intersect import (
    intersect_primitive,
    intersect_room,
    primitive_surface,
    room_surface,
)
from egom2p_edge.training.synth.scene import FIRST_PRIMITIVE_ID, FLOOR_ID, WALL_IDS, Scene
from egom2p_edge.training.synth.textures import shade_material


@dataclass(frozen=True)
class FrameRender:
    """One rendered view. radiance: (S, S, 3) linear RGB (before exposure); depth_m: (S, S)
    z-depth in metres; object_id: (S, S) int32 surface ids (see ``scene``)."""

    radiance: np.ndarray
    depth_m: np.ndarray
    object_id: np.ndarray


def _screen_rect(center_cam: np.ndarray, radius: float, K: PinholeIntrinsics) -> tuple | None:
    """Pixel rows/cols (r0, r1, c0, c1) that a sphere in camera coordinates can cover, or None."""
    near = 1e-3
    x, y, z = center_cam
    if z + radius < near:
        return None
    s = K.size
    if z - radius < near:
        return 0, s, 0, s  # straddles the camera plane: test the whole frame
    zs = (z - radius, z + radius)
    xs = [(x - radius) / zz for zz in zs] + [(x + radius) / zz for zz in zs]
    ys = [(y - radius) / zz for zz in zs] + [(y + radius) / zz for zz in zs]
    c0 = max(int(np.floor(K.fx * min(xs) + K.cx)), 0)
    c1 = min(int(np.ceil(K.fx * max(xs) + K.cx)) + 1, s)
    r0 = max(int(np.floor(K.fy * min(ys) + K.cy)), 0)
    r1 = min(int(np.ceil(K.fy * max(ys) + K.cy)) + 1, s)
    if c0 >= c1 or r0 >= r1:
        return None
    return r0, r1, c0, c1


def cast_view(
    scene: Scene, K: PinholeIntrinsics, T_world_camera: np.ndarray, t_s: float, rays_cam: np.ndarray
) -> tuple:
    """Depth (S, S), ids (S, S) and world ray directions (S, S, 3) of one view."""
    s = K.size
    R = T_world_camera[:3, :3]
    origin = T_world_camera[:3, 3]
    dirs = rays_cam @ R.T  # (S, S, 3) world directions, camera z-component 1
    depth, ids = intersect_room(scene.size_m, origin, dirs.reshape(-1, 3))
    depth = depth.reshape(s, s)  # (S*S,) -> (S, S)
    ids = ids.reshape(s, s).astype(np.int32)
    centers = [p.center_at(t_s) for p in scene.primitives]
    centers_cam = (np.array(centers).reshape(-1, 3) - origin) @ R  # world -> camera, (P, 3)
    for i in np.argsort(centers_cam[:, 2]):  # near to far, so occluded ones are skipped early
        prim = scene.primitives[i]
        radius = prim.bounding_radius()
        rect = _screen_rect(centers_cam[i], radius, K)
        if rect is None:
            continue
        r0, r1, c0, c1 = rect
        d_rect = depth[r0:r1, c0:c1]
        if centers_cam[i][2] - radius >= d_rect.max():
            continue  # everything in the rectangle is already nearer than this object can be
        t = intersect_primitive(prim, origin, dirs[r0:r1, c0:c1].reshape(-1, 3), t_s)
        t = t.reshape(d_rect.shape)  # (r1-r0)*(c1-c0) -> (r1-r0, c1-c0)
        closer = t < d_rect
        d_rect[closer] = t[closer]
        ids[r0:r1, c0:c1][closer] = FIRST_PRIMITIVE_ID + i
    return depth, ids, dirs


def _surface_attributes(scene: Scene, points, unit_dirs, ids, footprint_m, t_s):
    """Normals, albedo and emission of hit points, grouped by surface.

    points, unit_dirs: (N, 3); ids, footprint_m (frontal pixel size on the surface): (N,).
    Returns normals (N, 3), albedo (N, 3), emission (N,).
    """
    n = len(ids)
    normals = np.zeros((n, 3))
    albedo = np.zeros((n, 3))
    emission = np.zeros(n)
    order = np.argsort(ids, kind="stable")
    uniq, starts = np.unique(ids[order], return_index=True)
    ends = np.append(starts[1:], n)
    room_mats = {FLOOR_ID: scene.floor, 2: scene.ceiling, **dict(zip(WALL_IDS, scene.walls))}
    for oid, a, b in zip(uniq, starts, ends):
        idx = order[a:b]
        if oid < FIRST_PRIMITIVE_ID:
            if oid not in room_mats:
                continue  # no hit: left black
            normal, uv = room_surface(scene, int(oid), points[idx])
            normals[idx] = normal
            mat = room_mats[int(oid)]
        else:
            prim = scene.primitives[oid - FIRST_PRIMITIVE_ID]
            normals[idx], uv = primitive_surface(prim, points[idx], t_s)
            mat = prim.material
        # Grazing views stretch a pixel's footprint along the surface.
        cos_view = np.abs(np.einsum("ij,ij->i", normals[idx], unit_dirs[idx]))
        albedo[idx] = shade_material(mat, uv, footprint_m[idx] / np.maximum(cos_view, 0.2))
        emission[idx] = mat.emissive
    return normals, albedo, emission


def _contact_occlusion(prims, points: np.ndarray, t_s: float) -> np.ndarray:
    """Soft contact shadows that objects cast on up-facing surfaces below them. (N, 3) -> (N,)."""
    occl = np.ones(len(points))
    for prim in prims:
        c = prim.center_at(t_s)
        gap = (c[2] - prim.half_m[2]) - points[:, 2]  # height of the object's bottom above
        reach = prim.bounding_radius() + 0.03 + 1.5 * np.maximum(gap, 0.0)
        near = (gap > -0.02) & (gap < 1.2) & (np.abs(points[:, 0] - c[0]) < reach)
        near &= np.abs(points[:, 1] - c[1]) < reach
        if not np.any(near):
            continue
        local = (points[near, :2] - c[:2]) @ prim.rotation()[:2, :2]  # world -> local, (M, 2)
        if prim.kind == "sphere":
            dist = np.maximum(np.linalg.norm(local, axis=1) - 0.6 * prim.half_m[0], 0.0)
        else:
            dist = np.linalg.norm(
                np.maximum(np.abs(local) - np.asarray(prim.half_m[:2]), 0.0), axis=1
            )
        g = np.maximum(gap[near], 0.0)
        sigma = 0.03 + 0.5 * g
        occl[near] *= 1.0 - 0.55 / (1.0 + 2.5 * g) * np.exp(-((dist / sigma) ** 2))
    return occl


class Renderer:
    """Renders views of one scene at one resolution; holds what every frame of a clip shares.

    Precomputed once: the camera rays and a map of the contact shadows on the floor from every
    static object (a 2.5 cm grid), so a frame only computes shadows on raised surfaces (table
    and cabinet tops) and those of moving objects.
    """

    FLOOR_MAP_CELL_M = 0.025

    def __init__(self, scene: Scene, intrinsics: PinholeIntrinsics) -> None:
        self.scene = scene
        self.K = intrinsics
        self.rays_cam = intrinsics.rays_camera()
        casters = [p for p in scene.primitives if p.role not in ("rug", "decor", "window", "lamp")]
        self._static_casters = [p for p in casters if not p.moving]
        self._moving_casters = [p for p in casters if p.moving]
        w, l_, _ = scene.size_m
        cell = self.FLOOR_MAP_CELL_M
        xs = np.arange(0.0, w + cell, cell)
        ys = np.arange(0.0, l_ + cell, cell)
        grid = np.stack(np.meshgrid(xs, ys, indexing="xy"), axis=-1).reshape(-1, 2)  # (Y*X, 2)
        pts = np.concatenate([grid, np.zeros((len(grid), 1))], axis=1)
        occl = _contact_occlusion(self._static_casters, pts, 0.0)
        self._floor_map = occl.reshape(len(ys), len(xs))  # (Y*X,) -> (Y, X)

    def _floor_lookup(self, xy: np.ndarray) -> np.ndarray:
        """Bilinear lookup of the floor shadow map. (N, 2) -> (N,)."""
        m = self._floor_map
        g = xy / self.FLOOR_MAP_CELL_M
        i0 = np.clip(np.floor(g).astype(np.int64), 0, [m.shape[1] - 2, m.shape[0] - 2])
        f = np.clip(g - i0, 0.0, 1.0)
        x0, y0 = i0[:, 0], i0[:, 1]
        top = m[y0, x0] * (1 - f[:, 0]) + m[y0, x0 + 1] * f[:, 0]
        bot = m[y0 + 1, x0] * (1 - f[:, 0]) + m[y0 + 1, x0 + 1] * f[:, 0]
        return top * (1 - f[:, 1]) + bot * f[:, 1]

    def ambient_occlusion(self, points: np.ndarray, normals: np.ndarray, t_s: float) -> np.ndarray:
        """Soft darkening near contacts and room corners, in [0, 1]. (N, 3), (N, 3) -> (N,)."""
        w, l_, h = self.scene.size_m
        wall_dist = np.minimum(
            np.minimum(points[:, 0], w - points[:, 0]), np.minimum(points[:, 1], l_ - points[:, 1])
        )
        ao = 1.0 - 0.3 * np.exp(-wall_dist / 0.12)  # floor/wall and wall/wall corners
        ao *= 1.0 - 0.25 * np.exp(-np.minimum(points[:, 2], h - points[:, 2]) / 0.12)
        up = normals[:, 2] > 0.9
        floor = np.flatnonzero(up & (points[:, 2] < 1e-3))
        raised = np.flatnonzero(up & (points[:, 2] >= 1e-3))
        if floor.size:
            ao[floor] *= self._floor_lookup(points[floor, :2])
            if self._moving_casters:
                ao[floor] *= _contact_occlusion(self._moving_casters, points[floor], t_s)
        if raised.size:
            casters = self._static_casters + self._moving_casters
            ao[raised] *= _contact_occlusion(casters, points[raised], t_s)
        return ao

    def shade(self, points, normals, albedo, emission, t_s) -> np.ndarray:
        """Linear radiance of surface points. (N, 3) x4, (N,) -> (N, 3)."""
        light = self.scene.lighting
        ambient = np.asarray(light.ambient_rgb)[None, :] * (0.7 + 0.3 * normals[:, 2:3])
        to_lamp = np.asarray(light.lamp_pos_m) - points
        d2 = np.einsum("ij,ij->i", to_lamp, to_lamp)
        d = np.sqrt(d2)
        lambert = np.maximum(np.einsum("ij,ij->i", normals, to_lamp), 0.0) / d
        # The shade sends most light down: the ceiling around the lamp is not blown out.
        cone = 0.15 + 0.85 * np.clip(to_lamp[:, 2] / d, 0.0, 1.0)  # 1 straight below the lamp
        lamp = np.asarray(light.lamp_rgb)[None, :] * (lambert * cone / (d2 + 0.5))[:, None]
        sun_cos = np.maximum(-normals @ np.asarray(light.sun_dir), 0.0)
        sun = np.asarray(light.sun_rgb)[None, :] * sun_cos[:, None]
        ao = self.ambient_occlusion(points, normals, t_s)[:, None]
        return albedo * ((ambient + lamp + sun) * ao + emission[:, None])

    def render(self, T_world_camera: np.ndarray, t_s: float) -> FrameRender:
        """Render one view at time t_s (moving objects placed at t_s). T_world_camera: (4, 4)."""
        s = self.K.size
        depth, ids, dirs = cast_view(self.scene, self.K, T_world_camera, t_s, self.rays_cam)
        flat_dirs = dirs.reshape(-1, 3)  # (S, S, 3) -> (S*S, 3)
        t = depth.reshape(-1)
        points = T_world_camera[:3, 3] + flat_dirs * t[:, None]
        ray_len = np.linalg.norm(flat_dirs, axis=1)
        unit = flat_dirs / ray_len[:, None]
        footprint_m = t * ray_len / self.K.fx  # frontal surface size of one pixel
        normals, albedo, emission = _surface_attributes(
            self.scene, points, unit, ids.reshape(-1), footprint_m, t_s
        )
        radiance = self.shade(points, normals, albedo, emission, t_s)
        return FrameRender(radiance.reshape(s, s, 3), depth, ids)  # (S*S, 3) -> (S, S, 3)
