"""Fp16 stages: float16 weights and compute; LayerNorm, softmax and the residual stream in fp32.

The conversion is ONNX Runtime's own ``onnxruntime.transformers.float16.convert_float_to_float16``
(the same code as ``onnxconverter-common``'s, shipped inside ``onnxruntime``: no extra package)
with ``keep_io_types`` (graph inputs and outputs stay fp32), an op block list
(``Fp16Options.blocked_ops``) and a node block list: every Add of two computed tensors (the
residual adds, embedding sums and masks) stays fp32, so the residual stream never holds float16
(T5-family encoders overflow there). The converter appends the Casts it inserts at the end of
the node list; ``toposort`` restores the order the ONNX checker requires.
"""

from __future__ import annotations

import heapq
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from egom2p_edge.export.graph_precision import residual_adds
from egom2p_edge.export.presets import Fp16Options

log = logging.getLogger(__name__)

METHOD = "onnxruntime-float16"


def toposort(graph) -> None:
    """Reorder ``graph.node`` topologically in place (stable: original order among ready nodes).

    ValueError for a cycle (the graph was broken before)."""
    nodes = list(graph.node)
    producer = {o: i for i, n in enumerate(nodes) for o in n.output if o}
    users: dict[int, list[int]] = defaultdict(list)
    indegree = [0] * len(nodes)
    for i, n in enumerate(nodes):
        deps = {producer[x] for x in n.input if x in producer}
        indegree[i] = len(deps)
        for d in deps:
            users[d].append(i)
    ready = [i for i, d in enumerate(indegree) if d == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            indegree[u] -= 1
            if indegree[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(nodes):
        raise ValueError(f"graph {graph.name!r} has a cycle; it cannot be sorted")
    del graph.node[:]
    graph.node.extend(nodes[i] for i in order)


def convert_stage(src: Path, dst: Path, options: Fp16Options) -> dict[str, Any]:
    """Write the fp16 graph of ``src`` to ``dst``; returns what was done (for the manifest)."""
    import onnx
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    model = onnx.load(str(src))
    blocked_nodes = residual_adds(model) if options.block_residual_adds else []
    op_block = sorted(set(DEFAULT_OP_BLOCK_LIST) | set(options.blocked_ops))
    half = convert_float_to_float16(
        model,
        keep_io_types=options.keep_io_types,
        op_block_list=op_block,
        node_block_list=blocked_nodes,
    )
    toposort(half.graph)
    onnx.save(half, str(dst))
    return {
        "converter": "onnxruntime.transformers.float16.convert_float_to_float16",
        "keep_io_types": options.keep_io_types,
        "blocked_ops": list(options.blocked_ops),
        "blocked_residual_adds": len(blocked_nodes),
    }
