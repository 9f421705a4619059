"""Token database: clip -> tokenizer inputs, on-disk round trip, tokenising, masked batches."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from egom2p_edge.clips import Clip, ClipDataset
from egom2p_edge.models.backbone import EgoM2P, forward_train
from egom2p_edge.models.masking import MaskingConfig
from egom2p_edge.models.vqvae import load_vqvae
from egom2p_edge.models.vqvae.preprocess import CAM_MEAN, CAM_STD
from egom2p_edge.training.tokens import (
    MaskedTokenDataset,
    TokenDatabase,
    TokenDatabaseWriter,
    empty_mod_dict,
    inputs,
    load_video_tokenizer,
    to_model_batch,
)
from egom2p_edge.training.trainers.backbone import backbone_config_for

MODS = {"tok_cam": (256, (30,)), "tok_rgb": (64, (5, 4, 4))}


def _clip(**kw) -> Clip:
    return Clip(clip_id="c", source="test", licence="none", **kw)


def test_cam_input_is_the_official_standardised_9d():
    T = np.tile(np.eye(4), (60, 1, 1))
    T[:, 0, 3] = np.linspace(0, 1, 60)  # moving along x, no rotation
    x = inputs.cam_input(_clip(T_first_camera=T))
    nine = np.zeros((60, 9))
    nine[:, 0] = 1.0  # R[:, 0]
    nine[:, 4] = 1.0  # R[:, 1]
    nine[:, 6] = T[:, 0, 3]
    np.testing.assert_allclose(x, (nine - CAM_MEAN) / CAM_STD, rtol=1e-6)
    assert x.dtype == np.float32 and x.shape == (60, 9)


def test_gaze_input_marks_clip_invalid_rows_and_maps_to_minus_one_one():
    xy = np.full((60, 2), 0.25)
    valid = np.ones(60, dtype=bool)
    valid[10:13] = False
    xy[10:13] = 0.0
    x = inputs.gaze_input(_clip(gaze_xy_norm=xy, gaze_valid=valid))
    assert x.shape == (60, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, 2], valid.astype(np.float32))
    np.testing.assert_allclose(x[valid, :2], -0.5)  # (0.25 - 0.5) / 0.5
    np.testing.assert_allclose(x[~valid, :2], -1.0)  # value 0 before the mapping


def test_depth_frames_are_rounded_grey_in_three_equal_channels():
    inv = np.linspace(0, 1, 16 * 8 * 8, dtype=np.float32).reshape(16, 8, 8)
    f = inputs.depth_frames(_clip(depth_inv_norm=inv, depth_valid=inv > 0))
    assert f.shape == (16, 8, 8, 3) and f.dtype == np.uint8
    np.testing.assert_array_equal(f[..., 0], f[..., 2])
    assert np.abs(f[..., 0].astype(float) - inv * 255).max() <= 0.5
    assert f.max() == 255 and f.min() == 0


def test_missing_modality_input_is_a_value_error():
    with pytest.raises(ValueError, match="T_first_camera"):
        inputs.cam_input(_clip(gaze_xy_norm=np.zeros((60, 2)), gaze_valid=np.ones(60, bool)))
    with pytest.raises(ValueError, match="unknown modality"):
        inputs.model_input(_clip(), "imu")


def _write_db(path, n=7, shard_size=3):
    rng = np.random.default_rng(0)
    written = []
    with TokenDatabaseWriter(path, MODS, shard_size=shard_size) as w:
        for i in range(n):
            toks = {"tok_cam": rng.integers(0, 256, 30)}
            if i % 3 != 1:  # samples 1 and 4 have no video: absent, not zero-filled
                toks["tok_rgb"] = rng.integers(0, 64, (5, 4, 4))
            truth = {"T_first_camera": np.tile(np.eye(4), (60, 1, 1)) * (i + 1)}
            w.add(100 + i, f"clip-{i}", toks, truth)
            written.append(toks)
    return written


def test_token_database_round_trip(tmp_path):
    written = _write_db(tmp_path / "db")
    db = TokenDatabase(tmp_path / "db")
    assert len(db) == 7 and db.shard_sizes == [3, 3, 1]
    assert db[-1].clip_id == "clip-6" and db.presence(-3) == db.presence(4)
    with pytest.raises(IndexError, match="TokenDatabase: index 7 out of range for 7 samples"):
        db[7]
    assert db.modalities["tok_rgb"].count == 5 and db.modalities["tok_cam"].token_shape == (30,)
    for i, toks in enumerate(written):
        s = db[i]
        assert s.clip_id == f"clip-{i}" and s.clip_index == 100 + i
        assert set(s.tokens) == set(toks) and db.presence(i) == tuple(sorted(toks))
        for name, ids in toks.items():
            np.testing.assert_array_equal(s.tokens[name], ids)
        np.testing.assert_array_equal(s.truth["T_first_camera"][0], np.eye(4) * (i + 1))
    shard = np.load(tmp_path / "db" / "tokens-000000.npz")
    assert shard["tok_rgb"].shape == (2, 5, 4, 4)  # the missing sample has no row


def test_token_database_refuses_bad_input_and_corruption(tmp_path):
    with pytest.raises(ValueError, match=r"tok_cam ids must be in \[0, 256\)"):
        with TokenDatabaseWriter(tmp_path / "a", MODS) as w:
            w.add(0, "x", {"tok_cam": np.full(30, 256)})
    with pytest.raises(ValueError, match="shape"):
        with TokenDatabaseWriter(tmp_path / "b", MODS) as w:
            w.add(0, "x", {"tok_cam": np.zeros(29, int)})
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        TokenDatabase(tmp_path / "a")  # the failed write left no manifest
    _write_db(tmp_path / "db")
    with pytest.raises(FileExistsError, match="overwrite"):
        TokenDatabaseWriter(tmp_path / "db", MODS)
    shard = tmp_path / "db" / "tokens-000001.npz"
    data = bytearray(shard.read_bytes())
    data[-10] ^= 0xFF  # same size, different content
    shard.write_bytes(bytes(data))
    db = TokenDatabase(tmp_path / "db")
    db[0]  # shard 0 is intact
    with pytest.raises(ValueError, match="sha256"):
        db[4]
    manifest = tmp_path / "db" / "manifest.json"
    m = json.loads(manifest.read_text())
    m["version"] = 99
    manifest.write_text(json.dumps(m))
    with pytest.raises(ValueError, match="version"):
        TokenDatabase(tmp_path / "db")


def test_token_database_refuses_missing_truncated_and_misnumbered_shards(tmp_path):
    _write_db(tmp_path / "db")
    manifest = tmp_path / "db" / "manifest.json"
    good = manifest.read_text()
    m = json.loads(good)
    m["shards"][1]["first_index"] += 1
    manifest.write_text(json.dumps(m))
    with pytest.raises(
        ValueError, match=r"shards\[1\] first_index \d+ / num_samples .*inconsistent"
    ):
        TokenDatabase(tmp_path / "db")
    manifest.write_text(good)
    shard = tmp_path / "db" / "tokens-000001.npz"
    data = shard.read_bytes()
    shard.write_bytes(data[:-5])
    with pytest.raises(ValueError, match=f"tokens-000001.npz has {len(data) - 5} bytes"):
        TokenDatabase(tmp_path / "db")
    shard.unlink()
    with pytest.raises(
        FileNotFoundError, match="tokens-000001.npz listed in the manifest is missing"
    ):
        TokenDatabase(tmp_path / "db")


def test_built_database_holds_the_tokenizers_ids(token_db, synth_clips, tokenizer_paths):
    db = TokenDatabase(token_db)
    clips = ClipDataset(synth_clips)
    assert len(db) == len(clips)
    assert set(db.modalities) == {"tok_cam", "tok_depth", "tok_gaze", "tok_rgb"}
    assert db.modalities["tok_rgb"].token_shape == (5, 4, 4)
    assert db.manifest["tokenizers"]["tok_cam"]["path"] == str(tokenizer_paths["cam"].resolve())
    cam, gaze = load_vqvae(tokenizer_paths["cam"]), load_vqvae(tokenizer_paths["gaze"])
    video = load_video_tokenizer(tokenizer_paths["video"])
    for i in (0, 5):
        clip, s = clips[i], db[i]
        with torch.no_grad():
            want_cam = cam.encode(torch.from_numpy(inputs.cam_input(clip))[None])[0]
            want_gaze = gaze.encode(torch.from_numpy(inputs.gaze_input(clip))[None])[0]
            want_rgb = video.encode(clip.rgb[None])[0]
            want_depth = video.encode(inputs.depth_frames(clip)[None])[0]
        np.testing.assert_array_equal(s.tokens["tok_cam"], want_cam.numpy())
        np.testing.assert_array_equal(s.tokens["tok_gaze"], want_gaze.numpy())
        np.testing.assert_array_equal(s.tokens["tok_rgb"], want_rgb.numpy())
        np.testing.assert_array_equal(s.tokens["tok_depth"], want_depth.numpy())
        np.testing.assert_array_equal(s.truth["T_first_camera"], clip.T_first_camera)
        np.testing.assert_array_equal(s.truth["gaze_valid"], clip.gaze_valid)


def test_masked_samples_follow_the_official_layout(tmp_path):
    _write_db(tmp_path / "db")
    db = TokenDatabase(tmp_path / "db")
    num_tokens = {"tok_cam": 30, "tok_gaze": 30, "tok_rgb": 80}
    ds = MaskedTokenDataset(db, num_tokens, MaskingConfig(40, 40), seed=3)
    s = ds[(1, 0)]  # sample 1 has no video, and no sample has gaze
    assert list(s) == list(num_tokens)
    for name in ("tok_gaze", "tok_rgb"):
        for key, value in empty_mod_dict(num_tokens[name]).items():
            assert torch.equal(s[name][key], value)
    cam = s["tok_cam"]
    is_in, is_tg = ~cam["input_mask"], ~cam["target_mask"]
    assert not bool((is_in & is_tg).any())
    assert int(is_in.sum()) + int(is_tg.sum()) == 30  # 40-token budgets clamp to the 30 tokens
    assert torch.equal(cam["tensor"], torch.from_numpy(db[1].tokens["tok_cam"]).long())
    dam = cam["decoder_attention_mask"]
    if bool(is_tg.any()):
        assert int(dam[int(is_tg.nonzero()[0])]) == int(is_tg.sum()) and int(dam.sum()) == int(
            is_tg.sum()
        )
    again, other = ds[(1, 0)], ds[(1, 1)]
    assert torch.equal(again["tok_cam"]["input_mask"], cam["input_mask"])
    masks = [ds[(k, e)]["tok_rgb"]["input_mask"] for k in (0, 2) for e in range(4)]
    assert any(not torch.equal(masks[0], m) for m in masks[1:])  # epochs draw new masks
    assert other["tok_cam"]["tensor"].shape == (30,)


def test_masked_dataset_refuses_a_database_that_does_not_fit(tmp_path):
    _write_db(tmp_path / "db")
    db = TokenDatabase(tmp_path / "db")
    with pytest.raises(ValueError, match="tok_rgb has 80 tokens"):
        MaskedTokenDataset(db, {"tok_cam": 30, "tok_rgb": 64}, MaskingConfig(8, 8))
    with pytest.raises(ValueError, match="does not have"):
        MaskedTokenDataset(db, {"tok_cam": 30}, MaskingConfig(8, 8))


def test_collated_batches_feed_the_backbone(token_db):
    db = TokenDatabase(token_db)
    cfg = backbone_config_for(
        db, "ego-tiny", dim=24, encoder_depth=1, decoder_depth=1, num_heads=2, mlp_hidden=32
    )
    num_tokens = {m.name: m.num_tokens for m in cfg.modalities}
    ds = MaskedTokenDataset(db, num_tokens, MaskingConfig(32, 32), seed=0)
    loader = torch.utils.data.DataLoader(ds, batch_size=3)
    batch = next(iter(loader))
    assert batch["tok_rgb"]["tensor"].shape == (3, 80)
    mb = to_model_batch(batch, cfg.modality_names)
    out = forward_train(EgoM2P(cfg, seed=0), mb, 32, 32)
    assert torch.isfinite(out.loss)
    n_targets = sum(int((~batch[n]["target_mask"]).sum()) for n in cfg.modality_names)
    assert sum(int(r.target.numel()) for r in out.rows.values()) == n_targets
