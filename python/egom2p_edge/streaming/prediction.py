"""``Prediction``: what a stream returns for one window, the same from ``Runtime`` and
``ReferencePipeline``.

One prediction per window of ``window_frames`` video samples (16 at 8 fps = 2 s): the decoded
tokens of each target, the probability of each chosen token (the confidence that continuous
outputs build on), gaze over the window and camera poses relative to the window's first frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np


def _frozen_array(a: np.ndarray | None, dtype: type) -> np.ndarray | None:
    if a is None:
        return None
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Prediction:
    """One window's outputs (arrays are read-only copies).

    window_index: 0, 1, 2, ... in stream order (window w starts at grid sample w * hop_frames).
    timestamp_ns: grid time of the window's last video sample (``t_0 + g * period_ns``, t_0 the
      stream's first frame). start_timestamp_ns: grid time of its first sample.
    tokens: target (``"tok_gaze"``, ``"tok_cam"``) -> decoded ids, Shape (K,) int64.
    token_probs: target -> probability of each decoded token under the distribution it was
      drawn from (after guidance, top-k/top-p and temperature; temperature 1 for argmax),
      Shape (K,) float32.
    gaze_xy_norm: (T, 2) float32 gaze in [0, 1] crop coordinates (x right, y down), or None when
      gaze was not a target. T_window_camera: (T, 4, 4) float32 camera-to-window poses (relative
      to the window's first frame, metres), or None when the camera was not a target.
    missing_frames: grid samples of the window that no input frame filled (a gap); each took the
      nearest earlier filled sample of the window (the first filled one when none is earlier).
    image_size: (height, width) of the input frames (of the window's last filled sample): what
      ``gaze_xy_px`` maps back to.
    latency_ms: from the push of the frame that completed the window to this prediction being
      ready (in live mode the time in the queue included).
    """

    window_index: int
    timestamp_ns: int
    start_timestamp_ns: int
    tokens: Mapping[str, np.ndarray]
    token_probs: Mapping[str, np.ndarray]
    gaze_xy_norm: np.ndarray | None
    T_window_camera: np.ndarray | None
    missing_frames: int = 0
    image_size: tuple[int, int] = (0, 0)
    latency_ms: float = 0.0

    @staticmethod
    def create(
        window_index: int,
        timestamp_ns: int,
        start_timestamp_ns: int,
        tokens: Mapping[str, np.ndarray],
        token_probs: Mapping[str, np.ndarray],
        gaze_xy_norm: np.ndarray | None,
        T_window_camera: np.ndarray | None,
        missing_frames: int = 0,
        image_size: tuple[int, int] = (0, 0),
        latency_ms: float = 0.0,
    ) -> Prediction:
        """A prediction holding read-only copies of the given arrays."""
        return Prediction(
            window_index=int(window_index),
            timestamp_ns=int(timestamp_ns),
            start_timestamp_ns=int(start_timestamp_ns),
            tokens=MappingProxyType({k: _frozen_array(v, np.int64) for k, v in tokens.items()}),
            token_probs=MappingProxyType(
                {k: _frozen_array(v, np.float32) for k, v in token_probs.items()}
            ),
            gaze_xy_norm=_frozen_array(gaze_xy_norm, np.float32),
            T_window_camera=_frozen_array(T_window_camera, np.float32),
            missing_frames=int(missing_frames),
            image_size=(int(image_size[0]), int(image_size[1])),
            latency_ms=float(latency_ms),
        )

    @property
    def gaze_xy_px(self) -> np.ndarray | None:
        """Gaze in pixels of the caller's frames (centre crop and resize undone), (T, 2) float64;
        None without gaze."""
        if self.gaze_xy_norm is None or min(self.image_size) < 1:
            return None
        from egom2p_edge.preprocess import crop_norm_to_gaze_px

        return crop_norm_to_gaze_px(self.gaze_xy_norm, *self.image_size)

    @property
    def confidence(self) -> dict[str, float]:
        """Mean token probability per target (a coarse per-window confidence)."""
        return {k: float(np.mean(v)) for k, v in self.token_probs.items()}
