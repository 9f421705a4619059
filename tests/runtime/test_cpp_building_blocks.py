"""The C++ building blocks against their Python twins: preprocessing, resampling, SHA-256,
safetensors and the portable RNG, through the ``_runtime`` bindings."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from egom2p_edge import preprocess
from egom2p_edge._native import load_runtime
from egom2p_edge.streaming.resample import FrameResampler, ResampleConfig

MS = 1_000_000


@pytest.fixture(scope="module")
def rt():
    runtime = load_runtime()
    if not hasattr(runtime, "center_crop_resize"):
        pytest.fail("egom2p_edge._runtime predates the building blocks; rebuild: pip install -e .")
    return runtime


# --- preprocess ------------------------------------------------------------------------------


def _random_sizes(rng: np.random.Generator, n: int) -> list[tuple[int, int, int]]:
    """(H, W, size) triples: tiny, odd, non-square, upscaling, identity."""
    sizes = [(1, 1, 1), (1, 1, 5), (2, 3, 7), (5, 5, 5), (7, 4, 3), (480, 640, 256)]
    for _ in range(n):
        h, w = (int(v) for v in rng.integers(1, 90, 2))
        sizes.append((h, w, int(rng.integers(1, 2 * min(h, w) + 3))))
    return sizes


def test_center_crop_resize_is_bit_identical(rt) -> None:
    rng = np.random.default_rng(0)
    for h, w, size in _random_sizes(rng, 80):
        for shape in ((h, w), (h, w, 3), (h, w, 1)):
            img = rng.integers(0, 256, shape, dtype=np.uint8)
            expected = preprocess.center_crop_resize(img, size)
            got = rt.center_crop_resize(img, size)
            assert got.dtype == np.uint8 and got.shape == expected.shape
            np.testing.assert_array_equal(got, expected, err_msg=f"{shape} -> {size}")


def test_center_crop_resize_large_crop(rt) -> None:
    """A crop side above 2896 switches the C++ sums from 32 to 64 bits."""
    img = np.random.default_rng(8).integers(0, 256, (2901, 2950), dtype=np.uint8)
    for size in (8, 300):
        np.testing.assert_array_equal(
            rt.center_crop_resize(img, size), preprocess.center_crop_resize(img, size)
        )


def test_center_crop_resize_with_crop_side(rt) -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (504, 896, 3), dtype=np.uint8)
    expected = preprocess.center_crop_resize(img, 256, crop_side=480)
    np.testing.assert_array_equal(rt.center_crop_resize(img, 256, crop_side=480), expected)
    for _ in range(20):
        h, w = (int(v) for v in rng.integers(2, 40, 2))
        side = int(rng.integers(1, min(h, w) + 1))
        size = int(rng.integers(1, 50))
        img = rng.integers(0, 256, (h, w), dtype=np.uint8)
        np.testing.assert_array_equal(
            rt.center_crop_resize(img, size, crop_side=side),
            preprocess.center_crop_resize(img, size, crop_side=side),
        )


def test_center_crop_resize_float_matches(rt) -> None:
    rng = np.random.default_rng(2)
    for h, w, size in _random_sizes(rng, 40):
        depth = (rng.random((h, w)) * 10).astype(np.float32)
        expected = preprocess.center_crop_resize_float(depth, size)
        got = rt.center_crop_resize_float(depth, size)
        assert got.dtype == np.float32 and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)
    # inf and NaN propagate through the same taps (zero-weight padding taps included).
    depth = (rng.random((9, 13, 2)) * 10).astype(np.float32)
    depth[3, 5, 0] = np.nan
    depth[6, 8, 1] = np.inf
    np.testing.assert_array_equal(
        rt.center_crop_resize_float(depth, 6), preprocess.center_crop_resize_float(depth, 6)
    )


def test_taps_crop_box_and_gaze_match(rt) -> None:
    rng = np.random.default_rng(3)
    for src, dst in [(1, 1), (3, 2), (480, 256), (7, 19), (256, 256)]:
        for got, expected in zip(rt.area_taps(src, dst), preprocess.area_taps(src, dst)):
            np.testing.assert_array_equal(got, expected)
    assert rt.crop_box(480, 640) == preprocess.crop_box(480, 640)
    assert rt.crop_box(504, 896, 480) == preprocess.crop_box(504, 896, 480)
    xy = np.concatenate([rng.random((50, 2)) * 900 - 50, [[np.nan, 3.0]]])
    for h, w, offset, side in [(480, 640, 0.0, None), (504, 896, 0.5, 480), (7, 3, 0.5, None)]:
        norm = rt.gaze_px_to_crop_norm(xy, h, w, offset, crop_side=side)
        np.testing.assert_array_equal(
            norm, preprocess.gaze_px_to_crop_norm(xy, h, w, offset, crop_side=side)
        )
        np.testing.assert_array_equal(
            rt.crop_norm_to_gaze_px(norm, h, w, offset, crop_side=side),
            preprocess.crop_norm_to_gaze_px(norm, h, w, offset, crop_side=side),
        )
    batched = rng.random((2, 3, 2))
    assert rt.gaze_px_to_crop_norm(batched, 10, 10).shape == (2, 3, 2)


@pytest.mark.parametrize(
    "img, match",
    [
        (np.zeros((4, 4), dtype=np.float64), "img: expected a uint8"),
        (np.zeros((4,), dtype=np.uint8), "img: expected a uint8"),
        (np.zeros((2, 2, 2, 2), dtype=np.uint8), "shape"),
        (np.zeros((4, 8), dtype=np.uint8)[:, ::2], "img: the array is not C-contiguous"),
        ([[1, 2], [3, 4]], "img: expected a numpy"),
        (np.zeros((0, 4), dtype=np.uint8), "image size must be >= 1"),
    ],
)
def test_center_crop_resize_rejects_bad_images(rt, img, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        rt.center_crop_resize(img, 2)


def test_preprocess_rejects_bad_arguments(rt) -> None:
    img = np.zeros((4, 6), dtype=np.uint8)
    with pytest.raises(ValueError, match="output size"):
        rt.center_crop_resize(img, 0)
    with pytest.raises(ValueError, match="crop_side"):
        rt.center_crop_resize(img, 2, crop_side=5)
    with pytest.raises(ValueError, match="img: expected a float32"):
        rt.center_crop_resize_float(img, 2)
    with pytest.raises(ValueError, match=r"xy: expected a float64 array of shape \(\.\.\., 2\)"):
        rt.gaze_px_to_crop_norm(np.zeros((3, 3)), 4, 4)
    with pytest.raises(ValueError, match="image size"):
        rt.crop_box(0, 3)


# --- resample --------------------------------------------------------------------------------


def _timestamps(rng: np.random.Generator, kind: str, n: int = 300) -> list[int]:
    """Strictly increasing timestamps: jittered 30 fps, drops, gaps, exact ties."""
    t0 = int(rng.integers(0, 2**60))
    base = np.round(np.arange(n) * 1e9 / 30).astype(np.int64)
    if kind == "jitter30":
        t = base + rng.integers(-4 * MS, 4 * MS, n)
    elif kind == "drops":
        t = (base + rng.integers(-2 * MS, 2 * MS, n))[rng.random(n) > 0.3]
    elif kind == "gaps":
        step = np.full(n, 33_333_333, dtype=np.int64)
        gap_at = rng.random(n) < 0.03
        step[gap_at] += rng.integers(100 * MS, 2000 * MS, int(gap_at.sum()))
        t = np.cumsum(step)
    elif kind == "ties":
        t = (np.arange(n, dtype=np.int64) * 50 * MS)[rng.random(n) > 0.1]
    else:  # multiples of half a grid period
        t = np.unique(rng.integers(0, 3 * n, n)) * 62_500_000
    return [t0 + int(v) for v in np.unique(t)]


def _py_result(out) -> tuple[list, list]:
    samples = [(s.grid_index, s.grid_timestamp_ns, s.frame_index) for s in out.samples]
    windows = [
        {
            "window_index": w.window_index,
            "first_grid_index": w.first_grid_index,
            "grid_timestamps_ns": list(w.grid_timestamps_ns),
            "frame_indices": list(w.frame_indices),
            "num_valid": w.num_valid,
        }
        for w in out.windows
    ]
    return samples, windows


@pytest.mark.parametrize("kind", ["jitter30", "drops", "gaps", "ties", "coarse"])
@pytest.mark.parametrize(
    "config",
    [
        ResampleConfig(),
        ResampleConfig(hop_frames=1),
        ResampleConfig(window_frames=5, hop_frames=7),
        ResampleConfig(max_gap_ns=100 * MS),
        ResampleConfig(period_ns=40 * MS, window_frames=8, hop_frames=3, max_gap_ns=15 * MS),
    ],
    ids=["default", "hop1", "hop_gt_window", "gap100ms", "25fps"],
)
def test_resampler_decisions_are_identical(rt, kind: str, config: ResampleConfig) -> None:
    rng = np.random.default_rng(len(kind) * 1000 + config.hop_frames * 10 + config.window_frames)
    timestamps = _timestamps(rng, kind)
    # Out-of-order and repeated frames sprinkled in: both must reject them and carry on.
    bad_at = set(rng.choice(len(timestamps), 5, replace=False).tolist())
    py = FrameResampler(config)
    cpp = rt.FrameResampler(
        config.period_ns, config.window_frames, config.hop_frames, config.max_gap_ns
    )
    windows = 0
    for i, t in enumerate(timestamps):
        if i in bad_at and i > 0:
            bad = timestamps[i - 1] - int(rng.integers(0, 2))  # repeated or earlier
            with pytest.raises(ValueError, match=str(bad)):
                py.push(bad)
            with pytest.raises(ValueError, match=str(bad)):
                cpp.push(bad)
        got = cpp.push(t)
        assert _py_result(py.push(t)) == (got[0], got[1]), f"frame {i}"
        assert cpp.min_frame_index_needed() == py.min_frame_index_needed()
        windows += len(got[1])
    assert _py_result(py.finish()) == tuple(cpp.finish())
    assert (cpp.frames_pushed, cpp.samples_decided, cpp.windows_emitted) == (
        py.frames_pushed,
        py.samples_decided,
        py.windows_emitted,
    )
    assert windows > 0
    with pytest.raises(ValueError, match="after"):
        cpp.push(timestamps[-1] + 1)


def test_resampler_bad_config(rt) -> None:
    with pytest.raises(ValueError, match="hop_frames"):
        rt.FrameResampler(hop_frames=0)
    with pytest.raises(ValueError, match="max_gap_ns"):
        rt.FrameResampler(max_gap_ns=0)


# --- sha256 ----------------------------------------------------------------------------------


def test_sha256_matches_hashlib(rt, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    sizes = [0, 1, 55, 56, 63, 64, 65, 1000, (1 << 20) - 1, (1 << 20) + 1, 3_000_017]
    sizes += [int(v) for v in rng.integers(0, 200_000, 10)]
    for i, n in enumerate(sizes):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(data)
        expected = hashlib.sha256(data).hexdigest()
        assert rt.sha256_file(str(path)) == expected, n
        assert rt.sha256_bytes(data) == expected, n


def test_sha256_missing_file(rt, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="absent.onnx"):
        rt.sha256_file(str(tmp_path / "absent.onnx"))


# --- safetensors -----------------------------------------------------------------------------


def test_safetensors_round_trip(rt, tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    rng = np.random.default_rng(5)
    tensors = {
        "w.f32": rng.standard_normal((3, 4, 5)).astype(np.float32),
        "w.f16": rng.standard_normal((7,)).astype(np.float16),
        "ids.i64": rng.integers(-(2**62), 2**62, (2, 3), dtype=np.int64),
        "ids.i32": rng.integers(-(2**31), 2**31 - 1, (5,), dtype=np.int32),
        "img.u8": rng.integers(0, 256, (4, 4, 3), dtype=np.uint8),
        "mask": rng.random((6,)) > 0.5,
        "scalar": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    path = tmp_path / "model.safetensors"
    save_file(tensors, str(path), metadata={"format": "np", "epoch": "3"})
    loaded = rt.load_safetensors(str(path))
    assert set(loaded) == set(tensors)
    for name, expected in tensors.items():
        got = loaded[name]
        assert got.dtype == expected.dtype and got.shape == expected.shape, name
        np.testing.assert_array_equal(got, expected, err_msg=name)
    _, metadata = rt.load_safetensors_with_metadata(str(path))
    assert metadata == {"format": "np", "epoch": "3"}


def test_safetensors_written_by_torch(rt, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    tensors = {"a": torch.arange(12, dtype=torch.float32).reshape(3, 4), "b": torch.ones(2).half()}
    path = tmp_path / "t.safetensors"
    save_file(tensors, str(path))
    loaded = rt.load_safetensors(str(path))
    for name, t in tensors.items():
        np.testing.assert_array_equal(loaded[name], t.numpy())


def test_safetensors_corrupt_files_name_the_file(rt, tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    path = tmp_path / "good.safetensors"
    save_file({"x": np.arange(10, dtype=np.float32)}, str(path))
    data = path.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[:-3])
    with pytest.raises(ValueError, match="truncated.safetensors"):
        rt.load_safetensors(str(truncated))
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError, match="garbage.safetensors.*header length"):
        rt.load_safetensors(str(garbage))
    f64 = tmp_path / "f64.safetensors"
    save_file({"d": np.zeros(2, dtype=np.float64)}, str(f64))
    with pytest.raises(ValueError, match="F64"):
        rt.load_safetensors(str(f64))
    with pytest.raises(FileNotFoundError, match="absent.safetensors"):
        rt.load_safetensors(str(tmp_path / "absent.safetensors"))


# --- portable RNG ----------------------------------------------------------------------------


def test_rng_streams_are_identical(rt) -> None:
    torch = pytest.importorskip("torch")
    from egom2p_edge import rng as py_rng

    gen = np.random.default_rng(6)
    seeds = [0, 1, 1234567, -1, -(2**70) + 5, 2**64 + 3, 2**63] + [
        int(v) for v in gen.integers(0, 2**62, 20)
    ]
    for seed in seeds:
        py, cpp = py_rng.PortableRng(seed), rt.PortableRng(seed)
        assert cpp.seed == py.seed
        for step in (0, 1, 7, 1000):
            assert rt.step_key(seed, step) == py_rng.step_key(seed, step)
            py.begin_step(step)
            cpp.begin_step(step)
            np.testing.assert_array_equal(cpp.next_u64(17), py.next_u64(17))
            np.testing.assert_array_equal(cpp.uniform(33), py.uniform(33))
            n = int(gen.integers(1, 300))
            known = gen.random(n) < gen.random()
            np.testing.assert_array_equal(
                cpp.order(known), py.order(torch.from_numpy(known)).numpy()
            )
            logits = gen.standard_normal((int(gen.integers(1, 40)), int(gen.integers(1, 70))))
            probs = torch.softmax(torch.from_numpy(logits * 3).float(), dim=-1)
            probs[gen.random(probs.shape) < 0.3] = 0.0  # zeros, unnormalised rows
            probs[:, 0] += 1e-3  # keep every row's total > 0
            np.testing.assert_array_equal(cpp.sample(probs.numpy()), py.sample(probs).numpy())
            np.testing.assert_array_equal(cpp.next_u64(1), py.next_u64(1))  # same counter


def test_rng_bad_inputs(rt) -> None:
    cpp = rt.PortableRng(3)
    with pytest.raises(ValueError, match="begin_step|BeginStep"):
        cpp.next_u64(1)
    cpp.begin_step(0)
    with pytest.raises(ValueError, match="finite"):
        cpp.sample(np.array([[np.nan, 1.0]], dtype=np.float32))
    with pytest.raises(ValueError, match="no probability mass"):
        cpp.sample(np.zeros((1, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="probs: expected a float32"):
        cpp.sample(np.ones((2, 3), dtype=np.float64))
    with pytest.raises(ValueError, match="known: expected a bool"):
        cpp.order(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="step"):
        cpp.begin_step(-1)


def test_safetensors_random_corruption_never_crashes(rt, tmp_path: Path) -> None:
    """Flipped and cut bytes give a ValueError or a valid load, never a crash or a hang."""
    from safetensors.numpy import save_file

    path = tmp_path / "base.safetensors"
    save_file({"a": np.arange(6, dtype=np.int32), "b": np.ones((2, 2), np.float16)}, str(path))
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(7)
    corrupt = tmp_path / "corrupt.safetensors"
    outcomes = {"loaded": 0, "rejected": 0}
    for _ in range(300):
        mutated = bytearray(data)
        for pos in rng.integers(0, len(mutated), int(rng.integers(1, 4))):
            mutated[pos] = int(rng.integers(0, 256))
        if rng.random() < 0.2:
            mutated = mutated[: int(rng.integers(0, len(mutated)))]
        corrupt.write_bytes(bytes(mutated))
        try:
            rt.load_safetensors(str(corrupt))
            outcomes["loaded"] += 1
        except ValueError as exc:
            assert "corrupt.safetensors" in str(exc)
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 0
