"""The name contract (names.py) and the manifest dataclasses, without any export."""

from __future__ import annotations

import pytest

from egom2p_edge.bundle import Manifest, ManifestError, names
from egom2p_edge.bundle.manifest import (
    DecodingDefaults,
    DecodingSpec,
    FileEntry,
    ModalityEntry,
    PresetInfo,
    SessionOptions,
    StageSpec,
    TensorSpec,
    Tolerances,
    TrajectorySpec,
)


def test_every_stage_is_documented_with_known_dtypes() -> None:
    assert set(names.STAGE_TENSORS) == set(names.STAGES)
    for stage, (ins, outs) in names.STAGE_TENSORS.items():
        assert ins and outs, stage
        for doc in ins + outs:
            assert doc.dtype in ("float32", "int64", "uint8", "bool"), doc
            assert doc.doc and doc.compare in names.COMPARE_KINDS
            for sym in doc.shape:
                assert sym.isdigit() or sym in "BNMFStwhTKDV", (stage, doc.name, sym)


def test_stage_chains_fit_together() -> None:
    out = {s: {d.name: d for d in names.STAGE_TENSORS[s][1]} for s in names.STAGES}
    inp = {s: {d.name: d for d in names.STAGE_TENSORS[s][0]} for s in names.STAGES}
    for enc, dec, tensor in (
        (names.VIDEO_ENCODER, names.VIDEO_DECODER, names.VIDEO_IDS),
        (names.CAM_ENCODER, names.CAM_DECODER, names.CAM_IDS),
        (names.GAZE_ENCODER, names.GAZE_DECODER, names.GAZE_IDS),
        (names.BACKBONE_ENCODER, names.BACKBONE_DECODER, names.CONTEXT),
    ):
        assert out[enc][tensor].shape == inp[dec][tensor].shape
        assert out[enc][tensor].dtype == inp[dec][tensor].dtype


def test_golden_keys_round_trip() -> None:
    key = names.golden_key(names.CAM_DECODER, names.T_WINDOW_CAMERA)
    assert key == "cam_decoder/T_window_camera"
    assert names.split_golden_key(key) == (names.CAM_DECODER, names.T_WINDOW_CAMERA)
    with pytest.raises(ValueError, match="is not"):
        names.split_golden_key("a/b/c")
    assert names.stage_file(names.GAZE_ENCODER) == "gaze_encoder.onnx"


def test_all_names_for_the_cpp_mirror() -> None:
    sets = names.all_names()
    assert sets["stages"] == frozenset(names.STAGES)
    assert {"frames_uint8", "T_window_camera", "logits", "input_valid"} <= sets["tensors"]
    assert sets["dims"] == {"batch", "input_tokens", "target_tokens"}


def _manifest() -> Manifest:
    t = TensorSpec
    stage = StageSpec(
        names.CAM_ENCODER,
        "cam_encoder.onnx",
        "cam_tokenizer",
        "torchscript",
        18,
        (t("cam_9d_norm", "float32", ("batch", 60, 9)),),
        (t("cam_ids", "int64", ("batch", 30), "ids"),),
    )
    sha = "0" * 64
    return Manifest(
        created_utc="2025-01-01T00:00:00Z",
        sdk_version="0.1.0",
        preset=PresetInfo("cpu-fp32", "fp32", "cpu", "onnxruntime"),
        session_options=SessionOptions(),
        tolerances=Tolerances(1e-4, 1),
        files=(FileEntry("cam_encoder.onnx", 10, sha), FileEntry(names.GOLDENS_FILE, 5, sha)),
        stages={names.CAM_ENCODER: stage},
        modalities=(
            ModalityEntry(
                0,
                "tok_cam",
                "cam",
                349,
                "trajectory",
                256,
                (30,),
                "sincos_1d",
                names.CAM_ENCODER,
                None,
                False,
                False,
            ),
        ),
        trajectory=TrajectorySpec(60, 30, 30),
        video=None,
        backbone=None,
        decoding=None,
        provenance={"components": {}},
    )


def test_manifest_round_trips_through_json_dicts() -> None:
    m = _manifest()
    assert Manifest.from_dict(m.to_dict()) == m


@pytest.mark.parametrize(
    "edit,match",
    [
        (lambda d: d.update(format_version=99), r"'format_version' is 99, newer"),
        (lambda d: d.pop("magic"), r"field 'magic' must be"),
        (lambda d: d["stages"]["cam_encoder"].update(opset=16), r"'stages\.cam_encoder\.opset'"),
        (
            lambda d: d["stages"]["cam_encoder"]["outputs"][0].update(shape=["batch", "n"]),
            r"'stages\.cam_encoder\.outputs\[0\]\.shape'",
        ),
        (lambda d: d["stages"]["cam_encoder"]["outputs"][0].pop("compare"), r"compare' is missing"),
        (lambda d: d["files"][0].update(sha256="xyz"), r"'files\[0\]\.sha256' must be 64"),
        (lambda d: d["files"][0].update(name="../evil"), r"plain file name"),
        (lambda d: d["files"].pop(), r"must list goldens\.safetensors"),
        (lambda d: d["modalities"][0].update(index=3), r"listed by index"),
        (
            lambda d: d["modalities"][0].update(decoder_stage="gaze_decoder"),
            r"names stage 'gaze_decoder', which the bundle does not have",
        ),
        (
            lambda d: d["stages"]["cam_encoder"].update(file="x.onnx"),
            r"must be 'cam_encoder\.onnx'",
        ),
        (lambda d: d["stages"]["cam_encoder"]["inputs"][0].update(name="x"), r"must name"),
        (lambda d: d["session_options"].update(graph_optimization="max"), r"graph_optimization"),
        (
            lambda d: d.update(backbone={"dim": 8, "decoder_vocab_size": 8, "decoder_targets": []}),
            r"'backbone' and 'decoding'",
        ),
    ],
)
def test_manifest_errors_name_the_field(edit, match) -> None:
    d = _manifest().to_dict()
    edit(d)
    with pytest.raises(ManifestError, match=match):
        Manifest.from_dict(d, "bundle.json")


def test_decoding_defaults_must_serve_decoder_targets() -> None:
    m = _manifest().to_dict()
    dd = DecodingDefaults("official", 3, "roar", "linear", 0.01, "constant", 2.0, 0.8, 0.0)
    m["decoding"] = DecodingSpec({"tok_cam": dd}, ("tok_cam",), ()).to_dict()
    with pytest.raises(ManifestError, match="'backbone' and 'decoding'"):
        Manifest.from_dict(m)
    with pytest.raises(ValueError, match="graph_optimization"):
        SessionOptions(graph_optimization="fast")
