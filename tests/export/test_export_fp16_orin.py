"""The fp16 presets (orin-fp16, gpu-fp16) and orin-int8 export from the ego-tiny fp32 bundle and
pass the structural checks: float16 weights and MatMul/Conv compute, LayerNorm, softmax and the
residual adds in fp32, fp32 graph I/O; int8 as symmetric Q/DQ. Numerically on a GPU (``gpu``)."""

from __future__ import annotations

import numpy as np
import pytest
from export_helpers import Exported, derive, run_cli

from egom2p_edge.bundle import load_bundle, names

onnx = pytest.importorskip("onnx")

FP16_STAGES = (
    names.VIDEO_ENCODER,
    names.VIDEO_DECODER,
    names.BACKBONE_ENCODER,
    names.BACKBONE_DECODER,
)


def _io_types(bundle, stage: str) -> dict[str, int]:
    from egom2p_edge.export.graph_precision import ONNX_ELEM

    spec = bundle.stage(stage)
    return {t.name: ONNX_ELEM[t.dtype] for t in spec.inputs + spec.outputs}


def test_fp16_graphs_keep_norms_softmax_and_residual_stream_in_fp32(fp16_bundle) -> None:
    from egom2p_edge.export.convert_fp16 import residual_adds
    from egom2p_edge.export.graph_precision import _node_dtype, _tensor_types, check_fp16
    from egom2p_edge.export.presets import Fp16Options

    b = load_bundle(fp16_bundle.path)
    assert b.manifest.preset.name == "orin-fp16" and b.manifest.validation.windows == 0
    for stage in FP16_STAGES:
        assert b.manifest.stage_precision(stage) == "fp16"
        model = onnx.load(str(b.stage_path(stage)))
        assert check_fp16(model, Fp16Options(), _io_types(b, stage)) == [], stage
        types = _tensor_types(model)
        residual = set(residual_adds(model))
        counts = {"fp16_heavy": 0, "fp32_kept": 0}
        for n in model.graph.node:
            dtype = _node_dtype(n, types)
            if n.op_type in ("LayerNormalization", "Softmax") or n.name in residual:
                assert dtype == "float32", (stage, n.op_type, n.name, dtype)
                counts["fp32_kept"] += 1
            if n.op_type in ("MatMul", "Conv") and dtype == "float16":
                counts["fp16_heavy"] += 1
        assert counts["fp16_heavy"] > 0 and counts["fp32_kept"] > 0, stage
        fp16_inits = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT16]
        assert fp16_inits, stage
        for vi in list(model.graph.input) + list(model.graph.output):  # keep_io_types
            assert vi.type.tensor_type.elem_type != onnx.TensorProto.FLOAT16
    for stage in (names.CAM_ENCODER, names.GAZE_DECODER):
        assert b.manifest.stage_precision(stage) == "fp32"


def test_fp16_bundle_verifies_on_this_cpu(fp16_bundle) -> None:
    """ONNX Runtime 1.32 runs these fp16 graphs on the CPU: goldens are their own outputs and
    the fp32 agreement is reported (argmax and ids agree on ego-tiny's goldens)."""
    rc, out, err = run_cli("verify", str(fp16_bundle.path))
    assert rc == 0, out + err
    assert "structure as intended" in out and "backbone_decoder logits:" in out
    b = load_bundle(fp16_bundle.path)
    assert all(b.manifest.precision.stages[s].goldens == "onnxruntime-cpu" for s in FP16_STAGES)


def test_gpu_fp16_preset_exports(tiny_bundle, tmp_path) -> None:
    out = derive(tmp_path / "gpu", tiny_bundle.path, "gpu-fp16", "--validation-windows", "0")
    m = load_bundle(out.path).manifest
    assert (m.preset.name, m.preset.device, m.preset.backend) == ("gpu-fp16", "gpu", "tensorrt")
    assert [s for s in m.stages if m.stage_precision(s) == "fp16"] == list(FP16_STAGES)
    assert "wrote bundle" in out.stdout.splitlines()[-1]


def test_orin_int8_preset_exports(tiny_bundle, tmp_path) -> None:
    from egom2p_edge.export.graph_precision import check_int8, inspect_graph
    from egom2p_edge.export.presets import Int8Options

    out = derive(tmp_path / "orin8", tiny_bundle.path, "orin-int8", "--calibration-clips", "1",
                 "--validation-windows", "0")  # fmt: skip
    b = load_bundle(out.path)
    assert b.manifest.preset.device == "orin" and b.manifest.preset.backend == "tensorrt"
    for stage in FP16_STAGES:
        assert b.manifest.stage_precision(stage) == "int8"
        model = onnx.load(str(b.stage_path(stage)))
        assert check_int8(model, Int8Options()) == [], stage
        quantised = inspect_graph(model).quantized_ops
        expected = "Conv" if "video" in stage else "MatMul"  # video: convolutions, 1x1 included
        assert expected in quantised and set(quantised) <= {"Conv", "MatMul"}, stage


def test_structural_checks_catch_wrong_graphs(tiny_bundle) -> None:
    """An fp32 graph fails both checks: nothing quantised, nothing in float16."""
    from egom2p_edge.export.graph_precision import check_fp16, check_int8
    from egom2p_edge.export.presets import Fp16Options, Int8Options

    fp32 = load_bundle(tiny_bundle.path)
    model = onnx.load(str(fp32.stage_path(names.BACKBONE_ENCODER)))
    assert any("nothing was quantised" in p for p in check_int8(model, Int8Options()))
    problems = check_fp16(model, Fp16Options(), _io_types(fp32, names.BACKBONE_ENCODER))
    assert any("conversion did nothing" in p for p in problems)


@pytest.mark.gpu
def test_fp16_bundle_numerically_on_the_gpu(fp16_bundle: Exported) -> None:
    """fp16 graphs through ONNX Runtime's CUDA provider, against the fp32 reference."""
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip("onnxruntime has no CUDAExecutionProvider (install onnxruntime-gpu)")
    from egom2p_edge.export.verify import verify_bundle

    report = verify_bundle(fp16_bundle.path, engine="onnxruntime-cuda")
    assert report.ok, [line for s in report.stages for line in s.lines()]
    for row in report.precision.stage_rows:
        if row.total:
            assert row.rate >= 0.95, row.line()
        else:
            assert row.rel_rms < 1e-2, row.line()
    assert np.isfinite([r.max_abs_diff for r in report.precision.stage_rows]).all()


def test_reduced_target_from_checkpoints(tiny_checkpoints, tmp_path) -> None:
    """Without --from-bundle the fp32 bundle is exported first (into a temporary folder that is
    removed); tokenizers alone have no reduced stage and only tokenizer round trips to validate."""
    out = tmp_path / "out"
    rc, stdout, err = run_cli("export", "--target", "orin-fp16", "--out", str(out),
                              "--cam-tokenizer", str(tiny_checkpoints["cam_tokenizer"]),
                              "--gaze-tokenizer", str(tiny_checkpoints["gaze_tokenizer"]),
                              "--validation-windows", "1")  # fmt: skip
    assert rc == 0, stdout + err
    assert "golden check" in stdout and "unchanged (fp32)" in stdout
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # the fp32 export is gone
    b = load_bundle(out)
    assert b.manifest.precision.reference["bundle"].startswith("fp32 export of the same run")
    assert b.manifest.provenance["components"]["cam_tokenizer"]["training"] == "untrained"
    rc, stdout, err = run_cli("verify", str(out))
    assert rc == 0, stdout + err
    assert "camera tokenizer ids: 100.00% agree" in stdout  # fp32 stages: identical
    rc, _, err = run_cli("export", "--target", "orin-fp16", "--out", str(tmp_path / "x"),
                         "--cam-tokenizer", str(tiny_checkpoints["cam_tokenizer"]),
                         "--calibration-clips", "2")  # fmt: skip
    assert rc == 2 and "no int8 stage" in err
