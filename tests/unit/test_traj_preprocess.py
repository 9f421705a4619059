"""Camera and gaze pre- and post-processing of the VQ-VAE tokenizers (vqvae.preprocess)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from egom2p_edge.models.vqvae import preprocess as pp


def _random_c2w(rng: np.random.Generator, n: int) -> np.ndarray:
    """n rigid cam-to-world poses (n, 4, 4) float64."""
    T = np.zeros((n, 4, 4))
    T[:, :3, :3] = Rotation.random(n, random_state=rng.integers(1 << 31)).as_matrix()
    T[:, :3, 3] = rng.normal(scale=3.0, size=(n, 3))
    T[:, 3, 3] = 1.0
    return T


# ----- camera -------------------------------------------------------------------------------


def test_canonical_first_frame_is_identity_and_world_invariant():
    rng = np.random.default_rng(0)
    P = _random_c2w(rng, 60)
    C = pp.canonicalize_c2w(P)
    np.testing.assert_allclose(C[0], np.eye(4), atol=1e-12)
    # Moving the whole trajectory by a rigid world transform changes nothing.
    W = _random_c2w(rng, 1)[0]
    np.testing.assert_allclose(pp.canonicalize_c2w(W @ P), C, atol=1e-10)
    # Frame k expressed in frame 0: P_0 @ C_k == P_k.
    np.testing.assert_allclose(P[0] @ C[17], P[17], atol=1e-12)


def test_canonicalize_keeps_batch_axes():
    rng = np.random.default_rng(1)
    P = np.stack([_random_c2w(rng, 60) for _ in range(3)])  # (3, 60, 4, 4)
    C = pp.canonicalize_c2w(P)
    assert C.shape == (3, 60, 4, 4)
    np.testing.assert_allclose(C[2], pp.canonicalize_c2w(P[2]), atol=0)


def test_9d_layout_is_two_rotation_columns_then_translation():
    T = np.eye(4)
    T[:3, :3] = np.arange(9.0).reshape(3, 3)
    T[:3, 3] = [10.0, 11.0, 12.0]
    nine = pp.c2w_to_9d(T)
    # R[:,0] = (0, 3, 6), R[:,1] = (1, 4, 7).
    np.testing.assert_array_equal(nine, [0, 3, 6, 1, 4, 7, 10, 11, 12])


def test_9d_to_c2w_round_trip_on_rigid_poses():
    rng = np.random.default_rng(2)
    C = pp.canonicalize_c2w(_random_c2w(rng, 60))
    back = pp.nine_d_to_c2w(pp.c2w_to_9d(C))
    assert back.dtype == np.float64
    np.testing.assert_allclose(back, C, atol=1e-12)


def test_gram_schmidt_gives_rotations_aligned_with_first_column():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(100, 6))
    R = pp.rot6d_to_matrix(a)
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape),
                               atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)
    cos = np.sum(R[:, :, 0] * a[:, :3], axis=-1) / np.linalg.norm(a[:, :3], axis=-1)
    np.testing.assert_allclose(cos, 1.0, atol=1e-12)
    # The second column stays in the plane of a1, a2.
    normal = np.cross(a[:, :3], a[:, 3:])
    np.testing.assert_allclose(np.sum(R[:, :, 1] * normal, axis=-1), 0.0, atol=1e-9)


def test_float32_input_runs_in_float32():
    rng = np.random.default_rng(4)
    x32 = rng.normal(size=(5, 9)).astype(np.float32)
    out = pp.nine_d_to_c2w(x32)
    assert out.dtype == np.float64
    # Equal to the float32 computation cast up, and only float32-close to the float64 one.
    assert np.array_equal(out[..., :3, :3], pp.rot6d_to_matrix(x32[:, :6]).astype(np.float64))
    np.testing.assert_allclose(out, pp.nine_d_to_c2w(x32.astype(np.float64)), atol=1e-6)


def test_normalize_is_float64_then_cast_once():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(60, 9))
    out = pp.normalize_9d(x)
    assert out.dtype == np.float32
    assert np.array_equal(out, ((x - pp.CAM_MEAN) / pp.CAM_STD).astype(np.float32))
    assert pp.camera_to_model_input(np.eye(4)[None].repeat(60, 0)).dtype == np.float32


def test_denormalize_is_the_official_float32_formula():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(60, 9)).astype(np.float32)
    out = pp.denormalize_9d(x)
    assert out.dtype == np.float32
    shift = (-pp.CAM_MEAN / pp.CAM_STD).astype(np.float32)
    scale = (1.0 / pp.CAM_STD).astype(np.float32)
    assert np.array_equal(out, (x - shift) / scale)
    # Close to x * std + mean, but not the same arithmetic.
    np.testing.assert_allclose(out, x * pp.CAM_STD + pp.CAM_MEAN, atol=1e-6)
    # And it inverts normalize_9d up to float32 rounding.
    y = rng.normal(size=(60, 9))
    np.testing.assert_allclose(pp.denormalize_9d(pp.normalize_9d(y)), y, atol=2e-6)


def test_cam_constants_are_read_only_and_official():
    assert pp.CAM_MEAN.shape == pp.CAM_STD.shape == (9,)
    assert pp.CAM_MEAN[0] == 0.9330503976511908 and pp.CAM_STD[8] == 0.22450155613920986
    with pytest.raises(ValueError):
        pp.CAM_MEAN[0] = 0.0


@pytest.mark.parametrize(
    "bad",
    [np.zeros((60, 3, 4)), np.zeros((4, 4)), np.array(["a"] * 16).reshape(4, 4)],
)
def test_camera_bad_shapes(bad):
    with pytest.raises(ValueError, match="T_world_camera"):
        pp.canonicalize_c2w(bad)


def test_camera_nan_pose_and_singular_first_pose():
    P = _random_c2w(np.random.default_rng(7), 60)
    P[5, 0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pp.camera_to_canonical_9d(P)
    P = _random_c2w(np.random.default_rng(7), 60)
    P[0] = 0.0
    with pytest.raises(ValueError, match="singular"):
        pp.canonicalize_c2w(P)
    with pytest.raises(ValueError, match="nine_d"):
        pp.normalize_9d(np.zeros((60, 8)))


# ----- gaze ---------------------------------------------------------------------------------

HOLO = dict(orig_res=(896, 504), resize_res=(896, 504), new_res=(480, 480))


def test_holoassist_crop_known_answer():
    px = np.array([[208.0, 12.0], [688.0, 492.0], [448.0, 252.0]])
    g = pp.gaze_to_crop(px, **HOLO)
    np.testing.assert_allclose(g, [[0, 0], [1, 1], [0.5, 0.5]], atol=1e-15)
    rng = np.random.default_rng(8)
    px = rng.uniform(0, 896, size=(60, 2))
    g = pp.gaze_to_crop(px, **HOLO)
    np.testing.assert_allclose(g[:, 0], (px[:, 0] - 208) / 480, atol=1e-14)
    np.testing.assert_allclose(g[:, 1], (px[:, 1] - 12) / 480, atol=1e-14)
    np.testing.assert_allclose(pp.crop_to_gaze_px(g, **HOLO), px, atol=1e-10)


def test_gaze_resize_then_crop():
    # A 1920x1080 frame resized to 896x504 and centre-cropped to 480: same as HoloAssist after
    # rescaling the pixels.
    px = np.array([[960.0, 540.0], [100.0, 1000.0]])
    g = pp.gaze_to_crop(px, (1920, 1080), (896, 504), (480, 480))
    np.testing.assert_allclose(g, pp.gaze_to_crop(px * (896 / 1920), **HOLO), atol=1e-14)


def test_gaze_validity_rule():
    g = np.array(
        [
            [0.5, 0.5],
            [np.nan, 0.5],
            [0.5, np.nan],
            [1.2, -0.2],  # on the bounds: valid
            [1.2000001, 0.5],
            [0.5, -0.2000001],
        ]
    )
    np.testing.assert_array_equal(pp.gaze_validity(g), [True, False, False, True, False, False])
    out = pp.normalize_gaze_crop(g)
    assert out.shape == (6, 3) and out.dtype == np.float64
    np.testing.assert_array_equal(out[:, 2], [1, 0, 0, 1, 0, 0])
    # Invalid rows hold 0 before the mapping, so -1 after it.
    np.testing.assert_array_equal(out[[1, 2, 4, 5], :2], -1.0)
    np.testing.assert_allclose(out[[0, 3], :2], [[0, 0], [1.4, -1.4]], atol=1e-15)


def test_convert_gaze_and_back():
    rng = np.random.default_rng(9)
    px = rng.uniform((250, 20), (640, 480), size=(2, 60, 2))  # inside the crop
    px[0, 3] = np.nan
    x = pp.gaze_to_model_input(px, **HOLO)
    assert x.shape == (2, 60, 3) and x.dtype == np.float32
    assert x[0, 3, 2] == 0 and np.all(x[1, :, 2] == 1)
    back = pp.denormalize_gaze(x[..., :2])
    assert back.dtype == np.float32
    np.testing.assert_allclose(back[1], pp.gaze_to_crop(px[1], **HOLO), atol=1e-6)
    # The official float32 formula: (x - fl32(-1)) / fl32(2).
    assert np.array_equal(back, (x[..., :2] + np.float32(1)) / np.float32(2))


@pytest.mark.parametrize("res", [(0, 480), (480,), (np.nan, 480), (-1, 5)])
def test_gaze_bad_resolutions(res):
    with pytest.raises(ValueError, match="new_res"):
        pp.gaze_to_crop(np.zeros((60, 2)), (896, 504), (896, 504), res)


def test_gaze_bad_shape():
    with pytest.raises(ValueError, match="gaze_px"):
        pp.convert_gaze(np.zeros((60, 3)), **HOLO)
