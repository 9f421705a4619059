"""Tests of the streaming resampler: against an offline nearest-frame reference, emission timing,
no duplication across gaps, the release index, and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.streaming.resample import (
    FrameResampler,
    ResampleConfig,
    resample_timestamps,
)

MS = 1_000_000


def random_timestamps(rng: np.random.Generator, kind: str, n: int = 400) -> np.ndarray:
    """Strictly increasing int64 timestamps of one kind of stream. Shape (<= n,)."""
    t0 = int(rng.integers(0, 2**60))
    if kind == "jitter30":
        t = np.round(np.arange(n) * 1e9 / 30).astype(np.int64) + rng.integers(-4 * MS, 4 * MS, n)
    elif kind == "drops":
        t = np.round(np.arange(n) * 1e9 / 30).astype(np.int64) + rng.integers(-2 * MS, 2 * MS, n)
        t = t[rng.random(n) > 0.3]
    elif kind == "gaps":
        step = np.full(n, 33_333_333, dtype=np.int64)
        gap_at = rng.random(n) < 0.03
        step[gap_at] += rng.integers(100 * MS, 2000 * MS, int(gap_at.sum()))
        t = np.cumsum(step)
    elif kind == "ties":  # 20 fps: every other grid time lies exactly between two frames
        t = np.arange(n, dtype=np.int64) * 50 * MS
        t = t[rng.random(n) > 0.1]
    elif kind == "coarse":  # multiples of half a grid period: exact hits and exact ties
        t = np.unique(rng.integers(0, 3 * n, n)) * 62_500_000
    else:
        raise ValueError(kind)
    return t0 + np.unique(t)


KINDS = ("jitter30", "drops", "gaps", "ties", "coarse")
CONFIGS = (
    ResampleConfig(),
    ResampleConfig(hop_frames=1),
    ResampleConfig(window_frames=5, hop_frames=7),
    ResampleConfig(max_gap_ns=100 * MS),
    ResampleConfig(period_ns=40 * MS, window_frames=8, hop_frames=3, max_gap_ns=15 * MS),
)


def offline_reference(timestamps: np.ndarray, config: ResampleConfig, finish: bool) -> list[int]:
    """Frame index per grid sample, from the definition over the whole sequence."""
    t = timestamps.astype(np.int64)
    max_gap = config.effective_max_gap_ns
    frames = []
    g = 0
    while True:
        t_g = int(t[0]) + g * config.period_ns
        if t_g > t[-1] and not (finish and t_g - int(t[-1]) < max_gap):
            return frames
        distance = np.abs(t - t_g)
        i = int(np.argmin(distance))  # the first minimum: ties go to the earlier frame
        frames.append(i if distance[i] < max_gap else -1)
        g += 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"p{c.period_ns}w{c.window_frames}")
def test_matches_offline_reference(kind: str, config: ResampleConfig) -> None:
    rng = np.random.default_rng(100 * KINDS.index(kind) + CONFIGS.index(config))
    for finish in (False, True):
        t = random_timestamps(rng, kind)
        result = resample_timestamps(t, config, finish=finish)
        expected = offline_reference(t, config, finish)
        assert [s.frame_index for s in result.samples] == expected
        assert [s.grid_index for s in result.samples] == list(range(len(expected)))
        hop, length = config.hop_frames, config.window_frames
        n_windows = max(0, (len(expected) - length) // hop + 1)
        assert [w.window_index for w in result.windows] == list(range(n_windows))
        for w in result.windows:
            assert w.first_grid_index == w.window_index * hop
            assert (
                list(w.frame_indices) == expected[w.first_grid_index : w.first_grid_index + length]
            )
            assert w.grid_timestamps_ns[0] == int(t[0]) + w.first_grid_index * config.period_ns


def test_no_frame_fills_two_grid_times_by_default() -> None:
    rng = np.random.default_rng(1)
    for kind in KINDS:
        frames = [s.frame_index for s in resample_timestamps(random_timestamps(rng, kind)).samples]
        valid = [f for f in frames if f >= 0]
        assert len(valid) == len(set(valid)), kind


def test_window_is_emitted_by_the_first_frame_at_or_after_its_last_grid_time() -> None:
    rng = np.random.default_rng(2)
    t = random_timestamps(rng, "drops")
    config = ResampleConfig()
    r = FrameResampler(config)
    for i, ts in enumerate(t):
        for w in r.push(int(ts)).windows:
            last = w.grid_timestamps_ns[-1]
            assert ts >= last
            assert i == 0 or t[i - 1] < last


def test_min_frame_index_needed_is_safe() -> None:
    """No sample or window decided later refers to a frame below an earlier release index."""
    rng = np.random.default_rng(3)
    for kind in KINDS:
        r = FrameResampler(ResampleConfig(hop_frames=2))
        released = -1
        assert r.min_frame_index_needed() == -1
        for ts in random_timestamps(rng, kind):
            out = r.push(int(ts))
            for w in out.windows:
                assert all(f < 0 or f >= released for f in w.frame_indices), kind
            released = max(released, r.min_frame_index_needed())
            assert released <= r.frames_pushed - 1


def test_hand_example_with_tie_gap_and_finish() -> None:
    # Grid 0, 125, 250, 375, 500 ms. 125: tie between 100 and 150 -> frame 2 (100 ms).
    # 250: frame 4 (240 ms). 375: no frame within 62.5 ms -> missing. 500: frame 5 (560 ms,
    # 60 ms away, decided at 560). Finish: 625 is 65 ms after 560 -> not filled.
    t = [0, 50 * MS, 100 * MS, 150 * MS, 240 * MS, 560 * MS]
    result = resample_timestamps(t, ResampleConfig(window_frames=2, hop_frames=2))
    assert [s.frame_index for s in result.samples] == [0, 2, 4, -1, 5]
    assert [w.frame_indices for w in result.windows] == [(0, 2), (4, -1)]
    assert [w.num_valid for w in result.windows] == [2, 1]


def test_rejects_out_of_order_and_repeated_timestamps() -> None:
    r = FrameResampler()
    r.push(200)
    with pytest.raises(ValueError, match=r"150.*200"):
        r.push(150)
    with pytest.raises(ValueError, match="strictly increase"):
        r.push(200)
    assert r.frames_pushed == 1
    r.push(201)
    assert r.frames_pushed == 2
    with pytest.raises(ValueError, match="timestamp_ns must be an int"):
        r.push(3.5)  # type: ignore[arg-type]
    r.finish()
    with pytest.raises(ValueError, match="after finish"):
        r.push(10**9)
    assert r.finish().samples == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"period_ns": 0},
        {"window_frames": 0},
        {"hop_frames": -1},
        {"max_gap_ns": 0},
        {"period_ns": 1.5},
        {"hop_frames": True},
    ],
)
def test_config_validation_names_the_field(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        ResampleConfig(**kwargs)
