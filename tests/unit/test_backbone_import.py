"""Importing an official backbone .pth: config from args + shapes, strict checks, our format."""

from __future__ import annotations

import argparse

import pytest
import torch

from egom2p_edge.checkpoints.backbone_import import import_official_backbone
from egom2p_edge.checkpoints.official import load_official_checkpoint
from egom2p_edge.models.backbone import BackboneConfig, EgoM2P
from egom2p_edge.paths import shared_path


@pytest.fixture(scope="module")
def official():
    path = shared_path("fixtures", "parity", "backbone", "checkpoint.pth")
    if path is None:
        pytest.skip("../shared backbone parity checkpoint is not available")
    return path


def _resave(tmp_path, ckpt, state=None, **arg_updates):
    args = dict(ckpt.args)
    args.update(arg_updates)
    out = tmp_path / "ckpt.pth"
    state = ckpt.state_dict if state is None else state
    torch.save({"model": state, "epoch": 0, "args": argparse.Namespace(**args)}, out)
    return out


def test_import_reads_overrides_and_shapes(official):
    kind, cfg_d, state, prov = import_official_backbone(official)
    cfg = BackboneConfig.from_dict(cfg_d)
    assert kind == "backbone"
    assert (cfg.dim, cfg.encoder_depth, cfg.decoder_depth, cfg.num_heads) == (36, 2, 2, 4)
    assert cfg.mlp_hidden == 96
    assert cfg.spec("tok_rgb").vocab_size == 1000 and cfg.spec("tok_cam").vocab_size == 256
    assert cfg.spec("tok_depth").token_shape == (5, 32, 32)
    assert prov["official_model"] == "egom2p_base_12e_12d_swiglu_nobias"
    raw = load_official_checkpoint(official).state_dict
    assert list(state) == list(raw)
    for k in raw:
        assert torch.equal(state[k], raw[k]), k
    dec = "decoder_embeddings.tok_cam"
    assert state[f"{dec}.to_logits.weight"] is state[f"{dec}.token_emb.weight"]
    model = EgoM2P.from_state_dict(cfg, state)
    assert model.decoder_embeddings["tok_cam"].to_logits.weight is (
        model.decoder_embeddings["tok_cam"].token_emb.weight
    )


def test_round_trip_through_sdk_format(official, tmp_path):
    sdk = pytest.importorskip("egom2p_edge.checkpoints.sdk_format")
    kind, cfg_d, state, prov = import_official_backbone(official)
    sdk.save_checkpoint(tmp_path / "bb", kind, cfg_d, state, prov)
    kind2, cfg2, state2, _ = sdk.load_checkpoint(tmp_path / "bb")
    assert kind2 == "backbone" and cfg2 == cfg_d
    model = EgoM2P.from_state_dict(BackboneConfig.from_dict(cfg2), state2)
    assert sum(p.numel() for p in model.parameters()) == 255456


def test_missing_and_misshapen_keys_are_listed(official, tmp_path):
    ckpt = load_official_checkpoint(official)
    state = dict(ckpt.state_dict)
    del state["encoder.0.attn.proj.weight"]
    state["encoder.1.mlp.fc1.weight"] = torch.zeros(95, 36)
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError) as err:
        import_official_backbone(_resave(tmp_path, ckpt, state))
    msg = str(err.value)
    assert "missing key encoder.0.attn.proj.weight" in msg
    assert "unexpected key extra.weight" in msg
    assert "encoder.1.mlp.fc1.weight: expected [96, 36], got [95, 36]" in msg


def test_unsupported_factory_is_refused(official, tmp_path):
    ckpt = load_official_checkpoint(official)
    path = _resave(tmp_path, ckpt, model="egom2p_base_12e_12d_swiglu_nobias_causal")
    with pytest.raises(ValueError, match="unsupported model factory"):
        import_official_backbone(path)


def test_wrong_vocab_override_is_a_shape_error(official, tmp_path):
    ckpt = load_official_checkpoint(official)
    path = _resave(tmp_path, ckpt, parity_vocab_overrides={"tok_rgb": 64000, "tok_depth": 1000})
    with pytest.raises(ValueError, match="token_emb.weight: expected \\[64000, 36\\]"):
        import_official_backbone(path)


def test_untied_tensors_are_refused(official, tmp_path):
    ckpt = load_official_checkpoint(official)
    state = {k: v.clone() for k, v in ckpt.state_dict.items()}
    state["decoder_embeddings.tok_gaze.to_logits.weight"] += 1.0
    with pytest.raises(ValueError, match="must be tied"):
        import_official_backbone(_resave(tmp_path, ckpt, state))


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        import_official_backbone(tmp_path / "nope.pth")
