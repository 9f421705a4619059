"""The C++ engine over ONNX Runtime, from Python: parity with Python onnxruntime and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from egom2p_edge._native import Engine, load_runtime  # noqa: E402


class _SmallNet(torch.nn.Module):
    """A conv + attention-like block so the test covers more than one op type."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(8, 16)
        self.norm = torch.nn.LayerNorm(16)
        self.out = torch.nn.Linear(16, 5)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.norm(torch.nn.functional.gelu(self.proj(x)))  # (B, N, 16)
        scores = h @ h.transpose(1, 2) / 4.0  # (B, N, N)
        scores = scores.masked_fill(~mask[:, None, :], -1e9)
        h = torch.softmax(scores, dim=-1) @ h  # (B, N, 16)
        logits = self.out(h)  # (B, N, 5)
        return logits, logits.argmax(-1)


@pytest.fixture(scope="module")
def small_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = _SmallNet().eval()
    path = tmp_path_factory.mktemp("engine") / "small.onnx"
    x = torch.randn(2, 7, 8)
    mask = torch.ones(2, 7, dtype=torch.bool)
    torch.onnx.export(
        model,
        (x, mask),
        str(path),
        input_names=["x", "mask"],
        output_names=["logits", "ids"],
        dynamic_axes={"x": {0: "batch", 1: "tokens"}, "mask": {0: "batch", 1: "tokens"}},
        opset_version=17,
        dynamo=False,
    )
    return path


def test_runtime_reports_build(small_onnx: Path) -> None:
    info = load_runtime().build_info()
    assert info["onnxruntime_library_version"] == ort.__version__
    assert info["onnxruntime_headers_version"] not in ("", "unknown")


def test_describes_dynamic_axes(small_onnx: Path) -> None:
    engine = Engine(small_onnx, threads=1)
    inputs = {i["name"]: i for i in engine.inputs}
    assert inputs["x"]["shape"] == ["batch", "tokens", 8]
    assert inputs["x"]["dtype"] == "float32"
    assert inputs["mask"]["dtype"] == "bool"
    assert [o["name"] for o in engine.outputs] == ["logits", "ids"]


@pytest.mark.parametrize("batch,tokens", [(1, 3), (2, 7), (4, 11)])
def test_matches_python_onnxruntime(small_onnx: Path, batch: int, tokens: int) -> None:
    rng = np.random.default_rng(batch * 100 + tokens)
    x = rng.standard_normal((batch, tokens, 8)).astype(np.float32)
    mask = rng.random((batch, tokens)) > 0.3
    mask[:, 0] = True
    feeds = {"x": x, "mask": mask}
    session = ort.InferenceSession(str(small_onnx), providers=["CPUExecutionProvider"])
    ref_logits, ref_ids = session.run(["logits", "ids"], feeds)
    out = Engine(small_onnx, threads=1).run(feeds)
    np.testing.assert_allclose(out["logits"], ref_logits, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(out["ids"], ref_ids)
    assert out["ids"].dtype == np.int64


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.onnx"
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        Engine(missing)


def test_corrupt_file_names_the_path_and_what_to_do(small_onnx: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(small_onnx.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"corrupt\.onnx.*re-export"):
        Engine(corrupt)


def test_wrong_input_shape_names_expected_and_given(small_onnx: Path) -> None:
    engine = Engine(small_onnx)
    feeds = {"x": np.zeros((1, 3, 9), np.float32), "mask": np.ones((1, 3), bool)}
    with pytest.raises(ValueError, match=r"\[batch, tokens, 8\].*\[1, 3, 9\]"):
        engine.run(feeds)


def test_wrong_dtype_and_unknown_input(small_onnx: Path) -> None:
    engine = Engine(small_onnx)
    with pytest.raises(ValueError, match="must be float32, got int64"):
        engine.run({"x": np.zeros((1, 3, 8), np.int64), "mask": np.ones((1, 3), bool)})
    with pytest.raises(ValueError, match="no input named 'y'"):
        engine.run({"y": np.zeros((1, 3, 8), np.float32), "mask": np.ones((1, 3), bool)})
    with pytest.raises(ValueError, match="not supported"):
        engine.run({"x": np.zeros((1, 3, 8), np.complex64), "mask": np.ones((1, 3), bool)})
