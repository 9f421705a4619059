"""Body paths per behaviour: walking (curving), walking up to the table and stopping, standing
(looking around, quick turns), and standing or sitting close to the table. Paths keep clear of
walls and furniture."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from egom2p_edge.training.synth.config import SynthKnobs
from egom2p_edge.training.synth.motion import BodyPath
from egom2p_edge.training.synth.scene import Scene
from egom2p_edge.training.synth.spline import QuinticSpline, min_jerk

SPAN_S = (-0.5, 2.5)  # the motion is defined a little beyond the clip, for blur sub-frames
_KNOT_TIMES_S = np.round(np.arange(SPAN_S[0], SPAN_S[1] + 1e-9, 0.1), 10)
# Clearance only matters where frames and samples are taken (blur sub-frames reach ~10 ms out).
_CHECK_TIMES_S = np.linspace(-0.05, 2.05, 43)
_AHEAD_TIMES_S = np.linspace(2.05, 2.6, 12)
WALK_MARGIN_M = 0.35  # body radius plus clearance from walls and furniture


@dataclass(frozen=True)
class BodyPlan:
    """A body path and how it was made. facing_yaw: direction the person faces at t = 0
    (radians); focus_index: index of a primitive the behaviour is about (the table), or -1."""

    body: BodyPath
    behaviour: str
    facing_yaw: float
    focus_index: int = -1


def _spline_from(
    fn: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> QuinticSpline:
    """A spline through dense knots of an analytic path fn(t) -> (pos, vel, acc), each (N, 2)."""
    p, v, a = fn(_KNOT_TIMES_S)
    return QuinticSpline(_KNOT_TIMES_S, p, v, a)


def _arc(p0: np.ndarray, yaw0: float, speed: float, turn_rad_s: float):
    """Walking along a circular arc through p0 at t = 0 at constant speed."""

    def fn(t):
        yaw = yaw0 + turn_rad_s * t
        d = np.stack([np.cos(yaw), np.sin(yaw)], axis=1)
        n = np.stack([-np.sin(yaw), np.cos(yaw)], axis=1)
        if abs(turn_rad_s) < 1e-6:
            p = p0 + speed * t[:, None] * d
        else:
            r = speed / turn_rad_s
            p = p0 + r * np.stack([np.sin(yaw) - np.sin(yaw0), np.cos(yaw0) - np.cos(yaw)], axis=1)
        return p, speed * d, speed * turn_rad_s * n

    return fn


def _stop_at(end: np.ndarray, yaw: float, speed: float, t_stop: float, decel_s: float):
    """Walking straight at ``speed`` then slowing with a min-jerk profile, resting at ``end``."""
    d = np.array([np.cos(yaw), np.sin(yaw)])
    t_dec = t_stop - decel_s

    def fn(t):
        s = np.clip((t - t_dec) / decel_s, 0.0, 1.0)
        # remaining distance: the ramp covers speed*decel_s/2; integral of (1 - minjerk) on [s, 1]
        tail = decel_s * (1 - s - (2.5 * (1 - s**4) - 3 * (1 - s**5) + (1 - s**6)))
        remaining = np.where(t < t_dec, speed * (t_dec - t) + speed * decel_s / 2, speed * tail)
        vel = speed * (1.0 - min_jerk(s))
        acc = -speed * np.where((s > 0) & (s < 1), 30 * s**2 * (1 - s) ** 2, 0.0) / decel_s
        return end - remaining[:, None] * d, vel[:, None] * d, acc[:, None] * d

    return fn


def _hover(p0: np.ndarray, rng: np.random.Generator, amp_m: float):
    """Standing: a slow sway of a few centimetres around p0."""
    amp = rng.uniform(0.3, 1.0, 2) * amp_m
    freq = rng.uniform(0.15, 0.5, 2)
    phase = rng.uniform(0, 2 * np.pi, 2)

    def fn(t):
        w = 2 * np.pi * freq
        arg = w * t[:, None] + phase
        return p0 + amp * np.sin(arg), amp * w * np.cos(arg), -amp * w * w * np.sin(arg)

    return fn


def _free_point(scene: Scene, rng: np.random.Generator, margin: float) -> np.ndarray | None:
    w, l_, _ = scene.size_m
    pts = rng.uniform([0, 0], [w, l_], (200, 2))
    ok = np.flatnonzero(scene.is_free(pts, margin))
    return pts[ok[0]] if ok.size else None


def _body(rng, xy: QuinticSpline, eye_height: float) -> BodyPath:
    return BodyPath(
        xy,
        eye_height,
        bob_m=float(rng.uniform(0.01, 0.025)),
        sway_m=float(rng.uniform(0.01, 0.025)),
        step_hz=float(rng.uniform(1.6, 2.1)),
        phase=(float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi))),
    )


def _path_clear(scene: Scene, xy: QuinticSpline, margin: float) -> bool:
    """Clear during the clip, and the way ahead is open too (nobody walks at a wall at speed)."""
    ahead = xy(_AHEAD_TIMES_S)
    return bool(
        np.all(scene.is_free(xy(_CHECK_TIMES_S), margin)) and np.all(scene.is_free(ahead, 0.15))
    )


def _table_side(scene: Scene, rng, gap_m: tuple[float, float]) -> tuple[np.ndarray, float] | None:
    """A free spot beside the table (``gap_m`` from its edge) and the yaw facing the table."""
    table = scene.primitives[scene.table_index]
    rot = table.rotation()[:2, :2]
    for side in rng.permutation(4):
        axis, sign = int(side) // 2, (1.0 if side % 2 == 0 else -1.0)
        local = np.zeros(2)
        local[axis] = sign * (table.half_m[axis] + rng.uniform(*gap_m))
        local[1 - axis] = rng.uniform(-0.5, 0.5) * table.half_m[1 - axis]
        spot = np.asarray(table.center_m[:2]) + rot @ local
        if scene.is_free(spot[None], 0.15)[0]:
            # Face the near edge squarely, turned a little toward the table centre.
            inward = -(rot @ (np.eye(2)[axis] * sign))
            to_table = np.asarray(table.center_m[:2]) - spot
            yaw_edge = np.arctan2(inward[1], inward[0])
            off = np.arctan2(inward[0] * to_table[1] - inward[1] * to_table[0], inward @ to_table)
            yaw = float(yaw_edge + 0.3 * off)
            return spot, yaw
    return None


def plan_body(
    scene: Scene, behaviour: str, rng: np.random.Generator, knobs: SynthKnobs
) -> BodyPlan:
    """A body path for this behaviour; falls back to standing when the room has no room for it."""
    lo, hi = knobs.walk_speed_m_s
    standing_eye = float(rng.uniform(1.5, 1.75))
    if behaviour == "walk":
        for attempt in range(40):
            speed = rng.uniform(lo, hi) * 0.9 ** (attempt // 10)
            start = _free_point(scene, rng, WALK_MARGIN_M)
            if start is None:
                break
            # Try several headings from this spot: rooms are small for a 2-s walk.
            for yaw0 in rng.uniform(0, 2 * np.pi) + np.arange(8) * np.pi / 4:
                turn = np.deg2rad(rng.uniform(-45, 45))
                xy = _spline_from(_arc(start, yaw0, speed, turn))
                if _path_clear(scene, xy, WALK_MARGIN_M):
                    return BodyPlan(_body(rng, xy, standing_eye), behaviour, float(yaw0))
    if behaviour == "walk_stop" and scene.table_index >= 0:
        for attempt in range(40):
            spot = _table_side(scene, rng, (0.35, 0.55))
            if spot is None:
                break
            end, face = spot
            heading = face + rng.uniform(-0.4, 0.4)
            speed = rng.uniform(lo, hi) * 0.9 ** (attempt // 10)
            decel = rng.uniform(0.6, 1.0)
            xy = _spline_from(_stop_at(end, heading, speed, rng.uniform(1.0, 1.9), decel))
            if _path_clear(scene, xy, 0.25):
                return BodyPlan(
                    _body(rng, xy, standing_eye), behaviour, float(heading), scene.table_index
                )
    if behaviour == "table" and scene.table_index >= 0:
        sitting = rng.random() < 0.5
        spot = _table_side(scene, rng, (0.2, 0.35) if sitting else (0.25, 0.45))
        if spot is not None:
            eye = float(rng.uniform(1.12, 1.28)) if sitting else standing_eye
            xy = _spline_from(_hover(spot[0], rng, 0.02))
            return BodyPlan(_body(rng, xy, eye), behaviour, spot[1], scene.table_index)
    # look_around, quick_turn, and the fallback of the others: standing somewhere free.
    start = _free_point(scene, rng, 0.4)
    if start is None:
        start = np.asarray(scene.size_m[:2]) / 2  # a cramped room: stand in the middle
    centre = np.asarray(scene.size_m[:2]) / 2
    to_centre = np.arctan2(*(centre - start)[::-1])
    face = float(to_centre + rng.uniform(-1.2, 1.2))
    xy = _spline_from(_hover(start, rng, 0.03))
    used = behaviour if behaviour in ("look_around", "quick_turn") else "look_around"
    return BodyPlan(_body(rng, xy, standing_eye), used, face)
