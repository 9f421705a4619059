"""Known facts about the official example data: camera canonicalisation, HoloAssist gaze, video."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.training.curate.pipeline import CurationConfig, curate_recording
from egom2p_edge.training.sources.egom2p_example import (
    holoassist_gaze_to_crop,
    load_egom2p_example,
)
from egom2p_edge.training.sources.video import video_track

EX = ("egom2p", "example_data")


@pytest.fixture(scope="module")
def clip(real_dir):
    (c,) = list(curate_recording(load_egom2p_example(real_dir.joinpath(*EX)), CurationConfig()))
    return c


@pytest.mark.real_data
def test_camera_clip_canonicalises_to_the_official_reconstruction(clip, real_dir):
    recon = np.load(real_dir.joinpath(*EX, "token", "cam-recon.npy")).astype(np.float64)
    T = clip.T_first_camera
    nine = np.concatenate([T[:, :3, 0], T[:, :3, 1], T[:, :3, 3]], axis=1)  # (60, 9)
    assert np.abs(nine - recon).max() < 0.025


@pytest.mark.real_data
def test_holoassist_gaze_matches_official_conversion_and_recon(clip, real_dir, metrics_fixture_dir):
    gaze_px = np.load(real_dir.joinpath(*EX, "gaze.npy"))
    conv = holoassist_gaze_to_crop(gaze_px)
    ref = np.load(metrics_fixture_dir / "gaze" / "holoassist_example_gaze_converted.npy")
    np.testing.assert_array_equal(np.isnan(conv), np.isnan(ref))
    np.testing.assert_allclose(conv[~np.isnan(ref)], ref[~np.isnan(ref)], atol=1e-15)
    assert list(np.flatnonzero(~clip.gaze_valid)) == [18, 53]
    recon = np.load(real_dir.joinpath(*EX, "token", "gaze-recon.npy")).astype(np.float64)
    m = clip.gaze_valid
    mse = ((clip.gaze_xy_norm[m] - recon[m]) ** 2).mean()
    assert mse == pytest.approx(4.183573137445972e-05, rel=1e-12)


@pytest.mark.real_data
def test_video_passes_through_unchanged(clip, real_dir):
    track = video_track(real_dir.joinpath(*EX, "rgb2dep_h2o.mp4"))
    np.testing.assert_array_equal(track.timestamps_ns, np.arange(16) * 125_000_000)
    np.testing.assert_array_equal(clip.rgb, np.stack(track.read(list(range(16)))))


@pytest.mark.real_data
def test_gray_depth_video_decodes_with_equal_channels(real_dir):
    # gbrp pixel format: some decoders convert it wrongly
    frames = video_track(real_dir.joinpath(*EX, "dep2rgb_holo.mp4")).read([0, 15])
    for f in frames:
        assert np.array_equal(f[..., 0], f[..., 1]) and np.array_equal(f[..., 0], f[..., 2])


def test_bad_arrays(tmp_path):
    from egom2p_edge.training.sources.egom2p_example import load_example_camera

    np.save(tmp_path / "cam.npy", np.zeros((59, 4, 4)))
    with pytest.raises(ValueError, match=r"expected shape \(60, 4, 4\)"):
        load_example_camera(tmp_path / "cam.npy")
