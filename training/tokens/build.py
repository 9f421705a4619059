"""``build_token_database``: tokenise a clip dataset with a TokenizerSet into a token database.

Clips are read in dataset order and tokenised in batches (per modality, over the clips of the
batch that have it). A clip keeps the modalities it has and a tokenizer is given for; a clip
with none of them is skipped (and counted). Video clips must all share one frame size (the
backbone has one token grid per modality).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from egom2p_edge.clips import Clip, ClipDataset
from egom2p_edge.modalities import VIDEO_CLIP_FRAMES
from egom2p_edge.models.video.preprocess import SPATIAL_ALIGN, TEMPORAL_ALIGN
from egom2p_edge.training.tokens import inputs
from egom2p_edge.training.tokens.format import DEPTH_ENCODING
from egom2p_edge.training.tokens.tokenizers import ROLE_MODALITIES, TokenizerSet
from egom2p_edge.training.tokens.writer import DEFAULT_SHARD_SIZE, TokenDatabaseWriter

log = logging.getLogger(__name__)


@torch.no_grad()
def tokenize_clips(clips: Sequence[Clip], tok: TokenizerSet) -> list[dict[str, np.ndarray]]:
    """Token ids per clip: one dict per clip, modality -> ids (*token_shape) int64."""
    out: list[dict[str, np.ndarray]] = [{} for _ in clips]
    jobs = []
    if tok.cam is not None:
        jobs.append(("tok_cam", "cam", tok.cam))
    if tok.gaze is not None:
        jobs.append(("tok_gaze", "gaze", tok.gaze))
    for name, short, model in jobs:
        idx = [i for i, c in enumerate(clips) if short in c.modalities]
        if not idx:
            continue
        device = next(model.parameters()).device
        x = np.stack([inputs.model_input(clips[i], short) for i in idx])  # (b, 60, C)
        ids = model.encode(torch.from_numpy(x).to(device)).cpu().numpy()  # (b, 30)
        for k, i in enumerate(idx):
            out[i][name] = ids[k]
    if tok.video is not None:
        device = next(tok.video.parameters()).device
        for name, short in (("tok_rgb", "rgb"), ("tok_depth", "depth")):
            idx = [i for i, c in enumerate(clips) if short in c.modalities]
            if not idx:
                continue
            frames = np.stack([inputs.model_input(clips[i], short) for i in idx])  # (b,16,S,S,3)
            ids = tok.video.encode(torch.from_numpy(frames).to(device)).cpu().numpy()  # (b,t,h,w)
            for k, i in enumerate(idx):
                out[i][name] = ids[k]
    return out


def _truth(clip: Clip) -> dict[str, np.ndarray]:
    t = {}
    if clip.T_first_camera is not None:
        t["T_first_camera"] = clip.T_first_camera
    if clip.gaze_xy_norm is not None:
        t["gaze_xy_norm"] = clip.gaze_xy_norm
        t["gaze_valid"] = clip.gaze_valid
    return t


def _token_layouts(tok: TokenizerSet, video_size: int | None) -> dict[str, tuple[int, tuple]]:
    layouts = {}
    for role in ("cam", "gaze"):
        m = getattr(tok, role)
        if m is not None:
            layouts[f"tok_{role}"] = (m.config.codebook_size, (m.config.num_tokens,))
    if tok.video is not None and video_size is not None:
        cfg = tok.video.config
        frames = VIDEO_CLIP_FRAMES + (-(VIDEO_CLIP_FRAMES - 1)) % TEMPORAL_ALIGN  # 16 -> 17
        side = -(-video_size // SPATIAL_ALIGN) * SPATIAL_ALIGN  # padded to a multiple of 16
        grid = (
            1 + (frames - 1) // cfg.temporal_compression,
            side // cfg.spatial_compression,
            side // cfg.spatial_compression,
        )
        for name in ("tok_rgb", "tok_depth"):
            layouts[name] = (int(tok.video.quantizer.vocab_size), grid)
    return layouts


def _manifest_sha256(ds: ClipDataset) -> str:
    return hashlib.sha256(ds.manifest_path.read_bytes()).hexdigest()


def build_token_database(
    clips_path: str | os.PathLike,
    out: str | os.PathLike,
    tok: TokenizerSet,
    batch_size: int = 8,
    shard_size: int = DEFAULT_SHARD_SIZE,
    overwrite: bool = False,
    limit: int | None = None,
    on_clip: Callable[[int], None] | None = None,
) -> Path:
    """Tokenise the clip dataset at ``clips_path`` into a token database at ``out``.

    ``limit`` tokenises only the first clips; ``on_clip(n)`` reports progress (clips done).
    Returns the database folder.
    """
    if batch_size < 1:
        raise ValueError(f"build_token_database: batch_size must be >= 1, got {batch_size}")
    ds = ClipDataset(clips_path)
    total = len(ds) if limit is None else min(int(limit), len(ds))
    sizes = {int(s) for s in ds.manifest.get("video_sizes", {})}
    if tok.video is not None and len(sizes) > 1:
        raise ValueError(
            f"{ds.path}: video clips of several sizes {sorted(sizes)}; a token database needs one "
            f"frame size (curate or synthesise at one --size)"
        )
    video_size = next(iter(sizes)) if sizes else None
    layouts = _token_layouts(tok, video_size)
    meta = {
        "tokenizers": {
            m: tok.sources.get(role, {"path": None})
            for role, mods in ROLE_MODALITIES.items()
            if getattr(tok, role) is not None
            for m in mods
        },
        "source": {
            "path": str(ds.path.resolve()),
            "name": ds.manifest.get("name"),
            "num_clips": len(ds),
            "manifest_sha256": _manifest_sha256(ds),
        },
        "video_size": video_size,
        "depth_encoding": DEPTH_ENCODING if tok.video is not None else None,
    }
    skipped = 0
    with TokenDatabaseWriter(out, layouts, shard_size, overwrite, meta) as writer:
        batch: list[tuple[int, Clip]] = []

        def flush() -> None:
            nonlocal skipped
            ids = tokenize_clips([c for _, c in batch], tok)
            for (i, clip), toks in zip(batch, ids):
                if not toks:
                    skipped += 1
                    continue
                writer.add(i, clip.clip_id, toks, _truth(clip))
            if on_clip is not None:
                on_clip(len(batch))
            batch.clear()

        for i, clip in enumerate(ds):
            if i >= total:
                break
            batch.append((i, clip))
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        writer.meta["extra"] = {"skipped_clips": skipped, "tokenised_clips": total - skipped}
    log.debug("tokenised %d clips (%d skipped) into %s", total - skipped, skipped, writer.path)
    return writer.path
