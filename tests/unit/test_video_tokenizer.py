"""Video tokenizer config and structure: the released size matches the official manifest."""

from __future__ import annotations

import json

import pytest
import torch

from egom2p_edge.models.video.config import PRESETS, VideoTokenizerConfig, preset
from egom2p_edge.models.video.tokenizer import VideoTokenizer


@pytest.fixture(scope="module")
def manifest(parity_dir):
    return json.loads((parity_dir / "manifests" / "cosmos_dv4x8x8.json").read_text())


def test_dv4x8x8_on_meta_matches_manifest(manifest):
    with torch.device("meta"):
        model = VideoTokenizer(preset("dv4x8x8"))
    state = model.state_dict()
    expected = manifest["state_dict"]
    assert len(state) == manifest["num_state_dict_keys"] == len(expected)
    assert list(state) == list(expected)  # same keys in the same module order
    for key, (shape, dtype) in expected.items():
        assert list(state[key].shape) == shape, key
        assert str(state[key].dtype).replace("torch.", "") == dtype, key
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == manifest["total_parameters_unique"]
    # The jit wrappers' key sets are the encoder / decoder halves of our state_dict.
    assert set(manifest["encoder_jit_module_state_dict"]) | set(
        manifest["decoder_jit_module_state_dict"]
    ) == set(state)
    enc_params = sum(
        p.numel() for p in [*model.encoder.parameters(), *model.quant_conv.parameters()]
    )
    assert enc_params == manifest["num_parameters_encoder_jit"]
    # Non-persistent buffers never reach the state_dict.
    assert not set(manifest["non_persistent_buffers"]) & set(state)


def test_official_full_config_is_the_dv4x8x8_preset(parity_dir):
    config = json.loads((parity_dir / "video_tokenizer" / "config.json").read_text())
    assert VideoTokenizerConfig.from_official(config["full_dv4x8x8_config"]) == preset("dv4x8x8")
    small = VideoTokenizerConfig.from_official(config["tokenizer_config"])
    assert (small.channels, small.num_res_blocks) == (4, 1)


def test_preset_vocabularies_and_token_grid():
    for cfg in PRESETS.values():
        assert cfg.vocab_size == 64000
        assert cfg.spatial_compression == 8 and cfg.temporal_compression == 4
    with pytest.raises(ValueError, match="unknown video tokenizer preset"):
        preset("dv8x16x16")


def test_config_dict_round_trip():
    cfg = VideoTokenizerConfig(
        channels=8, channels_mult=[1, 2], levels=[8, 5, 5, 5], embedding_dim=4
    )
    assert cfg.channels_mult == (1, 2)  # lists become tuples
    again = VideoTokenizerConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    with pytest.raises(ValueError, match="unknown fields"):
        VideoTokenizerConfig.from_dict({**cfg.to_dict(), "dropout": 0.1})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"channels": 0}, "channels"),
        ({"levels": (8, 8, 8)}, "embedding_dim"),
        ({"levels": (8, 8, 8, 5, 5, 1)}, "levels"),
        ({"patch_size": 3}, "patch_size"),
        ({"spatial_compression": 12}, "spatial_compression"),
        ({"spatial_compression": 64}, "down-samplers"),
        ({"temporal_compression": 8}, "temporal_compression"),
        ({"channels_mult": ()}, "channels_mult"),
        ({"norm_eps": 0.0}, "norm_eps"),
    ],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VideoTokenizerConfig(**kwargs)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantizer", "LFQ"),
        ("patch_method", "rearrange"),
        ("legacy_mode", True),
        ("num_groups", 32),
    ],
)
def test_from_official_rejects_unsupported_variants(parity_dir, field, value):
    config = json.loads((parity_dir / "video_tokenizer" / "config.json").read_text())
    official = {**config["tokenizer_config"], field: value}
    with pytest.raises(ValueError, match=field):
        VideoTokenizerConfig.from_official(official)


def test_from_official_rejects_level_attention():
    official = {
        "channels": 4,
        "channels_mult": [2, 4, 4],
        "num_res_blocks": 1,
        "z_channels": 16,
        "embedding_dim": 6,
        "levels": [8, 8, 8, 5, 5, 5],
        "patch_size": 4,
        "spatial_compression": 8,
        "temporal_compression": 4,
        "resolution": 128,  # 128 / 4 = 32 is in attn_resolutions
        "attn_resolutions": [32],
    }
    with pytest.raises(ValueError, match="attn_resolutions"):
        VideoTokenizerConfig.from_official(official)
    official["resolution"] = 1024
    assert VideoTokenizerConfig.from_official(official).channels == 4
