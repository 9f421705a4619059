"""``check_parity`` component for the video tokenizer (Cosmos DV: ``encoder.jit``, ``decoder.jit``).

The model is built from the folder's jit pair with our importer (weights and inferred sizes);
``config.json``'s ``tokenizer_config``, when present, is the authoritative config and
``model.safetensors``, when present, is checked against the jit weights. Only ``frames_uint8`` is
an input: padding, scaling, the encoder, FSQ, the decoder and the uint8 conversion are all ours.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from egom2p_edge.checkpoints.video_import import (
    DECODER_FILE,
    ENCODER_FILE,
    import_released_jit,
)
from egom2p_edge.models.video.config import VideoTokenizerConfig
from egom2p_edge.models.video.preprocess import (
    CropRegion,
    frames_to_tensor,
    pad_frames,
    split_windows,
    tensor_to_frames,
)
from egom2p_edge.models.video.tokenizer import VideoTokenizer
from egom2p_edge.testing.parity import EXACT, ComponentResult, Tolerance

log = logging.getLogger(__name__)

STEM = "fixtures"
OFFICIAL_TEMPORAL_WINDOW = 17  # CausalVideoTokenizer.forward(temporal_window=17)
# README tolerances: model input exact (float64 then one cast), video latents, codes and decoded
# abs 1e-4, ids exact, decoded uint8 within one level.
TOLERANCES = {
    "input_tensor": EXACT,
    "encoder_output": Tolerance(1e-4, 0.0),
    "latents_pre_fsq": Tolerance(1e-4, 0.0),
    "codes": Tolerance(1e-4, 0.0),
    "decoded": Tolerance(1e-4, 0.0),
    "decoded_uint8": Tolerance(1.0, 0.0),
}


def detect(fixture_dir: Path, config: dict) -> bool:
    """A video tokenizer fixture holds the jit pair."""
    return (Path(fixture_dir) / ENCODER_FILE).is_file() and (
        Path(fixture_dir) / DECODER_FILE
    ).is_file()


def build_model(fixture_dir: Path, config: dict) -> tuple[VideoTokenizer, list[str]]:
    """Our tokenizer with the folder's weights, and notes on how it was built."""
    notes = []
    _, cfg_dict, state, _ = import_released_jit(fixture_dir)
    cfg = VideoTokenizerConfig.from_dict(cfg_dict)
    if "tokenizer_config" in config:
        official = VideoTokenizerConfig.from_official(config["tokenizer_config"])
        if official != cfg:
            notes.append(f"config inferred from the jit pair {cfg} differs from tokenizer_config")
        cfg = official
    model = VideoTokenizer(cfg)
    model.load_state_dict(state, strict=True)
    notes.append(f"weights imported from {ENCODER_FILE} + {DECODER_FILE}: {cfg.to_dict()}")
    st_path = Path(fixture_dir) / "model.safetensors"
    if st_path.is_file():
        from safetensors.torch import load_file

        saved = load_file(str(st_path))
        if set(saved) != set(state):
            notes.append("model.safetensors keys differ from the jit pair's")
        else:
            diff = max(float((saved[k].float() - state[k]).abs().max()) for k in state)
            notes.append(f"model.safetensors vs jit weights: max abs difference {diff:.3g}")
    return model.eval(), notes


def _crop_like(a: np.ndarray, axes: tuple[int, int, int], crop: CropRegion, shape) -> np.ndarray:
    """Crop time/height/width ``axes`` of ``a`` to the original size where ``shape`` says so."""
    if shape is None:
        return a
    spans = ((crop.t0, crop.t1), (crop.h0, crop.h1), (crop.w0, crop.w1))
    index = [slice(None)] * a.ndim
    for axis, (lo, hi) in zip(axes, spans):
        if a.shape[axis] != shape[axis] and shape[axis] == hi - lo:
            index[axis] = slice(lo, hi)
    return a[tuple(index)]


def _padded_frames(frames: torch.Tensor) -> int:
    return (frames.shape[1] - 1 + 7) // 8 * 8 + 1


def _windows(frames: torch.Tensor, input_shape) -> list[torch.Tensor]:
    """The official forward tokenises in windows of 17 frames (one window for <= 17 frames).

    For a longer clip the recorded ``input_tensor`` shape tells whether the fixture used those
    windows (per-window tensors concatenated in time) or the whole padded clip at once.
    """
    windows = split_windows(frames, OFFICIAL_TEMPORAL_WINDOW)
    if len(windows) > 1 and input_shape is not None:
        if input_shape[2] == _padded_frames(frames):
            return [frames]
    return windows


def compute(fixture_dir: Path, config: dict, files: dict[str, dict[str, np.ndarray]]):
    """Recompute every tensor of ``fixtures.safetensors`` from ``frames_uint8``."""
    fx = files.get(STEM)
    if fx is None or "frames_uint8" not in fx:
        raise ValueError(
            f"{fixture_dir}: {STEM}.safetensors with the input 'frames_uint8' (B, T, H, W, 3) "
            f"uint8 is required"
        )
    model, notes = build_model(Path(fixture_dir), config)
    frames = torch.from_numpy(np.ascontiguousarray(fx["frames_uint8"]))
    shapes = {k: v.get("shape") for k, v in config.get("fixture_tensors", {}).items()}
    windows = _windows(frames, shapes.get("input_tensor"))
    if len(windows) > 1:
        notes.append(f"{frames.shape[1]} frames: {len(windows)} official windows, concatenated")
    parts: dict[str, list[np.ndarray]] = {}
    for window in windows:
        padded, crop = pad_frames(window)
        expected_crop = config.get("padding", {}).get("crop_region")
        if (
            len(windows) == 1
            and expected_crop is not None
            and list(expected_crop) != crop.as_list()
        ):
            notes.append(f"crop region {crop.as_list()} differs from config {expected_crop}")
        x = frames_to_tensor(padded)
        with torch.no_grad():
            stages = model.encode_stages(x)
            decoded = model.decode_tensor(stages.ids)
        uint8 = tensor_to_frames(decoded).numpy()
        for key, value in (
            ("input_tensor", x.numpy()),
            ("encoder_output", stages.encoder_output.numpy()),
            ("latents_pre_fsq", stages.latents.numpy()),
            ("indices", stages.ids.to(torch.int32).numpy()),
            ("codes", stages.codes.numpy()),
            ("decoded", _crop_like(decoded.numpy(), (2, 3, 4), crop, shapes.get("decoded"))),
            ("decoded_uint8", _crop_like(uint8, (1, 2, 3), crop, shapes.get("decoded_uint8"))),
        ):
            parts.setdefault(key, []).append(value)
    time_axis = {"indices": 1, "decoded_uint8": 1}
    outputs = {
        k: np.ascontiguousarray(np.concatenate(v, axis=time_axis.get(k, 2)))
        for k, v in parts.items()
    }
    return ComponentResult(
        outputs={f"{STEM}/{k}": v for k, v in outputs.items()},
        inputs={f"{STEM}/frames_uint8"},
        tolerances={f"{STEM}/{k}": t for k, t in TOLERANCES.items()},
        notes=notes,
    )
