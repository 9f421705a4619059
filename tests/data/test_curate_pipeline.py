"""Curation of an in-memory recording: windows, gap drops, masking, report, all modalities."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.training.curate.pipeline import (
    CurationConfig,
    curate_recording,
    curate_window,
    window_starts,
)
from egom2p_edge.training.curate.report import CurationReport
from egom2p_edge.training.curate.resample import grid_ns
from egom2p_edge.training.sources.types import FrameTrack, GazeTrack, PoseTrack, Recording

S = 1_000_000_000


def _recording(
    duration_s: float = 6.5, pose_gap: tuple[float, float] | None = None, with_video: bool = True
) -> Recording:
    ts = np.arange(0, int(duration_s * 100) + 1, dtype=np.int64) * (S // 100)  # 100 Hz
    if pose_gap is not None:
        a, b = (int(v * S) for v in pose_gap)
        ts = ts[(ts <= a) | (ts >= b)]
    T = np.tile(np.eye(4), (len(ts), 1, 1))
    T[:, 0, 3] = ts / S  # 1 m/s along x
    body_cam = np.eye(4)
    body_cam[:3, 3] = [0.0, 0.1, 0.0]
    poses = PoseTrack.fixed(ts, T, body_cam, ("opencv",))
    gts = np.arange(0, int(duration_s * 60) + 1, dtype=np.int64) * (S // 60)  # 60 Hz
    xy = np.stack([np.full(len(gts), 0.5), np.linspace(0, 1, len(gts))], axis=1)
    valid = np.ones(len(gts), bool)
    valid[30:33] = False  # a blink
    xy[~valid] = np.nan
    if len(gts) > 200:
        xy[200, 0] = 1.5  # out of the EgoM2P range
    rec = Recording(
        "synthetic",
        "unit",
        "CC0-1.0",
        poses=poses,
        gaze=GazeTrack(gts, xy, valid, {"gaze_blink": 3}),
    )
    if with_video:
        fts = grid_ns(0, int(duration_s * 30) + 1, 30)  # exact 30 fps: 8-fps ties exist

        def read_rgb(idx):
            return [np.full((24, 32, 3), i % 256, dtype=np.uint8) for i in idx]

        def read_depth(idx):
            return [np.full((24, 32), 1.0 + i / 100, dtype=np.float32) for i in idx]

        rec.video = FrameTrack(fts, 24, 32, read_rgb)
        rec.depth = FrameTrack(fts, 24, 32, read_depth, kind="depth")
    return rec


def test_all_modalities_and_report():
    report = CurationReport()
    clips = list(curate_recording(_recording(), CurationConfig(video_size=8), report))
    assert len(clips) == 3 and report.windows_kept == 3  # starts 0, 2, 4 s within 6.5 s
    c = clips[0]
    assert c.modalities == ("rgb", "depth", "gaze", "cam")
    c.validate()
    # camera relative to the first frame: x grows by 1 m/s on the 30-Hz grid
    np.testing.assert_allclose(c.T_first_camera[:, 0, 3], c.camera_timestamps_ns / S, atol=1e-9)
    # blink samples 30..32 at 60 Hz -> grid samples 15 and 16 (0.5 s, 0.533 s) are invalid
    assert list(np.flatnonzero(~c.gaze_valid)) == [15, 16]
    assert np.all(c.gaze_xy_norm[~c.gaze_valid] == 0)
    # nearest 30-fps frame for 8-fps grid times (ties to the earlier frame)
    assert c.meta["rgb_source_frames"][:4] == [0, 4, 7, 11]
    assert c.rgb[3, 0, 0, 0] == 11
    # depth 1 + i/100 m for frame i; inverse depth normalised over the clip
    assert c.depth_m[0, 0, 0] == pytest.approx(1.0) and c.depth_valid.all()
    assert c.depth_inv_norm[0].max() == pytest.approx(1.0)
    assert report.samples_masked["gaze_invalid_in_source"] == 2
    assert report.samples_masked["gaze_out_of_range"] == 1  # sample 200 at 60 Hz = grid 100
    assert report.loader["gaze_blink"] == 3
    assert report.modalities_kept["rgb"] == 3


def test_gap_drops_windows_and_is_counted():
    rec = _recording(pose_gap=(2.5, 2.65), with_video=False)  # 0.15 s gap
    report = CurationReport()
    clips = list(curate_recording(rec, CurationConfig(), report))
    assert [c.meta["t_start_ns"] for c in clips] == [0, 4 * S]
    assert report.windows_dropped == {"gap_cam": 1}
    # a 0.09 s gap is not a gap at the 0.1 s threshold
    rec = _recording(pose_gap=(2.5, 2.59), with_video=False)
    assert len(list(curate_recording(rec, CurationConfig()))) == 3


def test_stride_and_modality_selection():
    rec = _recording(with_video=False)
    cfg = CurationConfig(stride_s=0.5, modalities=("cam",))
    starts = window_starts(rec, cfg)
    assert starts[1] - starts[0] == S // 2 and len(starts) == 10
    clip = curate_window(rec, int(starts[1]), cfg)
    assert clip.modalities == ("cam",)


def test_too_few_valid_gaze_leaves_gaze_out():
    rec = _recording(with_video=False)
    rec.gaze.valid[:] = False
    report = CurationReport()
    clips = list(curate_recording(rec, CurationConfig(), report))
    assert all(c.modalities == ("cam",) for c in clips)
    assert report.modalities_dropped["gaze_too_few_valid"] == 3


def test_short_recording_has_no_window():
    report = CurationReport()
    assert list(curate_recording(_recording(duration_s=1.5), CurationConfig(), report)) == []
    assert report.recordings_without_windows == 1
    assert any("too short" in line for line in report.summary_lines())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"video_size": 4},
        {"stride_s": 0},
        {"max_gap_s": -1},
        {"modalities": ("imu",)},
        {"min_valid_gaze_fraction": 2},
    ],
)
def test_bad_config(kwargs):
    with pytest.raises(ValueError, match="CurationConfig"):
        CurationConfig(**kwargs)


def test_track_validation():
    ts = np.array([0, 5, 5], dtype=np.int64)
    with pytest.raises(ValueError, match="strictly increasing"):
        PoseTrack.fixed(ts, np.tile(np.eye(4), (3, 1, 1)))
    with pytest.raises(ValueError, match="valid must be finite"):
        GazeTrack(np.array([0, 1], dtype=np.int64), np.full((2, 2), np.nan), np.ones(2, bool))
