"""The pieces behind reduced-precision export: evaluation windows (synthetic or a clip dataset),
calibration recording, the bundle's backbone behind the reference decoder, and the graph
surgery after quantisation (small hand-made graphs, no export)."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.bundle import load_bundle, names

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")


def test_synthetic_windows_are_model_inputs_with_truth() -> None:
    from egom2p_edge.export.eval_windows import synthetic_windows

    w = synthetic_windows(2, 64, 5)
    assert len(w) == 2 and w.frames_uint8.shape == (2, 16, 64, 64, 3)
    assert w.gaze_input.shape == (2, 60, 3) and w.cam_9d_norm.shape == (2, 60, 9)
    np.testing.assert_array_equal(w.gaze_input[..., 2] == 1.0, w.gaze_valid)
    valid = w.gaze_valid
    np.testing.assert_allclose(
        w.gaze_input[..., :2][valid], 2 * w.gaze_xy_true[valid] - 1, atol=1e-6
    )
    R = w.T_window_camera_true[..., :3, :3]
    np.testing.assert_allclose(
        R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-9
    )
    again = synthetic_windows(1, 64, 5)
    np.testing.assert_array_equal(again.frames_uint8[0], w.frames_uint8[0])  # seeded
    assert w.source["seeds"] == [5, 6]
    with pytest.raises(ValueError, match="60 samples"):
        synthetic_windows(1, 64, 5, samples=30)


def test_dataset_windows_and_calibration_from_a_clip_dataset(tiny_traj_bundle, tmp_path) -> None:
    from egom2p_edge.export.calibration import CalibrationRequest, collect_calibration
    from egom2p_edge.export.eval_windows import dataset_windows
    from egom2p_edge.training.synth import generate_dataset

    data = generate_dataset(tmp_path / "clips", clips=2, size=32, seed=3)
    w = dataset_windows(data, 2, 64)  # resized 32 -> 64 by the exact area resize
    assert w.frames_uint8.shape == (2, 16, 64, 64, 3) and w.source["kind"] == "dataset"
    assert len(w.source["clip_ids"]) == 2 and len(w.source["manifest_sha256"]) == 64
    bundle = load_bundle(tiny_traj_bundle.path, check_hashes=False)
    stages = [names.CAM_ENCODER, names.GAZE_ENCODER, names.CAM_DECODER]
    samples, prov = collect_calibration(bundle, stages, CalibrationRequest(2, data), 8)
    assert prov["windows"]["kind"] == "dataset"
    for stage in stages:
        assert len(samples[stage]) == 2  # one window per row
        assert all(next(iter(f.values())).shape[0] == 1 for f in samples[stage])
    np.testing.assert_array_equal(
        samples[names.GAZE_ENCODER][1][names.GAZE_INPUT][0], w.gaze_input[1]
    )
    assert prov["golden_inputs_used_for"] == []
    with pytest.raises(ValueError, match="no calibration input reached"):
        collect_calibration(bundle, [names.BACKBONE_ENCODER], CalibrationRequest(1, data), 4)


def test_backbone_without_video_encoder_calibrates_on_its_goldens(parity_bundle) -> None:
    from egom2p_edge.export.calibration import CalibrationRequest, collect_calibration

    bundle = load_bundle(parity_bundle.path, check_hashes=False)
    stages = [names.BACKBONE_ENCODER, names.BACKBONE_DECODER]
    samples, prov = collect_calibration(bundle, stages, CalibrationRequest(1), 8)
    assert prov["golden_inputs_used_for"] == stages
    goldens = bundle.goldens()[names.BACKBONE_ENCODER]
    assert len(samples[names.BACKBONE_ENCODER]) == goldens[names.INPUT_IDS].shape[0]  # per row
    np.testing.assert_array_equal(
        samples[names.BACKBONE_ENCODER][0][names.INPUT_IDS], goldens[names.INPUT_IDS][:1]
    )


def test_bundle_backbone_decodes_like_the_pytorch_model(tiny_bundle, tiny_checkpoints) -> None:
    """generate() with the ONNX graphs behind OrtBackbone gives the reference's tokens."""
    from egom2p_edge.export.components import load_backbone
    from egom2p_edge.export.stage_runner import OrtBackbone, StageRunner
    from egom2p_edge.models.generation import generate
    from egom2p_edge.rng import PortableRng

    bundle = load_bundle(tiny_bundle.path, check_hashes=False)
    model = load_backbone(tiny_checkpoints["backbone"]).model
    ids = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 30)))
    kw = dict(steps=3, temperature=0.01, top_p=0.8, guidance_scale=2.0)
    ort_backbone = OrtBackbone(StageRunner.for_bundle(bundle), bundle.manifest)
    got = generate(ort_backbone, {"tok_cam": ids}, ["tok_gaze"], rng=PortableRng(1), **kw)
    ref = generate(model, {"tok_cam": ids}, ["tok_gaze"], rng=PortableRng(1), **kw)
    assert torch.equal(got.tokens["tok_gaze"], ref.tokens["tok_gaze"])


def _qdq_model(dedicated: bool = False):
    """x -> Q -> DQ -> {MatMul(w1), MatMul(w2), AveragePool}: one Q shared by three readers;
    ``dedicated``: a second, identical Q -> DQ pair feeds the second MatMul."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(np.array(0.02, np.float32), "s"),
        numpy_helper.from_array(np.array(0, np.int8), "z"),
        numpy_helper.from_array(rng.normal(0, 1, (8, 8)).astype(np.float32), "w1"),
        numpy_helper.from_array(rng.normal(0, 1, (8, 8)).astype(np.float32), "w2"),
    ]
    second = "xd2" if dedicated else "xd"
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q"),
        helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq"),
        helper.make_node("MatMul", ["xd", "w1"], ["a"], name="mm1"),
        helper.make_node("MatMul", [second, "w2"], ["b"], name="mm2"),
        helper.make_node("AveragePool", ["xd"], ["p"], name="pool", kernel_shape=[1]),
    ]
    if dedicated:
        nodes[2:2] = [
            helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq2"], name="q2"),
            helper.make_node("DequantizeLinear", ["xq2", "s", "z"], ["xd2"], name="dq2"),
        ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 8])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 8, 8]) for n in "abp"]
    graph = helper.make_graph(nodes, "g", [x], outs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_float_readers_get_the_float_tensor_back() -> None:
    from egom2p_edge.export.quantize_int8 import restore_float_consumers

    model = _qdq_model()
    assert restore_float_consumers(model, ("MatMul",)) == 1
    pool = [n for n in model.graph.node if n.name == "pool"][0]
    assert list(pool.input) == ["x"]  # the AveragePool reads the float input again
    assert [n.input[0] for n in model.graph.node if n.op_type == "MatMul"] == ["xd", "xd"]


def test_dedicated_quantize_copies_stay_apart_and_compute_the_same() -> None:
    import onnxruntime as ort

    from egom2p_edge.export.quantize_int8 import keep_dedicated_quantize

    model = _qdq_model(dedicated=True)
    x = np.random.default_rng(1).normal(0, 1, (1, 8, 8)).astype(np.float32)
    before = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})
    assert keep_dedicated_quantize(model) == 1
    axes = {n.name: [a.i for a in n.attribute if a.name == "axis"] for n in model.graph.node}
    assert axes["q"] == [] and axes["q2"] == [-1]
    onnx.checker.check_model(model)
    after = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_toposort_restores_node_order() -> None:
    from egom2p_edge.export.convert_fp16 import toposort

    model = _qdq_model()
    nodes = list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(reversed(nodes))
    with pytest.raises(onnx.checker.ValidationError):
        onnx.checker.check_model(model)
    toposort(model.graph)
    onnx.checker.check_model(model)
    assert [n.name for n in model.graph.node][:2] == ["q", "dq"]


def test_softmax_nan_guard_is_dropped_and_values_kept() -> None:
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from egom2p_edge.export.graph_cleanup import drop_softmax_nan_guards

    nodes = [
        helper.make_node("Softmax", ["x"], ["p"], name="softmax"),
        helper.make_node("IsNaN", ["p"], ["nan"], name="isnan"),
        helper.make_node("Where", ["nan", "zero", "p"], ["guarded"], name="guard"),
        helper.make_node("Mul", ["guarded", "x"], ["y"], name="use"),
    ]
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "zero")
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 5]) for n in ("x", "y")]
    model = helper.make_model(
        helper.make_graph(nodes, "g", io[:1], io[1:], [zero]),
        opset_imports=[helper.make_opsetid("", 18)],
    )
    x = np.random.default_rng(0).normal(0, 1, (2, 5)).astype(np.float32)
    before = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
    assert drop_softmax_nan_guards(model) == 1
    assert [n.op_type for n in model.graph.node] == ["Softmax", "Mul"]
    assert list(model.graph.node[1].input) == ["p", "x"]
    onnx.checker.check_model(model)
    after = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
    np.testing.assert_array_equal(before, after)
    assert drop_softmax_nan_guards(model) == 0  # nothing left to drop


def test_fp32_export_records_the_clean_up(tiny_bundle) -> None:
    m = load_bundle(tiny_bundle.path, check_hashes=False).manifest
    cleanup = m.provenance["export"]["options"]["graph_cleanup"]
    layers = 4  # ego-tiny: 4 encoder blocks (self-attention), 4 decoder blocks (self + cross)
    assert cleanup[names.BACKBONE_ENCODER]["softmax_nan_guards_removed"] == layers
    assert cleanup[names.BACKBONE_DECODER]["softmax_nan_guards_removed"] == 2 * layers
    model = onnx.load(str(load_bundle(tiny_bundle.path).stage_path(names.BACKBONE_ENCODER)))
    assert "IsNaN" not in {n.op_type for n in model.graph.node}


def test_long_calibration_inputs_keep_evenly_spaced_slots(tiny_bundle) -> None:
    from egom2p_edge.export.calibration import _cap_tokens, spread

    spec = load_bundle(tiny_bundle.path, check_hashes=False).manifest.stages[names.BACKBONE_DECODER]
    feeds = {
        names.CONTEXT: np.arange(1 * 10 * 3, dtype=np.float32).reshape(1, 10, 3),
        names.CONTEXT_VALID: np.arange(10)[None] % 2 == 0,
        names.TARGET_MODALITY: np.zeros((1, 4), np.int64),
        names.TARGET_POSITIONS: np.arange(4, dtype=np.int64)[None],
    }
    capped = _cap_tokens(spec, feeds, 4)
    assert capped[names.CONTEXT].shape == (1, 4, 3)
    np.testing.assert_array_equal(capped[names.CONTEXT][0, :, 0], [0, 9, 18, 27])  # slots 0,3,6,9
    np.testing.assert_array_equal(capped[names.CONTEXT_VALID][0], [True, False, True, False])
    np.testing.assert_array_equal(capped[names.TARGET_POSITIONS], feeds[names.TARGET_POSITIONS])
    assert _cap_tokens(spec, feeds, 10) is feeds
    assert spread(list(range(10)), 3) == [0, 4, 9] and spread([1, 2], 5) == [1, 2]


def test_attention_modes_choose_which_products_stay_float() -> None:
    from onnx import TensorProto, helper, numpy_helper

    from egom2p_edge.export.presets import Int8Options
    from egom2p_edge.export.quantize_int8 import excluded_matmuls

    w = numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["q"], name="proj"),  # weights: always quantised
        helper.make_node("MatMul", ["q", "k"], ["s"], name="scores"),
        helper.make_node("Softmax", ["s"], ["p"], name="softmax"),
        helper.make_node("MatMul", ["p", "v"], ["y"], name="mix"),
    ]
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [4, 4]) for n in "xkvy"]
    model = helper.make_model(helper.make_graph(nodes, "g", io[:3], io[3:], [w]))
    assert excluded_matmuls(model, "none") == ["scores", "mix"]
    assert excluded_matmuls(model, "scores") == ["mix"]  # softmax(.) v stays float
    assert excluded_matmuls(model, "all") == []
    with pytest.raises(ValueError, match="Int8Options.attention"):
        Int8Options(attention="some")
