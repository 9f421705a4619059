"""Procedural indoor rooms: furniture along the walls, a table with small objects, chairs, floor
objects, posters, a door, a window, a rug and a lamp, all drawn from one random generator."""

from __future__ import annotations

import numpy as np

from egom2p_edge.training.synth import materials as mats
from egom2p_edge.training.synth.scene import Material, Primitive

# Inward normal yaw of each wall (x = 0, x = W, y = 0, y = L): a wall-aligned item's local x.
WALL_YAW = (0.0, np.pi, np.pi / 2, -np.pi / 2)


class Layout:
    """Primitives being placed, with their floor footprints for overlap tests."""

    def __init__(self, size_m: tuple[float, float, float]) -> None:
        self.size_m = size_m
        self.prims: list[Primitive] = []
        self.footprints: list[tuple[np.ndarray, np.ndarray, float]] = []  # (centre, half, yaw)

    def overlaps(self, center_xy, half_xy, yaw: float, margin: float = 0.0) -> bool:
        """Whether a footprint (grown by ``margin`` metres) leaves the room or meets one placed."""
        c, h = np.asarray(center_xy, float), np.asarray(half_xy, float) + margin
        w, l_ = self.size_m[:2]
        corners = _corners(c, h - margin, yaw)
        if corners.min() < 0.0 or np.any(corners[:, 0] > w) or np.any(corners[:, 1] > l_):
            return True
        return any(_obb_overlap(c, h, yaw, c2, h2, y2) for c2, h2, y2 in self.footprints)

    def add(self, prim: Primitive, footprint: bool = True) -> int:
        """Place a primitive (its footprint blocks later ones when ``footprint``); its index."""
        self.prims.append(prim)
        if footprint:
            self.footprints.append(
                (np.asarray(prim.center_m[:2]), np.asarray(prim.half_m[:2]), prim.yaw_rad)
            )
        return len(self.prims) - 1


def _corners(c: np.ndarray, h: np.ndarray, yaw: float) -> np.ndarray:
    rot = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
    signs = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], float)
    return c + (signs * h) @ rot.T  # (4, 2)


def _obb_overlap(c1, h1, y1, c2, h2, y2) -> bool:
    """Separating-axis test of two oriented rectangles."""
    p1, p2 = _corners(c1, h1, y1), _corners(c2, h2, y2)
    for yaw in (y1, y2):
        for axis in (np.array([np.cos(yaw), np.sin(yaw)]), np.array([-np.sin(yaw), np.cos(yaw)])):
            a, b = p1 @ axis, p2 @ axis
            if a.max() < b.min() or b.max() < a.min():
                return False
    return True


def box(center, half, mat: Material, role: str, yaw=0.0, blocks=False, name="") -> Primitive:
    """A box primitive from array-like centre and half extents (metres)."""
    return Primitive(
        "box",
        tuple(float(x) for x in center),
        tuple(float(x) for x in half),
        mat,
        role,
        yaw_rad=float(yaw),
        blocks_walk=blocks,
        name=name,
    )


def _wall_frame(wall: int, size_m, along: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Point on the wall at ``along`` metres, its inward normal and yaw."""
    w, l_, _ = size_m
    yaw = WALL_YAW[wall]
    normal = np.array([np.cos(yaw), np.sin(yaw)])
    base = [
        np.array([0.0, along]),
        np.array([w, along]),
        np.array([along, 0.0]),
        np.array([along, l_]),
    ]
    return base[wall], normal, yaw


def _wall_length(wall: int, size_m) -> float:
    return size_m[1] if wall < 2 else size_m[0]


def add_table(lay: Layout, rng: np.random.Generator) -> int:
    w, l_, _ = lay.size_m
    for _ in range(30):
        half = np.array([rng.uniform(0.4, 0.8), rng.uniform(0.3, 0.5)])
        c = np.array([rng.uniform(1.1, w - 1.1), rng.uniform(1.1, l_ - 1.1)])
        yaw = float(rng.choice([0.0, np.pi / 2])) if rng.random() < 0.5 else rng.uniform(0, np.pi)
        if not lay.overlaps(c, half, yaw, margin=0.0):
            break
    height = rng.uniform(0.7, 0.78)
    mat = mats.furniture_material(rng)
    top = box([*c, height - 0.02], [*half, 0.02], mat, "furniture", yaw, blocks=True, name="table")
    idx = lay.add(top)
    rot = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
    for sx in (-1, 1):
        for sy in (-1, 1):
            leg_xy = c + rot @ (np.array([sx, sy]) * (half - 0.06))
            lay.add(
                box(
                    [*leg_xy, (height - 0.04) / 2],
                    [0.025, 0.025, (height - 0.04) / 2],
                    mat,
                    "structure",
                    yaw,
                    name="table_leg",
                ),
                footprint=False,
            )
    return idx


def add_table_objects(lay: Layout, rng: np.random.Generator, table: Primitive, n: int) -> None:
    top_z = table.center_m[2] + table.half_m[2]
    rot = table.rotation()[:2, :2]
    placed: list[tuple[np.ndarray, float]] = []
    for _ in range(n * 6):
        if len(placed) >= n:
            break
        sphere = rng.random() < 0.3
        r = rng.uniform(0.03, 0.07) if sphere else 0.0
        half = (
            np.array([r, r, r])
            if sphere
            else np.array(
                [rng.uniform(0.02, 0.12), rng.uniform(0.02, 0.12), rng.uniform(0.01, 0.12)]
            )
        )
        reach = float(np.hypot(*half[:2]))
        local = rng.uniform(-1, 1, 2) * (np.asarray(table.half_m[:2]) - reach - 0.02)
        xy = np.asarray(table.center_m[:2]) + rot @ local
        if any(np.linalg.norm(xy - p) < reach + q + 0.03 for p, q in placed):
            continue
        placed.append((xy, reach))
        mat = mats.object_material(rng)
        if sphere:
            lay.add(
                Primitive("sphere", (*xy, top_z + r), (r, r, r), mat, "small", name="ball"), False
            )
        else:
            lay.add(
                box(
                    [*xy, top_z + half[2]], half, mat, "small", rng.uniform(0, np.pi), name="object"
                ),
                footprint=False,
            )


def add_wall_furniture(lay: Layout, rng: np.random.Generator, n: int) -> None:
    for _ in range(n * 8):
        if n <= 0:
            break
        kind = str(rng.choice(["cabinet", "shelf", "sofa", "cabinet"]))
        wall = int(rng.integers(4))
        width = rng.uniform(0.6, 1.8) if kind != "sofa" else rng.uniform(1.4, 2.2)
        depth = {
            "cabinet": rng.uniform(0.4, 0.6),
            "shelf": rng.uniform(0.3, 0.5),
            "sofa": rng.uniform(0.8, 0.95),
        }[kind]
        height = {
            "cabinet": rng.uniform(0.45, 1.0),
            "shelf": rng.uniform(1.5, 2.2),
            "sofa": rng.uniform(0.4, 0.48),
        }[kind]
        length = _wall_length(wall, lay.size_m)
        if width + 0.2 > length:
            continue
        base, normal, yaw = _wall_frame(
            wall, lay.size_m, rng.uniform(width / 2 + 0.05, length - width / 2 - 0.05)
        )
        c = base + normal * (depth / 2 + 0.01)
        half = np.array([depth / 2, width / 2])
        if lay.overlaps(c, half, yaw, margin=0.05):
            continue
        mat = mats.furniture_material(rng)
        lay.add(box([*c, height / 2], [*half, height / 2], mat, "furniture", yaw, True, kind))
        n -= 1
        if kind == "sofa":
            back = base + normal * 0.11
            lay.add(
                box(
                    [*back, 0.45], [0.1, width / 2, 0.45], mat, "furniture", yaw, True, "sofa_back"
                ),
                footprint=False,
            )
        elif kind == "cabinet" and rng.random() < 0.7:
            for _ in range(int(rng.integers(1, 4))):
                along = rng.uniform(-width / 2 + 0.1, width / 2 - 0.1)
                h = np.array(
                    [rng.uniform(0.04, 0.12), rng.uniform(0.04, 0.15), rng.uniform(0.03, 0.15)]
                )
                xy = c + np.array([-normal[1], normal[0]]) * along
                lay.add(
                    box(
                        [*xy, height + h[2]],
                        h,
                        mats.object_material(rng),
                        "small",
                        yaw + rng.uniform(-0.3, 0.3),
                        name="shelf_object",
                    ),
                    footprint=False,
                )


def add_floor_objects(lay: Layout, rng: np.random.Generator, n: int) -> None:
    w, l_, _ = lay.size_m
    for _ in range(n * 8):
        if n <= 0:
            break
        kind = str(rng.choice(["crate", "plant", "bin"]))
        half = np.array([rng.uniform(0.1, 0.3), rng.uniform(0.1, 0.3), rng.uniform(0.1, 0.3)])
        if kind == "plant":
            half = np.array([0.12, 0.12, rng.uniform(0.12, 0.2)])
        c = np.array([rng.uniform(0.2, w - 0.2), rng.uniform(0.2, l_ - 0.2)])
        yaw = rng.uniform(0, np.pi)
        if lay.overlaps(c, half[:2], yaw, margin=0.3):
            continue
        n -= 1
        mat = mats.furniture_material(rng) if kind != "plant" else mats.object_material(rng)
        lay.add(box([*c, half[2]], half, mat, "floor_object", yaw, True, kind))
        if kind == "plant":
            r = rng.uniform(0.2, 0.35)
            leaves = Material(
                "noise",
                mats.random_color(rng, hue=(0.22, 0.38), sat=(0.5, 0.9), val=(0.2, 0.6)),
                mats.random_color(rng, hue=(0.2, 0.35), sat=(0.4, 0.9), val=(0.1, 0.4)),
                scale_m=0.06,
                seed=int(rng.integers(2**31 - 1)),
            )
            lay.add(
                Primitive(
                    "sphere",
                    (*c, 2 * half[2] + r * 0.8),
                    (r, r, r),
                    leaves,
                    "floor_object",
                    blocks_walk=True,
                    name="foliage",
                ),
                footprint=False,
            )


def add_wall_decor(lay: Layout, rng: np.random.Generator, window_brightness: float) -> int:
    """Posters, a door and a window; returns the wall the window is on (-1 without one)."""
    window_wall = -1
    items = ["poster"] * int(rng.integers(1, 5)) + ["door"] * int(rng.random() < 0.6)
    items += ["window"] * int(rng.random() < 0.6)
    for kind in items:
        for _ in range(10):
            wall = int(rng.integers(4))
            length = _wall_length(wall, lay.size_m)
            if kind == "door":
                size, z0, mat = (
                    (rng.uniform(0.8, 0.95), rng.uniform(2.0, 2.1)),
                    0.0,
                    mats.furniture_material(rng),
                )
            elif kind == "window":
                size = (rng.uniform(0.8, 1.6), rng.uniform(0.9, 1.3))
                z0, mat = rng.uniform(0.8, 1.1), mats.window_material(rng, window_brightness)
            else:
                size = (rng.uniform(0.35, 1.2), rng.uniform(0.3, 0.9))
                z0, mat = rng.uniform(1.0, 1.9 - size[1] / 2), mats.poster_material(rng)
            if size[0] + 0.3 > length:
                continue
            base, normal, yaw = _wall_frame(
                wall, lay.size_m, rng.uniform(size[0] / 2 + 0.1, length - size[0] / 2 - 0.1)
            )
            c = np.array([*(base + normal * 0.012), z0 + size[1] / 2])
            half = np.array([0.012, size[0] / 2, size[1] / 2])
            if any(_boxes_touch(c, half, yaw, p) for p in lay.prims):
                continue
            lay.add(
                box(c, half, mat, "window" if kind == "window" else "decor", yaw, False, kind),
                False,
            )
            window_wall = wall if kind == "window" else window_wall
            break
    return window_wall


def _boxes_touch(c, half, yaw, p: Primitive) -> bool:
    """Whether a box's world bounding box comes within 5 cm of a primitive's bounding box."""

    def aabb(center, h, y):
        ex = abs(np.cos(y)) * h[0] + abs(np.sin(y)) * h[1]
        ey = abs(np.sin(y)) * h[0] + abs(np.cos(y)) * h[1]
        return np.asarray(center) - [ex, ey, h[2]], np.asarray(center) + [ex, ey, h[2]]

    lo1, hi1 = aabb(c, half, yaw)
    lo2, hi2 = aabb(p.center_m, p.half_m, p.yaw_rad)
    return bool(np.all(lo1 < hi2 + 0.05) and np.all(lo2 < hi1 + 0.05))


def add_chairs(lay: Layout, rng: np.random.Generator, table: Primitive, n: int) -> None:
    rot = table.rotation()[:2, :2]
    sides = rng.permutation(4)[:n]
    for side in sides:
        axis = int(side) // 2
        sign = 1.0 if side % 2 == 0 else -1.0
        local = np.zeros(2)
        local[axis] = sign * (table.half_m[axis] + rng.uniform(0.27, 0.4))
        local[1 - axis] = rng.uniform(-0.5, 0.5) * table.half_m[1 - axis]
        c = np.asarray(table.center_m[:2]) + rot @ local
        yaw = table.yaw_rad + (0.0 if axis == 0 else np.pi / 2) + (np.pi if sign > 0 else 0.0)
        if lay.overlaps(c, (0.22, 0.22), yaw, margin=0.02):
            continue
        mat = mats.furniture_material(rng)
        seat_h = rng.uniform(0.42, 0.48)
        lay.add(
            box([*c, seat_h / 2], [0.22, 0.22, seat_h / 2], mat, "furniture", yaw, True, "chair")
        )
        back_xy = c - np.array([np.cos(yaw), np.sin(yaw)]) * 0.2
        lay.add(
            box(
                [*back_xy, seat_h + 0.22],
                [0.02, 0.22, 0.22],
                mat,
                "furniture",
                yaw,
                True,
                "chair_back",
            ),
            footprint=False,
        )
