"""``python -m egom2p_edge.devices.publish_video``: a video file published on the frame bus reaches
a subscriber whole, with its PTS timestamps."""

from __future__ import annotations

import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from egom2p_edge.devices import FrameSubscriber, VideoFileSource


def _video(path: Path, frames: int = 10) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 10)
        for i in range(frames):
            vf = av.VideoFrame.from_ndarray(np.full((24, 32, 3), 20 * i, np.uint8), "rgb24")
            vf.pts = i
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    return path


def test_publish_video_script(tmp_path: Path) -> None:
    video = _video(tmp_path / "clip.mp4")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "egom2p_edge.devices.publish_video",
            str(video),
            "--endpoint",
            "tcp://127.0.0.1:*",  # the publisher picks a free port and prints it
            "--lossless",
            "--wait-timeout-s",
            "30",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        match = re.match(r"waiting for 1 subscriber\(s\) on (tcp://127\.0\.0\.1:\d+) \.\.\.", first)
        assert match, f"unexpected first line {first!r}"
        endpoint = match.group(1)
        with FrameSubscriber(endpoint, timeout_s=30) as sub:
            got = list(sub)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    expected = list(VideoFileSource(video))
    assert [f.timestamp_ns for f in got] == [f.timestamp_ns for f in expected]
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a.rgb, b.rgb)
    assert f"published 10 frames (0 dropped) of {video} on {endpoint}" in out
