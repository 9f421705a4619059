"""Deterministic inputs for the golden pairs of each stage (seeded numpy, no global state).

The inputs look like real windows so that they exercise the realistic path: a moving coloured
scene for the video encoder, smooth camera trajectories (canonicalised and standardised by the
official preprocessing) and smooth gaze with invalid samples. The backbone goldens use a batch
of three classifier-free-guidance passes: a full condition (rgb tokens plus known camera
tokens), a partial one (only the known camera tokens, the rest padding) and an empty one
(padding only), so that masking and "no valid key gives 0" are covered.
"""

from __future__ import annotations

import numpy as np

from egom2p_edge.bundle.names import PAD_ID, PAD_MODALITY, PAD_POSITION
from egom2p_edge.models.vqvae.preprocess import camera_to_model_input, normalize_gaze_crop

# Condition tokens per modality in the goldens: a random subset of a video grid keeps the
# encoder golden cheap (attention is quadratic in the slots); any count is valid input.
MAX_COND_TOKENS = 256


def video_frames(size: int, frames: int, seed: int) -> np.ndarray:
    """A moving colour scene. Shape (1, frames, size, size, 3) uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size  # (S, S) each
    out = np.empty((1, frames, size, size, 3), dtype=np.uint8)
    centres = rng.uniform(0.2, 0.8, size=(3, 2))
    speeds = rng.uniform(-0.02, 0.02, size=(3, 2))
    phase = rng.uniform(0, 2 * np.pi, size=3)
    for f in range(frames):
        img = np.stack(
            [0.5 + 0.4 * np.sin(6 * x + phase[c] + 0.2 * f) * np.cos(4 * y) for c in range(3)],
            axis=-1,
        )  # (S, S, 3)
        for k in range(3):
            cy, cx = centres[k] + speeds[k] * f
            blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 0.01)
            img[..., k] = img[..., k] * (1 - blob) + blob
        noise = rng.normal(0, 0.02, size=img.shape)
        out[0, f] = np.clip(np.round((img + noise) * 255), 0, 255).astype(np.uint8)
    return out


def _rotation(axis_angle: np.ndarray) -> np.ndarray:
    """Rodrigues' formula. Shape (3,) -> (3, 3)."""
    theta = float(np.linalg.norm(axis_angle))
    if theta < 1e-12:
        return np.eye(3)
    k = axis_angle / theta
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(theta) * K + (1 - np.cos(theta)) * K @ K


def camera_windows(batch: int, samples: int, seed: int) -> np.ndarray:
    """Smooth head-like camera trajectories, preprocessed as the model input. (B, T, 9) float32."""
    rng = np.random.default_rng(seed)
    poses = np.zeros((batch, samples, 4, 4))
    for b in range(batch):
        R = _rotation(rng.normal(0, 1.0, 3))
        t = rng.normal(0, 1.0, 3)
        omega = rng.normal(0, 0.02, 3)  # rad per sample
        vel = rng.normal(0, 0.01, 3)  # m per sample
        for k in range(samples):
            omega = omega + rng.normal(0, 0.003, 3)
            vel = vel + rng.normal(0, 0.001, 3)
            R = R @ _rotation(omega)
            t = t + vel
            poses[b, k, :3, :3], poses[b, k, :3, 3], poses[b, k, 3, 3] = R, t, 1.0
    return camera_to_model_input(poses)


def gaze_windows(batch: int, samples: int, seed: int) -> np.ndarray:
    """Smooth gaze with a few invalid samples, preprocessed as the model input. (B, T, 3)."""
    rng = np.random.default_rng(seed)
    xy = np.zeros((batch, samples, 2))
    for b in range(batch):
        p = rng.uniform(0.3, 0.7, 2)
        for k in range(samples):
            p = p + rng.normal(0, 0.01, 2) + (rng.random() < 0.05) * rng.normal(0, 0.15, 2)
            xy[b, k] = p
        xy[b, rng.integers(0, samples, 2)] = np.nan  # blinks
        xy[b, rng.integers(0, samples)] = 1.5  # outside the crop: invalid by the official rule
    return normalize_gaze_crop(xy).astype(np.float32)


def encoder_slots(config, cond: tuple[str, ...], known: dict[str, int], seed: int) -> dict:
    """Backbone encoder inputs (B = 3, N): full, partial and empty condition (see module doc).

    config: the backbone config; cond: condition modalities (up to ``MAX_COND_TOKENS`` of their
    tokens are given in row 0); known: modality -> number of its tokens known in rows 0 and 1.
    Returns arrays ``ids``, ``modality``, ``positions``, ``valid``, each (3, N).
    """
    rng = np.random.default_rng(seed)
    full: list[tuple[int, int, int]] = []  # (id, modality index, position)
    part: list[tuple[int, int, int]] = []
    for i, spec in enumerate(config.modalities):
        n = spec.num_tokens
        if spec.name in cond:
            pos = np.sort(rng.permutation(n)[:MAX_COND_TOKENS])
            full += [(int(rng.integers(0, spec.vocab_size)), i, int(p)) for p in pos]
        if spec.name in known:
            pos = np.sort(rng.permutation(n)[: known[spec.name]])
            rows = [(int(rng.integers(0, spec.vocab_size)), i, int(p)) for p in pos]
            full += rows
            part += rows
    N = max(len(full), 1)
    arrays = {
        "ids": np.full((3, N), PAD_ID, dtype=np.int64),
        "modality": np.full((3, N), PAD_MODALITY, dtype=np.int64),
        "positions": np.full((3, N), PAD_POSITION, dtype=np.int64),
        "valid": np.zeros((3, N), dtype=bool),
    }
    for row, slots in ((0, full), (1, part)):
        for j, (tok, mod, pos) in enumerate(slots):
            arrays["ids"][row, j], arrays["modality"][row, j] = tok, mod
            arrays["positions"][row, j], arrays["valid"][row, j] = pos, True
    return arrays


def decoder_queries(config, targets: tuple[str, ...], batch: int, seed: int) -> dict:
    """Decoder queries of several targets side by side (as in joint mode). Arrays (B, M)."""
    rng = np.random.default_rng(seed)
    mods, poss = [], []
    for t in targets:
        n = config.spec(t).num_tokens
        count = max(1, n - 7 * len(mods))  # different counts per target
        pos = rng.permutation(n)[:count]
        mods.append(np.full(count, config.index(t), dtype=np.int64))
        poss.append(pos.astype(np.int64))
    modality = np.concatenate(mods)[None].repeat(batch, axis=0)  # (B, M)
    positions = np.concatenate(poss)[None].repeat(batch, axis=0)  # (B, M)
    return {"modality": modality, "positions": positions}
