"""Synthetic generator: splines, head motion (smooth, realistic speeds, collision-free) and gaze
dynamics (main-sequence saccades, gaze leading head turns)."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.training.synth.attention import Fixation
from egom2p_edge.training.synth.config import SynthKnobs
from egom2p_edge.training.synth.gaze import gaze_at, saccade_duration, saccade_peak_velocity
from egom2p_edge.training.synth.generate import plan_clip_motion
from egom2p_edge.training.synth.geometry import PinholeIntrinsics, angle_between
from egom2p_edge.training.synth.motion import BodyPath, HeadMotion
from egom2p_edge.training.synth.scene import WALL_IDS, Lighting, Material, Scene
from egom2p_edge.training.synth.spline import QuinticSpline, min_jerk

SEEDS = range(24)
DENSE_HZ = 1000.0


@pytest.fixture(scope="module")
def plans():
    return [plan_clip_motion(s) for s in SEEDS]


def _rotation_rates_deg_s(R: np.ndarray, dt: float) -> np.ndarray:
    """Angular speed between consecutive rotations. (N, 3, 3) -> (N-1,)."""
    rel = np.einsum("nji,njk->nik", R[:-1], R[1:])  # R_a^T R_b
    cos = np.clip((np.trace(rel, axis1=1, axis2=2) - 1) / 2, -1, 1)
    return np.rad2deg(np.arccos(cos)) / dt


def test_spline_hits_knots_and_is_c2():
    t = np.array([0.0, 0.4, 1.0, 1.3])
    p = np.array([[0.0, 1.0], [1.0, -1.0], [0.5, 2.0], [2.0, 0.0]])
    v = np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5], [0.0, 0.0]])
    a = np.array([[0.0, 0.0], [3.0, -1.0], [0.0, 2.0], [0.0, 0.0]])
    sp = QuinticSpline(t, p, v, a)
    np.testing.assert_allclose(sp(t), p, atol=1e-12)
    np.testing.assert_allclose(sp(t, order=1), v, atol=1e-9)
    eps = 1e-9
    for knot, acc in zip(t[1:-1], a[1:-1]):  # second derivative continuous across inner knots
        np.testing.assert_allclose(sp([knot - eps], 2)[0], acc, atol=1e-4)
        np.testing.assert_allclose(sp([knot + eps], 2)[0], acc, atol=1e-4)
    tt = np.linspace(0.05, 1.25, 50)
    fd = (sp(tt + 1e-6) - sp(tt - 1e-6)) / 2e-6
    np.testing.assert_allclose(sp(tt, 1), fd, atol=1e-5)


def test_spline_rejects_bad_knots():
    with pytest.raises(ValueError, match="strictly increase"):
        QuinticSpline([0.0, 0.0, 1.0], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="knots"):
        QuinticSpline([0.0], [0.0])


def test_min_jerk_peak_rate():
    s = np.linspace(0, 1, 100001)
    rate = np.gradient(min_jerk(s), s)
    assert rate.max() == pytest.approx(1.875, rel=1e-4)


def test_head_motion_is_smooth_with_realistic_speeds(plans):
    knobs = SynthKnobs()
    t = np.arange(0.0, 2.0, 1 / DENSE_HZ)
    peak_rot = []
    for plan in plans:
        T = plan.head.T_world_camera(t)
        rot_rate = _rotation_rates_deg_s(T[:, :3, :3], 1 / DENSE_HZ)
        rot_acc = np.abs(np.diff(rot_rate)) * DENSE_HZ
        pos = T[:, :3, 3]
        vel = np.diff(pos, axis=0) * DENSE_HZ
        acc = np.diff(vel, axis=0) * DENSE_HZ
        peak_rot.append(rot_rate.max())
        # min-jerk turns stay under the knob's peak rate; tremor and walking rock add a little
        assert rot_rate.max() < knobs.max_head_rate_deg_s + 25.0, plan.behaviour
        assert rot_acc.max() < 2500.0, plan.behaviour  # deg/s^2: no jumps in angular velocity
        assert np.linalg.norm(vel, axis=1).max() < knobs.walk_speed_m_s[1] + 0.2
        assert np.linalg.norm(acc, axis=1).max() < 6.0, plan.behaviour  # m/s^2, bob included
    assert max(peak_rot) > 100.0  # some clips do make quick head turns


def test_walking_speed_and_clearance(plans):
    lo, hi = SynthKnobs().walk_speed_m_s
    t = np.linspace(0.0, 2.0, 61)
    walks = [p for p in plans if p.behaviour == "walk"]
    assert walks, "no walking clip among the seeds"
    for plan in walks:
        xy = plan.head.position_at(t)[:, :2]
        speed = np.linalg.norm(np.diff(xy, axis=0), axis=1) * 30.0
        assert 0.7 * lo < speed.mean() < hi * 1.05
    for plan in plans:
        xy = plan.head.position_at(t)[:, :2]
        assert np.all(plan.scene.is_free(xy, 0.14)), plan.behaviour  # never inside furniture


def test_gaze_leads_head_turns(plans):
    turns = 0
    for plan in plans:
        onsets = np.array([f.onset_s for f in plan.attention.fixations])
        for turn in plan.attention.turns:
            lead = turn.t_start_s - onsets[onsets <= turn.t_start_s + 1e-9].max()
            assert 0.0 <= lead <= 0.1  # the saccade starts first, the head within 100 ms
            turns += 1
    assert turns >= len(plans)


def test_main_sequence():
    assert 300 < saccade_peak_velocity(10.0) < 500  # deg/s, literature ~ 300-450
    assert 480 < saccade_peak_velocity(20.0) < 600
    assert 0.03 < saccade_duration(10.0) < 0.06  # s, literature ~ 2.2 ms/deg + 21 ms
    assert 0.09 < saccade_duration(40.0) < 0.15
    amps = np.linspace(1, 60, 50)
    assert np.all(np.diff(saccade_duration(amps)) > 0)


def _static_head(eye: np.ndarray) -> HeadMotion:
    body = BodyPath(
        QuinticSpline([-1.0, 3.0], [eye[:2], eye[:2]]), float(eye[2]), 0.0, 0.0, 2.0, (0, 0)
    )
    angles = QuinticSpline([-1.0, 3.0], [[0.0, 0.0, 0.0]] * 2)
    return HeadMotion(body, angles, np.zeros((3, 1, 3)))


def test_saccade_follows_the_main_sequence():
    """A 20-degree saccade between two wall points from a still head: peak velocity and end
    points match the main sequence; before and after, the gaze rests on its targets."""
    grey = Material("solid", (0.5,) * 3, (0.5,) * 3)
    light = Lighting((2, 2, 2.5), (1, 1, 1), (0, 0, -1), (0, 0, 0), (0.3,) * 3)
    scene = Scene((4.0, 4.0, 3.0), grey, grey, (grey,) * 4, (), light)
    eye = np.array([1.0, 2.0, 1.5])
    p1 = np.array([4.0, 2.0, 1.5])
    p2 = np.array([4.0, 2.0 - 3.0 * np.tan(np.deg2rad(20)), 1.5])
    fix = (
        Fixation(-1.0, 0.5, WALL_IDS[1], -1, tuple(p1)),
        Fixation(0.5, np.inf, WALL_IDS[1], -1, tuple(p2)),
    )
    K = PinholeIntrinsics.from_hfov(64, 90.0)
    t = np.arange(0.4, 0.7, 1e-4)
    g = gaze_at(scene, _static_head(eye), fix, [], K, t, 35.0)
    speed = np.rad2deg(angle_between(g.dir_world[:-1], g.dir_world[1:])) / 1e-4
    assert speed.max() == pytest.approx(saccade_peak_velocity(20.0), rel=0.01)
    assert np.all(g.target_id[t < 0.5] == WALL_IDS[1]) and np.all(
        g.target_id[t > 0.6] == WALL_IDS[1]
    )
    assert np.all(g.target_id[(t > 0.5) & (t < 0.5 + saccade_duration(20.0))] == -1)
    # at rest the gaze projects to the target: p1 straight ahead is the image centre
    np.testing.assert_allclose(g.xy_norm[0], [0.5, 0.5], atol=1e-9)
