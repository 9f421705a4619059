"""Live mode (``stream(..., realtime=True)``): without pressure it gives what the lossless
synchronous stream gives; fed twice faster than it can run, it drops the oldest windows, counts
them and keeps the latency bounded; bad input still raises at once."""

from __future__ import annotations

import time

import numpy as np
import pytest
from runtime_helpers import run_stream, synthetic_frames

QUICK = dict(mode="single_pass", temperature=1.0, seed=4)


@pytest.fixture(params=("runtime", "reference"))
def impl(request):
    return request.getfixturevalue(request.param)


def _clip(reference, clips: int = 2) -> list:
    return synthetic_frames(seed=5, clips=clips, size=reference.manifest.video.size)


def test_live_without_pressure_equals_lossless(impl, reference):
    frames = _clip(reference)  # 32 frames at 8 fps: windows 0..4 at hop 4
    lossless = run_stream(impl, frames, **QUICK)
    live = impl.stream(realtime=True, queue_windows=64, **QUICK)
    got = []
    for rgb, t in frames:
        got += live.push(rgb, t)  # returns at once: whatever is ready
    got += live.flush()
    assert [p.window_index for p in got] == [p.window_index for p in lossless] == [0, 1, 2, 3, 4]
    for a, b in zip(got, lossless):
        for k in a.tokens:
            np.testing.assert_array_equal(a.tokens[k], b.tokens[k])
        np.testing.assert_array_equal(a.gaze_xy_norm, b.gaze_xy_norm)
    stats = live.live_stats()
    assert stats["windows_dropped"] == 0 and stats["windows_done"] == 5
    assert stats["latency_p99_ms"] >= stats["latency_p50_ms"] > 0
    assert live.timings()["latency"]["count"] == 5
    np.testing.assert_array_equal(
        live.trajectory().T_world_camera, run_tracks(impl, frames).T_world_camera
    )


def run_tracks(impl, frames):
    s = impl.stream(**QUICK)
    for rgb, t in frames:
        s.push(rgb, t)
    s.flush()
    return s.trajectory()


def test_fed_faster_than_it_runs_latency_stays_bounded(runtime, reference):
    # Measure one window, then feed 30-fps frames so that windows (every 0.5 s of stream time)
    # arrive four times as fast as they can be run, for about twelve windows (four, not two: a
    # probe slowed by a busy machine must not let the live run keep up).
    base = _clip(reference, clips=1)[0][0]
    probe = runtime.stream(**QUICK)
    for i in range(16):
        probe.push(base, i * 125_000_000)
    window_s = probe.timings()["window"]["max_ms"] / 1e3
    frame_wall_s = (window_s / 4) / 15  # 15 frames (0.5 s at 30 fps) per quarter window time
    queue = 2
    live = runtime.stream(realtime=True, queue_windows=queue, **QUICK)
    got, latencies = [], []
    start = time.perf_counter()
    for i in range(16 + 12 * 15):
        ready = live.push(np.roll(base, i, axis=1), i * 33_333_333)
        got += ready
        sleep = start + (i + 1) * frame_wall_s - time.perf_counter()
        if sleep > 0:
            time.sleep(sleep)
    got += live.flush()
    latencies = [p.latency_ms for p in got]
    stats = live.live_stats()
    print(f"window {window_s * 1e3:.0f} ms; live stats {stats}")
    assert stats["windows_dropped"] > 0  # it could not keep up, and said so
    assert stats["windows_done"] + stats["windows_dropped"] == stats["windows_submitted"]
    assert stats["windows_done"] == len(got)
    assert [p.window_index for p in got] == sorted(p.window_index for p in got)
    # A window waits for at most `queue` others and the one running: bounded whatever the rate
    # (3x headroom for a busy shared machine).
    bound_ms = (queue + 2) * window_s * 1e3 * 3
    assert max(latencies) < bound_ms
    last = latencies[len(latencies) // 2 :]
    assert max(last) < bound_ms  # and it does not grow over time
    assert len(live.trajectory().timestamp_ns) > 0


def test_live_errors_surface_at_once(impl):
    live = impl.stream(realtime=True, **QUICK)
    frame = np.zeros((20, 30, 3), np.uint8)
    live.push(frame, 1_000)
    with pytest.raises(ValueError, match="not after the previous"):
        live.push(frame, 999)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        live.push(np.zeros((4, 4), np.uint8), 2_000)
    with pytest.raises(ValueError, match="start a new stream"):
        live.push(frame, 1_000 + 7200 * 10**9)
    assert live.flush() == []
    with pytest.raises(ValueError, match="flushed"):
        live.push(frame, 3_000)
    with pytest.raises(ValueError, match="not live"):
        impl.stream(**QUICK).live_stats()


@pytest.mark.parametrize(
    "bad", [dict(queue_windows=0), dict(realtime="yes"), dict(realtime=False, queue_windows=0)]
)
def test_bad_live_options_raise(impl, bad):
    with pytest.raises(ValueError, match="queue_windows|realtime"):
        impl.stream(**{"realtime": True, **bad})
