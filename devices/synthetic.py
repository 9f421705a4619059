"""``SyntheticSource``: frames, gaze and camera poses from the synthetic clip generator
(``egom2p_edge.training.synth.generate_clip``), laid end to end on one clock.

The generator makes independent 2-s clips (16 RGB frames at 8 fps, gaze and poses at 30 Hz), each
in its own procedural room, so clip boundaries are scene cuts. Clip ``k`` (seed ``seed + k``)
starts at ``start_timestamp_ns + k * 2 s``. The generator is imported on first use, so the device
layer does not pull in the training package until a synthetic source is iterated.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from egom2p_edge.devices.frame import BaseFrameSource, Frame, GazeSample, PoseSample, SourceInfo

__all__ = ["SyntheticSource"]

CLIP_DURATION_NS = 2_000_000_000  # the generator's clip length (2 s)
VIDEO_FPS = 8.0  # the generator's frame rate


def _generate_clip(seed: int, size: int, knobs):
    """The generator's clip (imported lazily: the training package is optional here)."""
    from egom2p_edge.training.synth import generate_clip

    return generate_clip(seed, size=size, knobs=knobs)


class SyntheticSource(BaseFrameSource):
    """``clips`` synthetic clips of ``size`` x ``size`` pixels from seeds ``seed, seed+1, ...``.

    Iterating yields ``Frame`` (``meta``: ``clip_index``, ``seed``, ``frame_in_clip``,
    ``T_world_camera`` (4, 4) of that frame in the clip's room). ``iter_events()`` yields frames,
    ``GazeSample`` (gaze point in frame pixels, invalid during blinks) and ``PoseSample``
    (``T_world_device`` = camera-to-room transform) merged in timestamp order. ``knobs``: a
    ``SynthKnobs`` (None: the generator's defaults).
    """

    def __init__(
        self,
        seed: int = 0,
        clips: int = 1,
        size: int = 128,
        knobs=None,
        start_timestamp_ns: int = 0,
    ) -> None:
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"SyntheticSource: seed must be a non-negative int, got {seed!r}")
        if not isinstance(clips, (int, np.integer)) or clips < 1:
            raise ValueError(f"SyntheticSource: clips must be an int >= 1, got {clips!r}")
        if not isinstance(size, (int, np.integer)) or size < 16:
            raise ValueError(f"SyntheticSource: size must be an int >= 16 pixels, got {size!r}")
        if not isinstance(start_timestamp_ns, (int, np.integer)) or start_timestamp_ns < 0:
            raise ValueError(
                "SyntheticSource: start_timestamp_ns must be an int >= 0, "
                f"got {start_timestamp_ns!r}"
            )
        super().__init__(SourceInfo(int(size), int(size), VIDEO_FPS, f"synthetic (seed {seed})"))
        self.seed, self.clips, self.size = int(seed), int(clips), int(size)
        self.knobs = knobs
        self.start_timestamp_ns = int(start_timestamp_ns)

    def _clip_events(self, k: int) -> list[tuple[int, int, object]]:
        """All events of clip ``k`` as (timestamp_ns, kind order, event)."""
        clip = _generate_clip(self.seed + k, self.size, self.knobs)
        t0 = self.start_timestamp_ns + k * CLIP_DURATION_NS
        T_world_first = np.asarray(clip.meta["T_world_first_camera"], dtype=np.float64)
        T_first_video = np.asarray(clip.meta["T_first_camera_video"], dtype=np.float64)
        events: list[tuple[int, int, object]] = []
        for i, ts in enumerate(clip.rgb_timestamps_ns):
            meta = {
                "clip_index": k,
                "seed": self.seed + k,
                "frame_in_clip": i,
                "T_world_camera": T_world_first @ T_first_video[i],
            }
            events.append((t0 + int(ts), 0, Frame(clip.rgb[i], t0 + int(ts), "synthetic", meta)))
        # The generator's convention: gaze_xy_norm = (u + 0.5) / size, u at pixel centres.
        gaze_px = clip.gaze_xy_norm * self.size - 0.5  # Shape (60, 2)
        for i, ts in enumerate(clip.gaze_timestamps_ns):
            g = GazeSample(t0 + int(ts), bool(clip.gaze_valid[i]), gaze_xy_px=gaze_px[i])
            events.append((t0 + int(ts), 1, g))
        T_world_traj = T_world_first @ clip.T_first_camera  # Shape (60, 4, 4)
        for i, ts in enumerate(clip.camera_timestamps_ns):
            events.append((t0 + int(ts), 2, PoseSample(t0 + int(ts), T_world_traj[i])))
        return events

    def iter_events(self) -> Iterator[Frame | GazeSample | PoseSample]:
        """Frames, gaze and poses of all clips in timestamp order (at equal timestamps: frame,
        then gaze, then pose). Each channel's timestamps are strictly increasing."""
        if self.closed:
            raise ValueError(f"{self.info.device}: the source is closed")
        for k in range(self.clips):
            events = sorted(self._clip_events(k), key=lambda e: (e[0], e[1]))
            for _, _, event in events:
                yield event

    def _frames(self) -> Iterator[Frame]:
        for event in self.iter_events():
            if isinstance(event, Frame):
                yield event
