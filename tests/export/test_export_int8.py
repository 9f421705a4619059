"""`egom2p export --target cpu-int8` (from the ego-tiny fp32 bundle) and `egom2p verify` of it:
the graphs' structure, the manifest's precision and validation records, the accuracy report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from export_helpers import Exported, run_cli

from egom2p_edge.bundle import load_bundle, names

onnx = pytest.importorskip("onnx")

INT8_STAGES = (names.BACKBONE_ENCODER, names.BACKBONE_DECODER)  # cpu-int8 (presets.py)


@pytest.fixture(scope="module")
def int8(int8_bundle: Exported):
    return load_bundle(int8_bundle.path)


def test_export_reports_each_stage_and_the_bundle(int8_bundle: Exported) -> None:
    out = int8_bundle.stdout
    for stage in INT8_STAGES:
        assert any(line.startswith(stage) and " int8 " in line for line in out.splitlines())
    assert "backbone_decoder" in out and "argmax rows agree" in out
    last = out.splitlines()[-1]
    assert last.startswith(f"wrote bundle {int8_bundle.path}") and "target cpu-int8" in last


def test_manifest_records_precision_calibration_and_validation(int8, tiny_bundle) -> None:
    m = int8.manifest
    assert m.preset.name == "cpu-int8" and m.preset.precision == "int8"
    assert tuple(m.stages) == tuple(load_bundle(tiny_bundle.path).manifest.stages)
    for stage, sp in m.precision.stages.items():
        if stage in INT8_STAGES:
            assert (sp.precision, sp.method, sp.goldens) == (
                "int8",
                "onnxruntime-qdq-static",
                "onnxruntime-cpu",
            )
            assert sp.details["symmetric"] and sp.details["per_channel"]
            assert sp.details["attention"] == "scores"  # the preset's q k^T in int8
        else:
            assert sp.precision == "fp32" and sp.goldens == "pytorch-fp32"
    cal = m.precision.calibration
    assert cal["windows"]["kind"] == "synthetic" and len(cal["windows"]["seeds"]) == 1
    assert set(cal["samples_used"]) == set(INT8_STAGES)
    assert m.validation.windows == 1 and m.validation.file == names.VALIDATION_FILE
    # Never validated on the calibration data.
    assert not set(cal["windows"]["seeds"]) & set(m.validation.source["seeds"])
    assert m.precision.reference["manifest_sha256"]
    assert names.VALIDATION_FILE in {f.name for f in m.files}


def test_int8_graphs_are_symmetric_qdq_around_matmul_and_conv_only(int8) -> None:
    from onnx import numpy_helper

    from egom2p_edge.export.graph_precision import check_int8, inspect_graph
    from egom2p_edge.export.presets import Int8Options

    for stage in INT8_STAGES:
        model = onnx.load(str(int8.stage_path(stage)))
        assert check_int8(model, Int8Options()) == [], stage
        info = inspect_graph(model)
        assert set(info.quantized_ops) == {"MatMul"}, stage
        inits = {t.name: t for t in model.graph.initializer}
        dq_out = {n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
        for n in model.graph.node:
            if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
                zp = inits[n.input[2]]
                assert zp.data_type == onnx.TensorProto.INT8
                assert not numpy_helper.to_array(zp).any()
            if n.op_type in ("LayerNormalization", "Softmax", "Add"):
                assert not set(n.input) & dq_out, (stage, n.name)  # never quantised
        assert {n.domain for n in model.graph.node} <= {""}  # TensorRT parses it
        meta = {p.key: p.value for p in model.metadata_props}
        assert meta["egom2p.precision"] == "int8" and meta["egom2p.stage"] == stage


def _quantised_attention(int8_model, fp32_model) -> dict[str, tuple[int, int]]:
    """{"scores": (quantised, total) q k^T products, "probs": the same for softmax(.) v}."""
    from egom2p_edge.export.graph_precision import computed_operand_nodes
    from egom2p_edge.export.quantize_int8 import _reads_softmax

    dq_out = {n.output[0] for n in int8_model.graph.node if n.op_type == "DequantizeLinear"}
    fp32_nodes = {n.name: n for n in fp32_model.graph.node}
    int8_nodes = {n.name: n for n in int8_model.graph.node}
    counts = {"scores": [0, 0], "probs": [0, 0]}
    for name in computed_operand_nodes(fp32_model, "MatMul"):  # q k^T and p v
        kind = "probs" if _reads_softmax(fp32_model, fp32_nodes[name]) else "scores"
        counts[kind][1] += 1
        counts[kind][0] += set(int8_nodes[name].input) <= dq_out
    return {k: tuple(v) for k, v in counts.items()}


def test_cpu_int8_quantises_attention_scores_not_probabilities(int8, tiny_bundle) -> None:
    fp32 = load_bundle(tiny_bundle.path)
    for stage in INT8_STAGES:
        got = _quantised_attention(
            onnx.load(str(int8.stage_path(stage))), onnx.load(str(fp32.stage_path(stage)))
        )
        n_scores, n_probs = got["scores"][1], got["probs"][1]
        assert n_scores > 0 and n_probs == n_scores, (stage, got)  # one of each per attention
        assert got == {"scores": (n_scores, n_scores), "probs": (0, n_probs)}, stage


def test_int8_attention_override(tiny_bundle, tmp_path) -> None:
    """--int8-attention none leaves every attention product float; fp16 targets refuse it."""
    out = tmp_path / "none"
    args = ["--int8-attention", "none", "--calibration-clips", "1", "--validation-windows", "0"]
    rc, stdout, err = run_cli(
        "export", "--target", "cpu-int8", "--from-bundle", str(tiny_bundle.path), "--out", str(out),
        *args,
    )  # fmt: skip
    assert rc == 0, stdout + err
    b, fp32 = load_bundle(out), load_bundle(tiny_bundle.path)
    stage = names.BACKBONE_DECODER
    assert b.manifest.precision.stages[stage].details["attention"] == "none"
    got = _quantised_attention(
        onnx.load(str(b.stage_path(stage))), onnx.load(str(fp32.stage_path(stage)))
    )
    assert got["scores"][0] == 0 and got["probs"][0] == 0 and got["scores"][1] > 0
    rc, _, err = run_cli("export", "--target", "orin-fp16", "--from-bundle",
                         str(tiny_bundle.path), "--out", str(tmp_path / "x"),
                         "--int8-attention", "scores")  # fmt: skip
    assert rc == 2 and "no int8 stage" in err
    assert not (tmp_path / "x").exists()


def test_transformer_block_weights_shrink_to_a_quarter(int8, tiny_bundle) -> None:
    """Block weights (the MatMul weights) int8 vs fp32; embedding tables are not quantised."""
    for stage in (names.BACKBONE_ENCODER, names.BACKBONE_DECODER):
        q = onnx.load(str(int8.stage_path(stage)))
        f = onnx.load(str(Path(tiny_bundle.path) / names.stage_file(stage)))
        int8_bytes = sum(len(t.raw_data) for t in q.graph.initializer if t.data_type == 3)
        consts = {t.name: t for t in f.graph.initializer}
        fp32_bytes = sum(
            len(consts[i].raw_data)
            for n in f.graph.node
            if n.op_type == "MatMul"
            for i in n.input
            if i in consts
        )
        assert 0 < int8_bytes <= fp32_bytes / 3, stage


def test_verify_reports_accuracy_without_gating_random_weights(int8_bundle) -> None:
    rc, out, err = run_cli("verify", str(int8_bundle.path))
    assert rc == 0, out + err
    for stage in names.STAGES:
        assert f"{stage}: PASS" in out
    assert "structure as intended" in out
    assert "backbone_decoder logits:" in out and "argmax rows agree" in out
    assert "decoded gaze tokens:" in out and "decoded camera tokens:" in out
    assert "full decode: camera ate_m: vs truth" in out and "gaze_mse" in out
    assert "accuracy gate: not applied" in out and "backbone (untrained)" in out
    assert "accuracy reported" in out.splitlines()[-1]


def test_gate_applies_when_every_component_is_trained(int8_bundle, tmp_path) -> None:
    from egom2p_edge.export.verify import verify_bundle

    copy = tmp_path / "trained"
    shutil.copytree(int8_bundle.path, copy)
    manifest = json.loads((copy / names.MANIFEST_FILE).read_text())
    for comp in manifest["provenance"]["components"].values():
        comp["training"] = "trained"
    (copy / names.MANIFEST_FILE).write_text(json.dumps(manifest))  # bundle.json is not hashed
    report = verify_bundle(copy, run_validation=False)
    p = report.precision
    assert p.gate_applied and p.gate_reason == "every component is trained"
    assert p.failures == ["no validation set was run (the gate needs one)"] and not report.ok
    rc, out, _ = run_cli("verify", str(copy), "--skip-validation")
    assert rc == 1 and "accuracy gate: FAIL" in out and "fails its precision checks" in out
    rc, out, _ = run_cli("verify", str(copy), "--skip-validation", "--gate", "never")
    assert rc == 0 and "accuracy gate: not applied" in out


def test_gate_failures_follow_the_thresholds() -> None:
    from egom2p_edge.bundle.manifest import AccuracyGate
    from egom2p_edge.export.accuracy import MetricRow, TokenRow, ValidationResult, gate_failures

    metrics = [
        MetricRow("full decode: gaze", "gaze_mse", 0.012, 0.010, 0.001),
        MetricRow("full decode: camera", "ate_m", 0.10, 0.10, 0.0),
    ]
    res = ValidationResult(2, [TokenRow("decoded gaze tokens", 59, 60)], metrics)
    assert gate_failures(res, AccuracyGate(min_token_agreement=0.98, gaze_mse_slack=0.0)) == [
        "full decode: gaze gaze_mse: 0.012 exceeds 0.011 (fp32 0.01 + 10% + 0)"
    ]
    fails = gate_failures(res, AccuracyGate(min_token_agreement=0.99, max_metric_increase=0.5))
    assert fails == ["decoded gaze tokens: 98.33% agree, below 99.00%"]


def test_validation_set_holds_windows_and_the_fp32_results(int8) -> None:
    from egom2p_edge.export.validation_set import read_validation

    windows, ref, goldens = read_validation(int8.root / names.VALIDATION_FILE)
    assert windows.frames_uint8.shape == (1, 16, 128, 128, 3)
    assert windows.T_window_camera_true.shape == (1, 60, 4, 4)
    np.testing.assert_allclose(windows.T_window_camera_true[:, 0], np.eye(4)[None], atol=1e-12)
    assert ref["decode_tok_tok_gaze"].shape == (1, 30) and ref["video_ids"].shape == (1, 5, 16, 16)
    assert set(goldens) == set(INT8_STAGES)


def test_int8_goldens_are_the_graphs_own_outputs(int8, tiny_bundle) -> None:
    fp32 = load_bundle(tiny_bundle.path).goldens()
    g = int8.goldens()
    for stage in names.STAGES:
        for t in int8.stage(stage).inputs:
            np.testing.assert_array_equal(g[stage][t.name], fp32[stage][t.name])
    # Reduced stages changed their outputs; fp32 ones did not.
    assert not np.array_equal(
        g[names.BACKBONE_ENCODER]["context"], fp32[names.BACKBONE_ENCODER]["context"]
    )
    np.testing.assert_array_equal(g[names.CAM_DECODER]["cam_9d"], fp32[names.CAM_DECODER]["cam_9d"])


def test_refusals(int8_bundle, tiny_bundle, tiny_checkpoints, tmp_path) -> None:
    def export(*args):
        return run_cli("export", "--out", str(tmp_path / "o"), *args)

    rc, _, err = export("--target", "orin-int8", "--from-bundle", str(int8_bundle.path))
    assert rc == 1 and "made from an fp32 bundle" in err
    rc, _, err = export("--target", "cpu-fp32", "--from-bundle", str(tiny_bundle.path))
    assert rc == 2 and "derives reduced-precision" in err
    rc, _, err = export("--target", "cpu-int8", "--from-bundle", str(tiny_bundle.path),
                        "--model", str(tiny_checkpoints["backbone"]))  # fmt: skip
    assert rc == 2 and "not both" in err
    rc, _, err = export("--target", "cpu-int8", "--from-bundle", str(tiny_bundle.path),
                        "--calibration-data", str(tmp_path / "nope"))  # fmt: skip
    assert rc == 1 and "does not exist" in err
    rc, _, err = export("--target", "cpu-int8", "--from-bundle", str(tiny_bundle.path),
                        "--calibration-clips", "0")  # fmt: skip
    assert rc == 2 and "--calibration-clips must be >= 1" in err
    rc, _, err = run_cli("export", "--target", "cpu-int8", "--from-bundle", str(tiny_bundle.path),
                         "--out", str(tiny_bundle.path))  # fmt: skip
    assert rc == 1 and "source bundle" in err
    assert not (tmp_path / "o").exists()
