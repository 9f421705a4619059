"""``generate_scene``: one procedural room with its lights (and maybe a rolling ball), per seed."""

from __future__ import annotations

import numpy as np

from egom2p_edge.training.synth import layout
from egom2p_edge.training.synth import materials as mats
from egom2p_edge.training.synth.config import SynthKnobs
from egom2p_edge.training.synth.scene import Lighting, Primitive, Scene, floor_is_free

_PATH_TIMES_S = np.linspace(-0.4, 2.4, 29)  # a moving object's path must be clear over the clip


def _vary(rng: np.random.Generator, lo: float, hi: float, variation: float) -> float:
    """A value in [lo, hi]: the midpoint when variation is 0, uniform over the range when 1."""
    mid = 0.5 * (lo + hi)
    return float(mid + variation * (rng.uniform(lo, hi) - mid))


def _lighting(rng, size_m, window_wall: int, variation: float) -> Lighting:
    w, l_, h = size_m
    lamp = (
        _vary(rng, 0.3 * w, 0.7 * w, variation),
        _vary(rng, 0.3 * l_, 0.7 * l_, variation),
        h - 0.35,
    )
    lamp_rgb = mats.light_color(_vary(rng, 2700, 6500, variation)) * _vary(rng, 1.5, 5.0, variation)
    if window_wall >= 0:
        inward = np.array(
            [np.cos(layout.WALL_YAW[window_wall]), np.sin(layout.WALL_YAW[window_wall])]
        )
        elev = np.deg2rad(rng.uniform(20, 50))
        side = rng.uniform(-0.5, 0.5)
        d = np.array([*(inward + side * np.array([-inward[1], inward[0]])), 0.0])
        d[:2] *= np.cos(elev) / np.linalg.norm(d[:2])
        d[2] = -np.sin(elev)
        sun_rgb = mats.light_color(_vary(rng, 5000, 6500, variation)) * _vary(
            rng, 0.1, 0.8, variation
        )
    else:
        d, sun_rgb = np.array([0.0, 0.0, -1.0]), np.zeros(3)
    ambient = mats.light_color(_vary(rng, 3500, 6500, variation)) * _vary(
        rng, 0.25, 0.55, variation
    )
    return Lighting(
        lamp_pos_m=tuple(float(x) for x in lamp),
        lamp_rgb=tuple(float(x) for x in lamp_rgb),
        sun_dir=tuple(float(x) for x in d),
        sun_rgb=tuple(float(x) for x in sun_rgb),
        ambient_rgb=tuple(float(x) for x in ambient),
        exposure=float(2.0 ** _vary(rng, -0.6, 0.6, variation)),
    )


def _moving_ball(rng, scene_prims, size_m, table: Primitive) -> Primitive | None:
    """A ball rolling across the floor or the table top, on a path clear of everything else."""
    on_table = rng.random() < 0.4
    for _ in range(40):
        heading = rng.uniform(0, 2 * np.pi)
        direction = np.array([np.cos(heading), np.sin(heading)])
        if on_table:
            r, speed = rng.uniform(0.025, 0.04), rng.uniform(0.08, 0.25)
            local0 = rng.uniform(-1, 1, 2) * (np.asarray(table.half_m[:2]) - r)
            start = np.asarray(table.center_m[:2]) + table.rotation()[:2, :2] @ local0
            path = start + np.outer(_PATH_TIMES_S, direction * speed)  # (T, 2)
            local = (path - table.center_m[:2]) @ table.rotation()[:2, :2]
            ok = np.all(np.abs(local) < np.asarray(table.half_m[:2]) - r)
            smalls = [p for p in scene_prims if p.role == "small"]
            ok &= all(
                np.min(np.linalg.norm(path - s.center_m[:2], axis=1))
                > np.hypot(*s.half_m[:2]) + r + 0.02
                for s in smalls
            )
            z = table.center_m[2] + table.half_m[2] + r
        else:
            r, speed = rng.uniform(0.07, 0.14), rng.uniform(0.3, 1.0)
            start = rng.uniform(0.3, 1.0, 2) * np.asarray(size_m[:2]) * 0.9
            path = start + np.outer(_PATH_TIMES_S, direction * speed)
            ok = bool(np.all(floor_is_free(size_m, scene_prims, path, r + 0.05)))
            z = r
        if ok:
            mat = mats.object_material(rng)
            v = (*(direction * speed), 0.0)
            return Primitive(
                "sphere", (*start, z), (r, r, r), mat, "small", velocity_m_s=v, name="rolling_ball"
            )
    return None


def generate_scene(rng: np.random.Generator, knobs: SynthKnobs) -> Scene:
    """A random furnished room. Same generator state, same room."""
    size_m = (
        float(rng.uniform(3.6, 7.0)),
        float(rng.uniform(3.6, 7.0)),
        float(rng.uniform(2.4, 3.0)),
    )
    lay = layout.Layout(size_m)
    table_idx = layout.add_table(lay, rng)
    table = lay.prims[table_idx]
    layout.add_chairs(lay, rng, table, int(rng.integers(0, 3)))
    layout.add_wall_furniture(lay, rng, int(rng.integers(2, 6)))
    layout.add_floor_objects(lay, rng, int(rng.integers(1, 5)))
    layout.add_table_objects(lay, rng, table, int(rng.integers(3, 8)))
    window_wall = layout.add_wall_decor(
        lay, rng, brightness := _vary(rng, 1.5, 3.0, knobs.lighting_variation)
    )
    if rng.random() < 0.5:
        half = (rng.uniform(0.6, 1.3), rng.uniform(0.5, 1.0), 0.003)
        c = (
            rng.uniform(half[0] + 0.3, size_m[0] - half[0] - 0.3),
            rng.uniform(half[1] + 0.3, size_m[1] - half[1] - 0.3),
            0.003,
        )
        lay.add(
            layout.box(
                c, half, mats.poster_material(rng), "rug", rng.uniform(0, np.pi), name="rug"
            ),
            footprint=False,
        )
    lighting = _lighting(rng, size_m, window_wall, knobs.lighting_variation)
    lamp_r = rng.uniform(0.1, 0.18)
    tint = tuple(float(x) for x in np.asarray(lighting.lamp_rgb) / max(lighting.lamp_rgb))
    lamp_z = lighting.lamp_pos_m[2] + lamp_r + 0.02  # the point light sits just below the shade
    lay.add(
        Primitive(
            "sphere",
            (*lighting.lamp_pos_m[:2], lamp_z),
            (lamp_r,) * 3,
            mats.lamp_material(4.0, tint),
            "lamp",
            name="lamp",
        ),
        footprint=False,
    )
    floor, ceiling = mats.floor_material(rng), mats.ceiling_material(rng)
    walls = tuple(mats.wall_material(rng) for _ in range(4))
    if rng.random() < 0.7:
        walls = (walls[0],) * 4  # most rooms have one wall finish
    # Drawn last, so the moving-object knob does not change the rest of the room.
    if rng.random() < knobs.moving_object_prob:
        ball = _moving_ball(rng, lay.prims, size_m, table)
        if ball is not None:
            lay.add(ball, footprint=False)
    return Scene(
        size_m=size_m,
        floor=floor,
        ceiling=ceiling,
        walls=walls,
        primitives=tuple(lay.prims),
        lighting=lighting,
        table_index=table_idx,
        info={"room_size_m": list(size_m), "window_wall": window_wall, "brightness": brightness},
    )
