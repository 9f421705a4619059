"""Running a bundle's TensorRT engine on numpy feeds, buffers as torch CUDA tensors.

``run_bundle_engine`` picks the engine record of the stage built with this TensorRT version on
this GPU whose profile admits the feeds' shapes, checks the file against the manifest, and runs
it (``execute_async_v3`` on torch's current stream). Used by ``egom2p verify --engine tensorrt``
and the ``trt`` tests; needs TensorRT, torch with CUDA and a GPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from egom2p_edge.bundle.engines import EngineRecord
from egom2p_edge.bundle.load import Bundle


def select_record(
    bundle: Bundle, stage: str, shapes: dict[str, tuple[int, ...]], env
) -> EngineRecord:
    """The engine record for ``stage`` on this machine; ValueError saying what is missing."""
    records = [r for r in bundle.manifest.engines if r.stage == stage]
    if not records:
        raise ValueError(
            f"bundle {bundle.root} has no TensorRT engine for {stage}; run egom2p build-engines"
        )
    mine = (env.tensorrt_version, env.gpu_name)
    here = [r for r in records if (r.tensorrt_version, r.gpu_name) == mine]
    if not here:
        built = sorted({f"TensorRT {r.tensorrt_version} on {r.gpu_name}" for r in records})
        raise ValueError(
            f"the engines of {stage} were built for {built}, not TensorRT "
            f"{env.tensorrt_version} on {env.gpu_name}; run egom2p build-engines here"
        )
    for r in here:
        if r.admits(shapes):
            return r
    raise ValueError(f"no engine profile of {stage} admits the input shapes {shapes}")


def run_engine(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run one serialized engine on ``feeds`` (numpy); outputs as numpy."""
    import tensorrt as trt
    import torch

    to_torch = {
        trt.float32: torch.float32,
        trt.float16: torch.float16,
        trt.int32: torch.int32,
        trt.int8: torch.int8,
        trt.bool: torch.bool,
        trt.uint8: torch.uint8,
    }
    if hasattr(trt, "int64"):
        to_torch[trt.int64] = torch.int64
    logger = trt.Logger(trt.Logger.WARNING)
    engine = trt.Runtime(logger).deserialize_cuda_engine(path.read_bytes())
    if engine is None:
        raise ValueError(f"{path}: TensorRT cannot deserialize this engine (other version/GPU?)")
    context = engine.create_execution_context()
    buffers: dict[str, torch.Tensor] = {}
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
    for n in inputs:
        want = to_torch[engine.get_tensor_dtype(n)]
        t = torch.from_numpy(np.ascontiguousarray(feeds[n])).to("cuda").to(want)
        buffers[n] = t
        context.set_input_shape(n, tuple(t.shape))
        context.set_tensor_address(n, t.data_ptr())
    outputs = [n for n in names if n not in inputs]
    for n in outputs:
        shape = tuple(context.get_tensor_shape(n))
        buffers[n] = torch.empty(shape, dtype=to_torch[engine.get_tensor_dtype(n)], device="cuda")
        context.set_tensor_address(n, buffers[n].data_ptr())
    stream = torch.cuda.current_stream()
    if not context.execute_async_v3(stream.cuda_stream):
        raise ValueError(f"{path}: TensorRT execution failed")
    stream.synchronize()
    return {n: buffers[n].cpu().numpy() for n in outputs}


def run_bundle_engine(bundle: Bundle, stage: str, feeds: dict[str, np.ndarray]) -> dict:
    """Outputs of ``stage`` through the bundle's engine for this machine, cast to the manifest's
    output dtypes (an engine may return int32 where the graph says int64)."""
    from egom2p_edge.export.tensorrt_env import probe

    env = probe()
    if not env.ok:
        raise ValueError("TensorRT is not usable here: " + "; ".join(env.problems))
    shapes = {k: tuple(v.shape) for k, v in feeds.items()}
    record = select_record(bundle, stage, shapes, env)
    out = run_engine(bundle.root / record.file, feeds)
    return {t.name: out[t.name].astype(t.dtype) for t in bundle.stage(stage).outputs}
