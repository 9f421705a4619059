"""Python ONNX Runtime sessions with a bundle's session options (what verification and the
Python reference pipeline use; the C++ runtime sets the same options)."""

from __future__ import annotations

from egom2p_edge.bundle.load import Bundle
from egom2p_edge.bundle.manifest import SessionOptions


def ort_session_options(options: SessionOptions):
    """``onnxruntime.SessionOptions`` equal to the manifest's ``session_options``."""
    import onnxruntime as ort

    levels = {
        "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    so = ort.SessionOptions()
    so.intra_op_num_threads = options.intra_op_threads
    so.inter_op_num_threads = options.inter_op_threads
    so.graph_optimization_level = levels[options.graph_optimization]
    so.execution_mode = (
        ort.ExecutionMode.ORT_SEQUENTIAL
        if options.execution_mode == "sequential"
        else ort.ExecutionMode.ORT_PARALLEL
    )
    return so


def open_session(bundle: Bundle, stage: str):
    """An ``onnxruntime.InferenceSession`` (CPU) for one stage of a loaded bundle."""
    import onnxruntime as ort

    return ort.InferenceSession(
        str(bundle.stage_path(stage)),
        ort_session_options(bundle.manifest.session_options),
        providers=["CPUExecutionProvider"],
    )
