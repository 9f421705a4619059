"""Run the most complete end-to-end path of the SDK that exists, on data it makes itself.

Each stage says what it did, with numbers; stages not yet available are listed plainly at the end.
Nothing is downloaded: models have random weights unless --model points at trained ones.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="folder for outputs (default: temp)")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and weights")


def _stage(title: str) -> None:
    print(f"\n== {title}")


def _engine_stage(out: Path) -> None:
    import numpy as np
    import torch

    from egom2p_edge._native import Engine, load_runtime

    _stage("C++ runtime: a PyTorch module exported to ONNX, run by the C++ engine")
    info = load_runtime().build_info()
    print(
        f"runtime built with ONNX Runtime headers {info['onnxruntime_headers_version']}, "
        f"running library {info['onnxruntime_library_version']}"
    )
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.GELU(), torch.nn.Linear(32, 4))
    x = torch.randn(3, 8)
    path = out / "demo_mlp.onnx"
    torch.onnx.export(
        model.eval(),
        (x,),
        str(path),
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    engine = Engine(path, threads=1)
    t0 = time.perf_counter()
    y = engine.run({"x": x.numpy()})["y"]
    latency_ms = (time.perf_counter() - t0) * 1e3
    err = float(np.abs(y - model(x).detach().numpy()).max())
    print(
        f"engine {path.name}: inputs {engine.inputs}, max |C++ - PyTorch| = {err:.2e}, "
        f"{latency_ms:.2f} ms"
    )


def run(args: argparse.Namespace) -> int:
    out = args.out or Path(tempfile.mkdtemp(prefix="egom2p-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    missing: list[str] = []
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is not installed: only `egom2p doctor` works; run ./dev setup")
        return 1
    _engine_stage(out)
    missing.append("the streaming pipeline (Runtime / ReferencePipeline) is not built yet")
    print("\nnot available yet:")
    for m in missing:
        print(f"  - {m}")
    print(f"\ndemo: done; outputs in {out}")
    return 0
