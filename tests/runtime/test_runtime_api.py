"""The public streaming API (``Runtime`` and ``ReferencePipeline`` alike): predictions, when
windows complete, several streams on one runtime, timers, and bad input (a clear exception,
never a crash)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import threading

import numpy as np
import pytest
from runtime_helpers import run_stream

import egom2p_edge
from egom2p_edge._native import load_runtime
from egom2p_edge.bundle import names
from egom2p_edge.streaming.timings import STAGES

IMPLS = ("runtime", "reference")
QUICK = dict(mode="single_pass", temperature=0.0)


@pytest.fixture(params=IMPLS)
def impl(request):
    return request.getfixturevalue(request.param)


def test_bundle_names_match_python():
    cpp = {k: set(v) for k, v in load_runtime().bundle_names().items()}
    assert cpp == {k: set(v) for k, v in names.all_names().items()}


def test_prediction_fields(decoded, synth_clip, reference):
    (p,) = decoded("runtime", "synth", "single_pass", None)
    t0 = synth_clip[0][1]
    assert (p.window_index, p.start_timestamp_ns, p.timestamp_ns) == (0, t0, t0 + 15 * 125_000_000)
    assert p.missing_frames == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.timestamp_ns = 0
    with pytest.raises(ValueError, match="read-only"):
        p.gaze_xy_norm[0, 0] = 0.5
    m = reference.manifest
    for k, tok in p.tokens.items():
        assert tok.dtype == np.int64 and 0 <= tok.min() and tok.max() < m.modality(k).vocab_size
        assert np.all((p.token_probs[k] > 0) & (p.token_probs[k] <= 1))
    assert p.gaze_xy_norm.dtype == np.float32 and p.gaze_xy_norm.shape == (60, 2)
    T = p.T_window_camera.astype(np.float64)
    np.testing.assert_allclose(T[:, 3], np.tile([0, 0, 0, 1], (60, 1)), atol=1e-6)
    R = T[:, :3, :3]
    np.testing.assert_allclose(R.transpose(0, 2, 1) @ R, np.tile(np.eye(3), (60, 1, 1)), atol=1e-4)
    assert set(p.confidence) == {"tok_gaze", "tok_cam"}


def test_push_returns_a_window_exactly_when_it_completes(impl, synth_clip):
    stream = impl.stream(**QUICK)
    counts = [len(stream.push(rgb, t)) for rgb, t in synth_clip]
    assert counts == [0] * 15 + [1]
    assert stream.flush() == []
    timings = stream.timings()
    assert list(timings) == [*STAGES, "step_0", "latency"]  # single_pass: one step
    assert timings["window"]["count"] == timings["tokenize"]["count"] == 1
    assert timings["encode"]["count"] == timings["decode"]["count"] == 1
    assert timings["step_0"]["count"] == timings["latency"]["count"] == 1
    assert timings["window"]["total_ms"] >= timings["step_0"]["total_ms"] > 0
    assert timings["latency"]["total_ms"] >= timings["window"]["total_ms"]
    w = timings["window"]
    assert w["p50_ms"] == w["p90_ms"] == w["p99_ms"] == w["max_ms"] == w["total_ms"]


def test_targets_subset(runtime, reference, synth_clip):
    ours = run_stream(runtime, synth_clip, targets=("cam",), **QUICK)
    ref = run_stream(reference, synth_clip, targets=("tok_cam",), **QUICK)
    for p in (ours[0], ref[0]):
        assert set(p.tokens) == {"tok_cam"} and p.gaze_xy_norm is None
        assert p.T_window_camera.shape == (60, 4, 4)
    np.testing.assert_array_equal(ours[0].tokens["tok_cam"], ref[0].tokens["tok_cam"])


def test_streams_are_independent_and_run_concurrently(runtime, synth_clip):
    # Two streams of one runtime on two threads at once give what each gives alone; while C++
    # computes, the GIL is free (another Python thread keeps counting).
    opts = [dict(seed=s, mode="single_pass", temperature=1.0) for s in (1, 2)]
    alone = [run_stream(runtime, synth_clip, **o) for o in opts]
    results: dict[int, list] = {}
    ticks = [0]
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks[0] += 1

    def work(i):
        results[i] = run_stream(runtime, synth_clip, **opts[i])

    counter = threading.Thread(target=count)
    counter.start()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    done.set()
    counter.join()
    for i in range(2):
        for k in ("tok_gaze", "tok_cam"):
            np.testing.assert_array_equal(results[i][0].tokens[k], alone[i][0].tokens[k])
    assert ticks[0] > 1000
    assert not all(
        np.array_equal(alone[0][0].tokens[k], alone[1][0].tokens[k]) for k in alone[0][0].tokens
    )


@pytest.mark.parametrize(
    "rgb,match",
    [
        (np.zeros((8, 8, 3), np.float32), "uint8"),
        (np.zeros((8, 8), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((8, 8, 4), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((0, 8, 3), np.uint8), r"\(H, W, 3\)"),
        ([[[0, 0, 0]]], "numpy"),
    ],
    ids=("float32", "grey", "rgba", "empty", "list"),
)
def test_bad_frames_raise(impl, rgb, match):
    stream = impl.stream(**QUICK)
    with pytest.raises(ValueError, match=match):
        stream.push(rgb, 0)


def test_timestamps_out_of_order_raise_and_the_stream_goes_on(impl):
    stream = impl.stream(**QUICK)
    frame = np.zeros((20, 30, 3), np.uint8)
    stream.push(frame, 1_000)
    for bad in (1_000, 999):
        with pytest.raises(ValueError, match="not after the previous"):
            stream.push(frame, bad)
    with pytest.raises(ValueError, match="timestamp_ns must be an int"):
        stream.push(frame, 1.5e9)
    assert stream.push(frame, 2_000) == []  # still usable
    stream.flush()
    with pytest.raises(ValueError, match="flushed"):
        stream.push(frame, 3_000)


@pytest.mark.parametrize(
    "options,match",
    [
        (dict(targets=("depth",)), "not one this bundle decodes"),
        (dict(targets=("gaze", "tok_gaze")), "twice"),
        (dict(targets="gaze"), "sequence"),
        (dict(targets=5), "sequence"),
        (dict(mode="fast"), "mode"),
        (dict(temperature=-1.0), "temperature"),
        (dict(top_p=1.5), "top_p"),
        (dict(steps=0), "steps"),
        (dict(steps={"cam": 2}, targets=("gaze",)), "not among the targets"),
        (dict(hop_frames=0), "hop_frames"),
        (dict(seed="a"), "seed"),
    ],
)
def test_bad_stream_options_raise(impl, options, match):
    with pytest.raises(ValueError, match=match):
        impl.stream(**options)


@pytest.mark.parametrize("cls", [egom2p_edge.Runtime, egom2p_edge.ReferencePipeline])
def test_bad_runtime_arguments_raise(cls, rt_bundle, tmp_path):
    with pytest.raises(ValueError, match="backend"):
        cls(rt_bundle, backend="tensorrt")
    with pytest.raises(ValueError, match="threads"):
        cls(rt_bundle, threads=0)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cls(tmp_path / "nowhere")


def _tampered(src, dst, edit=None, flip=None, drop=None):
    """A copy of bundle ``src`` (symlinks) with bundle.json edited, one file's byte flipped or
    one file removed."""
    os.makedirs(dst)
    for name in os.listdir(src):
        if name in (names.MANIFEST_FILE, flip, drop):
            continue
        os.symlink(os.path.join(src, name), os.path.join(dst, name))
    if flip:
        data = bytearray(open(os.path.join(src, flip), "rb").read())
        data[len(data) // 2] ^= 0xFF
        open(os.path.join(dst, flip), "wb").write(bytes(data))
    manifest = json.load(open(os.path.join(src, names.MANIFEST_FILE)))
    if edit:
        edit(manifest)
    json.dump(manifest, open(os.path.join(dst, names.MANIFEST_FILE), "w"))
    return dst


TAMPERING = {
    "magic": (dict(edit=lambda m: m.update(magic="other")), ValueError, "magic"),
    "version": (dict(edit=lambda m: m.update(format_version=99)), ValueError, "newer"),
    "field": (dict(edit=lambda m: m["video"].update(size="128")), ValueError, "video.size"),
    "sha256": (dict(flip="gaze_decoder.onnx"), ValueError, "sha256"),
    "missing": (dict(drop="cam_decoder.onnx"), ValueError, "cam_decoder.onnx is missing"),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampered_bundles_are_refused(rt_bundle, tmp_path, case):
    kwargs, exc, match = TAMPERING[case]
    bad = _tampered(str(rt_bundle), str(tmp_path / "bad"), **kwargs)
    with pytest.raises(exc, match=match):
        load_runtime().validate_bundle(bad)
    with pytest.raises(exc, match=match):
        egom2p_edge.Runtime(bad)
    with pytest.raises(exc, match=match):
        egom2p_edge.ReferencePipeline(bad)
    shutil.rmtree(bad)


def test_reference_pipeline_never_imports_the_extension():
    import subprocess
    import sys
    from pathlib import Path

    import egom2p_edge.pipeline as pipeline

    code = (
        "import sys, egom2p_edge\n"
        "egom2p_edge.ReferencePipeline\n"
        "print(sorted(m for m in sys.modules if m.endswith(('_runtime', '_native'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    for path in Path(pipeline.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert "_runtime" not in text and "_native" not in text, path
