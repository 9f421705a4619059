"""The added manifest sections (precision, validation, engines) and the presets as data, without
any export: round trips, the errors they raise, and old manifests without them."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from egom2p_edge.bundle import Manifest, ManifestError, names
from egom2p_edge.bundle.engines import EngineRecord, engine_file
from egom2p_edge.bundle.manifest import AccuracyGate, PrecisionSpec, StagePrecision, ValidationSpec

SHA = "ab" * 32


def _stage(name: str) -> dict:
    ins, outs = names.STAGE_TENSORS[name]
    shape = {"B": "batch", "K": 30, "T": 60}

    def t(doc, out):
        d = {"name": doc.name, "dtype": doc.dtype, "shape": [shape.get(s, 1) for s in doc.shape]}
        if out:
            d["compare"] = doc.compare
        return d

    return {
        "file": names.stage_file(name),
        "component": "cam_tokenizer",
        "exporter": "torchscript",
        "opset": 18,
        "inputs": [t(d, False) for d in ins],
        "outputs": [t(d, True) for d in outs],
    }


@pytest.fixture
def base() -> dict:
    """A minimal valid fp32 manifest with the camera tokenizer stages (no added sections)."""
    stages = {s: _stage(s) for s in (names.CAM_ENCODER, names.CAM_DECODER)}
    files = [{"name": names.GOLDENS_FILE, "bytes": 1, "sha256": SHA}]
    files += [{"name": v["file"], "bytes": 1, "sha256": SHA} for v in stages.values()]
    return {
        "magic": names.BUNDLE_MAGIC,
        "format_version": 1,
        "created_utc": "2026-01-01T00:00:00Z",
        "sdk_version": "0.1.0",
        "preset": {"name": "cpu-fp32", "precision": "fp32", "device": "cpu", "backend": "x"},
        "session_options": {"intra_op_threads": 1, "inter_op_threads": 1,
                            "graph_optimization": "all", "execution_mode": "sequential"},
        "tolerances": {"float_atol": 1e-4, "frames_max_diff": 1},
        "files": files,
        "stages": stages,
        "modalities": [],
        "trajectory": None,
        "video": None,
        "backbone": None,
        "decoding": None,
        "provenance": {},
    }  # fmt: skip


def _precision() -> dict:
    return PrecisionSpec(
        "int8",
        {
            names.CAM_ENCODER: StagePrecision("int8", "onnxruntime-qdq-static", "onnxruntime-cpu"),
            names.CAM_DECODER: StagePrecision("fp32", "none", "pytorch-fp32"),
        },
        {"windows": {"kind": "synthetic", "seeds": [1]}},
        {"bundle": "/x"},
    ).to_dict()


def _engine(stage: str = names.CAM_ENCODER, gpu: str = "Orin") -> EngineRecord:
    profile = {"cam_9d_norm": {"min": (1, 60, 9), "opt": (1, 60, 9), "max": (4, 60, 9)}}
    return EngineRecord(stage, engine_file(stage, SHA), "int8", "10.3.0", gpu, "8.7", profile,
                        SHA, SHA, "2026-01-01T00:00:00Z", {"strongly_typed": True})  # fmt: skip


def test_old_manifest_loads_and_writes_no_added_sections(base) -> None:
    m = Manifest.from_dict(base)
    assert m.precision is None and m.validation is None and m.engines == ()
    assert m.stage_precision(names.CAM_ENCODER) == "fp32"
    assert m.to_dict() == base  # unchanged JSON: no new keys for an fp32 bundle


def test_added_sections_round_trip(base) -> None:
    d = copy.deepcopy(base)
    d["precision"] = _precision()
    d["files"].append({"name": names.VALIDATION_FILE, "bytes": 1, "sha256": SHA})
    gate = AccuracyGate(min_token_agreement=0.95)
    d["validation"] = ValidationSpec(names.VALIDATION_FILE, 2, {"kind": "synthetic"}, {"seed": 0},
                                     gate).to_dict()  # fmt: skip
    rec = _engine()
    d["files"].append({"name": rec.file, "bytes": 1, "sha256": SHA})
    d["engines"] = [rec.to_dict()]
    m = Manifest.from_dict(json.loads(json.dumps(d)))
    assert m.stage_precision(names.CAM_ENCODER) == "int8"
    assert m.validation.gate == gate and m.engines == (rec,)
    assert Manifest.from_dict(m.to_dict()) == m


def test_precision_must_cover_every_stage(base) -> None:
    d = copy.deepcopy(base)
    d["precision"] = _precision()
    del d["precision"]["stages"][names.CAM_DECODER]
    with pytest.raises(
        ManifestError, match=r"'precision.stages' must describe exactly.*cam_decoder"
    ):
        Manifest.from_dict(d)


def test_bad_precision_value_names_the_field(base) -> None:
    d = copy.deepcopy(base)
    d["precision"] = _precision()
    d["precision"]["stages"][names.CAM_ENCODER]["precision"] = "int4"
    with pytest.raises(ManifestError, match=r"'precision.stages.cam_encoder.precision' must be"):
        Manifest.from_dict(d)


def test_validation_file_must_be_listed(base) -> None:
    d = copy.deepcopy(base)
    d["validation"] = ValidationSpec("validation.safetensors", 1, {}, {}, AccuracyGate()).to_dict()
    with pytest.raises(ManifestError, match=r"'validation.file' names validation.safetensors"):
        Manifest.from_dict(d)


def test_bad_gate_threshold_names_the_field(base) -> None:
    d = copy.deepcopy(base)
    d["files"].append({"name": names.VALIDATION_FILE, "bytes": 1, "sha256": SHA})
    d["validation"] = ValidationSpec(names.VALIDATION_FILE, 1, {}, {}, AccuracyGate()).to_dict()
    d["validation"]["gate"]["min_token_agreement"] = 1.5
    with pytest.raises(ManifestError, match=r"'validation.gate.min_token_agreement' must be in"):
        Manifest.from_dict(d)
    with pytest.raises(ValueError, match="max_metric_increase"):
        AccuracyGate(max_metric_increase=-1)


def test_engine_record_checks(base) -> None:
    d = copy.deepcopy(base)
    rec = _engine().to_dict()
    d["engines"] = [rec]
    with pytest.raises(ManifestError, match=r"'engines\[0\].file' names .*not list"):
        Manifest.from_dict(d)
    d["files"].append({"name": rec["file"], "bytes": 1, "sha256": SHA})
    bad = copy.deepcopy(d)
    bad["engines"][0]["profile"]["cam_9d_norm"]["min"] = [5, 60, 9]  # min > opt
    with pytest.raises(ManifestError, match=r"profile.cam_9d_norm' must hold min <= opt <= max"):
        Manifest.from_dict(bad)
    bad = copy.deepcopy(d)
    bad["engines"][0]["stage"] = names.GAZE_ENCODER
    with pytest.raises(ManifestError, match=r"'engines\[0\].stage' names 'gaze_encoder'"):
        Manifest.from_dict(bad)


def test_engine_profile_admits_shapes() -> None:
    rec = _engine()
    assert rec.admits({"cam_9d_norm": (3, 60, 9)})
    assert not rec.admits({"cam_9d_norm": (5, 60, 9)})
    assert not rec.admits({"cam_9d_norm": (1, 61, 9)})
    assert not rec.admits({"other": (1, 60, 9)})


def test_presets_as_data() -> None:
    from egom2p_edge.export.presets import PRESETS

    assert set(PRESETS) == {"cpu-fp32", "cpu-int8", "orin-int8", "orin-fp16", "gpu-fp16"}
    assert not PRESETS["cpu-fp32"].reduced
    for name in ("cpu-int8", "orin-int8"):
        p = PRESETS[name]
        assert p.precision == "int8" and p.int8 is not None and p.calibration_clips >= 1
        assert p.precision_of(names.BACKBONE_ENCODER) == "int8"
        assert p.precision_of(names.CAM_ENCODER) == "fp32"  # nearest-code search stays exact
    assert PRESETS["cpu-int8"].precision_of(names.VIDEO_ENCODER) == "fp32"  # no ORT gain
    assert PRESETS["orin-int8"].precision_of(names.VIDEO_ENCODER) == "int8"
    for name in ("orin-fp16", "gpu-fp16"):
        p = PRESETS[name]
        assert p.fp16 is not None and p.backend == "tensorrt" and p.tensorrt is not None
        assert {"LayerNormalization", "Softmax"} <= set(p.fp16.blocked_ops)
        assert p.fp16.block_residual_adds and p.fp16.keep_io_types
    assert PRESETS["orin-int8"].device == "orin" and PRESETS["gpu-fp16"].device == "gpu"


def test_preset_validation_names_the_bad_value() -> None:
    from egom2p_edge.export.presets import PRESETS, Int8Options

    p = PRESETS["cpu-int8"]
    with pytest.raises(ValueError, match="needs int8 options"):
        dataclasses.replace(p, int8=None)
    with pytest.raises(ValueError, match="stage_precision values"):
        dataclasses.replace(p, stage_precision={s: "int4" for s in names.STAGES})
    with pytest.raises(ValueError, match="calibrate_method"):
        Int8Options(calibrate_method="guess")
