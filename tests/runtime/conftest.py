"""Shared fixtures of the streaming-runtime tests: one ego-tiny bundle per session, test clips,
one ``Runtime`` and one ``ReferencePipeline`` on it, and a cache of decoded clips so a (mode,
temperature) combination runs once per implementation however many tests compare it."""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import numpy as np
import pytest
from runtime_helpers import run_stream, synthetic_frames

from egom2p_edge.paths import shared_path

H2O_CLIP = ("fixtures", "real", "egom2p", "example_data", "rgb2dep_h2o.mp4")


@pytest.fixture(scope="session")
def rt_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("torch")
    from egom2p_edge.export.random_models import write_random_checkpoints

    return write_random_checkpoints(tmp_path_factory.mktemp("rt_ckpt"), "ego-tiny", seed=0)


@pytest.fixture(scope="session")
def rt_bundle(rt_checkpoints, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight ego-tiny bundle with every stage (exported by ``egom2p export``)."""
    pytest.importorskip("onnxscript")
    from egom2p_edge.cli.main import main

    out = tmp_path_factory.mktemp("rt_bundle") / "bundle"
    args = ["export", "--target", "cpu-fp32", "--out", str(out)]
    for role in ("backbone", "cam_tokenizer", "gaze_tokenizer", "video_tokenizer"):
        flag = "--model" if role == "backbone" else f"--{role.replace('_', '-')}"
        args += [flag, str(rt_checkpoints[role])]
    quiet = {n: logging.getLogger(n) for n in ("onnx_ir", "onnxscript")}
    levels = {n: lg.level for n, lg in quiet.items()}
    for lg in quiet.values():
        lg.setLevel(logging.WARNING)
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            rc = main(args)
    finally:
        for n, lg in quiet.items():
            lg.setLevel(levels[n])
    assert rc == 0, f"export failed ({rc}):\n{buf.getvalue()}"
    return out


@pytest.fixture(scope="session")
def runtime(rt_bundle):
    import egom2p_edge

    return egom2p_edge.Runtime(rt_bundle)


@pytest.fixture(scope="session")
def reference(rt_bundle):
    import egom2p_edge

    return egom2p_edge.ReferencePipeline(rt_bundle)


@pytest.fixture(scope="session")
def synth_clip(reference) -> list[tuple[np.ndarray, int]]:
    """16 synthetic frames at 8 fps at the bundle's size: exactly one window."""
    return synthetic_frames(seed=3, clips=1, size=reference.manifest.video.size)


@pytest.fixture(scope="session")
def h2o_clip(h2o_clip_or_none) -> list[tuple[np.ndarray, int]]:
    """The real H2O example clip (16 frames at 8 fps, 256 x 256) with its timestamps."""
    if h2o_clip_or_none is None:
        pytest.skip("the H2O example clip is absent (../shared/fixtures/real)")
    return h2o_clip_or_none


@pytest.fixture(scope="session")
def decoded(runtime, reference, synth_clip, h2o_clip_or_none):
    """``decoded(impl, clip, mode, temperature, steps)`` -> predictions, computed once per session.

    impl: "runtime" or "reference"; clip: "synth" or "h2o"; temperature / steps: None = the
    bundle's defaults."""
    cache: dict = {}
    impls = {"runtime": runtime, "reference": reference}

    def get(impl: str, clip: str, mode: str, temperature: float | None, steps: int | None = None):
        key = (impl, clip, mode, temperature, steps)
        if key not in cache:
            frames = synth_clip if clip == "synth" else h2o_clip_or_none
            if frames is None:
                pytest.skip("the H2O example clip is absent (../shared/fixtures/real)")
            cache[key] = run_stream(
                impls[impl], frames, mode=mode, temperature=temperature, steps=steps
            )
        return cache[key]

    return get


@pytest.fixture(scope="session")
def h2o_clip_or_none():
    path = shared_path(*H2O_CLIP)
    if path is None:
        return None
    from egom2p_edge.devices import VideoFileSource

    with VideoFileSource(path) as source:
        return [(f.rgb, f.timestamp_ns) for f in source]
