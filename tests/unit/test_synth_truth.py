"""Synthetic generator: the stored ground truth is geometrically consistent.

Every check starts from what a clip stores (depth, gaze, poses, the intrinsics in ``meta``) and
compares it with the scene through code paths other than the renderer's: signed distances of the
primitives, projection of the fixation targets, rays cast from the stored 2-D gaze.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from egom2p_edge.training.synth.config import SynthKnobs
from egom2p_edge.training.synth.generate import generate_clip_with_truth, plan_clip_motion
from egom2p_edge.training.synth.intersect import cast_rays
from egom2p_edge.training.synth.scene import CEILING_ID, FLOOR_ID, WALL_IDS

SIZE = 64
SEEDS = (0, 2, 3, 4, 5, 9)  # six rooms; walking, standing and table clips among them


@pytest.fixture(scope="module")
def clips():
    return [generate_clip_with_truth(s, SIZE, SynthKnobs.clean()) for s in SEEDS]


def _intrinsics(clip):
    m = clip.meta
    return m["fx"], m["fy"], m["cx"], m["cy"]


def _world_points(clip, depth, T_first_cam):
    """Back-project every pixel with the stored intrinsics and pose. -> (S*S, 3) world."""
    fx, fy, cx, cy = _intrinsics(clip)
    v, u = np.mgrid[0:SIZE, 0:SIZE]
    z = depth.astype(np.float64).ravel()
    cam = np.stack([(u.ravel() - cx) / fx * z, (v.ravel() - cy) / fy * z, z, np.ones_like(z)])
    T = np.asarray(clip.meta["T_world_first_camera"]) @ T_first_cam
    return (T @ cam)[:3].T


def _surface_distance(scene, ids, pts, t_s):
    size = np.asarray(scene.size_m)
    out = np.full(len(ids), np.inf)
    planes = {
        FLOOR_ID: (2, 0.0),
        CEILING_ID: (2, size[2]),
        WALL_IDS[0]: (0, 0.0),
        WALL_IDS[1]: (0, size[0]),
        WALL_IDS[2]: (1, 0.0),
        WALL_IDS[3]: (1, size[1]),
    }
    for oid in np.unique(ids):
        m = ids == oid
        if oid in planes:
            axis, value = planes[oid]
            out[m] = pts[m, axis] - value
        else:
            out[m] = scene.primitive_of_id(int(oid)).signed_distance(pts[m], t_s)
    return np.abs(out)


def test_backprojected_depth_lies_on_the_surface_hit(clips):
    for clip, truth in clips:
        T_video = np.asarray(clip.meta["T_first_camera_video"])
        for k in (0, 7, 15):
            pts = _world_points(clip, clip.depth_m[k], T_video[k])
            dist = _surface_distance(truth.scene, truth.object_id[k].ravel(), pts, k / 8)
            # float32 depth of a few metres: ~1e-6 m
            assert dist.max() < 2e-5, (clip.clip_id, k, dist.max())


def test_video_and_trajectory_poses_agree_at_shared_times(clips):
    for clip, _ in clips:
        T_video = np.asarray(clip.meta["T_first_camera_video"])
        for kv, kt in ((0, 0), (4, 15), (8, 30), (12, 45)):  # k/8 s == j/30 s
            np.testing.assert_allclose(T_video[kv], clip.T_first_camera[kt], atol=1e-12)


def test_points_reproject_consistently_into_another_frame(clips):
    for clip, truth in clips:
        fx, fy, cx, cy = _intrinsics(clip)
        for a, b in ((0, 4), (6, 9), (11, 15)):
            T_a = np.asarray(clip.meta["T_first_camera_video"])[a]
            pts = _world_points(clip, clip.depth_m[a], T_a)
            moving = np.isin(
                truth.object_id[a].ravel(),
                [
                    truth.scene.primitive_id(i)
                    for i, p in enumerate(truth.scene.primitives)
                    if p.moving
                ],
            )
            # into frame b with the stored 30 Hz trajectory where the times coincide, else video
            if b * 30 % 8 == 0:
                T_b = clip.T_first_camera[b * 30 // 8]
            else:
                T_b = np.asarray(clip.meta["T_first_camera_video"])[b]
            T_world_b = np.asarray(clip.meta["T_world_first_camera"]) @ T_b
            cam = (np.linalg.inv(T_world_b) @ np.c_[pts, np.ones(len(pts))].T)[:3].T
            u = fx * cam[:, 0] / cam[:, 2] + cx
            v = fy * cam[:, 1] / cam[:, 2] + cy
            ui, vi = np.round(u).astype(int), np.round(v).astype(int)
            inside = (cam[:, 2] > 0.1) & (ui >= 0) & (ui < SIZE) & (vi >= 0) & (vi < SIZE) & ~moving
            assert inside.sum() > 0.3 * SIZE * SIZE
            z_b = clip.depth_m[b][vi[inside], ui[inside]]
            agree = np.abs(z_b - cam[inside, 2]) < 0.05 * cam[inside, 2]
            # the rest is occlusion, disocclusion and rounding at edges
            assert agree.mean() > 0.85, (clip.clip_id, a, b, agree.mean())


def test_gaze_points_at_the_fixated_object(clips):
    on_target_total = 0
    for clip, truth in clips:
        fx, fy, cx, cy = _intrinsics(clip)
        target = np.asarray(clip.meta["fixation_target_id"])
        T_world = np.asarray(clip.meta["T_world_first_camera"]) @ clip.T_first_camera
        ks = np.flatnonzero((target >= 0) & clip.gaze_valid)
        on_target_total += len(ks)
        for k in ks:
            # a ray from the stored 2-D gaze, through the stored pose, hits the target object
            u, v = clip.gaze_xy_norm[k] * SIZE - 0.5
            ray = T_world[k, :3, :3] @ np.array([(u - cx) / fx, (v - cy) / fy, 1.0])
            _, ids = cast_rays(truth.scene, T_world[k, :3, 3][None], ray[None], k / 30)
            assert ids[0] == target[k], (clip.clip_id, k)
            # and the fixation's target point projects exactly onto the stored gaze
            onsets = [f.onset_s for f in truth.fixations]
            fix = truth.fixations[int(np.searchsorted(onsets, k / 30, side="right")) - 1]
            p = fix.point_world(truth.scene, [k / 30])[0]
            cam = np.linalg.inv(T_world[k]) @ np.append(p, 1.0)
            uv = np.array([fx * cam[0] / cam[2] + cx, fy * cam[1] / cam[2] + cy])
            np.testing.assert_allclose((uv + 0.5) / SIZE, clip.gaze_xy_norm[k], atol=1e-9)
        # on frames shared with the video, the rendered object map agrees at the gaze pixel
        hits = []
        for kv, kt in ((0, 0), (4, 15), (8, 30), (12, 45)):
            if target[kt] >= 0 and clip.gaze_valid[kt]:
                u, v = np.round(clip.gaze_xy_norm[kt] * SIZE - 0.5).astype(int)
                hits.append(truth.object_id[kv][v, u] == target[kt])
        if hits:
            assert np.mean(hits) >= 0.5, clip.clip_id
    assert on_target_total > 0.5 * 60 * len(clips)  # mostly fixating, as people do


def test_invalid_gaze_during_blinks(clips):
    blinked = 0
    for clip, _ in clips:
        t = np.arange(60) / 30
        for b0, b1 in clip.meta["blinks_s"]:
            inside = (t >= b0) & (t < b1)
            blinked += inside.sum()
            assert not clip.gaze_valid[inside].any()
            assert np.all(clip.gaze_xy_norm[inside] == 0.0)
        assert clip.gaze_valid.sum() >= 60 - sum(
            np.sum((t >= b0) & (t < b1)) for b0, b1 in clip.meta["blinks_s"]
        )
    assert blinked > 0


def test_pursuit_follows_a_moving_object():
    knobs = dataclasses.replace(SynthKnobs.clean(), moving_object_prob=1.0)
    seed = next(
        s
        for s in range(60)
        if any(f.pursuit for f in plan_clip_motion(s, knobs).attention.fixations)
    )
    clip, truth = generate_clip_with_truth(seed, SIZE, knobs)
    target = np.asarray(clip.meta["fixation_target_id"])
    pursuit = np.asarray(clip.meta["gaze_in_pursuit"]) & (target >= 0) & clip.gaze_valid
    ks = np.flatnonzero(pursuit)
    assert len(ks) >= 4
    ball = truth.scene.primitive_of_id(int(target[ks[0]]))
    assert ball.moving
    # the object really moves during the pursuit, and the gaze follows it smoothly
    travel = np.linalg.norm(ball.center_at(ks[-1] / 30) - ball.center_at(ks[0] / 30))
    assert travel > 0.02
    fx, fy, cx, cy = _intrinsics(clip)
    T_world = np.asarray(clip.meta["T_world_first_camera"]) @ clip.T_first_camera
    for k in ks:
        cam = np.linalg.inv(T_world[k]) @ np.append(ball.center_at(k / 30), 1.0)
        uv = (np.array([fx * cam[0] / cam[2] + cx, fy * cam[1] / cam[2] + cy]) + 0.5) / SIZE
        radius_norm = ball.half_m[0] * fx / cam[2] / SIZE
        assert np.linalg.norm(uv - clip.gaze_xy_norm[k]) <= radius_norm * 1.01  # on the ball
