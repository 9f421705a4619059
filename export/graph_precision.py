"""Structural checks of reduced-precision graphs: what computes in which precision.

``inspect_graph`` counts initializers by dtype (count and bytes), nodes by op type and compute
dtype (the float type of the node's tensors, after ONNX shape inference), Q/DQ nodes and the ops
fed by a DequantizeLinear (the quantised ops). ``check_int8`` and ``check_fp16`` return the
problems of a graph against its options (empty: as intended):

- int8: every Q/DQ is int8 with zero point 0 (symmetric); only the intended op types are fed by
  DequantizeLinear; LayerNormalization, Softmax and residual Adds never are; the graph holds
  Q/DQ pairs at all; every node is in the default ONNX domain (TensorRT parses nothing else).
- fp16: graph inputs and outputs keep their dtypes; blocked ops and residual Adds compute in
  fp32; some MatMul/Conv/Gemm computes in fp16 and float16 weights exist; default domain only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from egom2p_edge.export.presets import Fp16Options, Int8Options

FLOAT, FLOAT16, INT8 = 1, 10, 3
_DTYPE_NAMES = {1: "float32", 10: "float16", 3: "int8", 2: "uint8", 6: "int32", 7: "int64",
                9: "bool", 11: "float64"}  # fmt: skip
ONNX_ELEM = {name: code for code, name in _DTYPE_NAMES.items()}  # manifest dtype -> elem type
_FLOATS = (FLOAT, FLOAT16)
_UNQUANTISED = ("LayerNormalization", "Softmax")
_HEAVY = ("MatMul", "Conv", "Gemm")


@dataclass(frozen=True)
class GraphPrecision:
    """Counts of one graph (see the module docstring)."""

    initializers: dict[str, dict[str, int]]  # dtype -> {"count": n, "bytes": b}
    node_dtypes: dict[str, dict[str, int]]  # op type -> {"float32"/"float16"/"other": n}
    quantize: int  # QuantizeLinear nodes
    dequantize: int  # DequantizeLinear nodes
    quantized_ops: dict[str, int]  # op type -> nodes with an input from a DequantizeLinear
    domains: tuple[str, ...]  # node domains ("" = default ONNX)

    def summary(self) -> dict[str, Any]:
        """JSON for the manifest's ``precision.stages[s].details.graph``."""
        heavy = {k: v for k, v in self.node_dtypes.items() if k in _HEAVY + _UNQUANTISED}
        return {
            "initializers": self.initializers,
            "node_dtypes": heavy,
            "quantize_linear": self.quantize,
            "dequantize_linear": self.dequantize,
            "quantized_ops": self.quantized_ops,
        }


def computed_operand_nodes(model, op_type: str) -> list[str]:
    """Names of the ``op_type`` nodes none of whose operands is an initializer or a Constant:
    for Add the residual stream, for MatMul the attention products ``q k^T`` and ``p v``."""
    consts = {t.name for t in model.graph.initializer}
    consts |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    return [
        n.name
        for n in model.graph.node
        if n.op_type == op_type and not any(i in consts for i in n.input)
    ]


def residual_adds(model) -> list[str]:
    """The Adds of two computed tensors (the residual stream): kept float in int8 and fp16."""
    return computed_operand_nodes(model, "Add")


def _tensor_types(model) -> dict[str, int]:
    """Element type of every named tensor (shape inference plus Cast/Constant/DQ rules)."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception:  # noqa: BLE001 (inference is best effort; rules below fill the gaps)
        inferred = model
    g = inferred.graph
    types = {t.name: t.data_type for t in g.initializer}
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type:
            types[vi.name] = vi.type.tensor_type.elem_type
    for n in model.graph.node:
        for o in n.output:
            if o in types:
                continue
            if n.op_type == "Cast":
                types[o] = next(a.i for a in n.attribute if a.name == "to")
            elif n.op_type == "Constant" and n.attribute and n.attribute[0].HasField("t"):
                types[o] = n.attribute[0].t.data_type
            elif n.op_type == "DequantizeLinear" and len(n.input) > 1:
                types[o] = types.get(n.input[1], FLOAT)
            else:
                floats = [types[i] for i in n.input if types.get(i) in _FLOATS]
                if floats:
                    types[o] = floats[0]
    return types


def _node_dtype(n, types: dict[str, int]) -> str:
    floats = {types.get(x) for x in list(n.input) + list(n.output)} & set(_FLOATS)
    if not floats:
        return "other"
    if floats == {FLOAT16}:
        return "float16"
    if floats == {FLOAT}:
        return "float32"
    return "mixed"


def inspect_graph(model) -> GraphPrecision:
    """The counts of ``model`` (an ``onnx.ModelProto``)."""
    inits: dict[str, dict[str, int]] = defaultdict(lambda: {"count": 0, "bytes": 0})
    for t in model.graph.initializer:
        e = inits[_DTYPE_NAMES.get(t.data_type, str(t.data_type))]
        e["count"] += 1
        e["bytes"] += len(t.raw_data) if t.raw_data else _field_bytes(t)
    types = _tensor_types(model)
    dtypes: dict[str, Counter] = defaultdict(Counter)
    dq_out = {o for n in model.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    quantized: Counter = Counter()
    for n in model.graph.node:
        dtypes[n.op_type][_node_dtype(n, types)] += 1
        if n.op_type not in ("QuantizeLinear", "DequantizeLinear") and any(
            i in dq_out for i in n.input
        ):
            quantized[n.op_type] += 1
    ops = Counter(n.op_type for n in model.graph.node)
    return GraphPrecision(
        initializers={k: dict(v) for k, v in sorted(inits.items())},
        node_dtypes={k: dict(v) for k, v in sorted(dtypes.items())},
        quantize=ops["QuantizeLinear"],
        dequantize=ops["DequantizeLinear"],
        quantized_ops=dict(sorted(quantized.items())),
        domains=tuple(sorted({n.domain for n in model.graph.node})),
    )


def _field_bytes(t) -> int:
    from onnx import numpy_helper

    return int(numpy_helper.to_array(t).nbytes)


def _domain_problems(info: GraphPrecision) -> list[str]:
    bad = [d for d in info.domains if d not in ("", "ai.onnx")]
    if not bad:
        return []
    return [f"nodes outside the default ONNX domain: {bad} (TensorRT cannot parse them)"]


def check_int8(model, options: Int8Options) -> list[str]:
    """Problems of an int8 QDQ graph (see the module docstring); empty when as intended."""
    from onnx import numpy_helper

    info = inspect_graph(model)
    problems = _domain_problems(info)
    if info.quantize == 0 or info.dequantize == 0:
        problems.append("no QuantizeLinear/DequantizeLinear nodes: nothing was quantised")
    inits = {t.name: t for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type not in ("QuantizeLinear", "DequantizeLinear"):
            continue
        zp = inits.get(n.input[2]) if len(n.input) > 2 else None
        if zp is None or zp.data_type != INT8 or np.any(numpy_helper.to_array(zp) != 0):
            problems.append(f"{n.op_type} {n.name}: zero point must be an int8 0 (symmetric)")
    unexpected = {k: v for k, v in info.quantized_ops.items() if k not in options.op_types}
    if unexpected:
        problems.append(
            f"ops fed by DequantizeLinear beyond {list(options.op_types)}: {unexpected}"
        )
    dq_out = {o for n in model.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    residual = set(residual_adds(model))
    for n in model.graph.node:
        keep_float = n.op_type in _UNQUANTISED or n.name in residual
        if keep_float and any(i in dq_out for i in n.input):
            problems.append(f"{n.op_type} {n.name} reads a dequantised tensor; it must stay float")
    return problems


def check_fp16(model, options: Fp16Options, io_dtypes: dict[str, int]) -> list[str]:
    """Problems of an fp16 graph; ``io_dtypes``: the fp32 graph's input/output element types."""
    info = inspect_graph(model)
    problems = _domain_problems(info)
    init = {t.name for t in model.graph.initializer}
    for vi in list(model.graph.input) + list(model.graph.output):
        if vi.name in init or vi.name not in io_dtypes:
            continue
        if options.keep_io_types and vi.type.tensor_type.elem_type != io_dtypes[vi.name]:
            problems.append(f"graph I/O {vi.name} changed dtype (keep_io_types)")
    types = _tensor_types(model)
    residual = set(residual_adds(model)) if options.block_residual_adds else set()
    for n in model.graph.node:
        blocked = n.op_type in options.blocked_ops or n.name in residual
        if blocked and _node_dtype(n, types) not in ("float32", "other"):
            problems.append(f"{n.op_type} {n.name} computes in {_node_dtype(n, types)}, not fp32")
    heavy16 = sum(info.node_dtypes.get(op, {}).get("float16", 0) for op in _HEAVY)
    if heavy16 == 0 and any(op in info.node_dtypes for op in _HEAVY):
        problems.append("no MatMul/Conv/Gemm computes in float16: the conversion did nothing")
    if heavy16 and "float16" not in info.initializers:
        problems.append("no float16 initializer: the weights stayed float32")
    return problems
