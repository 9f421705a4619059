"""Fixtures of the training tests: a handful of synthetic clips, tiny tokenizers, a token database.

Everything is built once per session at the smallest sizes the models accept (32x32 frames:
a 5x4x4 video token grid), so the training tests stay within seconds on two shared cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from train_helpers import CLIP_SIZE, NUM_CLIPS, tiny_video_config, tiny_vq_config

from egom2p_edge.checkpoints.sdk_format import save_checkpoint
from egom2p_edge.models.vqvae import VQVAE, save_vqvae
from egom2p_edge.training.synth import generate_dataset
from egom2p_edge.training.tokens import build_token_database, load_tokenizer_set
from egom2p_edge.training.trainers.video import build_video_tokenizer


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every training test runs with one torch thread (see tests/conftest.py)."""


@pytest.fixture(scope="session")
def synth_clips(tmp_path_factory) -> Path:
    """8 synthetic clips (all four modalities) at 32x32."""
    out = tmp_path_factory.mktemp("synth")
    return generate_dataset(out, NUM_CLIPS, size=CLIP_SIZE, seed=0, shard_size=3)


@pytest.fixture(scope="session")
def tokenizer_paths(tmp_path_factory) -> dict[str, Path]:
    """Untrained tiny cam/gaze/video tokenizers in our checkpoint format."""
    out = tmp_path_factory.mktemp("tokenizers")
    paths = {}
    for domain in ("cam", "gaze"):
        paths[domain] = out / domain
        save_vqvae(VQVAE(tiny_vq_config(domain), seed=1), paths[domain], {"note": "test"})
    vc = tiny_video_config()
    paths["video"] = out / "video"
    model = build_video_tokenizer(vc, seed=1)
    save_checkpoint(paths["video"], "video_tokenizer", vc.to_dict(), model.state_dict(), {})
    return paths


@pytest.fixture(scope="session")
def token_db(tmp_path_factory, synth_clips, tokenizer_paths) -> Path:
    """The synthetic clips tokenised with the tiny tokenizers (shards of 3 samples)."""
    out = tmp_path_factory.mktemp("tokens") / "db"
    tok = load_tokenizer_set(tokenizer_paths)
    return build_token_database(synth_clips, out, tok, batch_size=4, shard_size=3)
