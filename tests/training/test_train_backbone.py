"""The backbone trainer on a token database: it learns, resumes exactly, saves a loadable model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from egom2p_edge.checkpoints.sdk_format import load_checkpoint, state_dicts_equal
from egom2p_edge.models.backbone import BackboneConfig, EgoM2P, make_modalities
from egom2p_edge.models.masking import MaskingConfig
from egom2p_edge.training.tokens import TokenDatabase, TokenDatabaseWriter
from egom2p_edge.training.trainers import OptimConfig, RunConfig, train_backbone
from egom2p_edge.training.trainers.backbone import backbone_config_for, default_masking

MASKING = MaskingConfig(input_budget=32, target_budget=32)
OPTIM = OptimConfig(lr=5e-3, betas=(0.9, 0.95), warmup_steps=1)


@pytest.fixture(scope="module")
def db(token_db) -> TokenDatabase:
    return TokenDatabase(token_db)


@pytest.fixture(scope="module")
def config(db) -> BackboneConfig:
    return backbone_config_for(
        db, "ego-tiny", dim=24, encoder_depth=1, decoder_depth=1, num_heads=2, mlp_hidden=32
    )


def _run(out, **kw) -> RunConfig:
    base = dict(out_dir=out, steps=4, batch_size=4, progress=False, val_fraction=0.25)
    return RunConfig(**{**base, **kw})


def test_config_follows_the_database(db, config):
    assert config.spec("tok_rgb").token_shape == (5, 4, 4) == config.spec("tok_depth").token_shape
    assert config.spec("tok_rgb").vocab_size == db.modalities["tok_rgb"].vocab_size == 64
    assert config.spec("tok_cam").vocab_size == 32  # the tiny cam tokenizer's codebook
    names = ("tok_cam", "tok_depth", "tok_gaze", "tok_rgb")
    assert config.dim == 24 and config.modality_names == names
    # The preset's 256-token budgets are capped at half of the 220 tokens this model has.
    assert default_masking(config, "ego-tiny") == MaskingConfig(110, 110)


def test_loss_goes_down_on_a_fixed_batch(tmp_path, db, config):
    run = _run(tmp_path / "run", steps=10, batch_size=8, val_fraction=0.0)
    res = train_backbone(db, run, config, OPTIM, MASKING, gen_eval_samples=0)
    assert np.mean(res.losses[-3:]) < 0.85 * np.mean(res.losses[:3])
    assert res.final_metrics["val_loss"] < res.initial_metrics["val_loss"]


def test_resume_continues_exactly_and_saves_a_loadable_model(tmp_path, db, config):
    full = train_backbone(db, _run(tmp_path / "a"), config, OPTIM, MASKING, gen_eval_samples=1)
    first = train_backbone(
        db, _run(tmp_path / "b", stop_at=2), config, OPTIM, MASKING, gen_eval_samples=0
    )
    second = train_backbone(
        db, _run(tmp_path / "b", resume=True), config, OPTIM, MASKING, gen_eval_samples=0
    )
    assert first.losses + second.losses == full.losses
    kind, cfg, wa, prov = load_checkpoint(full.checkpoint)
    _, _, wb, _ = load_checkpoint(second.checkpoint)
    assert state_dicts_equal(wa, wb)
    assert kind == "backbone" and BackboneConfig.from_dict(cfg) == config
    model = EgoM2P.from_state_dict(BackboneConfig.from_dict(cfg), wa)
    assert model.config == config
    assert prov["trained"] and prov["steps"] == 4
    assert set(prov["tokenizers"]) == {"tok_cam", "tok_depth", "tok_gaze", "tok_rgb"}
    assert prov["data"]["masking"]["input_budget"] == 32
    # rgb -> cam / gaze through the database's tokenizers, scored with the paper's metrics
    m = full.final_metrics
    assert {"rgb2cam_ate_m", "rgb2cam_rte_m", "rgb2cam_rre_deg", "rgb2gaze_mse"} <= set(m)
    assert all(np.isfinite(m[k]) and m[k] >= 0 for k in m)


def test_database_that_does_not_fit_the_backbone_is_refused(tmp_path, db):
    other = backbone_config_for(
        db, "ego-tiny", dim=24, encoder_depth=1, decoder_depth=1, num_heads=2, mlp_hidden=32
    )
    bad = replace(other, modalities=make_modalities(video_size=64, video_vocab=64))
    with pytest.raises(ValueError, match="tok_depth has 80 tokens"):
        train_backbone(db, _run(tmp_path / "r"), bad, OPTIM, MASKING, gen_eval_samples=0)


@pytest.mark.gpu
def test_bf16_autocast_on_cuda(tmp_path, db, config):
    run = _run(tmp_path / "gpu", steps=3, device="cuda", bf16=True)
    res = train_backbone(db, run, config, OPTIM, MASKING, gen_eval_samples=0)
    assert all(np.isfinite(res.losses)) and res.steps == 3


def test_backbone_can_hold_only_the_databases_modalities(tmp_path, db):
    rng = np.random.default_rng(0)
    with TokenDatabaseWriter(
        tmp_path / "cg", {"tok_cam": (32, (30,)), "tok_gaze": (32, (30,))}
    ) as w:
        for i in range(4):
            w.add(
                i,
                f"c{i}",
                {"tok_cam": rng.integers(0, 32, 30), "tok_gaze": rng.integers(0, 32, 30)},
            )
    small = TokenDatabase(tmp_path / "cg")
    cfg = backbone_config_for(
        small,
        "ego-tiny",
        True,
        dim=24,
        encoder_depth=1,
        decoder_depth=1,
        num_heads=2,
        mlp_hidden=32,
    )
    assert cfg.modality_names == ("tok_cam", "tok_gaze") and cfg.spec("tok_cam").vocab_size == 32
    full = backbone_config_for(small, "ego-tiny", dim=24, num_heads=2, mlp_hidden=32)
    assert len(full.modalities) == 4  # the official layout keeps the absent video modalities
    res = train_backbone(
        small, _run(tmp_path / "r", steps=2), cfg, OPTIM, MASKING, gen_eval_samples=0
    )
    assert res.steps == 2 and np.isfinite(res.final_metrics["val_loss"])
    # A batch without any target token: a zero loss that still steps (no crash).
    none = train_backbone(
        small, _run(tmp_path / "z", steps=1), cfg, OPTIM, MaskingConfig(60, 0), gen_eval_samples=0
    )
    assert none.losses == [0.0]
