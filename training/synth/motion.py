"""Head motion of a person wearing camera glasses, as continuous functions of time.

The eye (camera centre) follows a body path (a C2 spline on the floor at eye height) plus the
vertical bob and lateral sway of walking; the head orientation follows yaw/pitch/roll splines
(piecewise minimum-jerk turns between held orientations) plus small smooth tremor. Everything is
analytic in t, so poses at 30 Hz, video frames at 8 fps and blur sub-frames agree exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egom2p_edge.training.synth.geometry import pose_matrices, rotation_world_camera
from egom2p_edge.training.synth.spline import MIN_JERK_PEAK_RATE, QuinticSpline

WALK_REF_SPEED_M_S = 1.2  # bob and sway amplitudes are quoted at this speed


@dataclass(frozen=True)
class BodyPath:
    """Where the eye is. xy: spline of the floor position (metres); eye_height_m: standing or
    sitting eye height; bob_m / sway_m: walking bob and sway amplitudes at the reference speed;
    step_hz: step frequency; phase: random phases of bob and sway (radians)."""

    xy: QuinticSpline
    eye_height_m: float
    bob_m: float
    sway_m: float
    step_hz: float
    phase: tuple[float, float]

    def velocity_xy(self, t_s: np.ndarray) -> np.ndarray:
        """Floor velocity (m/s). Shape (N,) -> (N, 2)."""
        return self.xy(t_s, order=1)

    def eye_position(self, t_s: np.ndarray) -> np.ndarray:
        """World eye position (metres). Shape (N,) -> (N, 3)."""
        t = np.atleast_1d(np.asarray(t_s, float))
        xy = self.xy(t)
        v = self.velocity_xy(t) / WALK_REF_SPEED_M_S  # (N, 2), ~unit while walking
        gain = np.minimum(np.linalg.norm(v, axis=1), 1.0)
        right = np.stack([v[:, 1], -v[:, 0]], axis=1)  # walking direction turned right, scaled
        w = 2 * np.pi * self.step_hz
        z = self.eye_height_m + self.bob_m * gain * np.sin(w * t + self.phase[0])
        xy = xy + self.sway_m * right * np.sin(0.5 * w * t + self.phase[1])[:, None]
        return np.concatenate([xy, z[:, None]], axis=1)


@dataclass(frozen=True)
class HeadTurn:
    """One minimum-jerk head movement: starts at ``t_start_s``, lasts ``duration_s``, ends at
    (yaw, pitch) in radians (yaw unwrapped, continuing from the previous orientation)."""

    t_start_s: float
    duration_s: float
    yaw_rad: float
    pitch_rad: float


def head_turn_duration(amplitude_deg: float, max_rate_deg_s: float) -> float:
    """Duration of a head movement whose peak rate grows with its amplitude (capped)."""
    peak = min(max_rate_deg_s, 60.0 + 1.6 * amplitude_deg)
    return max(0.2, MIN_JERK_PEAK_RATE * amplitude_deg / peak)


@dataclass(frozen=True)
class HeadMotion:
    """The full head pose over time: body path + orientation splines + tremor.

    angles: spline of (yaw, pitch, roll) in radians; tremor: (3, K, 3) rows of (amplitude rad,
    frequency Hz, phase rad) of K sinusoids per angle.
    """

    body: BodyPath
    angles: QuinticSpline
    tremor: np.ndarray

    def angles_at(self, t_s: np.ndarray) -> np.ndarray:
        """(yaw, pitch, roll) in radians, tremor and walking rock included. (N,) -> (N, 3)."""
        t = np.atleast_1d(np.asarray(t_s, float))
        ang = self.angles(t).copy()
        amp, freq, phase = self.tremor[..., 0], self.tremor[..., 1], self.tremor[..., 2]  # (3, K)
        ang += np.einsum(
            "ak,nak->na", amp, np.sin(2 * np.pi * freq[None] * t[:, None, None] + phase[None])
        )
        gain = np.minimum(
            np.linalg.norm(self.body.velocity_xy(t), axis=1) / WALK_REF_SPEED_M_S, 1.0
        )
        w = 2 * np.pi * self.body.step_hz
        ang[:, 1] += np.deg2rad(0.6) * gain * np.sin(w * t + self.body.phase[0] + 0.5)
        ang[:, 2] += np.deg2rad(1.2) * gain * np.sin(0.5 * w * t + self.body.phase[1])
        return ang

    def position_at(self, t_s: np.ndarray) -> np.ndarray:
        return self.body.eye_position(t_s)

    def T_world_camera(self, t_s: np.ndarray) -> np.ndarray:
        """Camera-to-world poses (OpenCV camera axes, metres). Shape (N,) -> (N, 4, 4)."""
        ang = self.angles_at(t_s)
        R = rotation_world_camera(ang[:, 0], ang[:, 1], ang[:, 2])
        return pose_matrices(R, self.position_at(t_s))


def angle_spline(
    start: tuple[float, float], turns: list[HeadTurn], roll_rad: float, span_s: tuple[float, float]
) -> QuinticSpline:
    """(yaw, pitch, roll) spline: hold ``start``, then each turn as a rest-to-rest min-jerk move.

    Turns must not overlap. The roll stays at ``roll_rad``.
    """
    times = [span_s[0]]
    values = [(start[0], start[1], roll_rad)]
    for turn in turns:
        t0, t1 = turn.t_start_s, turn.t_start_s + turn.duration_s
        if t0 <= times[-1] + 1e-6:
            raise ValueError(f"head turns overlap or start before {times[-1]:.3f} s: {turn}")
        times += [t0, t1]
        values += [values[-1], (turn.yaw_rad, turn.pitch_rad, roll_rad)]
    if times[-1] < span_s[1]:
        times.append(span_s[1])
        values.append(values[-1])
    return QuinticSpline(np.array(times), np.array(values))


def random_tremor(rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """Small smooth head tremor: 3 sinusoids per angle, < ~1 degree. Shape (3, 3, 3)."""
    amp = np.deg2rad(rng.uniform(0.1, 0.6, (3, 3))) * scale
    freq = rng.uniform(0.2, 1.5, (3, 3))
    phase = rng.uniform(0, 2 * np.pi, (3, 3))
    return np.stack([amp, freq, phase], axis=-1)
