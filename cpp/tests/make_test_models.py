"""Writes the small ONNX models the C++ tests run (built with onnx.helper, no torch needed).

affine.onnx: y = relu(x @ W + b), x float32 [batch, 4] (dynamic batch), y float32 [batch, 3];
W = arange(12).reshape(4, 3) / 10 - 0.5, b = [0.1, -0.2, 0.3]. The tests recompute y by hand.
corrupt.onnx: the first 100 bytes of affine.onnx (a truncated file).
"""

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    w = (np.arange(12, dtype=np.float32).reshape(4, 3) / 10 - 0.5).astype(np.float32)
    b = np.array([0.1, -0.2, 0.3], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["pre"]),
            helper.make_node("Relu", ["pre"], ["y"]),
        ],
        "affine",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    (out / "affine.onnx").write_bytes(data)
    (out / "corrupt.onnx").write_bytes(data[:100])
    print(f"wrote test models to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
