"""check_parity on the visible gaze and camera tokenizer fixtures (official code outputs)."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from egom2p_edge.testing import check_parity
from egom2p_edge.testing.components import vqvae as vqvae_component
from egom2p_edge.testing.parity import summarize


def _expected_keys(folder) -> set[str]:
    keys = set()
    for stem in ("fixtures", "train_step"):
        for name in load_file(str(folder / f"{stem}.safetensors")):
            keys.add(f"{stem}/{name}")
    return keys - vqvae_component.INPUTS


@pytest.mark.parametrize("component", ["cam_tokenizer", "gaze_tokenizer"])
def test_tokenizer_parity(parity_dir, component):
    folder = parity_dir / component
    report = check_parity(str(folder))
    assert set(report) == _expected_keys(folder)
    failed = {k: r for k, r in report.items() if not r["ok"] and not r["advisory"]}
    assert not failed, failed
    _, n_failed, _ = summarize(report)
    assert n_failed == 0
    # Discrete outputs are exact, the codebook rows too.
    for key in ("fixtures/indices", "fixtures/quantized", "train_step/expired_mask"):
        assert report[key]["max_abs_err"] == 0.0
    assert report["train_step/embed_after_dead_code_replacement"]["advisory"]


def test_detect_only_tokenizer_folders(parity_dir):
    for name, expected in [
        ("cam_tokenizer", True),
        ("backbone", False),
        ("video_tokenizer", False),
    ]:
        folder = parity_dir / name
        config = json.loads((folder / "config.json").read_text())
        assert vqvae_component.detect(folder, config) is expected


def _copy(parity_dir, tmp_path, name: str):
    dst = tmp_path / name
    shutil.copytree(parity_dir / name, dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    return dst


def test_a_wrong_tensor_is_reported(parity_dir, tmp_path):
    folder = _copy(parity_dir, tmp_path, "cam_tokenizer")
    fx = load_file(str(folder / "fixtures.safetensors"))
    fx["decoded_normalized"] = fx["decoded_normalized"] + np.float32(1e-3)
    fx["indices"] = fx["indices"][:, :29].copy()  # wrong shape -> inf
    save_file(fx, str(folder / "fixtures.safetensors"))
    report = check_parity(folder)
    assert not report["fixtures/decoded_normalized"]["ok"]
    assert report["fixtures/decoded_normalized"]["max_abs_err"] == pytest.approx(1e-3, rel=1e-2)
    assert math.isinf(report["fixtures/indices"]["max_abs_err"])
    assert report["fixtures/decoded_from_indices"]["ok"]


def test_gaze_conversion_follows_each_clips_parameters(parity_dir, tmp_path):
    """Reorder and subset the clips: the per-clip conversion must follow config.json."""
    folder = _copy(parity_dir, tmp_path, "gaze_tokenizer")
    order = [3, 0, 2]  # clip 0 (HoloAssist crop) moves to position 1
    fx = load_file(str(folder / "fixtures.safetensors"))
    per_clip = {k: v[order].copy() for k, v in fx.items() if v.ndim >= 2}
    save_file({**fx, **per_clip}, str(folder / "fixtures.safetensors"))
    config = json.loads((folder / "config.json").read_text())
    clips = {c["index"]: c for c in config["fixture_clips"]}
    config["fixture_clips"] = [{**clips[old], "index": new} for new, old in enumerate(order)]
    (folder / "config.json").write_text(json.dumps(config))
    report = check_parity(folder)
    for key, r in report.items():
        if key.startswith("fixtures/") and key != "fixtures/reconst_loss_eval":
            assert r["ok"], (key, r)
    # The eval loss is over the whole batch, so it no longer matches the stored value.
    assert not report["fixtures/reconst_loss_eval"]["ok"]


def test_other_sizes_run_through_the_same_plumbing(parity_dir, tmp_path):
    """A folder with another width, head count, depth, latent size, codebook and batch: every
    tensor is computed with the right shape (self-consistency of the plumbing, not of the math:
    the reference tensors here come from our own model)."""
    import argparse

    import torch

    from egom2p_edge.models.vqvae.config import VQVAEConfig
    from egom2p_edge.models.vqvae.model import VQVAE

    folder = _copy(parity_dir, tmp_path, "gaze_tokenizer")
    cfg = VQVAEConfig("gaze", dim=48, depth=3, heads=3, latent_dim=8, codebook_size=64)
    model = VQVAE(cfg, seed=5)
    args = argparse.Namespace(
        encoder_type="GazeTransformer", decoder_type="GazeTransformer", domain="gaze",
        num_frames=60, temporal_downsampling=2, latent_dim=8, codebook_size=64,
        quantizer_type="lucid", norm_codes=True, quantizer_ema_decay=0.99,
        parity_overrides={"dim_tokens": 48, "depth": 3, "num_heads": 3},
    )  # fmt: skip
    torch.save({"model": model.state_dict(), "args": args, "epoch": 0}, folder / "checkpoint.pth")
    fx = load_file(str(folder / "fixtures.safetensors"))
    b = 3
    fixtures = {"gaze_raw": fx["gaze_raw"][:b].copy()}
    for name, shape in {"encoder_output": (b, 48, 30), "latents_pre_quant": (b, 8, 30),
                        "quantized": (b, 8, 30), "indices": (b, 30)}.items():  # fmt: skip
        fixtures[name] = np.zeros(shape, dtype=np.int64 if name == "indices" else np.float32)
    save_file(fixtures, str(folder / "fixtures.safetensors"))
    cluster = np.full(64, 5.0, dtype=np.float32)
    cluster[::4] = 0.0  # 16 expired codes
    x = np.zeros((b, 60, 3), dtype=np.float32)
    x[..., 2] = 1.0  # all frames valid
    train = {
        "input": x, "embed_before": model.quantize.codebook.embed.numpy().copy(),
        "cluster_size_before": cluster, "embed_after_ema": np.zeros((64, 8), np.float32),
        "expired_mask": np.zeros(64, bool), "total_loss": np.zeros(1, np.float32),
    }  # fmt: skip
    save_file(train, str(folder / "train_step.safetensors"))
    report = check_parity(folder)
    assert set(report) == {f"fixtures/{k}" for k in fixtures if k != "gaze_raw"} | {
        "train_step/embed_after_ema", "train_step/expired_mask", "train_step/total_loss",
    }  # fmt: skip
    for key, r in report.items():
        assert math.isfinite(r["max_abs_err"]), key  # computed, with the right shape
    assert report["train_step/expired_mask"]["max_abs_err"] == 1.0  # 16 codes expired
