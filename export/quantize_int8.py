"""Int8 stages: explicit symmetric Q/DQ from calibration with ONNX Runtime's ``quantize_static``.

QDQ format, int8 activations and weights, zero points 0 (``ActivationSymmetric``,
``WeightSymmetric``), weights stored as int8 initializers behind a DequantizeLinear (per output
channel by default), biases left float (``QuantizeBias`` off: TensorRT fuses a float bias; not
every version takes an int32 one). Only the ops in ``Int8Options.op_types`` are quantised, so
LayerNorm, softmax and the residual adds keep float inputs; the attention products (MatMuls of
two activations) stay float too unless ``Int8Options.attention`` says otherwise. Calibration
inputs are the feeds the fp32 graphs saw on real windows (``calibration``); the ranges are
min/max by default.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from egom2p_edge.export.graph_precision import computed_operand_nodes
from egom2p_edge.export.presets import Int8Options

log = logging.getLogger(__name__)

Feeds = dict[str, np.ndarray]
METHOD = "onnxruntime-qdq-static"


def _reads_softmax(model, node) -> bool:
    """True when the MatMul's first operand comes from a Softmax (through Where/Cast guards)."""
    producer = {o: n for n in model.graph.node for o in n.output}
    n = producer.get(node.input[0])
    while n is not None and n.op_type in ("Where", "Cast"):
        n = producer.get(n.input[-1] if n.op_type == "Where" else n.input[0])
    return n is not None and n.op_type == "Softmax"


def excluded_matmuls(model, attention: str) -> list[str]:
    """The attention products to leave float: all of them ("none"), the ``softmax(.) v`` ones
    ("scores"), or none ("all")."""
    products = computed_operand_nodes(model, "MatMul")  # q k^T and p v
    if attention == "all":
        return []
    if attention == "scores":
        by_name = {n.name: n for n in model.graph.node}
        return [p for p in products if _reads_softmax(model, by_name[p])]
    return products


def _is_scalar(model, name: str) -> bool:
    for t in model.graph.initializer:
        if t.name == name:
            return len(t.dims) == 0 or (len(t.dims) == 1 and t.dims[0] == 1)
    return False


def keep_dedicated_quantize(model) -> int:
    """Stop ONNX Runtime from merging the dedicated QuantizeLinear copies back together.

    With ``DedicatedQDQPair`` two MatMuls that read one tensor (the SwiGLU's fc1 and fc3) get a
    QuantizeLinear each, identical. ONNX Runtime's common subexpression elimination merges
    identical nodes before its QDQ fusion, and a Q shared by two MatMuls is then not fused into
    ``MatMulIntegerToFloat``: both run as dequantise + float MatMul (measured: 8 of the 21 weight
    MatMuls of the ego-tiny encoder). The copies here get distinct ``axis`` attributes, which
    per-tensor quantisation ignores (ONNX spec): same values, no merge. Returns the number of
    Q nodes changed.
    """
    import onnx

    seen: dict[tuple, int] = {}
    changed = 0
    for n in model.graph.node:
        if n.op_type != "QuantizeLinear" or not _is_scalar(model, n.input[1]):
            continue
        key = (tuple(n.input), tuple(a.SerializeToString() for a in n.attribute))
        k = seen.get(key, 0)
        seen[key] = k + 1
        if k == 0:
            continue
        kept = [a for a in n.attribute if a.name != "axis"]
        del n.attribute[:]
        n.attribute.extend(kept)
        n.attribute.append(onnx.helper.make_attribute("axis", -k))  # ignored: scalar scale
        changed += 1
    return changed


def restore_float_consumers(model, op_types: tuple[str, ...]) -> int:
    """Rewire every node outside ``op_types`` that reads a Q -> DQ copy of an activation back
    to the float activation itself.

    ``quantize_static`` inserts one Q -> DQ pair on a tensor and may hand its output to every
    consumer of that tensor, e.g. the AveragePool that reads a Conv's input in the video
    tokenizer: that op would then see rounded values although it is not quantised. Returns the
    number of inputs rewired.
    """
    producer = {o: n for n in model.graph.node for o in n.output}
    float_of: dict[str, str] = {}
    for n in model.graph.node:
        if n.op_type == "DequantizeLinear":
            q = producer.get(n.input[0])
            if q is not None and q.op_type == "QuantizeLinear":
                float_of[n.output[0]] = q.input[0]
    rewired = 0
    for n in model.graph.node:
        if n.op_type in op_types or n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            continue
        for j, name in enumerate(n.input):
            if name in float_of:
                n.input[j] = float_of[name]
                rewired += 1
    return rewired


def _drop_dead_nodes(model) -> None:
    """Remove nodes whose outputs nothing reads (Q/DQ pairs left unused by the rewiring)."""
    outputs = {o.name for o in model.graph.output}
    while True:
        used = {i for n in model.graph.node for i in n.input} | outputs
        keep = [n for n in model.graph.node if any(o in used for o in n.output)]
        if len(keep) == len(model.graph.node):
            return
        del model.graph.node[:]
        model.graph.node.extend(keep)


class _Reader:
    """``CalibrationDataReader`` over a list of feeds (ONNX Runtime's protocol: get_next)."""

    def __init__(self, samples: list[Feeds]) -> None:
        self._it = iter(samples)

    def get_next(self) -> Feeds | None:
        return next(self._it, None)

    def __len__(self) -> int:  # pragma: no cover (the calibrator may ask)
        return 0


@contextmanager
def _quiet_root_warnings() -> Iterator[None]:
    """``quantize_static`` warns on the root logger that pre-processing (ONNX Runtime's symbolic
    shape inference, which fails on the dynamo graphs) is recommended: known, and not taken."""

    class _Drop(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "pre-processing" not in record.getMessage()

    root = logging.getLogger()
    flt = _Drop()
    root.addFilter(flt)
    try:
        yield
    finally:
        root.removeFilter(flt)


def quantize_stage(
    src: Path, dst: Path, samples: list[Feeds], options: Int8Options
) -> dict[str, Any]:
    """Write the int8 QDQ graph of ``src`` to ``dst``; returns what was done (for the manifest).

    samples: calibration feeds (each a full set of the stage's inputs). ValueError without any.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    if not samples:
        raise ValueError(f"{src.name}: no calibration inputs; int8 needs calibration data")
    model = onnx.load(str(src))
    exclude = excluded_matmuls(model, options.attention)
    method = {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }[options.calibrate_method]
    extra = {
        "ActivationSymmetric": True,
        "WeightSymmetric": True,
        "MatMulConstBOnly": options.attention == "none",
        "QuantizeBias": False,
        "DedicatedQDQPair": True,
        # Outputs stay float: only the inputs of the quantised ops get Q/DQ, so what a MatMul or
        # Conv writes (into the residual stream, SiLU, norms) is never re-quantised.
        "OpTypesToExcludeOutputQuantization": list(options.op_types),
        # Not "CalibMaxIntermediateOutputs": ONNX Runtime 1.32 discards the collected ranges
        # when that limit is reached. Min/max calibration keeps only per-tensor ReduceMin/Max
        # outputs, so memory stays small without it (percentile/entropy keep whole tensors).
        "CalibPercentile": options.percentile,
    }
    with _quiet_root_warnings():
        quantize_static(
            str(src),
            str(dst),
            _Reader(samples),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(options.op_types),
            per_channel=options.per_channel,
            reduce_range=False,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=exclude,
            calibrate_method=method,
            calibration_providers=["CPUExecutionProvider"],
            extra_options=extra,
        )
    quantised = onnx.load(str(dst))
    rewired = restore_float_consumers(quantised, options.op_types)
    dedicated = keep_dedicated_quantize(quantised)
    _drop_dead_nodes(quantised)
    onnx.save(quantised, str(dst))
    return {
        "op_types": list(options.op_types),
        "per_channel": options.per_channel,
        "symmetric": True,
        "activation_type": "int8",
        "weight_type": "int8",
        "attention": options.attention,
        "excluded_nodes": len(exclude),
        "calibrate_method": options.calibrate_method,
        "calibration_samples": len(samples),
        "bias": "float (not quantised)",
        "dedicated_quantize_nodes": dedicated,
        "float_consumers_restored": rewired,
    }
