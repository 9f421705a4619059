"""check_parity on the visible video tokenizer fixture, and import of its ``.jit`` pair."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file, save_file

from egom2p_edge.checkpoints.video_import import load_released_jit
from egom2p_edge.models.video.config import VideoTokenizerConfig
from egom2p_edge.models.video.preprocess import frames_to_tensor, pad_frames, tensor_to_frames
from egom2p_edge.testing import parity
from egom2p_edge.testing.components import video as video_component

VIDEO = "egom2p_edge.testing.components.video"


@pytest.fixture
def video_only(monkeypatch):
    """check_parity with only the video component (the others may still be in progress)."""
    monkeypatch.setattr(parity, "COMPONENT_MODULES", (VIDEO,))


def _expected_keys(folder) -> set[str]:
    names = load_file(str(folder / "fixtures.safetensors"))
    return {f"fixtures/{n}" for n in names} - {"fixtures/frames_uint8"}


def test_video_parity(parity_dir, video_only):
    folder = parity_dir / "video_tokenizer"
    report = parity.check_parity(folder)
    assert set(report) == _expected_keys(folder) and len(report) == 7
    failed = {k: r for k, r in report.items() if not r["ok"]}
    assert not failed, failed
    assert report["fixtures/indices"]["max_abs_err"] == 0.0
    assert report["fixtures/codes"]["max_abs_err"] == 0.0
    assert report["fixtures/input_tensor"]["max_abs_err"] == 0.0
    assert report["fixtures/decoded_uint8"]["max_abs_err"] <= 1.0


def test_video_parity_through_all_components(parity_dir):
    try:
        report = parity.check_parity(parity_dir / "video_tokenizer")
    except ModuleNotFoundError as exc:
        pytest.skip(f"another parity component is not there yet: {exc}")
    assert parity.summarize(report)[1] == 0


def test_the_jit_pair_imports_and_reproduces_the_outputs(parity_dir):
    folder = parity_dir / "video_tokenizer"
    fx = load_file(str(folder / "fixtures.safetensors"))
    config = json.loads((folder / "config.json").read_text())
    model = load_released_jit(folder)
    assert model.config == VideoTokenizerConfig.from_official(config["tokenizer_config"])
    assert sum(p.numel() for p in model.parameters()) == config["num_parameters"]
    ids = model.encode(fx["frames_uint8"])
    assert np.array_equal(ids.numpy(), fx["indices"])
    with torch.no_grad():
        decoded = model.decode_tensor(torch.from_numpy(fx["indices"]))
    assert np.abs(decoded.numpy() - fx["decoded"]).max() <= 1e-4
    frames = tensor_to_frames(decoded).numpy().astype(np.int16)
    assert np.abs(frames - fx["decoded_uint8"]).max() <= 1
    padded, crop = pad_frames(torch.from_numpy(fx["frames_uint8"]))
    assert crop.as_list() == config["padding"]["crop_region"]
    assert np.array_equal(frames_to_tensor(padded).numpy(), fx["input_tensor"])


def test_detect_only_the_video_folder(parity_dir):
    for name, expected in [
        ("video_tokenizer", True),
        ("cam_tokenizer", False),
        ("backbone", False),
    ]:
        folder = parity_dir / name
        config = json.loads((folder / "config.json").read_text())
        assert video_component.detect(folder, config) is expected


def test_a_wrong_tensor_is_reported(parity_dir, tmp_path, video_only):
    dst = tmp_path / "video_tokenizer"
    shutil.copytree(parity_dir / "video_tokenizer", dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    fx = load_file(str(dst / "fixtures.safetensors"))
    fx["indices"] = fx["indices"].copy()
    fx["indices"][0, 2, 3, 4] = (fx["indices"][0, 2, 3, 4] + 1) % 64000
    save_file(fx, str(dst / "fixtures.safetensors"))
    report = parity.check_parity(dst)
    assert not report["fixtures/indices"]["ok"]
    assert report["fixtures/indices"]["max_abs_err"] == 1.0
    assert report["fixtures/encoder_output"]["ok"]
