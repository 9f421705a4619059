"""Gaze signals: fixations, main-sequence saccades, smooth pursuit, eye-in-head limits, blinks.

During a fixation the gaze ray points exactly at the target point (so head motion is compensated,
as the vestibulo-ocular reflex does). A saccade rotates the gaze from the old target to the new
one with a minimum-jerk profile whose peak velocity follows the main sequence,
``V_peak = 600 (1 - exp(-A / 10)) deg/s``. The eye cannot turn more than ``max_eccentricity``
from the optical axis, so in a large gaze shift the gaze waits at that limit until the head
brings the target in. Blinks are intervals where the gaze is marked invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egom2p_edge.training.synth.attention import Fixation
from egom2p_edge.training.synth.geometry import PinholeIntrinsics, angle_between, slerp_directions
from egom2p_edge.training.synth.intersect import cast_rays
from egom2p_edge.training.synth.motion import HeadMotion
from egom2p_edge.training.synth.scene import Scene
from egom2p_edge.training.synth.spline import MIN_JERK_PEAK_RATE, min_jerk

SACCADE_VMAX_DEG_S = 600.0
SACCADE_C_DEG = 10.0


def saccade_peak_velocity(amplitude_deg: np.ndarray) -> np.ndarray:
    """Main-sequence peak velocity (deg/s) of a saccade of this amplitude (deg)."""
    return SACCADE_VMAX_DEG_S * (1.0 - np.exp(-np.asarray(amplitude_deg) / SACCADE_C_DEG))


def saccade_duration(amplitude_deg: np.ndarray) -> np.ndarray:
    """Duration (s) of a min-jerk saccade reaching the main-sequence peak velocity."""
    a = np.maximum(np.asarray(amplitude_deg, float), 0.1)
    return MIN_JERK_PEAK_RATE * a / saccade_peak_velocity(a)


@dataclass(frozen=True)
class GazeSamples:
    """Gaze at N times. dir_world: (N, 3) unit gaze rays; xy_norm: (N, 2) in [0, 1] of the
    image (x right, y down); valid: (N,) not blinking; target_id: (N,) id of the fixated
    object where the gaze rests on its target (not in a saccade, not at the eye-in-head limit,
    not blinking, target unoccluded), else -1; saccade: (N,) inside a saccade; pursuit: (N,)
    following a moving target."""

    dir_world: np.ndarray
    xy_norm: np.ndarray
    valid: np.ndarray
    target_id: np.ndarray
    saccade: np.ndarray
    pursuit: np.ndarray


def plan_blinks(rng: np.random.Generator, rate_hz: float, span_s: tuple, fixations) -> list:
    """Blink intervals (start_s, end_s): spontaneous (Poisson) and with some large saccades."""
    blinks = []
    t = span_s[0]
    while rate_hz > 0:
        t += rng.exponential(1.0 / rate_hz)
        if t >= span_s[1]:
            break
        blinks.append((t, t + rng.uniform(0.1, 0.25)))
    for f in fixations[1:]:
        if rng.random() < 0.15:
            blinks.append((f.onset_s, f.onset_s + rng.uniform(0.1, 0.2)))
    return sorted(blinks)


def gaze_at(
    scene: Scene,
    head: HeadMotion,
    fixations: tuple[Fixation, ...],
    blinks: list,
    K: PinholeIntrinsics,
    t_s: np.ndarray,
    max_eccentricity_deg: float,
) -> GazeSamples:
    """The gaze at times t_s (seconds). Shape (N,)."""
    t = np.atleast_1d(np.asarray(t_s, float))
    eye = head.position_at(t)  # (N, 3)
    onsets = np.array([f.onset_s for f in fixations])
    idx = np.clip(np.searchsorted(onsets, t, side="right") - 1, 0, len(fixations) - 1)
    d_new = np.zeros((len(t), 3))
    d_old = np.zeros((len(t), 3))
    frac = np.ones(len(t))
    for i, fix in enumerate(fixations):
        m = idx == i
        if not np.any(m):
            continue
        d = fix.point_world(scene, t[m]) - eye[m]
        d_new[m] = d / np.linalg.norm(d, axis=1, keepdims=True)
        if i == 0:
            d_old[m] = d_new[m]
            continue
        prev = fixations[i - 1]
        e0 = head.position_at([fix.onset_s])
        a0 = prev.point_world(scene, [fix.onset_s]) - e0
        b0 = fix.point_world(scene, [fix.onset_s]) - e0
        amp = np.rad2deg(angle_between(a0, b0))[0]
        dur = float(saccade_duration(amp))
        d = prev.point_world(scene, t[m]) - eye[m]
        d_old[m] = d / np.linalg.norm(d, axis=1, keepdims=True)
        frac[m] = min_jerk((t[m] - fix.onset_s) / dur)
    dir_world = slerp_directions(d_old, d_new, frac)
    saccade = frac < 1.0
    # Into the camera frame; hold the eye inside its range of motion.
    R = head.T_world_camera(t)[:, :3, :3]
    d_cam = np.einsum("nji,nj->ni", R, dir_world)  # R^T d
    ecc = np.arccos(np.clip(d_cam[:, 2], -1.0, 1.0))
    limit = np.deg2rad(max_eccentricity_deg)
    clamped = ecc > limit
    if np.any(clamped):
        lateral = d_cam[clamped, :2] / np.linalg.norm(d_cam[clamped, :2], axis=1, keepdims=True)
        d_cam[clamped] = np.concatenate(
            [np.sin(limit) * lateral, np.full((clamped.sum(), 1), np.cos(limit))], axis=1
        )
        dir_world[clamped] = np.einsum("nij,nj->ni", R[clamped], d_cam[clamped])
    xy_norm = K.pixel_to_norm(K.project(d_cam))
    valid = np.ones(len(t), bool)
    for b0, b1 in blinks:
        valid &= ~((t >= b0) & (t < b1))
    target = np.array([fixations[i].object_id for i in idx])
    hit_ids = _hits(scene, eye, dir_world, t)
    on_target = valid & ~saccade & ~clamped & (hit_ids == target)
    pursuit = np.array([fixations[i].pursuit for i in idx]) & ~saccade
    return GazeSamples(dir_world, xy_norm, valid, np.where(on_target, target, -1), saccade, pursuit)


def _hits(scene: Scene, eye: np.ndarray, dirs: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Object id hit by each gaze ray at its own time (moving objects differ per time)."""
    if not any(p.moving for p in scene.primitives):
        return cast_rays(scene, eye, dirs, 0.0)[1]
    ids = np.zeros(len(t), dtype=np.int64)
    for k in range(len(t)):  # one ray per sample: a short loop over samples, not pixels
        ids[k] = cast_rays(scene, eye[k : k + 1], dirs[k : k + 1], float(t[k]))[1][0]
    return ids
