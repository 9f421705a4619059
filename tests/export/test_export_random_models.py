"""Random-weight checkpoints for tests and the demo, and the export presets as data."""

from __future__ import annotations

import pytest

from egom2p_edge.bundle import names

torch = pytest.importorskip("torch")


def test_random_checkpoints_are_marked_untrained_and_fit(tiny_checkpoints) -> None:
    from egom2p_edge.checkpoints.sdk_format import load_checkpoint
    from egom2p_edge.export.components import load_video_tokenizer

    for path in tiny_checkpoints.values():
        _, _, _, prov = load_checkpoint(path)
        assert prov["training"] == "untrained" and "random init, seed" in prov["description"]
    video = load_video_tokenizer(tiny_checkpoints["video_tokenizer"]).model
    frames = torch.zeros(1, 3, 17, 128, 128)
    with torch.no_grad():
        assert tuple(video.encode_tensor(frames).shape) == (1, 5, 16, 16)


def test_random_checkpoints_are_seeded_and_leave_the_global_rng_alone(
    tiny_checkpoints, tmp_path
) -> None:
    from safetensors.numpy import load_file

    from egom2p_edge.export.random_models import write_random_checkpoints

    torch.manual_seed(123)
    before = torch.get_rng_state()
    again = write_random_checkpoints(tmp_path, "ego-tiny", seed=0)  # the fixture's seed
    assert torch.equal(torch.get_rng_state(), before)
    assert set(again) == {"backbone", "cam_tokenizer", "gaze_tokenizer", "video_tokenizer"}
    for role in again:
        wa = load_file(str(again[role] / "model.safetensors"))
        wb = load_file(str(tiny_checkpoints[role] / "model.safetensors"))
        assert wa.keys() == wb.keys() and all((wa[k] == wb[k]).all() for k in wa), role
    with pytest.raises(ValueError, match="unknown model preset"):
        write_random_checkpoints(tmp_path, "ego-huge")


def test_presets_are_data_with_an_order_per_stage() -> None:
    from egom2p_edge.export.presets import PRESETS, ExportPreset, get_preset

    p = get_preset("cpu-fp32")
    assert p.opset >= 17 and p.precision == "fp32"
    assert set(p.exporters) == set(names.STAGES)
    assert p.exporters[names.BACKBONE_ENCODER][0] == "dynamo"
    assert p.tolerances.float_atol == 1e-4
    with pytest.raises(ValueError, match="unknown export target"):
        get_preset("orin-int4")
    with pytest.raises(ValueError, match="opset"):
        ExportPreset("x", "fp32", "cpu", "onnxruntime", 16, dict(p.exporters))
    assert "cpu-fp32" in PRESETS
