"""Pose conventions: OpenGL/HoloAssist/CW90 matrices, row-vector HoloLens poses, bad names."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from egom2p_edge.training.curate.conventions import (
    CW90,
    KNOWN_CONVENTIONS,
    RIGHT_MULTIPLY,
    check_conventions,
    to_opencv,
)
from egom2p_edge.training.curate.geometry import invert_poses, relative_to_first
from egom2p_edge.training.sources.aria_gaze import rotate_pixels_cw90


def _random_poses(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    T = np.tile(np.eye(4), (n, 1, 1))
    T[:, :3, :3] = Rotation.random(n, random_state=seed).as_matrix()
    T[:, :3, 3] = rng.normal(size=(n, 3))
    return T


@pytest.mark.parametrize("name", sorted(RIGHT_MULTIPLY))
def test_matrices_are_proper_rotations(name):
    M = RIGHT_MULTIPLY[name]
    np.testing.assert_allclose(M[:3, :3].T @ M[:3, :3], np.eye(3), atol=0)
    assert np.linalg.det(M[:3, :3]) == pytest.approx(1.0)


def test_cw90_matches_clockwise_image_rotation():
    # Project a point with a pinhole camera; turn the camera by CW90 and the image by
    # np.rot90(k=-1): the projected pixel must follow rotate_pixels_cw90.
    n = 101
    f, c = 80.0, (n - 1) / 2
    K = np.array([[f, 0, c], [0, f, c], [0, 0, 1.0]])
    p_cam = np.array([0.3, -0.2, 1.5])
    uv = (K @ p_cam)[:2] / p_cam[2]
    p_up = CW90[:3, :3].T @ p_cam  # the same point in the upright camera's axes
    uv_up = (K @ p_up)[:2] / p_up[2]
    np.testing.assert_allclose(uv_up, rotate_pixels_cw90(uv[None], n)[0], atol=1e-9)
    img = np.zeros((n, n), dtype=np.uint8)
    img[int(round(uv[1])), int(round(uv[0]))] = 255
    up = np.rot90(img, k=-1)
    assert up[int(round(uv_up[1])), int(round(uv_up[0]))] == 255


def test_opengl_flip():
    T = _random_poses(3)
    out = to_opencv(T, "opengl")
    np.testing.assert_allclose(out[:, :3, 0], T[:, :3, 0])
    np.testing.assert_allclose(out[:, :3, 1:3], -T[:, :3, 1:3])
    np.testing.assert_allclose(out[:, :3, 3], T[:, :3, 3])


def test_hololens_row_vector_then_holoassist():
    T = _random_poses(4)
    row = np.swapaxes(T, 1, 2)  # translation in the last row
    out = to_opencv(row, "hololens_row_vector+holoassist")
    np.testing.assert_allclose(out, T @ RIGHT_MULTIPLY["holoassist"], atol=1e-15)
    with pytest.raises(ValueError, match="column-vector already"):
        to_opencv(T, ["hololens_row_vector"])


def test_unknown_convention_names_known_ones():
    with pytest.raises(ValueError, match="unknown pose convention 'y_up'") as info:
        check_conventions(["opencv", "y_up"])
    for k in KNOWN_CONVENTIONS:
        assert k in str(info.value)


def test_relative_to_first_and_invert():
    T = _random_poses(5, seed=3)
    rel = relative_to_first(T)
    np.testing.assert_allclose(rel[0], np.eye(4), atol=1e-12)
    np.testing.assert_allclose(T[0] @ rel, T, atol=1e-12)
    np.testing.assert_allclose(invert_poses(T) @ T, np.tile(np.eye(4), (5, 1, 1)), atol=1e-12)
    # relative poses do not depend on the world frame
    W = _random_poses(1, seed=9)[0]
    np.testing.assert_allclose(relative_to_first(W @ T), rel, atol=1e-12)
