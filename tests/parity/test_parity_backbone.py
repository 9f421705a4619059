"""Backbone parity against the official fixtures: train_forward and the ROAR + CFG generations."""

from __future__ import annotations

import json
import shutil

import pytest

from egom2p_edge.paths import shared_path
from egom2p_edge.testing.parity import check_parity, summarize

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # the fixtures were made with one thread


@pytest.fixture(scope="module")
def backbone_dir():
    path = shared_path("fixtures", "parity", "backbone")
    if path is None:
        pytest.skip("../shared/fixtures/parity/backbone is not available")
    return path


def test_backbone_parity_passes(backbone_dir):
    report = check_parity(backbone_dir)
    passed, failed, advisory = summarize(report)
    bad = {k: v for k, v in report.items() if not v["ok"]}
    assert failed == 0 and advisory == 0, bad
    assert passed == len(report)
    assert "train_forward/loss" in report and "train_forward/encoder_output" in report
    gen = [k for k in report if k.startswith("gen_")]
    assert any(k.endswith("selected_positions") for k in gen)
    assert any(k.endswith("final.tok_gaze.tensor") for k in gen)
    # Exact RNG reproduction: nothing was reported as advisory.
    assert not any(v["advisory"] for v in report.values())


def test_unreproduced_rng_falls_back_to_forced_positions(backbone_dir, tmp_path):
    """With a different seed the positions differ; the rest must still pass with them forced."""
    for name in ("checkpoint.pth", "train_forward.safetensors"):
        shutil.copy(backbone_dir / name, tmp_path / name)
    stems = ("gen_rgb2cam_argmax", "gen_rgb2cam_temp0.01")
    for stem in stems:
        shutil.copy(backbone_dir / f"{stem}.safetensors", tmp_path / f"{stem}.safetensors")
    config = json.loads((backbone_dir / "config.json").read_text())
    for stem in stems:
        config["generation"][stem[len("gen_") :]]["generate_call"]["seed"] += 17
    (tmp_path / "config.json").write_text(json.dumps(config))
    report = check_parity(tmp_path)
    passed, failed, advisory = summarize(report)
    assert failed == 0, {k: v for k, v in report.items() if not v["ok"] and not v["advisory"]}
    assert report["gen_rgb2cam_argmax/step0.selected_positions"]["advisory"]
    assert not report["gen_rgb2cam_argmax/step0.selected_positions"]["ok"]
    assert report["gen_rgb2cam_argmax/step2.logits_guided"]["ok"]
    assert not report["gen_rgb2cam_argmax/final.tok_cam.tensor"]["advisory"]
    assert report["gen_rgb2cam_argmax/final.tok_cam.tensor"]["ok"]
    assert all(v["advisory"] for k, v in report.items() if k.startswith("gen_rgb2cam_temp"))
    assert report["gen_rgb2cam_temp0.01/step1.logits_cond"]["ok"]  # teacher-forced
