"""Windows with ground truth for calibration and validation: synthetic clips or a clip dataset.

A window is one standard 2-s clip turned into the bundle's stage inputs: RGB frames resized to
the bundle's video side (``frames_uint8``), gaze as the gaze tokenizer's input and as ground truth
in crop units, camera poses as the camera tokenizer's input and as ground truth relative to the
window's first frame. Synthetic windows come from ``egom2p_edge.training.synth`` (no data
needed); calibration and validation draw from disjoint seed ranges so a bundle is never checked
on the data it was calibrated with.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from egom2p_edge.models.vqvae.preprocess import (
    camera_to_model_input,
    canonicalize_c2w,
    normalize_gaze_crop,
)

log = logging.getLogger(__name__)

# Seed ranges of the synthetic generator: calibration clips k = 0, 1, ... use CALIBRATION + k,
# validation windows VALIDATION + k (disjoint).
CALIBRATION_SEED_BASE = 1_000_000
VALIDATION_SEED_BASE = 2_000_000
SYNTH_SIDE_WITHOUT_VIDEO = 32  # render size when the bundle has no video stage (frames unused)


@dataclass(frozen=True)
class EvalWindows:
    """``W`` windows, stacked.

    frames_uint8: (W, F, S, S, 3) uint8, or None when the bundle has no video stage.
    gaze_input: (W, T, 3) float32 tokenizer input ([-1, 1] and validity); gaze_xy_true (W, T, 2)
    float32 in [0, 1] crop units; gaze_valid (W, T) bool. cam_9d_norm: (W, T, 9) float32
    tokenizer input; T_window_camera_true: (W, T, 4, 4) float64 poses relative to the first.
    """

    frames_uint8: np.ndarray | None
    gaze_input: np.ndarray
    gaze_xy_true: np.ndarray
    gaze_valid: np.ndarray
    cam_9d_norm: np.ndarray
    T_window_camera_true: np.ndarray
    source: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.gaze_input.shape[0])


def _from_clips(clips: list, video_size: int | None, source: dict[str, Any]) -> EvalWindows:
    from egom2p_edge.preprocess import center_crop_resize

    frames, gaze_in, gaze_xy, gaze_ok, cam_in, cam_T = [], [], [], [], [], []
    for clip in clips:
        if video_size is not None:
            rgb = clip.rgb
            if rgb.shape[1] != video_size:
                rgb = np.stack([center_crop_resize(f, video_size) for f in rgb])  # (F, S, S, 3)
            frames.append(rgb)
        xy = np.where(clip.gaze_valid[:, None], clip.gaze_xy_norm, np.nan)  # (T, 2)
        gaze_in.append(normalize_gaze_crop(xy).astype(np.float32))  # (T, 3)
        gaze_xy.append(np.nan_to_num(xy, nan=0.0).astype(np.float32))
        gaze_ok.append(clip.gaze_valid.astype(bool))
        cam_in.append(camera_to_model_input(clip.T_first_camera))  # (T, 9)
        cam_T.append(canonicalize_c2w(clip.T_first_camera))  # (T, 4, 4)
    return EvalWindows(
        np.stack(frames) if video_size is not None else None,
        np.stack(gaze_in),
        np.stack(gaze_xy),
        np.stack(gaze_ok),
        np.stack(cam_in),
        np.stack(cam_T),
        source,
    )


def _check_request(count: int, samples: int) -> None:
    if count < 1:
        raise ValueError(f"the number of windows must be >= 1, got {count}")
    if samples != 60:
        raise ValueError(
            f"the bundle's trajectory windows hold {samples} samples; calibration and validation "
            f"windows come from standard 2-s clips (60 samples at 30 Hz)"
        )


def synthetic_windows(
    count: int, video_size: int | None, seed_base: int, samples: int = 60, progress: Any = None
) -> EvalWindows:
    """``count`` synthetic clips (seeds ``seed_base + k``) rendered at ``video_size``."""
    from egom2p_edge.training.synth import generate_clip
    from egom2p_edge.training.synth.generate import GENERATOR_VERSION

    _check_request(count, samples)
    size = video_size or SYNTH_SIDE_WITHOUT_VIDEO
    clips = []
    for k in range(count):
        clips.append(generate_clip(seed_base + k, size))
        if progress is not None:
            progress.update(1)
    source = {
        "kind": "synthetic",
        "generator": "egom2p_edge.training.synth",
        "generator_version": GENERATOR_VERSION,
        "seeds": [seed_base + k for k in range(count)],
        "size": size,
    }
    return _from_clips(clips, video_size, source)


def dataset_windows(
    path: str | Path, count: int, video_size: int | None, samples: int = 60, progress: Any = None
) -> EvalWindows:
    """The first ``count`` clips of a clip dataset that have RGB (when needed), gaze and camera
    poses; resized to ``video_size`` with the SDK's exact centre crop + area resize."""
    from egom2p_edge.clips import ClipDataset

    _check_request(count, samples)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"--calibration-data {path} does not exist; give a clip dataset folder (made by "
            f"egom2p curate or egom2p synth)"
        )
    dataset = ClipDataset(path)
    need = {"gaze", "cam"} | ({"rgb"} if video_size is not None else set())
    clips, skipped = [], 0
    for clip in dataset:
        if not need <= set(clip.modalities):
            skipped += 1
            continue
        clips.append(clip)
        if progress is not None:
            progress.update(1)
        if len(clips) == count:
            break
    if not clips:
        raise ValueError(
            f"{path}: no clip has all of {sorted(need)}; calibration needs clips with "
            f"{', '.join(sorted(need))}"
        )
    if len(clips) < count:
        log.warning("%s: only %d usable clips (asked for %d)", path, len(clips), count)
    digest = hashlib.sha256(dataset.manifest_path.read_bytes()).hexdigest()
    source = {
        "kind": "dataset",
        "path": str(path),
        "manifest_sha256": digest,
        "clip_ids": [c.clip_id for c in clips],
        "skipped_incomplete": skipped,
    }
    return _from_clips(clips, video_size, source)
