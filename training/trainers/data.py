"""Training data of the tokenizer trainers: trajectories preloaded from a clip dataset, video clips
read on demand, and the held-out split.

The held-out split is the *last* clips of the dataset (curated clips are consecutive windows of
recordings, so a random split would put near-duplicates on both sides).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from egom2p_edge.clips import ClipDataset
from egom2p_edge.training.tokens import inputs

log = logging.getLogger(__name__)


def dataset_info(ds: ClipDataset) -> dict:
    """Where the data came from, for run.json and the checkpoint's provenance."""
    return {
        "path": str(ds.path.resolve()),
        "name": ds.manifest.get("name"),
        "num_clips": len(ds),
        "manifest_sha256": hashlib.sha256(ds.manifest_path.read_bytes()).hexdigest(),
    }


def split_indices(n: int, val_fraction: float) -> tuple[list[int], list[int]]:
    """(train, held-out) indices of n items: the last ``round(n * val_fraction)`` (at least 1
    when val_fraction > 0 and n >= 2) are held out. With fewer than 2 items or val_fraction 0,
    evaluation uses the training items."""
    if n < 1:
        raise ValueError("split_indices: no items to train on")
    k = 0 if val_fraction <= 0 or n < 2 else max(1, min(n - 1, round(n * val_fraction)))
    train = list(range(n - k))
    return train, (list(range(n - k, n)) if k else train)


@dataclass
class TrajectoryData:
    """Tokenizer inputs and ground truth of every clip having one trajectory modality.

    inputs (M, 60, C) float32 (cam C=9, gaze C=3); truth: ``T_first_camera`` (M, 60, 4, 4) or
    ``gaze_xy_norm`` (M, 60, 2) + ``gaze_valid`` (M, 60).
    """

    domain: str
    inputs: np.ndarray
    truth: dict[str, np.ndarray]
    clip_ids: list[str]
    info: dict

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


def load_trajectories(
    path: str | Path,
    domain: str,
    limit: int | None = None,
    on_clip: Callable[[], None] | None = None,
) -> TrajectoryData:
    """Read the ``domain`` (cam or gaze) of every clip that has it (the first ``limit`` clips)."""
    if domain not in ("cam", "gaze"):
        raise ValueError(f"load_trajectories: domain must be 'cam' or 'gaze', got {domain!r}")
    ds = ClipDataset(path)
    rows, ids = [], []
    truth: dict[str, list] = {}
    for i, clip in enumerate(ds):
        if limit is not None and i >= limit:
            break
        if on_clip is not None:
            on_clip()
        if domain not in clip.modalities:
            continue
        rows.append(inputs.model_input(clip, domain))
        ids.append(clip.clip_id)
        if domain == "cam":
            truth.setdefault("T_first_camera", []).append(clip.T_first_camera)
        else:
            truth.setdefault("gaze_xy_norm", []).append(clip.gaze_xy_norm)
            truth.setdefault("gaze_valid", []).append(clip.gaze_valid)
    if not rows:
        raise ValueError(
            f"{ds.path}: no clip has {domain} (modality counts {ds.modality_counts}); a "
            f"{domain} tokenizer needs clips with {domain}"
        )
    info = {**dataset_info(ds), "clips_with_modality": len(rows)}
    return TrajectoryData(
        domain, np.stack(rows), {k: np.stack(v) for k, v in truth.items()}, ids, info
    )


class RowDataset(Dataset):
    """Rows of a float array as tensors. Item k -> ``array[indices[k]]`` (float32 tensor)."""

    def __init__(self, array: np.ndarray, indices: list[int]) -> None:
        self.array = torch.from_numpy(np.ascontiguousarray(array))
        self.indices = list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k: int) -> torch.Tensor:
        return self.array[self.indices[k]]


class VideoClipDataset(Dataset):
    """16-frame videos of a clip dataset, read on demand: the RGB video of each clip having one
    and, with ``include_depth``, the depth video as grey RGB (the paper tokenises depth with the
    RGB tokenizer). Item k -> (16, S, S, 3) uint8 tensor."""

    def __init__(
        self, path: str | Path, include_depth: bool = True, limit: int | None = None
    ) -> None:
        self.path = Path(path)
        self.clips = ClipDataset(path)
        n = len(self.clips) if limit is None else min(int(limit), len(self.clips))
        counts = self.clips.modality_counts
        if counts.get("rgb", 0) == 0 and not (include_depth and counts.get("depth", 0)):
            raise ValueError(
                f"{self.clips.path}: no clip has RGB video (modality counts {counts}); the video "
                f"tokenizer needs video clips"
            )
        sizes = sorted(int(s) for s in self.clips.manifest.get("video_sizes", {}))
        if len(sizes) > 1:
            raise ValueError(
                f"{self.clips.path}: clips of several frame sizes {sizes}; train on one size"
            )
        self.size = sizes[0] if sizes else None
        self.items: list[tuple[int, str]] = []  # (clip index, "rgb" | "depth")
        self.num_clips = n
        self._scan(n, include_depth)

    def _scan(self, n: int, include_depth: bool) -> None:
        # Presence needs each clip's header; the tar index makes that one seek per clip.
        for i in range(n):
            mods = self.clips[i].modalities
            if "rgb" in mods:
                self.items.append((i, "rgb"))
            if include_depth and "depth" in mods:
                self.items.append((i, "depth"))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k: int) -> torch.Tensor:
        i, what = self.items[k]
        clip = self.clips[i]
        return torch.from_numpy(np.ascontiguousarray(inputs.model_input(clip, what)))
