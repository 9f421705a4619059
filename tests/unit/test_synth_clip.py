"""Synthetic generator: clips pass the clip-format checks, are deterministic per seed, round-trip
through a clip dataset, and the ``egom2p synth`` command writes a dataset and a gallery."""

from __future__ import annotations

import json

import numpy as np
import pytest

from egom2p_edge.cli.main import main
from egom2p_edge.clips import ClipDataset
from egom2p_edge.training.synth.config import SynthKnobs
from egom2p_edge.training.synth.dataset import clip_seed, generate_dataset, iter_clips
from egom2p_edge.training.synth.generate import generate_clip
from egom2p_edge.training.synth.preview import gaze_at_frames

ARRAYS = (
    "rgb",
    "depth_m",
    "depth_inv_norm",
    "depth_valid",
    "gaze_xy_norm",
    "gaze_valid",
    "T_first_camera",
    "rgb_timestamps_ns",
    "gaze_timestamps_ns",
    "camera_timestamps_ns",
)


@pytest.fixture(scope="module")
def clip():
    return generate_clip(7, 48)


def test_clip_passes_the_format_checks(clip):
    clip.validate()
    assert clip.modalities == ("rgb", "depth", "gaze", "cam")
    assert clip.rgb.shape == (16, 48, 48, 3) and clip.rgb.dtype == np.uint8
    assert clip.depth_m.shape == (16, 48, 48) and clip.depth_valid.all()
    assert 0.05 < clip.depth_m.min() and clip.depth_m.max() < 12.0  # metres inside a room
    np.testing.assert_array_equal(clip.rgb_timestamps_ns, np.arange(16) * 125_000_000)
    assert np.all(np.abs(clip.gaze_timestamps_ns - np.arange(60) * 1e9 / 30) <= 0.5)
    np.testing.assert_array_equal(clip.T_first_camera[0], np.eye(4))
    assert clip.rgb.std() > 10  # a textured, lit room, not a flat image
    json.dumps(clip.meta, allow_nan=False)
    m = clip.meta
    assert m["size"] == 48 and m["cx"] == pytest.approx(23.5)
    assert m["fx"] == pytest.approx(24.0 / np.tan(np.deg2rad(m["hfov_deg"]) / 2))
    assert SynthKnobs().hfov_deg[0] <= m["hfov_deg"] <= SynthKnobs().hfov_deg[1]
    assert len(m["fixation_target_id"]) == 60 and np.asarray(m["T_first_camera_video"]).shape == (
        16,
        4,
        4,
    )


def test_same_seed_same_clip_and_seeds_differ(clip):
    again = generate_clip(7, 48)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(again, name), getattr(clip, name), err_msg=name)
    assert again.meta == clip.meta
    other = generate_clip(8, 48)
    assert not np.array_equal(other.rgb, clip.rgb)
    assert not np.allclose(other.T_first_camera, clip.T_first_camera)
    assert other.meta["room_size_m"] != clip.meta["room_size_m"]


def test_sensor_knobs_leave_geometry_unchanged(clip):
    clean = generate_clip(7, 48, SynthKnobs(noise_level=0.0, max_exposure_ms=0.0, blur_subframes=1))
    np.testing.assert_array_equal(clean.depth_m, clip.depth_m)
    np.testing.assert_array_equal(clean.T_first_camera, clip.T_first_camera)
    np.testing.assert_array_equal(clean.gaze_xy_norm, clip.gaze_xy_norm)
    assert not np.array_equal(clean.rgb, clip.rgb)  # the noise was real


def test_any_square_size():
    small = generate_clip(3, 17)
    assert small.rgb.shape == (16, 17, 17, 3) and small.depth_m.shape == (16, 17, 17)
    assert small.meta["cx"] == pytest.approx(8.0)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"hfov_deg": (100.0, 80.0)}, "hfov_deg"),
        ({"lighting_variation": 1.5}, "lighting_variation"),
        ({"blur_subframes": 4}, "blur_subframes"),
        ({"noise_level": -1.0}, "noise_level"),
        ({"behaviour_weights": (1.0, 0.0)}, "behaviour_weights"),
        ({"moving_object_prob": 2.0}, "moving_object_prob"),
        ({"max_head_rate_deg_s": 5.0}, "max_head_rate_deg_s"),
        ({"walk_speed_m_s": (0.0, 1.0)}, "walk_speed_m_s"),
    ],
)
def test_bad_knobs_are_refused_by_name(kwargs, field):
    with pytest.raises(ValueError, match=field):
        SynthKnobs(**kwargs)


def test_bad_seed_and_size_are_refused():
    with pytest.raises(ValueError, match="seed"):
        generate_clip(-1, 32)
    with pytest.raises(ValueError, match="size"):
        generate_clip(0, 4)
    with pytest.raises(ValueError, match="num_clips"):
        generate_dataset("/nonexistent-never-written", 0, 32)


def test_dataset_round_trip(tmp_path):
    path = generate_dataset(tmp_path, clips=3, size=24, seed=5, shard_size=2)
    ds = ClipDataset(path)
    got = list(ds)
    assert [c.clip_id for c in got] == [f"synth-s5-{i:06d}" for i in range(3)]
    assert ds.manifest["num_clips"] == 3 and ds.manifest["extra"]["seed"] == 5
    direct = generate_clip(clip_seed(5, 1), 24)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(got[1], name), getattr(direct, name), err_msg=name)
    assert len({clip_seed(5, i) for i in range(100)} | {clip_seed(6, i) for i in range(100)}) == 200
    # worker processes give the same clips as one process
    pooled = list(iter_clips(2, 24, 5, workers=2))
    np.testing.assert_array_equal(pooled[1].rgb, got[1].rgb)
    np.testing.assert_array_equal(pooled[1].T_first_camera, got[1].T_first_camera)


def test_gaze_at_frames_matches_shared_sample_times(clip):
    xy, valid = gaze_at_frames(clip)
    for kv, kt in ((0, 0), (4, 15), (8, 30), (12, 45)):
        np.testing.assert_allclose(xy[kv], clip.gaze_xy_norm[kt])
        assert valid[kv] == clip.gaze_valid[kt]


def test_cli_writes_dataset_and_gallery(tmp_path, capsys):
    rc = main(
        [
            "synth",
            "--out",
            str(tmp_path),
            "--clips",
            "2",
            "--size",
            "24",
            "--seed",
            "3",
            "--preview",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    png = tmp_path / "synth" / "preview.png"
    assert f"preview gallery: {png}" in out
    assert "wrote 2 synthetic clips (24x24)" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [c.clip_id for c in ClipDataset(tmp_path / "synth")] == [
        "synth-s3-000000",
        "synth-s3-000001",
    ]
    with pytest.raises(SystemExit, match="already holds"):
        main(["synth", "--out", str(tmp_path), "--clips", "1", "--size", "24"])
    with pytest.raises(SystemExit, match="noise_level"):
        main(
            ["synth", "--out", str(tmp_path), "--clips", "1", "--noise-level", "-2", "--overwrite"]
        )
