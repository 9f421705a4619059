"""Execution providers and backends, from Python: an unavailable provider is refused with a
message that says what exists and what to do, or skipped when the caller allows fallback (then
the results are the CPU's); provider options follow the bundle's precision. The ``gpu`` and
``trt`` tests run where a GPU build of ONNX Runtime, or TensorRT with built engines, exists
(see the README section "GPU backends"), and skip cleanly elsewhere."""

from __future__ import annotations

import os

import numpy as np
import pytest
from runtime_helpers import run_stream

import egom2p_edge
from egom2p_edge._native import load_runtime
from egom2p_edge.streaming.providers import (
    ProviderConfig,
    default_engine_cache_dir,
    resolve_providers,
    tensorrt_options,
)

QUICK = dict(mode="single_pass", temperature=0.0)
CPU_ONLY = ["AzureExecutionProvider", "CPUExecutionProvider"]


def _available() -> list[str]:
    import onnxruntime

    return onnxruntime.get_available_providers()


def test_resolution_rules():
    assert resolve_providers(ProviderConfig(), CPU_ONLY) == ["cpu"]
    with pytest.raises(ValueError, match=r"'tensorrt' \(TensorrtExecutionProvider\).*fallback"):
        resolve_providers(ProviderConfig(("tensorrt", "cpu")), CPU_ONLY)
    fallback = ProviderConfig(("tensorrt", "cuda"), allow_fallback=True)
    assert resolve_providers(fallback, CPU_ONLY) == ["cpu"]
    gpu = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert resolve_providers(ProviderConfig(("cuda", "cpu")), gpu) == ["cuda", "cpu"]
    # the C++ side lists what its ONNX Runtime library has (the same library as Python's)
    assert "CPUExecutionProvider" in load_runtime().available_providers()


@pytest.mark.parametrize(
    "bad",
    [dict(providers=()), dict(providers=("gpu",)), dict(providers=("cpu", "cpu")),
     dict(providers="cpu"), dict(allow_fallback=1), dict(device_id=-1)],
)  # fmt: skip
def test_bad_provider_config_raises(bad):
    with pytest.raises(ValueError, match="providers|allow_fallback|device_id"):
        ProviderConfig(**bad)


def test_tensorrt_options_follow_the_precision(tmp_path, monkeypatch):
    monkeypatch.setenv("EGOM2P_ENGINE_CACHE", str(tmp_path))
    assert default_engine_cache_dir() == str(tmp_path / "ort-tensorrt")
    for precision, fp16, int8 in (("fp32", "False", "False"), ("fp16", "True", "False"),
                                  ("int8", "True", "True")):  # fmt: skip
        o = tensorrt_options(ProviderConfig(("tensorrt",), device_id=1), precision)
        assert (o["trt_fp16_enable"], o["trt_int8_enable"]) == (fp16, int8)
        assert o["trt_engine_cache_path"] == str(tmp_path / "ort-tensorrt")
        assert o["device_id"] == "1" and o["trt_engine_cache_enable"] == "True"


@pytest.mark.parametrize("cls", [egom2p_edge.Runtime, egom2p_edge.ReferencePipeline])
def test_missing_provider_is_reported_or_falls_back(cls, rt_bundle, synth_clip, tmp_path):
    if "TensorrtExecutionProvider" in _available():
        pytest.skip("this ONNX Runtime has TensorRT")
    want = ("tensorrt", "cuda", "cpu")
    with pytest.raises(ValueError, match="not in this ONNX Runtime.*allow_fallback"):
        cls(rt_bundle, providers=want)
    impl = cls(rt_bundle, providers=want, allow_fallback=True, engine_cache_dir=tmp_path)
    plain = cls(rt_bundle)
    a, b = run_stream(impl, synth_clip, **QUICK), run_stream(plain, synth_clip, **QUICK)
    for k in a[0].tokens:
        np.testing.assert_array_equal(a[0].tokens[k], b[0].tokens[k])
    if cls is egom2p_edge.Runtime:
        assert set(impl.stage_backends.values()) == {"onnxruntime-cpu"}


def test_native_tensorrt_backend_is_reported_when_not_built(rt_bundle):
    if load_runtime().tensorrt_built():
        pytest.skip("this build has the native TensorRT backend")
    with pytest.raises(ValueError, match="backend 'tensorrt' is not available"):
        egom2p_edge.Runtime(rt_bundle, backend="tensorrt")
    with pytest.raises(ValueError, match="ReferencePipeline runs"):
        egom2p_edge.ReferencePipeline(rt_bundle, backend="tensorrt")


@pytest.mark.gpu
def test_cuda_provider_matches_the_cpu(rt_bundle, synth_clip):
    if "CUDAExecutionProvider" not in _available():
        pytest.skip("no CUDAExecutionProvider in this ONNX Runtime (install onnxruntime-gpu)")
    gpu = egom2p_edge.Runtime(rt_bundle, providers=("cuda", "cpu"))
    assert any("cuda" in v for v in gpu.stage_backends.values())
    a = run_stream(gpu, synth_clip, **QUICK)
    b = run_stream(egom2p_edge.Runtime(rt_bundle), synth_clip, **QUICK)
    agree = np.mean([np.mean(a[0].tokens[k] == b[0].tokens[k]) for k in a[0].tokens])
    print(f"CUDA vs CPU token agreement (argmax): {agree:.3f}")
    assert agree >= 0.9  # different kernels: near-ties may flip
    np.testing.assert_allclose(a[0].gaze_xy_norm, b[0].gaze_xy_norm, atol=0.05)


@pytest.mark.gpu
def test_tensorrt_provider_runs_and_caches_engines(rt_bundle, synth_clip, tmp_path):
    if "TensorrtExecutionProvider" not in _available():
        pytest.skip("no TensorrtExecutionProvider in this ONNX Runtime (JetPack's onnxruntime-gpu)")
    rt = egom2p_edge.Runtime(rt_bundle, providers=("tensorrt", "cuda", "cpu"),
                             engine_cache_dir=tmp_path)  # fmt: skip
    (p,) = run_stream(rt, synth_clip, **QUICK)
    assert p.gaze_xy_norm.shape == (60, 2) and np.isfinite(p.T_window_camera).all()
    assert any(os.scandir(tmp_path)), "the TensorRT provider wrote no engine cache"


@pytest.mark.gpu
@pytest.mark.trt
def test_native_tensorrt_backend(rt_bundle, synth_clip):
    """Needs a bundle with engines of this machine: EGOM2P_TRT_BUNDLE=<bundle after
    `egom2p build-engines`> (the session's random ego-tiny bundle has none)."""
    if not load_runtime().tensorrt_built():
        pytest.skip("this build has no native TensorRT backend (NvInfer.h / CUDA not found)")
    bundle = os.environ.get("EGOM2P_TRT_BUNDLE")
    if not bundle:
        pytest.skip("set EGOM2P_TRT_BUNDLE to a bundle processed by egom2p build-engines")
    rt = egom2p_edge.Runtime(bundle, backend="tensorrt")
    assert set(rt.stage_backends.values()) == {"tensorrt"}
    ref = egom2p_edge.Runtime(bundle)
    frames = [(np.ascontiguousarray(rgb), t) for rgb, t in synth_clip]
    (a,), (b,) = run_stream(rt, frames, **QUICK), run_stream(ref, frames, **QUICK)
    agree = np.mean([np.mean(a.tokens[k] == b.tokens[k]) for k in a.tokens])
    print(f"TensorRT vs ONNX Runtime CPU token agreement (argmax): {agree:.3f}")
    assert agree >= 0.9
