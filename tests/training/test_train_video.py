"""The video tokenizer trainer (L1 reconstruction): it learns on a fixed batch and saves a model
that ``load_video_tokenizer`` reads back."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from train_helpers import tiny_video_config

from egom2p_edge.checkpoints.sdk_format import load_checkpoint
from egom2p_edge.training.tokens import load_video_tokenizer
from egom2p_edge.training.trainers import OptimConfig, RunConfig, train_video_tokenizer
from egom2p_edge.training.trainers.video import psnr_db


def test_loss_goes_down_on_a_fixed_batch(tmp_path, synth_clips):
    # Two clips, RGB and depth: four videos, all in every batch.
    run = RunConfig(
        out_dir=tmp_path / "run", steps=8, batch_size=4, val_fraction=0.0, progress=False
    )
    optim = OptimConfig(lr=5e-3, betas=(0.9, 0.99), warmup_steps=1)
    res = train_video_tokenizer(
        synth_clips, run, tiny_video_config(), optim, include_depth=True, limit_clips=2
    )
    assert np.mean(res.losses[-2:]) < 0.8 * np.mean(res.losses[:2])
    assert {"val_loss", "psnr_rgb_db", "psnr_depth_db"} <= set(res.final_metrics)
    assert res.final_metrics["psnr_rgb_db"] > res.initial_metrics["psnr_rgb_db"]
    kind, _, _, prov = load_checkpoint(res.checkpoint)
    assert kind == "video_tokenizer" and prov["trained"] and prov["data"]["train_videos"] == 4
    model = load_video_tokenizer(res.checkpoint)
    frames = torch.zeros(1, 16, 32, 32, 3, dtype=torch.uint8)
    assert model.encode(frames).shape == (1, 5, 4, 4)


def test_psnr():
    a = np.zeros((4, 4), np.uint8)
    assert psnr_db(a, a) == float("inf")
    assert psnr_db(a, a + 255) == pytest.approx(0.0)
