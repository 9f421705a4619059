"""Official tokenizer .pth -> our VQVAE: config from args + shapes, overrides, strict matching."""

from __future__ import annotations

import argparse

import pytest
import torch

from egom2p_edge.checkpoints.official import load_official_checkpoint
from egom2p_edge.checkpoints.vqvae_import import (
    check_state_dict,
    import_official_vqvae,
    load_official_vqvae,
    vqvae_config_from_official,
)


@pytest.fixture(scope="module")
def gaze_ckpt(parity_dir):
    return load_official_checkpoint(parity_dir / "gaze_tokenizer" / "checkpoint.pth")


def test_fixture_checkpoint_config(gaze_ckpt):
    cfg = vqvae_config_from_official(gaze_ckpt.args, gaze_ckpt.state_dict)
    overrides = gaze_ckpt.args["parity_overrides"]
    assert cfg.domain == "gaze"
    assert (cfg.dim, cfg.depth, cfg.heads) == (
        overrides["dim_tokens"], overrides["depth"], overrides["num_heads"],
    )  # fmt: skip
    assert cfg.codebook_size == gaze_ckpt.args["codebook_size"]
    assert cfg.latent_dim == gaze_ckpt.args["latent_dim"]
    assert cfg.ema_decay == gaze_ckpt.args["quantizer_ema_decay"]
    # The yaml's coef_ema_dead_code is ignored: the official get_model hard-codes 2.0.
    assert gaze_ckpt.args["coef_ema_dead_code"] != 2.0 and cfg.dead_code_threshold == 2.0


def test_weights_load_exactly(gaze_ckpt):
    model = load_official_vqvae(gaze_ckpt)
    assert not model.training
    ours = model.state_dict()
    assert list(ours) == list(gaze_ckpt.state_dict)  # official key order
    for k, v in gaze_ckpt.state_dict.items():
        assert torch.equal(ours[k], v), k
    kind, config, state, prov = import_official_vqvae(gaze_ckpt)
    assert kind == "vqvae" and config["domain"] == "gaze"
    assert "non-commercial" in prov["licence"] and prov["epoch"] == gaze_ckpt.epoch


def test_missing_overrides_fall_back_to_class_default_heads(gaze_ckpt):
    # Without parity_overrides the heads are the class default 12, which cannot split width 64.
    args = {k: v for k, v in gaze_ckpt.args.items() if k != "parity_overrides"}
    with pytest.raises(ValueError, match="heads=12 must divide dim=64"):
        vqvae_config_from_official(args, gaze_ckpt.state_dict)


def test_override_that_contradicts_the_tensors_lists_mismatches(gaze_ckpt):
    args = dict(gaze_ckpt.args)
    args["parity_overrides"] = {"dim_tokens": 128, "depth": 2, "num_heads": 4}
    cfg = vqvae_config_from_official(args, gaze_ckpt.state_dict)
    with pytest.raises(ValueError, match="shape mismatches") as info:
        check_state_dict(cfg, gaze_ckpt.state_dict, "gaze.pth")
    assert "encoder.conv.weight" in str(info.value)


def test_missing_and_unexpected_keys_are_listed(gaze_ckpt):
    cfg = vqvae_config_from_official(gaze_ckpt.args, gaze_ckpt.state_dict)
    state = dict(gaze_ckpt.state_dict)
    del state["decoder.out_proj.bias"]
    state["decoder.extra"] = torch.zeros(1)
    with pytest.raises(ValueError) as info:
        check_state_dict(cfg, state, "gaze.pth")
    msg = str(info.value)
    assert "missing keys" in msg and "decoder.out_proj.bias" in msg
    assert "unexpected keys" in msg and "decoder.extra" in msg


def test_unsupported_args_are_refused(gaze_ckpt):
    sd = gaze_ckpt.state_dict
    for change, pattern in [
        (dict(encoder_type="VideoTransformer"), "encoder_type"),
        (dict(decoder_type="CamTransformer"), "decoder_type"),
        (dict(domain="cam"), "domain"),
        (dict(quantizer_type="fsq"), "lucid"),
        (dict(num_codebooks=2), "num_codebooks"),
        (dict(parity_overrides=[64]), "parity_overrides"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            vqvae_config_from_official({**gaze_ckpt.args, **change}, sd)
    args = {k: v for k, v in gaze_ckpt.args.items() if k != "latent_dim"}
    with pytest.raises(ValueError, match="latent_dim"):
        vqvae_config_from_official(args, sd)


def test_not_a_tokenizer_checkpoint(tmp_path):
    path = tmp_path / "main.pth"
    torch.save({"model": {"w": torch.zeros(1)}, "args": argparse.Namespace(model="egom2p")}, path)
    with pytest.raises(ValueError, match="encoder_type"):
        load_official_vqvae(path)
