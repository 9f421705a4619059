"""Clean-ups of exported fp32 graphs that change no value the bundle's contract allows.

``drop_softmax_nan_guards``: the dynamo exporter decomposes ``scaled_dot_product_attention`` with
a boolean mask into ``Softmax`` followed by ``Where(IsNaN(p), 0, p)``, which maps the NaN of a row
whose keys are all masked to 0. EgoM2P's ``masked_attention`` never hands SDPA such a row (it
lets a row without any valid key attend everything, then zeroes that row itself), so the guard
only costs two passes over the (B, H, N, N) probabilities: 23% of the ego-b encoder's CPU time
(measured with ONNX Runtime, 1 thread, 5150 slots). The export's golden check, whose inputs
include an all-padding condition and a one-slot all-invalid batch, runs on the cleaned graph.
"""

from __future__ import annotations

import numpy as np


def _constant_zero(model, name: str) -> bool:
    from onnx import numpy_helper

    for t in model.graph.initializer:
        if t.name == name:
            return not numpy_helper.to_array(t).any()
    for n in model.graph.node:
        if n.op_type == "Constant" and name in n.output and n.attribute:
            a = n.attribute[0]
            return a.HasField("t") and not np.asarray(numpy_helper.to_array(a.t)).any()
    return False


def drop_softmax_nan_guards(model) -> int:
    """Remove every ``Where(IsNaN(s), 0, s)`` after a ``Softmax`` (see the module docstring).

    The Where's readers read the Softmax output instead; the IsNaN and Where nodes go. Returns
    the number of guards removed.
    """
    producer = {o: n for n in model.graph.node for o in n.output}
    graph_outputs = {o.name for o in model.graph.output}
    rename: dict[str, str] = {}
    drop: set[int] = set()
    for n in model.graph.node:
        if n.op_type != "Where" or n.output[0] in graph_outputs:
            continue
        cond, zero, value = n.input
        isnan, soft = producer.get(cond), producer.get(value)
        if (
            isnan is not None
            and isnan.op_type == "IsNaN"
            and isnan.input[0] == value
            and soft is not None
            and soft.op_type == "Softmax"
            and _constant_zero(model, zero)
        ):
            rename[n.output[0]] = value
            drop.update((id(n), id(isnan)))
    if not rename:
        return 0
    for n in model.graph.node:
        for j, name in enumerate(n.input):
            if name in rename:
                n.input[j] = rename[name]
    # An IsNaN read by anything else stays (nothing here reads it, but keep the graph valid).
    read = {i for n in model.graph.node if id(n) not in drop for i in n.input}
    keep = [n for n in model.graph.node if id(n) not in drop or any(o in read for o in n.output)]
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return len(rename)
