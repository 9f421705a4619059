"""Continuous output (``stream.trajectory()``, ``stream.gaze_track()``): windows cut from a known
smooth motion are stitched back exactly; noisy windows merge without the jumps a naive chaining
makes; fractional hops, gaps, finality and history; gaze back in pixels; and the C++ ``Runtime``
gives the same tracks as the Python ``ReferencePipeline``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from egom2p_edge.preprocess import crop_norm_to_gaze_px
from egom2p_edge.streaming.tracks import TrackBuilder, TrackConfig

RATE, FPS, T = 30, 8, 60
T0_NS = 1_000_000_000
AXIS = np.array([0.1, 1.0, 0.3]) / np.linalg.norm([0.1, 1.0, 0.3])


def gt_pose(t_s: float) -> np.ndarray:
    """The known motion: T_world_camera at t seconds (rotation 0.6 rad/s, a curved path)."""
    m = np.eye(4)
    m[:3, :3] = Rotation.from_rotvec(AXIS * 0.6 * t_s).as_matrix()
    m[:3, 3] = [0.5 * t_s, 0.1 * np.sin(2 * t_s), 0.2 * t_s]
    return m


def gt_gaze(t_s: float) -> np.ndarray:
    return np.array([0.5 + 0.2 * np.sin(t_s), 0.5 + 0.1 * np.cos(t_s)])


def make_windows(count: int, hop: int = 4, noise: float = 0.0, seed: int = 0, skip=()) -> list:
    """Window outputs as a model would give them: poses relative to the window's first sample,
    gaze; with noise, each window has its own scale error and rigid error (as a window of a real
    model disagrees with its neighbours)."""
    rng = np.random.default_rng(seed)
    out = []
    for w in range(count):
        start_s = w * hop / FPS
        times = start_s + np.arange(T) / RATE
        base = np.linalg.inv(gt_pose(start_s))
        local = np.stack([base @ gt_pose(t) for t in times])
        gaze = np.stack([gt_gaze(t) for t in times])
        if noise:
            local[:, :3, 3] *= 1 + rng.uniform(-noise, noise)
            err = np.eye(4)
            err[:3, :3] = Rotation.from_rotvec(rng.normal(0, noise * 0.2, 3)).as_matrix()
            err[:3, 3] = rng.normal(0, noise * 0.05, 3)
            local = np.einsum("ij,njk->nik", err, local)
            gaze = gaze + rng.normal(0, noise * 0.1, 2)
        if w not in skip:
            out.append((w, T0_NS + w * hop * 125_000_000, local, gaze))
    return out


def build(windows, hop: int = 4, history_s=None, finish: bool = False) -> TrackBuilder:
    tb = TrackBuilder(TrackConfig(hop_frames=hop, history_s=history_s))
    for w, start, local, gaze in windows:
        probs = {"tok_cam": np.full(30, 0.9, np.float32), "tok_gaze": np.full(30, 0.8, np.float32)}
        tb.add(w, start, local.astype(np.float32), gaze.astype(np.float32), probs, (96, 160))
    if finish:
        tb.finish()
    return tb


def relative_gt(n: np.ndarray) -> np.ndarray:
    first = np.linalg.inv(gt_pose(0.0))
    return np.stack([first @ gt_pose(k / RATE) for k in n])


@pytest.mark.parametrize("hop", (4, 8))
def test_known_motion_is_stitched_exactly(hop):
    tb = build(make_windows(6, hop=hop), hop=hop)
    tr = tb.trajectory()
    n = np.arange(len(tr.timestamp_ns))
    # window 5 ends at sample 5 * hop * 30 / 8 + 59; samples on the 30-Hz grid of the stream
    assert len(n) == 5 * hop * RATE // FPS + T
    assert tr.timestamp_ns[0] == T0_NS and tr.timestamp_ns[1] == T0_NS + 33_333_333
    assert np.array_equal(tr.timestamp_ns, T0_NS + (2 * n * 10**9 + RATE) // (2 * RATE))
    np.testing.assert_allclose(tr.T_world_camera, relative_gt(n), atol=2e-6)
    np.testing.assert_allclose(tr.confidence, 0.9, rtol=1e-6)
    # final: what no later window can cover (before window 6's first sample)
    assert tr.final.sum() == 6 * hop * RATE // FPS and not tr.final[-1]
    assert build(make_windows(6, hop=hop), hop=hop, finish=True).trajectory().final.all()


def test_fractional_hop_interpolates_between_samples():
    # hop 3 = 11.25 samples: windows sit between the stream's samples; linear interpolation of
    # a smooth motion stays within the curvature error.
    tr = build(make_windows(5, hop=3), hop=3).trajectory()
    n = np.arange(len(tr.timestamp_ns))
    np.testing.assert_allclose(tr.T_world_camera, relative_gt(n), atol=2e-4)


def _max_step_error(T_world_camera: np.ndarray) -> float:
    """Largest difference between a consecutive-sample translation step and the true one."""
    first = np.linalg.inv(gt_pose(0.0))
    gt = np.stack([first @ gt_pose(k / RATE) for k in range(len(T_world_camera))])
    d = np.diff(T_world_camera[:, :3, 3], axis=0) - np.diff(gt[:, :3, 3], axis=0)
    return float(np.linalg.norm(d, axis=1).max())


def _naive_chain(windows, hop: int = 4) -> np.ndarray:
    """Windows chained at their first samples (assuming the model's first pose is the
    identity), each sample from the newest window: what stitching without the overlap gives."""
    step = hop * RATE // FPS
    world, out = np.eye(4), {}
    for k, (w, _, local, _) in enumerate(windows):
        if k:
            world = world @ windows[k - 1][2][step]
        for j in range(T):
            out[w * step + j] = world @ local[j]
    first = np.linalg.inv(out[0])
    return np.stack([first @ out[n] for n in sorted(out)])


def test_noisy_windows_merge_without_jumps():
    windows = make_windows(10, noise=0.03, seed=1)
    tr = build(windows).trajectory()
    merged, naive = _max_step_error(tr.T_world_camera), _max_step_error(_naive_chain(windows))
    gt_step = 0.5 / RATE  # the true path moves about 17 mm per sample
    print(f"max step error: merged {merged * 1e3:.2f} mm, naive {naive * 1e3:.2f} mm")
    assert merged < 0.5 * naive
    assert merged < 0.2 * gt_step
    # the rotation has no jump either: consecutive rotations differ by about the true rate
    R = tr.T_world_camera[:, :3, :3]
    rel = Rotation.from_matrix(R[1:] @ R[:-1].transpose(0, 2, 1)).as_rotvec()
    steps = np.linalg.norm(rel, axis=1)
    assert steps.max() < 1.5 * 0.6 / RATE


def test_gaze_is_merged_and_mapped_back_to_pixels():
    windows = make_windows(8, noise=0.03, seed=2)
    g = build(windows).gaze_track()
    n = np.arange(len(g.timestamp_ns))
    truth = np.stack([gt_gaze(k / RATE) for k in n])
    jumps = np.abs(np.diff(g.gaze_xy_norm, axis=0) - np.diff(truth, axis=0)).max()
    newest_wins = np.concatenate([w[3][: 4 * RATE // FPS] for w in windows])
    naive = np.abs(np.diff(newest_wins, axis=0) - np.diff(truth[: len(newest_wins)], axis=0))
    assert jumps < 0.5 * naive.max()
    # (96, 160) frames: a 96-pixel centre crop starting at x = 32
    np.testing.assert_allclose(g.gaze_xy_px, crop_norm_to_gaze_px(g.gaze_xy_norm, 96, 160))
    np.testing.assert_allclose(g.gaze_xy_px[:, 0], g.gaze_xy_norm[:, 0] * 96 + 32)
    np.testing.assert_allclose(g.confidence, 0.8, rtol=1e-6)


def test_a_gap_longer_than_a_window_continues_from_the_last_pose():
    windows = make_windows(12, skip=range(3, 8))  # windows 3..7 missing: 0.5 s of no overlap
    tr = build(windows).trajectory()
    ts = np.diff(tr.timestamp_ns)
    assert ts.max() > 10 * 33_333_334  # the hole in time
    i = int(np.argmax(ts))
    np.testing.assert_allclose(tr.T_world_camera[i + 1], tr.T_world_camera[i], atol=1e-9)


def test_since_and_history_bound_what_is_returned():
    windows = make_windows(10)
    full = build(windows, finish=True).trajectory()
    cut = build(windows, finish=True).trajectory(since_ns=int(full.timestamp_ns[100]))
    np.testing.assert_array_equal(cut.timestamp_ns, full.timestamp_ns[100:])
    kept = build(windows, history_s=2.0, finish=True).trajectory()
    assert len(kept.timestamp_ns) == 60
    np.testing.assert_array_equal(kept.T_world_camera, full.T_world_camera[-60:])


@pytest.mark.parametrize("bad", [dict(hop_frames=0), dict(history_s=0), dict(rate_hz=1.5)])
def test_bad_track_config_raises(bad):
    with pytest.raises(ValueError, match="TrackConfig"):
        TrackConfig(**bad)


@pytest.mark.parametrize("hop", (2, 3))
def test_runtime_tracks_equal_reference_tracks(runtime, reference, synth_clip, hop):
    frames = synth_clip + [(rgb, t + 2_000_000_000) for rgb, t in synth_clip]
    opts = dict(mode="single_pass", temperature=1.0, hop_frames=hop, seed=3)
    streams = {}
    for name, impl in (("runtime", runtime), ("reference", reference)):
        s = impl.stream(**opts)
        for rgb, t in frames:
            s.push(rgb, t)
        streams[name] = (s, s.trajectory(), s.gaze_track())
        s.flush()
    (a, ta, ga), (b, tb, gb) = streams["runtime"], streams["reference"]
    assert len(ta.timestamp_ns) > 60 and not ta.final.all()  # provisional samples before flush
    for x, y in ((ta, tb), (a.trajectory(), b.trajectory())):
        np.testing.assert_array_equal(x.timestamp_ns, y.timestamp_ns)
        np.testing.assert_array_equal(x.final, y.final)
        np.testing.assert_allclose(x.T_world_camera, y.T_world_camera, rtol=0, atol=1e-9)
        np.testing.assert_allclose(x.confidence, y.confidence, rtol=0, atol=1e-12)
    for x, y in ((ga, gb), (a.gaze_track(), b.gaze_track())):
        np.testing.assert_allclose(x.gaze_xy_norm, y.gaze_xy_norm, rtol=0, atol=1e-9)
        np.testing.assert_allclose(x.gaze_xy_px, y.gaze_xy_px, rtol=0, atol=1e-7)
    t = a.trajectory()
    assert t.final.all()
    np.testing.assert_allclose(t.T_world_camera[0], np.eye(4), atol=1e-6)  # the world frame


def test_prediction_gaze_in_pixels(decoded, synth_clip):
    (p,) = decoded("runtime", "synth", "single_pass", None)
    h, w = synth_clip[0][0].shape[:2]
    assert p.image_size == (h, w)
    np.testing.assert_allclose(p.gaze_xy_px, crop_norm_to_gaze_px(p.gaze_xy_norm, h, w))


def test_tracks_without_gaze(runtime, synth_clip):
    s = runtime.stream(targets=("cam",), mode="single_pass", temperature=0.0)
    pushed = [s.push(rgb, t) for rgb, t in synth_clip]
    assert sum(len(x) for x in pushed) == 1
    assert len(s.gaze_track().timestamp_ns) == 0 and len(s.trajectory().timestamp_ns) == 60
