"""The built wheel holds every subpackage and the compiled runtime, and the runtime loads and runs
in a brand-new virtual environment (where libonnxruntime.so.1 exists under no such name)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _write_model(path: Path) -> None:
    w = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Tanh", ["xw"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        initializer=[numpy_helper.from_array(w, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # No build-dir override: the project's build folder (build/{wheel_tag}) is reused, where the
    # editable install already compiled the extension, so only packaging work remains.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
        ],
        check=True,
    )
    wheels = list(out.glob("egom2p_edge-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contents(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for sub in ("training", "export", "devices", "cli", "models", "testing"):
        assert f"egom2p_edge/{sub}/__init__.py" in names, sub
    assert any(n.startswith("egom2p_edge/_runtime.") and n.endswith(".so") for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)


def test_wheel_runs_engine_in_new_venv(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    import onnxruntime

    subprocess.run(
        [
            str(py),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            str(wheel),
            "numpy",
            f"onnxruntime=={onnxruntime.__version__}",
            "flatbuffers",
            "packaging",
            "protobuf",
            "coloredlogs",
            "humanfriendly",
            "sympy",
            "mpmath",
        ],
        check=True,
    )
    model = tmp_path / "m.onnx"
    _write_model(model)
    script = textwrap.dedent(
        f"""
        import numpy as np, onnxruntime as ort
        from egom2p_edge._native import Engine, load_runtime
        x = np.arange(8, dtype=np.float32).reshape(2, 4) / 8
        out = Engine({str(model)!r}, threads=1).run({{"x": x}})["y"]
        ref = ort.InferenceSession({str(model)!r}).run(None, {{"x": x}})[0]
        assert np.abs(out - ref).max() <= 1e-6, np.abs(out - ref).max()
        print("OK", load_runtime().build_info()["onnxruntime_library_version"])
        """
    )
    res = subprocess.run([str(py), "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("OK " + onnxruntime.__version__)
