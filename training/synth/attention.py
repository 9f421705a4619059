"""Where the wearer looks: a schedule of fixation targets (points on visible objects) and the head
turns that go with them.

Each fixation starts with a saccade at its onset; the head, when the shift is large enough,
follows after a short lag (gaze leads the head) with a minimum-jerk turn covering most of the
shift, and the eyes make up the rest. A target on a moving object is followed by smooth pursuit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from egom2p_edge.training.synth.config import SynthKnobs
from egom2p_edge.training.synth.geometry import angle_between, direction_yaw_pitch, wrap_angle
from egom2p_edge.training.synth.intersect import cast_rays
from egom2p_edge.training.synth.motion import BodyPath, HeadTurn, head_turn_duration
from egom2p_edge.training.synth.paths import SPAN_S, BodyPlan
from egom2p_edge.training.synth.scene import FLOOR_ID, Scene

# How much each kind of object attracts gaze, per behaviour ("floor" = the floor ahead).
_ROLE_WEIGHTS = {
    "walk": {
        "floor": 2.0,
        "furniture": 1.0,
        "decor": 1.5,
        "floor_object": 1.0,
        "small": 1.0,
        "window": 0.5,
    },
    "walk_stop": {"floor": 1.0, "furniture": 1.0, "decor": 1.0, "floor_object": 1.0, "small": 3.0},
    "look_around": {
        "furniture": 1.0,
        "decor": 2.0,
        "floor_object": 1.0,
        "small": 1.5,
        "window": 1.0,
    },
    "quick_turn": {
        "furniture": 1.0,
        "decor": 2.0,
        "floor_object": 1.0,
        "small": 1.5,
        "window": 1.0,
    },
    "table": {"small": 4.0, "furniture": 0.3},
}
_MOVING_WEIGHT = 5.0
_MAX_YAW_DEG = {"walk": 60, "walk_stop": 60, "look_around": 110, "quick_turn": 170, "table": 70}
# Typical gaze-shift size per behaviour (deg): the weight of a target falls as exp(-shift/scale).
_SHIFT_SCALE_DEG = {
    "walk": 20.0,
    "walk_stop": 20.0,
    "look_around": 30.0,
    "quick_turn": 30.0,
    "table": 12.0,
}
_FIXATION_S = {
    "walk": (0.3, 0.8),
    "walk_stop": (0.25, 0.7),
    "look_around": (0.25, 0.7),
    "quick_turn": (0.25, 0.6),
    "table": (0.2, 0.55),
}


@dataclass(frozen=True)
class Fixation:
    """A gaze target from ``onset_s`` (its saccade starts) to ``end_s`` (the next one starts).

    object_id: id of the surface the target lies on; prim_index: its primitive, -1 for a room
    surface; point: the target in the primitive's local frame (it moves with the primitive), or
    in the world for a room surface; pursuit: the target moves (smooth pursuit).
    """

    onset_s: float
    end_s: float
    object_id: int
    prim_index: int
    point: tuple[float, float, float]
    pursuit: bool = False

    def point_world(self, scene: Scene, t_s: np.ndarray) -> np.ndarray:
        """World position of the target at times t_s. Shape (N,) -> (N, 3)."""
        t = np.atleast_1d(np.asarray(t_s, float))
        if self.prim_index < 0:
            return np.broadcast_to(np.asarray(self.point), (len(t), 3)).copy()
        prim = scene.primitives[self.prim_index]
        local = prim.rotation() @ np.asarray(self.point)
        return np.asarray(prim.center_m) + np.outer(t, prim.velocity_m_s) + local


@dataclass(frozen=True)
class AttentionPlan:
    fixations: tuple[Fixation, ...]
    head_start: tuple[float, float]  # (yaw, pitch) radians at the start of the span
    turns: tuple[HeadTurn, ...]


def _surface_point(prim, eye: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random point on the part of a primitive facing the eye, in its local frame. (3,)."""
    half = np.asarray(prim.half_m)
    eye_local = prim.rotation().T @ (eye - prim.center_m)
    if prim.kind == "sphere":
        d = eye_local / np.linalg.norm(eye_local)
        n = d + 0.35 * rng.normal(size=3)
        n /= np.linalg.norm(n)
        return half[0] * (n if n @ d > 0.5 else d)
    faces = [(k, s) for k in range(3) for s in (-1.0, 1.0) if s * eye_local[k] > half[k]]
    if not faces:
        return np.zeros(3)
    areas = [np.prod(np.delete(half, k)) * (abs(eye_local[k]) - half[k]) for k, _ in faces]
    k, s = faces[int(np.argmax(areas))]
    p = rng.uniform(-0.45, 0.45, 3) * half
    p[k] = s * half[k]
    return p


def _candidates(scene: Scene, body: BodyPath, behaviour: str, t: float, end: float, rng):
    """Visible targets from the eye at t, as (object_id, prim_index, point, weight) tuples."""
    weights = _ROLE_WEIGHTS[behaviour]
    eye = body.eye_position([t])[0]
    cands = []
    for i, prim in enumerate(scene.primitives):
        w = _MOVING_WEIGHT if prim.moving else weights.get(prim.role, 0.0)
        if w > 0:
            p_local = _surface_point(prim, eye - np.asarray(prim.velocity_m_s) * t, rng)
            cands.append((scene.primitive_id(i), i, p_local, w))
    if "floor" in weights:
        v = body.velocity_xy([t])[0]
        if np.linalg.norm(v) > 0.2:
            ahead = eye[:2] + v / np.linalg.norm(v) * rng.uniform(1.2, 3.0) + rng.normal(0, 0.2, 2)
            cands.append((FLOOR_ID, -1, np.array([*ahead, 0.0]), weights["floor"]))
    if not cands:
        return []
    # Keep targets in sight (unoccluded) at the start, middle and end of the fixation.
    times = (t, 0.5 * (t + end), end)
    ok = np.ones(len(cands), bool)
    for tt in times:
        e = body.eye_position([tt])[0]
        pts = np.array([_world(scene, c[1], c[2], tt) for c in cands])
        d = pts - e
        t_hit, ids = cast_rays(scene, np.broadcast_to(e, d.shape), d, tt)
        dist = np.linalg.norm(d, axis=1)
        ok &= (ids == np.array([c[0] for c in cands])) & (t_hit > 0.98) & (dist > 0.25) & (dist < 9)
    return [c for c, good in zip(cands, ok) if good]


def _world(scene: Scene, prim_index: int, point: np.ndarray, t: float) -> np.ndarray:
    if prim_index < 0:
        return np.asarray(point)
    prim = scene.primitives[prim_index]
    return prim.center_at(t) + prim.rotation() @ point


def _straight_ahead(scene: Scene, eye: np.ndarray, yaw: float, pitch: float, t: float) -> tuple:
    """The surface point straight ahead of the head, as a candidate tuple."""
    d = np.array([np.cos(pitch) * np.cos(yaw), np.cos(pitch) * np.sin(yaw), np.sin(pitch)])
    t_hit, ids = cast_rays(scene, eye[None], d[None], t)
    point = eye + d * t_hit[0]
    prim = scene.primitive_of_id(int(ids[0]))
    if prim is None:
        return int(ids[0]), -1, point, 1.0
    local = prim.rotation().T @ (point - prim.center_at(t))
    return int(ids[0]), int(ids[0]) - scene.primitive_id(0), local, 1.0


def _score(scene, cands, eye, t, head_yaw, behaviour, fixations) -> list:
    """Candidates allowed from the current head yaw, with weights favouring small gaze shifts.

    Returns ((object_id, prim_index, point, weight), target_yaw, target_pitch) tuples.
    """
    first = not fixations
    big_turn = behaviour == "quick_turn" and len(fixations) == 1  # the planned quick turn
    current = None
    if not first:
        current = _world(scene, fixations[-1].prim_index, fixations[-1].point, t) - eye
    lo = 70.0 if big_turn else 0.0
    hi = 40.0 if first else _MAX_YAW_DEG[behaviour]
    scored = []
    for oid, pidx, point, weight in cands:
        to_target = _world(scene, pidx, point, t) - eye
        yaw_t, pitch_t = direction_yaw_pitch(to_target)
        dyaw = float(np.rad2deg(abs(wrap_angle(yaw_t - head_yaw))))
        if not lo <= dyaw <= hi or np.rad2deg(pitch_t) < -75:
            continue
        if current is not None and not big_turn:
            # Most gaze shifts are small: favour near targets (and re-fixations of the same
            # object at another point).
            shift_deg = float(np.rad2deg(angle_between(current, to_target)))
            weight *= np.exp(-shift_deg / _SHIFT_SCALE_DEG[behaviour])
            weight *= 0.5 if oid == fixations[-1].object_id else 1.0
        scored.append(((oid, pidx, point, weight), float(yaw_t), float(pitch_t)))
    return scored


def _head_turn(rng, onset, head, target, behaviour, knobs) -> HeadTurn | None:
    """The head movement that goes with a gaze shift from ``head`` to ``target`` (yaw, pitch in
    radians), or None for a shift small enough for the eyes alone."""
    dyaw = float(wrap_angle(target[0] - head[0]))
    dpitch = target[1] - head[1]
    if np.rad2deg(np.hypot(dyaw, dpitch)) <= rng.uniform(8.0, 15.0):
        return None
    # The head covers most of a shift (nearly all of a quick turn); the eyes do the rest.
    k_yaw = rng.uniform(0.85, 1.0) if behaviour == "quick_turn" else rng.uniform(0.7, 0.95)
    k_pitch = rng.uniform(0.5, 0.85)
    new_yaw = head[0] + k_yaw * dyaw
    new_pitch = float(np.clip(head[1] + k_pitch * dpitch, np.deg2rad(-65), np.deg2rad(35)))
    t0 = onset + rng.uniform(0.0, 0.06)  # the head starts after the eyes
    amp_deg = np.rad2deg(np.hypot(new_yaw - head[0], new_pitch - head[1]))
    return HeadTurn(
        t0, head_turn_duration(amp_deg, knobs.max_head_rate_deg_s), float(new_yaw), new_pitch
    )


def plan_attention(
    scene: Scene, plan: BodyPlan, rng: np.random.Generator, knobs: SynthKnobs
) -> AttentionPlan:
    """Fixations over the clip span and the head turns that follow them."""
    behaviour, body = plan.behaviour, plan.body
    fix_lo, fix_hi = _FIXATION_S[behaviour]
    head = (plan.facing_yaw, np.deg2rad(-45.0 if behaviour == "table" else rng.uniform(-20, 0)))
    start_head = None
    fixations: list[Fixation] = []
    turns: list[HeadTurn] = []
    onset = SPAN_S[0]
    while onset < SPAN_S[1] - 0.3:
        first = not fixations
        dur = rng.uniform(0.5, 0.5 + fix_hi) if first else rng.uniform(fix_lo, fix_hi)
        cands = _candidates(scene, body, behaviour, 0.0 if first else onset, onset + dur, rng)
        eye = body.eye_position([onset + 0.15])[0]
        scored = _score(scene, cands, eye, onset + 0.15, head[0], behaviour, fixations)
        if not scored and fixations:  # nothing new in sight: keep looking at the current target
            fixations[-1] = dataclasses.replace(fixations[-1], end_s=fixations[-1].end_s + 0.2)
            onset += 0.2
            continue
        if not scored:  # nothing visible at all (a cramped view): look at what is straight ahead
            scored = [(_straight_ahead(scene, eye, head[0], head[1], onset), head[0], head[1])]
        w = np.array([c[0][3] for c in scored])
        (oid, pidx, point, _), yaw_t, pitch_t = scored[int(rng.choice(len(scored), p=w / w.sum()))]
        pursuit = pidx >= 0 and scene.primitives[pidx].moving
        if pursuit:
            dur = rng.uniform(0.6, 1.4)
        end = onset + dur
        if first:  # the clip starts mid-fixation, the head roughly aimed at the target
            head = (
                yaw_t - rng.uniform(-0.15, 0.15) * wrap_angle(yaw_t - head[0]),
                pitch_t * rng.uniform(0.6, 0.9),
            )
            start_head = (float(head[0]), float(head[1]))
        else:
            turn = _head_turn(rng, onset, head, (yaw_t, pitch_t), behaviour, knobs)
            if turn is not None:
                turns.append(turn)
                head = (turn.yaw_rad, turn.pitch_rad)
                end = max(end, turn.t_start_s + turn.duration_s + 0.05)  # wait for the head
        point = tuple(float(x) for x in point)
        fixations.append(Fixation(onset, end, int(oid), int(pidx), point, bool(pursuit)))
        onset = end
    fixations[-1] = dataclasses.replace(fixations[-1], end_s=np.inf)
    return AttentionPlan(tuple(fixations), start_head, tuple(turns))
