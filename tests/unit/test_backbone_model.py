"""Backbone model: the ego-b manifest on the meta device, ego-tiny shapes, masking rules, loss."""

from __future__ import annotations

import json

import pytest
import torch

from egom2p_edge.models.backbone import (
    BackboneConfig,
    EgoM2P,
    ModalityBatch,
    backbone_preset,
    forward_train,
    gather_slots,
    make_modalities,
)
from egom2p_edge.models.backbone.blocks import masked_attention
from egom2p_edge.paths import shared_path

MANIFEST = ("fixtures", "parity", "manifests", "egom2p_base_12e_12d_swiglu_nobias_mod4.json")


def tiny(**kw) -> BackboneConfig:
    """ego-tiny with a small video vocabulary so random init stays fast."""
    kw.setdefault("modalities", make_modalities(video_size=128, video_vocab=512))
    return backbone_preset("ego-tiny", **kw)


def test_ego_b_state_dict_matches_official_manifest():
    path = shared_path(*MANIFEST)
    if path is None:
        pytest.skip("../shared manifests are not available")
    manifest = json.loads(path.read_text())
    with torch.device("meta"):
        model = EgoM2P(backbone_preset("ego-b"))
    ours = {k: list(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: v[0] for k, v in manifest["state_dict"].items()}
    assert ours == theirs
    assert list(ours) == list(theirs)  # module order too
    unique = {id(p): p.numel() for p in model.parameters()}
    assert sum(unique.values()) == manifest["total_parameters_unique"]
    buffers = {k for k, _ in model.named_buffers()}
    assert buffers == set(manifest["persistent_buffers"])


def test_tied_tensors_are_shared():
    model = EgoM2P(tiny())
    for name in model.config.modality_names:
        dec, enc = model.decoder_embeddings[name], model.encoder_embeddings[name]
        assert dec.to_logits.weight is dec.token_emb.weight
        assert dec.mod_emb is enc.mod_emb


def test_ego_tiny_preset_layout():
    cfg = backbone_preset("ego-tiny")
    assert cfg.spec("tok_rgb").token_shape == (5, 16, 16)
    assert (cfg.dim, cfg.encoder_depth, cfg.decoder_depth, cfg.num_heads) == (192, 4, 4, 4)
    assert cfg.mlp_hidden == 512
    assert BackboneConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(dim=64), "divisible by 6"),
        (dict(num_heads=5), "must divide dim"),
        (dict(encoder_depth=0), "encoder_depth"),
        (dict(norm_eps=0.0), "norm_eps"),
    ],
)
def test_config_rejects_bad_values(kw, match):
    with pytest.raises(ValueError, match=match):
        backbone_preset("ego-tiny", **kw)


def test_config_from_dict_rejects_unknown_field():
    with pytest.raises(ValueError, match="unknown fields"):
        BackboneConfig.from_dict({"width": 3})


def test_encoder_decoder_shapes_on_ego_tiny():
    torch.manual_seed(0)
    model = EgoM2P(tiny()).eval()
    cfg = model.config
    B, N = 2, 40
    ids = torch.randint(0, 256, (B, N))
    pos = torch.randint(0, 30, (B, N))
    mod = torch.full((B, N), cfg.index("tok_cam"))
    valid = torch.ones(B, N, dtype=torch.bool)
    valid[1, 30:] = False
    with torch.no_grad():
        ctx = model.forward_encoder(ids, pos, mod, valid)
        assert ctx.shape == (B, N, cfg.dim)
        qpos = torch.arange(6).expand(B, -1)
        qmod = torch.tensor([cfg.index("tok_gaze")] * 3 + [cfg.index("tok_rgb")] * 3).expand(B, -1)
        logits = model.forward_decoder(ctx, valid, qpos, qmod)
    assert logits.shape == (B, 6, 512)
    assert torch.isinf(logits[:, :3, 256:]).all() and torch.isfinite(logits[:, :3, :256]).all()
    assert torch.isfinite(logits[:, 3:]).all()


def test_no_valid_key_gives_exact_zero():
    q = torch.randn(1, 2, 3, 4)
    k = torch.randn(1, 2, 5, 4)
    v = torch.randn(1, 2, 5, 4) + 10.0
    mask = torch.zeros(1, 1, 3, 5, dtype=torch.bool)
    mask[0, 0, 1, 2] = True  # row 1 sees key 2 only; rows 0 and 2 see nothing
    out = masked_attention(q, k, v, mask)
    assert torch.equal(out[:, :, 0], torch.zeros(1, 2, 4))
    assert torch.equal(out[:, :, 2], torch.zeros(1, 2, 4))
    torch.testing.assert_close(out[:, :, 1], v[:, :, 2])  # one key: softmax weight 1


def test_decoder_without_context_equals_zero_cross_attention():
    """All context slots invalid: the decoder must ignore the context entirely."""
    torch.manual_seed(1)
    model = EgoM2P(tiny()).eval()
    D = model.config.dim
    qpos = torch.arange(4)[None]
    qmod = torch.full((1, 4), model.config.index("tok_cam"))
    invalid = torch.zeros(1, 3, dtype=torch.bool)
    with torch.no_grad():
        a = model.decode_hidden(torch.randn(1, 3, D), invalid, qpos, qmod)
        b = model.decode_hidden(torch.randn(1, 3, D) * 100, invalid, qpos, qmod)
    assert torch.equal(a, b)


def test_decoder_self_attention_stays_within_modality():
    torch.manual_seed(2)
    model = EgoM2P(tiny()).eval()
    cfg = model.config
    ctx = torch.randn(1, 5, cfg.dim)
    gaze = torch.full((1, 4), cfg.index("tok_gaze"))
    cam = torch.full((1, 3), cfg.index("tok_cam"))
    with torch.no_grad():
        alone = model.decode_hidden(ctx, None, torch.arange(4)[None], gaze)
        mixed = model.decode_hidden(
            ctx,
            None,
            torch.cat([torch.arange(4), torch.arange(3)])[None],
            torch.cat([gaze, cam], 1),
        )
    torch.testing.assert_close(mixed[:, :4], alone, atol=1e-5, rtol=1e-5)


def test_gather_slots_puts_selected_first_in_modality_order():
    cfg = tiny()
    ids = {"tok_cam": torch.arange(30)[None], "tok_gaze": torch.arange(30)[None] + 100}
    sel = {
        "tok_cam": torch.zeros(1, 30, dtype=torch.bool),
        "tok_gaze": torch.zeros(1, 30, dtype=torch.bool),
    }
    sel["tok_cam"][0, [5, 2]] = True
    sel["tok_gaze"][0, [7]] = True
    s = gather_slots(cfg, ids, sel, max_slots=5)
    assert s.positions[0].tolist() == [2, 5, 7, -1, -1]
    assert s.ids[0].tolist() == [2, 5, 107, 0, 0]
    assert s.modality[0].tolist() == [cfg.index("tok_cam")] * 2 + [cfg.index("tok_gaze"), -1, -1]
    assert s.valid[0].tolist() == [True, True, True, False, False]


def _batch(cfg, B=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    batch = {}
    for spec in cfg.modalities:
        n = spec.num_tokens
        ids = torch.randint(0, spec.vocab_size, (B, n), generator=g)
        perm = torch.randperm(n, generator=g)
        is_in = torch.zeros(B, n, dtype=torch.bool)
        is_tg = torch.zeros(B, n, dtype=torch.bool)
        is_in[:, perm[:7]] = True
        is_tg[:, perm[7:12]] = True
        batch[spec.name] = ModalityBatch(ids, is_in, is_tg)
    return batch


def test_loss_is_mean_of_per_modality_cross_entropy():
    torch.manual_seed(3)
    model = EgoM2P(tiny()).eval()
    batch = _batch(model.config)
    empty = batch["tok_depth"]
    batch["tok_depth"] = ModalityBatch(
        empty.ids, torch.zeros_like(empty.is_input), torch.zeros_like(empty.is_target)
    )
    with torch.no_grad():
        out = forward_train(model, batch)
    assert float(out.mod_loss["tok_depth"]) == 0.0  # no target: contributes 0, still counted
    for name, r in out.rows.items():
        if name == "tok_depth":
            continue
        assert r.logits.shape == (2 * 5, model.config.spec(name).vocab_size)
        manual = torch.nn.functional.cross_entropy(r.logits, r.target)
        torch.testing.assert_close(out.mod_loss[name], manual)
    expected = sum(out.mod_loss.values()) / 4
    torch.testing.assert_close(out.loss, expected)


def test_loss_backward_reaches_all_trainable_weights():
    torch.manual_seed(4)
    model = EgoM2P(tiny(encoder_depth=1, decoder_depth=1))
    out = forward_train(model, _batch(model.config))
    out.loss.backward()
    assert model.mask_token.grad is not None and torch.isfinite(model.mask_token.grad).all()
    assert model.encoder[0].attn.qkv.weight.grad.abs().sum() > 0


def test_forward_train_rejects_bad_batches():
    model = EgoM2P(tiny(encoder_depth=1, decoder_depth=1))
    batch = _batch(model.config)
    cam = batch["tok_cam"]
    batch["tok_cam"] = ModalityBatch(cam.ids + 1000, cam.is_input, cam.is_target)
    with pytest.raises(ValueError, match="tok_cam ids must be in"):
        forward_train(model, batch)
    batch["tok_cam"] = ModalityBatch(cam.ids, cam.is_input, cam.is_input)
    with pytest.raises(ValueError, match="both input and target"):
        forward_train(model, batch)


def test_decoder_truncation_follows_decoder_order():
    torch.manual_seed(5)
    model = EgoM2P(tiny(encoder_depth=1, decoder_depth=1)).eval()
    batch = _batch(model.config, B=1)  # 5 targets per modality
    order = ["tok_gaze", "tok_cam", "tok_rgb", "tok_depth"]
    with torch.no_grad():
        out = forward_train(model, batch, num_decoder_tokens=10, decoder_order=order)
    counts = {n: r.target.numel() for n, r in out.rows.items()}
    assert counts == {"tok_cam": 5, "tok_depth": 0, "tok_gaze": 5, "tok_rgb": 0}
    with pytest.raises(ValueError, match="decoder_order"):
        forward_train(model, batch, decoder_order=["tok_gaze"])
