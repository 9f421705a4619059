"""VideoFileSource on videos written here with PyAV: PTS timestamps, seeking, frame limits,
real-time pacing and the errors for missing, non-video and timestamp-less files."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from egom2p_edge.devices import FrameSource, VideoFileSource
from egom2p_edge.devices.video import pts_to_ns

FPS = 24
H, W = 48, 64


def _level(i: int) -> int:
    return 10 + 20 * i  # each frame is one grey level, so a decoded frame names its index


def _write(path: Path, frames: int, fmt: str | None = None, first_pts: int = 0) -> Path:
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        for i in range(frames):
            vf = av.VideoFrame.from_ndarray(np.full((H, W, 3), _level(i), np.uint8), "rgb24")
            vf.pts = first_pts + i
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("video") / "grey.mp4", 12)


def _index(frame) -> int:
    return int(round((float(frame.rgb.mean()) - 10) / 20))


def test_frames_carry_their_pts_in_ns(mp4: Path) -> None:
    with VideoFileSource(mp4) as src:
        assert isinstance(src, FrameSource)
        assert (src.info.width, src.info.height) == (W, H)
        assert src.info.nominal_fps == pytest.approx(FPS)
        frames = list(src)
    assert len(frames) == 12
    for i, f in enumerate(frames):
        assert f.rgb.shape == (H, W, 3) and f.rgb.dtype == np.uint8
        assert abs(f.timestamp_ns - i * 1e9 / FPS) <= 1  # PTS i/24 s, exact to rounding
        assert _index(f) == i
        assert f.meta["index"] == i


def test_pts_to_ns_rounds_exactly() -> None:
    assert pts_to_ns(1, Fraction(1, 24)) == 41_666_667
    assert pts_to_ns(3, Fraction(1, 3)) == 1_000_000_000
    assert pts_to_ns(1, Fraction(1, 2_000_000_000)) == 1  # 0.5 ns rounds half up


def test_timestamps_follow_the_container_not_the_frame_index(tmp_path: Path) -> None:
    mkv = _write(tmp_path / "late.mkv", 6, first_pts=FPS)  # first frame at 1 s
    frames = list(VideoFileSource(mkv))
    assert len(frames) == 6
    for i, f in enumerate(frames):  # Matroska stores milliseconds
        assert abs(f.timestamp_ns - (FPS + i) * 1e9 / FPS) <= 1e6
    # start_s counts from the stream's first frame, not from time 0
    later = list(VideoFileSource(mkv, start_s=2 / FPS))
    assert [_index(f) for f in later] == [2, 3, 4, 5]


def test_start_s_and_max_frames(mp4: Path) -> None:
    frames = list(VideoFileSource(mp4, start_s=0.25, max_frames=3))
    assert [_index(f) for f in frames] == [6, 7, 8]
    assert frames[0].timestamp_ns >= 250_000_000 - 1


def test_realtime_paces_frames_no_faster_than_their_timestamps(mp4: Path) -> None:
    t0 = time.monotonic_ns()
    frames = list(VideoFileSource(mp4, realtime=True, max_frames=6))
    elapsed_ns = time.monotonic_ns() - t0
    span_ns = frames[-1].timestamp_ns - frames[0].timestamp_ns
    assert span_ns > 0 and elapsed_ns >= span_ns  # a lower bound: never early


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.mp4"):
        VideoFileSource(tmp_path / "nope.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(ValueError, match="notes.mp4"):
        VideoFileSource(text)
    with pytest.raises(ValueError, match="start_s"):
        VideoFileSource(text, start_s=-1)


def test_a_stream_without_timestamps_says_how_to_fix_it(tmp_path: Path) -> None:
    raw = _write(tmp_path / "raw.h264", 3, fmt="h264")  # an elementary stream: no PTS
    with pytest.raises(ValueError, match="remux"):
        list(VideoFileSource(raw))
