"""Full-size check: the official tokenizer configs, built on the meta device, give exactly the
keys, shapes, dtypes, buffers and parameter counts of the official manifests."""

from __future__ import annotations

import json

import pytest
import torch

from egom2p_edge.checkpoints.vqvae_import import vqvae_config_from_official
from egom2p_edge.models.vqvae.config import preset
from egom2p_edge.models.vqvae.model import VQVAE

# The official tokenizer args (run_training_vqvae get_args + yaml) that shape the model.
OFFICIAL_ARGS = {
    "cam": dict(encoder_type="CamTransformer", decoder_type="CamTransformer", domain="cam",
                loss_fn="mse"),
    "gaze": dict(encoder_type="GazeTransformer", decoder_type="GazeTransformer", domain="gaze",
                 loss_fn="mse_mask"),
}  # fmt: skip
COMMON_ARGS = dict(
    num_frames=60, temporal_downsampling=2, latent_dim=32, codebook_size=256, norm_codes=True,
    norm_latents=False, quantizer_type="lucid", quantizer_ema_decay=0.99, commitment_weight=1.0,
    num_codebooks=1, post_mlp=True,
)  # fmt: skip


def _manifest(parity_dir, domain: str) -> dict:
    path = parity_dir / "manifests" / f"vqvae_{domain}_full.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return json.loads(path.read_text())


def _meta_model(domain: str) -> VQVAE:
    with torch.device("meta"):
        return VQVAE(preset("official", domain))


@pytest.mark.parametrize("domain", ["cam", "gaze"])
def test_official_config_matches_manifest(parity_dir, domain):
    manifest = _manifest(parity_dir, domain)
    model = _meta_model(domain)
    state = model.state_dict()
    assert all(t.is_meta for t in state.values())
    expected = manifest["state_dict"]
    assert list(state) == list(expected)  # same keys, same order
    assert len(state) == manifest["num_state_dict_keys"]
    for key, (shape, dtype) in expected.items():
        assert list(state[key].shape) == shape, key
        assert str(state[key].dtype).removeprefix("torch.") == dtype, key
    params = dict(model.named_parameters())
    assert sum(p.numel() for p in params.values()) == manifest["total_parameters_unique"]
    trainable = sum(p.numel() for p in params.values() if p.requires_grad)
    assert trainable == manifest["total_trainable_parameters_unique"]
    frozen = sorted(k for k, p in params.items() if not p.requires_grad)
    assert frozen == sorted(manifest["frozen_parameters (requires_grad=False)"])
    assert [k for k, _ in model.named_buffers()] == manifest["persistent_buffers"]
    numel = sum(t.numel() for t in state.values())
    assert numel == manifest["total_state_dict_numel_incl_buffers_and_aliases"]


@pytest.mark.parametrize("domain", ["cam", "gaze"])
def test_importer_rebuilds_official_size_from_args_and_shapes(parity_dir, domain):
    """Official args (no overrides) + tensors of the manifest's shapes -> the official config."""
    manifest = _manifest(parity_dir, domain)
    tensors = {
        k: torch.empty(shape, device="meta") for k, (shape, _) in manifest["state_dict"].items()
    }
    cfg = vqvae_config_from_official({**COMMON_ARGS, **OFFICIAL_ARGS[domain]}, tensors)
    assert cfg == preset("official", domain)
    assert cfg.heads == 12 and cfg.dead_code_threshold == 2.0
