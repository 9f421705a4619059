"""SyntheticSource: the generator's clips laid end to end on one clock, with gaze and poses."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.devices import Frame, FrameSource, GazeSample, PoseSample, SyntheticSource

SIZE = 32


@pytest.fixture(scope="module")
def events() -> list:
    with SyntheticSource(seed=3, clips=2, size=SIZE, start_timestamp_ns=5_000) as src:
        return list(src.iter_events())


def test_frames_are_the_generators_clips_end_to_end(events) -> None:
    from egom2p_edge.training.synth import generate_clip

    frames = [e for e in events if isinstance(e, Frame)]
    assert len(frames) == 32  # 2 clips x 16 frames at 8 fps
    ts = np.array([f.timestamp_ns for f in frames])
    assert ts[0] == 5_000 and np.all(np.diff(ts) == 125_000_000)  # one 8-fps grid across clips
    second = generate_clip(4, size=SIZE)  # clip 1 uses seed 3 + 1
    for i in range(16):
        np.testing.assert_array_equal(frames[16 + i].rgb, second.rgb[i])
        assert frames[16 + i].meta["clip_index"] == 1 and frames[16 + i].meta["seed"] == 4


def test_side_channels_are_30_hz_on_the_same_clock(events) -> None:
    gaze = [e for e in events if isinstance(e, GazeSample)]
    poses = [e for e in events if isinstance(e, PoseSample)]
    assert len(gaze) == len(poses) == 120  # 2 clips x 60 samples
    g_ts = np.array([g.timestamp_ns for g in gaze])
    assert np.all(np.diff(g_ts) > 0) and g_ts[60] == 5_000 + 2_000_000_000
    valid = np.array([g.gaze_xy_px for g in gaze if g.valid])
    assert valid.shape[0] > 60  # blinks are rare
    assert np.all(valid >= -0.5) and np.all(valid <= SIZE - 0.5)  # inside the frame
    # Events come out in timestamp order.
    all_ts = [e.timestamp_ns for e in events]
    assert all_ts == sorted(all_ts)


def test_frame_and_pose_at_the_same_time_agree(events) -> None:
    # The video pose (meta) and the 30-Hz trajectory come from separate paths of the generator;
    # at t = 0 of each clip they must be the same camera.
    frames = [e for e in events if isinstance(e, Frame)]
    poses = [e for e in events if isinstance(e, PoseSample)]
    for f, p in ((frames[0], poses[0]), (frames[16], poses[60])):
        assert f.timestamp_ns == p.timestamp_ns
        np.testing.assert_allclose(f.meta["T_world_camera"], p.T_world_device, atol=1e-9)
        R = p.T_world_device[:3, :3]
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)


def test_iterating_yields_only_frames_and_validates_arguments() -> None:
    src = SyntheticSource(seed=0, clips=1, size=SIZE)
    assert isinstance(src, FrameSource)
    assert (src.info.width, src.info.height, src.info.nominal_fps) == (SIZE, SIZE, 8.0)
    frames = list(src)
    assert len(frames) == 16 and all(isinstance(f, Frame) for f in frames)
    for kwargs, match in (
        ({"seed": -1}, "seed"),
        ({"clips": 0}, "clips"),
        ({"size": 8}, "size"),
        ({"start_timestamp_ns": -5}, "start_timestamp_ns"),
    ):
        with pytest.raises(ValueError, match=match):
            SyntheticSource(**kwargs)
