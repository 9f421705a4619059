"""Synthetic generator: ray intersection and rendering against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.training.synth.config import SynthKnobs
from egom2p_edge.training.synth.geometry import (
    PinholeIntrinsics,
    pose_matrices,
    rotation_world_camera,
)
from egom2p_edge.training.synth.intersect import intersect_primitive, intersect_room
from egom2p_edge.training.synth.render import Renderer
from egom2p_edge.training.synth.room import generate_scene
from egom2p_edge.training.synth.scene import (
    FLOOR_ID,
    WALL_IDS,
    Lighting,
    Material,
    Primitive,
    Scene,
)
from egom2p_edge.training.synth.sensor import blur_offsets_s, develop
from egom2p_edge.training.synth.textures import shade_material

GREY = Material("solid", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), noise_amp=0.0)
CHECKER = Material("checker", (0.9, 0.9, 0.9), (0.1, 0.1, 0.1), scale_m=0.5, noise_amp=0.0)


def _scene(prims=()) -> Scene:
    light = Lighting(
        (2.0, 2.0, 2.5), (1.0, 1.0, 1.0), (0.0, 0.0, -1.0), (0.0, 0.0, 0.0), (0.3,) * 3
    )
    return Scene((4.0, 5.0, 3.0), CHECKER, GREY, (GREY,) * 4, tuple(prims), light)


def test_room_exit_distances_and_faces():
    origin = np.array([1.0, 2.0, 1.5])
    dirs = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, -1], [1, 1, 0]], float)
    t, ids = intersect_room((4.0, 5.0, 3.0), origin, dirs)
    np.testing.assert_allclose(t[:5], [3.0, 1.0, 3.0, 2.0, 1.5])
    assert ids[:5].tolist() == [WALL_IDS[1], WALL_IDS[0], WALL_IDS[3], WALL_IDS[2], FLOOR_ID]
    assert t[5] == pytest.approx(3.0) and ids[5] == WALL_IDS[1]  # x = 4 is reached before y = 5


def test_box_and_sphere_known_hits():
    box = Primitive("box", (3.0, 0.0, 0.0), (0.5, 0.5, 0.5), GREY, "furniture")
    # 45 degrees about z: the corner now points at the origin, at x = 3 - sqrt(0.5)
    turned = Primitive(
        "box", (3.0, 0.0, 0.0), (0.5, 0.5, 0.5), GREY, "furniture", yaw_rad=np.pi / 4
    )
    ball = Primitive("sphere", (0.0, 4.0, 0.0), (1.0, 1.0, 1.0), GREY, "small")
    o = np.zeros(3)
    ray_x = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(intersect_primitive(box, o, ray_x, 0.0), [2.5, 1.25, np.inf])
    assert intersect_primitive(turned, o, ray_x[:1], 0.0)[0] == pytest.approx(3 - np.sqrt(0.5))
    assert intersect_primitive(ball, o, np.array([[0.0, 1.0, 0.0]]), 0.0)[0] == pytest.approx(3.0)
    # a moving sphere is hit where it is at that time
    rolling = Primitive(
        "sphere", (0.0, 4.0, 0.0), (1.0,) * 3, GREY, "small", velocity_m_s=(0, 1, 0)
    )
    assert intersect_primitive(rolling, o, np.array([[0.0, 1.0, 0.0]]), 2.0)[0] == pytest.approx(
        5.0
    )


@pytest.mark.parametrize("size", [24, 37, 64])
def test_depth_is_z_depth_of_a_facing_wall(size):
    """Looking straight at the x = 4 wall from x = 3, every pixel's z-depth is 1 m (the ray
    length grows toward the corners, the z-depth does not)."""
    K = PinholeIntrinsics.from_hfov(size, 60.0)
    T = pose_matrices(rotation_world_camera([0.0], [0.0], [0.0]), np.array([[3.0, 2.5, 1.5]]))[0]
    frame = Renderer(_scene(), K).render(T, 0.0)
    assert frame.depth_m.shape == (size, size) and frame.radiance.shape == (size, size, 3)
    np.testing.assert_allclose(frame.depth_m, 1.0, rtol=1e-12)
    assert np.all(frame.object_id == WALL_IDS[1])
    assert np.all(np.isfinite(frame.radiance)) and frame.radiance.min() >= 0


def test_camera_axes_follow_opencv():
    """Yaw 0 looks along +x; image x (right) is world -y; image y (down) is world -z."""
    R = rotation_world_camera([0.0], [0.0], [0.0])[0]
    np.testing.assert_allclose(R[:, 2], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(R[:, 0], [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(R[:, 1], [0, 0, -1], atol=1e-12)
    R2 = rotation_world_camera([0.7], [-0.4], [0.2])[0]
    np.testing.assert_allclose(R2.T @ R2, np.eye(3), atol=1e-12)
    assert np.linalg.det(R2) == pytest.approx(1.0)


def test_box_in_view_occludes_wall_at_its_depth():
    box = Primitive("box", (3.0, 2.5, 1.5), (0.2, 0.3, 0.3), GREY, "furniture")
    K = PinholeIntrinsics.from_hfov(33, 60.0)
    T = pose_matrices(rotation_world_camera([0.0], [0.0], [0.0]), np.array([[1.0, 2.5, 1.5]]))[0]
    frame = Renderer(_scene([box]), K).render(T, 0.0)
    c = K.size // 2
    assert frame.object_id[c, c] == 7
    assert frame.depth_m[c, c] == pytest.approx(1.8)  # front face at x = 2.8
    assert frame.depth_m[c, 0] == pytest.approx(3.0)  # the left edge still sees the wall
    assert frame.object_id[c, 0] == WALL_IDS[1]


def test_textures_fade_to_mean_when_pixels_are_large():
    uv = np.random.default_rng(0).uniform(0, 5, (2000, 2))
    sharp = shade_material(CHECKER, uv, np.full(2000, 1e-4))
    blurred = shade_material(CHECKER, uv, np.full(2000, 2.0))
    assert sharp[:, 0].std() > 0.3  # a crisp black-and-white checker
    np.testing.assert_allclose(blurred, 0.5, atol=0.01)  # far away: its mean grey


def test_motion_blur_sub_frames_grow_with_motion():
    K = PinholeIntrinsics.from_hfov(128, 80.0)
    still = pose_matrices(rotation_world_camera([0.0], [0.0], [0.0]), np.zeros((1, 3)))[0]
    turned = pose_matrices(
        rotation_world_camera([np.deg2rad(6.0)], [0.0], [0.0]), np.zeros((1, 3))
    )[0]
    np.testing.assert_array_equal(blur_offsets_s(0.01, still, still, K, 5), [0.0])
    np.testing.assert_array_equal(blur_offsets_s(0.0, still, turned, K, 5), [0.0])
    offsets = blur_offsets_s(0.01, still, turned, K, 5)  # 6 degrees ~ 8 px at this focal length
    assert len(offsets) == 5 and offsets[2] == 0.0
    np.testing.assert_allclose(offsets, -offsets[::-1])
    np.testing.assert_allclose([offsets[0], offsets[-1]], [-0.005, 0.005])
    assert len(blur_offsets_s(0.01, still, turned, K, 3)) == 3  # capped by the knob


def test_sensor_noise_level():
    rng = np.random.default_rng(0)
    flat = np.full((64, 64, 3), 0.2)
    clean = develop(flat, 1.0, 0.0, 0.0, rng)
    assert clean.std() == 0 and clean.dtype == np.uint8
    noisy = develop(flat, 1.0, 1.0, 0.0, rng).astype(float)
    noisier = develop(flat, 1.0, 4.0, 0.0, rng).astype(float)
    assert 0 < noisy.std() < noisier.std()
    assert abs(noisy.mean() - clean.mean()) < 1.0  # zero-mean noise


def test_lighting_variation_knob():
    fixed = [
        generate_scene(np.random.default_rng(s), SynthKnobs(lighting_variation=0.0))
        for s in range(3)
    ]
    varied = [
        generate_scene(np.random.default_rng(s), SynthKnobs(lighting_variation=1.0))
        for s in range(3)
    ]
    assert len({f.lighting.lamp_rgb for f in fixed}) == 1
    assert all(f.lighting.exposure == 1.0 for f in fixed)
    assert len({v.lighting.lamp_rgb for v in varied}) == 3
    # the room itself does not depend on the lighting knob
    assert [f.size_m for f in fixed] == [v.size_m for v in varied]
