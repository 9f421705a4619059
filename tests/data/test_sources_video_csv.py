"""The generic video + CSV source, on a recording the test writes itself (PyAV mp4 + CSV)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from egom2p_edge.clips import ClipDataset, ClipDatasetWriter
from egom2p_edge.training.curate.pipeline import CurationConfig, curate_recording
from egom2p_edge.training.curate.report import CurationReport
from egom2p_edge.training.sources.video import video_track
from egom2p_edge.training.sources.video_csv import load_video_csv

FPS = 30
N_FRAMES = 75  # 2.5 s
W, H = 64, 48


def _gray(i: int) -> int:
    return 20 + 3 * i  # distinct, well separated after lossy coding


def write_video(path: Path, n: int = N_FRAMES) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"crf": "10", "g": "10"}
        for i in range(n):
            img = np.full((H, W, 3), _gray(i), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def write_csv(path: Path, rows: list[str], header: str) -> None:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")


def _rows(n: int = N_FRAMES) -> list[str]:
    rows = []
    for i in range(n):
        t_ns = round(i * 1e9 / FPS)
        gx, gy = 8 + 0.4 * i, 24.0  # pixels of the 64x48 frame; crop is x in [8, 56)
        yaw = 0.01 * i
        qz, qw = np.sin(yaw / 2), np.cos(yaw / 2)
        rows.append(f"{t_ns},{gx},{gy},{0.01 * i},0,0,0,0,{qz:.12f},{qw:.12f}")
    return rows


HEADER = "timestamp_ns,gaze_x_px,gaze_y_px,tx,ty,tz,qx,qy,qz,qw"


@pytest.fixture(scope="module")
def recording_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("rec")
    write_video(d / "video.mp4")
    write_csv(d / "data.csv", _rows(), HEADER)
    return d


def test_video_timestamps_and_frames(recording_dir):
    track = video_track(recording_dir / "video.mp4")
    assert len(track.timestamps_ns) == N_FRAMES
    np.testing.assert_array_equal(np.diff(track.timestamps_ns) > 0, True)
    assert abs(int(track.timestamps_ns[10]) - round(10e9 / FPS)) <= 1
    frames = track.read([40, 3, 40])
    assert [f.shape for f in frames] == [(H, W, 3)] * 3
    assert abs(frames[0].mean() - _gray(40)) < 1.5 and abs(frames[1].mean() - _gray(3)) < 1.5


def test_curated_clip(recording_dir):
    rec = load_video_csv(recording_dir / "video.mp4", recording_dir / "data.csv")
    report = CurationReport()
    clips = list(curate_recording(rec, CurationConfig(video_size=16), report))
    assert len(clips) == 1 and report.windows_kept == 1  # 2.5 s: one 2-s window
    clip = clips[0]
    assert clip.modalities == ("rgb", "gaze", "cam")
    # 8-fps frame k at k*125 ms; nearest 30-fps frame, ties to the earlier one
    expected = [int(np.floor(k * 0.125 * FPS + 0.5 - 1e-9)) for k in range(16)]
    assert clip.meta["rgb_source_frames"] == expected
    means = clip.rgb.reshape(16, -1).mean(1)
    np.testing.assert_allclose(means, [_gray(i) for i in expected], atol=1.5)
    # gaze: x_px = 8 + 0.4 i on the 48-px crop starting at x = 8 -> (0.4 i)/48, y = 0.5
    i = np.arange(60)
    np.testing.assert_allclose(clip.gaze_xy_norm[:, 0], 0.4 * i / 48, atol=1e-6)
    np.testing.assert_allclose(clip.gaze_xy_norm[:, 1], 0.5)
    # camera: 1 cm per frame along x, 0.01 rad per frame about z, relative to the first
    np.testing.assert_allclose(clip.T_first_camera[:, 0, 3], 0.01 * i, atol=1e-6)
    np.testing.assert_allclose(
        np.arctan2(clip.T_first_camera[:, 1, 0], clip.T_first_camera[:, 0, 0]), 0.01 * i, atol=1e-9
    )


def test_round_trip_through_dataset(recording_dir, tmp_path):
    rec = load_video_csv(recording_dir / "video.mp4", recording_dir / "data.csv")
    with ClipDatasetWriter(tmp_path, "v") as w:
        for clip in curate_recording(rec, CurationConfig(video_size=16)):
            w.write(clip)
    (back,) = list(ClipDataset(tmp_path / "v"))
    assert back.rgb.shape == (16, 16, 16, 3)


def test_nan_gaze_masked_and_bad_pose_dropped(recording_dir, tmp_path):
    rows = _rows()
    rows[5] = rows[5].replace(",24.0,", ",nan,")
    parts = rows[7].split(",")
    parts[-1] = "inf"
    rows[7] = ",".join(parts)
    write_csv(tmp_path / "d.csv", rows, HEADER)
    rec = load_video_csv(recording_dir / "video.mp4", tmp_path / "d.csv")
    assert rec.gaze.masked["gaze_nonfinite"] == 1 and not rec.gaze.valid[5]
    assert rec.loader_counts["pose_rows_bad_dropped"] == 1
    report = CurationReport()
    (clip,) = list(curate_recording(rec, CurationConfig(video_size=16), report))
    assert not clip.gaze_valid[5] and clip.gaze_valid.sum() == 59
    assert report.samples_masked["gaze_invalid_in_source"] == 1


def test_bottom_left_normalised_gaze(recording_dir, tmp_path):
    rows = [f"{round(i * 1e9 / FPS)},0.5,0.25" for i in range(N_FRAMES)]
    write_csv(tmp_path / "n.csv", rows, "timestamp_ns,gaze_x_norm,gaze_y_norm")
    rec = load_video_csv(recording_dir / "video.mp4", tmp_path / "n.csv", gaze_origin="bottom-left")
    np.testing.assert_allclose(rec.gaze.xy_norm[0], [0.5, 0.75])  # square frame: crop = full
    assert rec.poses is None


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda r: (r, "time,gaze_x_px,gaze_y_px"), "timestamp_ns or timestamp_s"),
        (lambda r: (r, "timestamp_ns,gaze_x_px"), "gaze_y_px"),
        (lambda r: (r, "timestamp_ns,foo,bar"), "no gaze"),
        (lambda r: (r[:3] + [r[1]] + r[4:], HEADER), "backwards"),
        (lambda r: (r[:3] + ["100,abc"] + r[4:], HEADER), r"d\.csv:5"),
        (lambda r: (r[:3] + ["100,x,1,0,0,0,0,0,0,1"] + r[4:], HEADER), "gaze_x_px"),
    ],
)
def test_bad_csv(recording_dir, tmp_path, mutate, message):
    rows, header = mutate(_rows())
    write_csv(tmp_path / "d.csv", rows, header)
    with pytest.raises(ValueError, match=message):
        load_video_csv(recording_dir / "video.mp4", tmp_path / "d.csv")


def test_unknown_convention(recording_dir):
    with pytest.raises(ValueError, match="unknown pose convention 'z_up'"):
        load_video_csv(recording_dir / "video.mp4", recording_dir / "data.csv", conventions="z_up")


def test_corrupt_and_truncated_video(recording_dir, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="junk.mp4"):
        video_track(junk)
    cut = tmp_path / "cut.mp4"
    data = (recording_dir / "video.mp4").read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.mp4"):
        track = video_track(cut)
        track.read(list(range(len(track.timestamps_ns))))
    with pytest.raises(FileNotFoundError):
        video_track(tmp_path / "missing.mp4")


def test_hololens_row_vector_matrix_poses(recording_dir, tmp_path):
    # camera-to-world in an OpenGL-like camera (y up, z back), streamed row-vector (transposed)
    from egom2p_edge.training.curate.conventions import OPENGL_TO_OPENCV

    rows = []
    want = []
    for i in range(N_FRAMES):
        yaw = 0.02 * i
        T = np.eye(4)
        T[:3, :3] = [[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]]
        T[:3, 3] = [0.0, 0.01 * i, 0.0]
        want.append(T @ OPENGL_TO_OPENCV)
        M = T.T.copy()
        if i == 9:
            M[0, 0] = 3.0  # not a rotation: dropped and counted
        rows.append(f"{round(i * 1e9 / FPS)}," + ",".join(f"{v:.15g}" for v in M.ravel()))
    header = "timestamp_ns," + ",".join(f"m{r}{c}" for r in range(4) for c in range(4))
    write_csv(tmp_path / "m.csv", rows, header)
    rec = load_video_csv(
        recording_dir / "video.mp4", tmp_path / "m.csv", conventions="hololens_row_vector+opengl"
    )
    assert rec.loader_counts["pose_rows_bad_dropped"] == 1
    assert len(rec.poses.timestamps_ns) == N_FRAMES - 1
    np.testing.assert_allclose(rec.poses.T_world_body[0], want[0], atol=1e-12)
    np.testing.assert_allclose(rec.poses.T_world_body[20], want[21], atol=1e-12)
    with pytest.raises(ValueError, match="column-vector already"):
        load_video_csv(
            recording_dir / "video.mp4",
            tmp_path / "m.csv",
            conventions="opencv+hololens_row_vector+hololens_row_vector",
        )
