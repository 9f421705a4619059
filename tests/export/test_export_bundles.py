"""`egom2p export` then `egom2p verify` on ego-tiny and on the parity fixtures' official files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from export_helpers import Exported, run_cli

from egom2p_edge.bundle import load_bundle, names
from egom2p_edge.modalities import modality_id


def test_export_then_verify_passes(any_bundle: Exported) -> None:
    rc, out, err = run_cli("verify", str(any_bundle.path))
    assert rc == 0, out + err
    manifest = load_bundle(any_bundle.path).manifest
    for stage in manifest.stages:
        assert f"{stage}: PASS" in out
    assert "all pass" in out.splitlines()[-1]
    assert f"wrote bundle {any_bundle.path}" in any_bundle.stdout.splitlines()[-1]


def test_bundle_holds_only_manifest_stages_and_goldens(any_bundle: Exported) -> None:
    manifest = load_bundle(any_bundle.path).manifest
    expected = {names.MANIFEST_FILE, names.GOLDENS_FILE} | {
        names.stage_file(s) for s in manifest.stages
    }
    assert {p.name for p in any_bundle.path.iterdir()} == expected
    assert {f.name for f in manifest.files} == expected - {names.MANIFEST_FILE}


def test_tiny_bundle_has_every_stage_and_the_contract(tiny_bundle: Exported) -> None:
    m = load_bundle(tiny_bundle.path).manifest
    assert tuple(m.stages) == names.STAGES
    assert m.video is not None and m.video.size == 128 and m.video.frames == 16
    assert m.video.token_grid == (5, 16, 16) and m.video.time_padding == (0, 1)
    assert m.trajectory is not None and (m.trajectory.samples, m.trajectory.tokens) == (60, 30)
    enc = m.stages[names.VIDEO_ENCODER]
    assert enc.inputs[0].shape == (1, 16, 128, 128, 3) and enc.inputs[0].dtype == "uint8"
    assert enc.outputs[0].shape == (1, 5, 16, 16) and enc.outputs[0].dtype == "int64"
    dec = m.stages[names.BACKBONE_DECODER]
    assert [t.shape for t in dec.inputs] == [
        ("batch", "input_tokens", 192),
        ("batch", "input_tokens"),
        ("batch", "target_tokens"),
        ("batch", "target_tokens"),
    ]
    assert dec.outputs[0].shape == ("batch", "target_tokens", 256)
    # Modality table: the backbone's (sorted) order, official ids, tokenizer stages linked.
    assert [x.name for x in m.modalities] == ["tok_cam", "tok_depth", "tok_gaze", "tok_rgb"]
    assert all(x.id == modality_id(x.name) for x in m.modalities)
    assert m.modality("rgb").encoder_stage == names.VIDEO_ENCODER
    assert m.modality("cam").decoder_stage == names.CAM_DECODER
    assert m.modality("depth").encoder_stage is None
    assert [x.name for x in m.modalities if x.backbone_target] == ["tok_cam", "tok_gaze"]


def test_decoding_defaults_are_the_official_eval_settings(tiny_bundle: Exported) -> None:
    d = load_bundle(tiny_bundle.path).manifest.decoding
    assert d.default_targets == ("tok_gaze", "tok_cam") and d.condition == ("tok_rgb",)
    assert d.grow_conditioning is True
    cam, gaze = d.targets["tok_cam"], d.targets["tok_gaze"]
    assert (cam.steps, gaze.steps) == (3, 5)
    for t in (cam, gaze):
        assert (t.mode, t.scheme, t.schedule) == ("official", "roar", "linear")
        assert (t.temperature, t.guidance_scale, t.top_p, t.top_k) == (0.01, 2.0, 0.8, 0.0)


def test_provenance_records_sources_and_training(tiny_bundle, tiny_checkpoints) -> None:
    m = load_bundle(tiny_bundle.path).manifest
    comps = m.provenance["components"]
    assert set(comps) == {"backbone", "cam_tokenizer", "gaze_tokenizer", "video_tokenizer"}
    for role, comp in comps.items():
        assert comp["training"] == "untrained"
        assert comp["source"] == str(tiny_checkpoints[role])
        assert set(comp["sha256"]) == {"model.safetensors", "config.json"}
    exp = m.provenance["export"]
    assert exp["opset"] >= 17 and exp["versions"]["torch"]
    assert exp["exporter_attempts"][names.BACKBONE_ENCODER][-1] == "dynamo: ok"
    assert m.sdk_version and m.created_utc.endswith("Z")
    assert m.preset.name == "cpu-fp32" and m.preset.precision == "fp32"
    assert m.session_options.intra_op_threads == 1


def test_parity_bundle_records_official_sources(parity_bundle, parity_dir) -> None:
    m = load_bundle(parity_bundle.path).manifest
    comps = m.provenance["components"]
    assert comps["backbone"]["format"] == "official .pth"
    assert comps["cam_tokenizer"]["training"] == "trained"  # saved after 200 epochs
    assert (
        comps["backbone"]["sha256"]["checkpoint.pth"]
        == comps["backbone"]["checkpoint_provenance"]["source_sha256"]
    )
    assert m.modality("rgb").vocab_size == 1000  # the fixture's reduced video vocabulary
    assert m.video.token_grid == (5, 32, 32) and m.video.size == 256
    assert m.backbone.dim == 36


def test_parity_video_bundle_alone(parity_video_bundle) -> None:
    m = load_bundle(parity_video_bundle.path).manifest
    assert tuple(m.stages) == (names.VIDEO_ENCODER, names.VIDEO_DECODER)
    assert m.backbone is None and m.decoding is None
    assert m.video.vocab_size == 64000 and m.video.token_grid == (5, 32, 32)
    assert [x.name for x in m.modalities] == ["tok_rgb"]
    assert m.provenance["components"]["video_tokenizer"]["format"].startswith("released")


def test_goldens_cover_the_empty_condition(tiny_bundle: Exported) -> None:
    g = load_bundle(tiny_bundle.path).goldens()
    valid = g[names.BACKBONE_ENCODER][names.INPUT_VALID]
    assert valid.shape[0] == 3
    assert valid[0].any() and valid[1].any() and not valid[2].any()
    assert valid[1].sum() < valid[0].sum()
    assert np.isfinite(g[names.BACKBONE_ENCODER][names.CONTEXT]).all()
    mods = g[names.BACKBONE_DECODER][names.TARGET_MODALITY][0]
    assert len(set(mods.tolist())) == 2  # gaze and camera queries side by side


def test_manifest_is_plain_json_with_magic_first(tiny_bundle: Exported) -> None:
    text = (tiny_bundle.path / names.MANIFEST_FILE).read_text()
    data = json.loads(text)
    assert list(data)[:2] == ["magic", "format_version"]
    assert data["magic"] == names.BUNDLE_MAGIC and data["format_version"] == names.FORMAT_VERSION


@pytest.mark.parametrize("stage", [names.CAM_ENCODER, names.BACKBONE_DECODER])
def test_onnx_metadata_names_the_stage(tiny_bundle: Exported, stage: str) -> None:
    import onnx

    model = onnx.load(str(tiny_bundle.path / names.stage_file(stage)), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["egom2p.stage"] == stage
    assert meta["egom2p.bundle_format_version"] == str(names.FORMAT_VERSION)
