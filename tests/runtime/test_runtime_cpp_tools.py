"""The C++ user's side: ``egom2p-rt`` runs a bundle on a y4m pipe and on rgb24 frames and gives
the same tokens as ``Runtime``; ``--streams 3`` runs three streams on three threads of one
runtime and finds them identical; the example of ``cpp/examples/minimal`` (built against the
installed SDK by the CTest test ``install_and_build_example``) streams a bundle.

The binaries come from a CMake build of this repository (``./dev test`` makes ``build/cpp``; the
editable install builds the tools too); the tests skip when none exists."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from runtime_helpers import run_stream

REPO = Path(__file__).resolve().parents[2]
QUICK = dict(mode="single_pass", temperature=1.0, seed=7)
QUICK_ARGS = ["--mode", "single_pass", "--temperature", "1", "--seed", "7"]


def _find(name: str) -> Path:
    env = os.environ.get("EGOM2P_RT_TOOL") if name == "egom2p-rt" else None
    candidates = [Path(env)] if env else []
    candidates += sorted((REPO / "build").glob(f"*/{name}"), key=lambda p: -p.stat().st_mtime)
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    pytest.skip(f"{name} is not built (./dev test builds build/cpp; or set EGOM2P_RT_TOOL)")


def _y4m(frames) -> bytes:
    """A 4:4:4 y4m stream (BT.601, limited range) of equally spaced RGB frames."""
    h, w = frames[0][0].shape[:2]
    dt = (frames[1][1] - frames[0][1]) / 1e9
    out = [f"YUV4MPEG2 W{w} H{h} F{round(1 / dt)}:1 Ip A1:1 C444\n".encode()]
    for rgb, _ in frames:
        r, g, b = (rgb[..., k].astype(np.float64) for k in range(3))
        y = 16 + 0.256788 * r + 0.504129 * g + 0.097906 * b
        u = 128 - 0.148223 * r - 0.290993 * g + 0.439216 * b
        v = 128 + 0.439216 * r - 0.367788 * g - 0.071427 * b
        out.append(b"FRAME\n")
        out += [np.clip(np.round(c), 0, 255).astype(np.uint8).tobytes() for c in (y, u, v)]
    return b"".join(out)


def _run(tool: Path, args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([str(tool), *args], input=stdin, capture_output=True, timeout=300)


def _lines(out: bytes) -> list[dict]:
    return [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]


def test_rt_tool_on_rgb24_matches_runtime(runtime, rt_bundle, synth_clip):
    tool = _find("egom2p-rt")
    h, w = synth_clip[0][0].shape[:2]
    raw = b"".join(rgb.tobytes() for rgb, _ in synth_clip)
    r = _run(tool, [str(rt_bundle), "--format", "rgb24", "--size", f"{w}x{h}", "--fps", "8",
                    "--jsonl", *QUICK_ARGS], raw)  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    lines = _lines(r.stdout)
    windows, summary = lines[:-1], lines[-1]["summary"]
    # the tool's timestamps are frame_index / fps: the clip's own (8 fps from 0)
    frames = [(rgb, i * 125_000_000) for i, (rgb, _) in enumerate(synth_clip)]
    (p,) = run_stream(runtime, frames, **QUICK)
    assert len(windows) == 1 and windows[0]["timestamp_ns"] == p.timestamp_ns
    for k, tokens in windows[0]["tokens"].items():
        np.testing.assert_array_equal(tokens, p.tokens[k])
    np.testing.assert_allclose(windows[0]["gaze_xy_px"], p.gaze_xy_px[-1], rtol=1e-5)
    assert summary["frames"] == 16 and summary["windows"] == 1
    assert summary["trajectory_samples"] == 60
    assert set(summary["timings_ms"]) >= {"tokenize", "encode", "window", "step_0", "latency"}


def test_rt_tool_on_y4m_and_several_threads(rt_bundle, synth_clip):
    tool = _find("egom2p-rt")
    clip = _y4m(synth_clip + [(rgb, t + 2_000_000_000) for rgb, t in synth_clip])
    r = _run(tool, [str(rt_bundle), "--quiet", *QUICK_ARGS], clip)
    assert r.returncode == 0, r.stderr.decode()
    text = r.stdout.decode()
    assert "32 frames" in text and "5 windows" in text and "p99 ms" in text
    r = _run(tool, [str(rt_bundle), "--streams", "3", "--jsonl", "--quiet", *QUICK_ARGS], clip)
    assert r.returncode == 0, r.stderr.decode()
    (result,) = _lines(r.stdout)
    assert result == {**result, "streams": 3, "windows_per_stream": 5, "identical": True}


def test_rt_tool_reports_bad_input(rt_bundle):
    tool = _find("egom2p-rt")
    r = _run(tool, [str(rt_bundle)], b"not a video")
    assert r.returncode == 1 and b"not y4m" in r.stderr
    r = _run(tool, [str(rt_bundle), "--format", "rgb24", "--size", "4x4", "--fps", "30"], b"x" * 50)
    assert r.returncode == 1 and b"ends inside frame" in r.stderr
    r = _run(tool, [str(rt_bundle), "--providers", "tensorrt"], b"")
    if b"UNAVAILABLE" in r.stderr:  # a CPU-only ONNX Runtime
        assert r.returncode == 1 and b"allow_fallback" in r.stderr
    r = _run(tool, ["--frobnicate"])
    assert r.returncode == 2 and b"usage: egom2p-rt" in r.stderr
    for args, message in [
        (["--hop", "x"], b"--hop needs a number, got 'x'"),
        (["--threads"], b"--threads needs a value"),
        (["--mode"], b"--mode needs a value"),
        (["--quiet", "--streams", "0"], b"--streams must be >= 1"),
    ]:
        r = _run(tool, [str(rt_bundle), *args])
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)


def test_installed_example_streams_a_bundle(rt_bundle):
    example = _find("install_example/build/egom2p_minimal")
    r = _run(example, [str(rt_bundle)])
    assert r.returncode == 0, r.stderr.decode()
    text = r.stdout.decode()
    assert "window 0 at 1.875 s" in text and "trajectory: 90 poses" in text
