"""``AriaVrsSource``: the RGB camera of a Project Aria VRS recording, upright, on the device clock.

projectaria-tools (``pip install --no-deps projectaria-tools==2.3.0``, see DEPENDENCIES.md) is
imported when a source is opened, so the rest of the device layer works without it.

Orientation: the Aria RGB sensor is mounted sideways, so the raw images are rotated by 90 degrees;
every frame is turned 90 degrees clockwise (``np.rot90(raw, k=-1)``) to upright, the project's
rule for Aria (as the curation code does). For a raw image of shape (H, W) the upright image has
shape (W, H) and ``upright[r, c] == raw[H - 1 - c, r]``: the raw left column, read bottom to top,
becomes the top row. Pixel coordinates of calibrations and gaze must be turned with it.

Timestamps: ``capture_timestamp_ns`` of each image record (the Aria device clock, the same clock
as its IMU, eye-gaze and MPS trajectories).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from egom2p_edge.devices.frame import BaseFrameSource, Frame, SourceInfo

log = logging.getLogger(__name__)

__all__ = ["AriaVrsSource", "require_projectaria_tools"]


def require_projectaria_tools():
    """``projectaria_tools.core`` or an ImportError that says how to install it."""
    try:
        from projectaria_tools import core
    except ImportError as exc:
        raise ImportError(
            "AriaVrsSource needs projectaria-tools: `pip install --no-deps "
            f"projectaria-tools==2.3.0` (the `aria` extra; see DEPENDENCIES.md). ({exc})"
        ) from exc
    return core


class AriaVrsSource(BaseFrameSource):
    """Upright RGB frames of stream ``stream_label`` (default ``camera-rgb``) of a VRS file.

    ``meta``: ``frame_number``, ``exposure_duration_s``, ``gain``, ``arrival_timestamp_ns`` and
    ``rotation`` (``"cw90"``). ``max_frames`` stops early.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        stream_label: str = "camera-rgb",
        max_frames: int | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: VRS file not found")
        if max_frames is not None and (not isinstance(max_frames, int) or max_frames < 1):
            raise ValueError(f"AriaVrsSource: max_frames must be >= 1 or None, got {max_frames}")
        core = require_projectaria_tools()
        provider = core.data_provider.create_vrs_data_provider(str(self.path))
        if provider is None:
            raise ValueError(
                f"{self.path}: projectaria-tools could not open this VRS file (corrupt, truncated "
                "or not a VRS recording?)"
            )
        stream_id = provider.get_stream_id_from_label(stream_label)
        if stream_id is None:
            labels = sorted(
                provider.get_label_from_stream_id(s) for s in provider.get_all_streams()
            )
            raise ValueError(
                f"{self.path}: no stream labelled {stream_label!r}; the file has {labels}"
            )
        self._provider, self._stream_id = provider, stream_id
        self._num = int(provider.get_num_data(stream_id))
        if self._num == 0:
            raise ValueError(f"{self.path}: stream {stream_label!r} has no images")
        config = provider.get_image_configuration(stream_id)
        raw_w, raw_h = int(config.image_width), int(config.image_height)
        rate = float(provider.get_nominal_rate_hz(stream_id))
        super().__init__(
            SourceInfo(
                width=raw_h,  # upright: the 90-degree turn swaps width and height
                height=raw_w,
                nominal_fps=rate if rate > 0 else None,
                device=f"Project Aria {self.path.name}:{stream_label}",
            )
        )
        self.stream_label = stream_label
        self.max_frames = max_frames

    def __len__(self) -> int:
        n = self._num
        return n if self.max_frames is None else min(n, self.max_frames)

    def _frames(self) -> Iterator[Frame]:
        for i in range(len(self)):
            image, record = self._provider.get_image_data_by_index(self._stream_id, i)
            raw = image.to_numpy_array()  # Shape (H, W, 3) uint8, sideways
            if raw.ndim != 3 or raw.shape[2] != 3 or raw.dtype != np.uint8:
                raise ValueError(
                    f"{self.path}: image {i} of {self.stream_label!r} is {raw.dtype} {raw.shape}, "
                    "expected an (H, W, 3) uint8 RGB image; use the camera-rgb stream"
                )
            upright = np.ascontiguousarray(np.rot90(raw, k=-1))  # 90 degrees clockwise
            meta = {
                "frame_number": int(record.frame_number),
                "exposure_duration_s": float(record.exposure_duration),
                "gain": float(record.gain),
                "arrival_timestamp_ns": int(record.arrival_timestamp_ns),
                "rotation": "cw90",
            }
            yield Frame(upright, int(record.capture_timestamp_ns), str(self.path), meta)

    def _close(self) -> None:
        self._provider = None
