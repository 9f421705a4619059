"""``egom2p_edge.export``: ONNX export, quantisation, TensorRT engine builds and verification."""
