"""``egom2p_edge.Runtime``: the C++ streaming runtime from Python.

    import egom2p_edge
    runtime = egom2p_edge.Runtime("bundle/")             # validates the bundle, opens engines
    stream = runtime.stream(targets=("gaze", "cam"))     # hop 4 frames (0.5 s), seed 0
    for frame in source:                                  # RGB (H, W, 3) uint8, timestamp_ns
        for p in stream.push(frame.rgb, frame.timestamp_ns):
            print(p.timestamp_ns, p.gaze_xy_norm[-1], p.T_window_camera[-1, :3, 3])
    rest = stream.flush()

``push`` is synchronous and lossless: it returns the predictions (``Prediction``) of the
windows that frame completed, computed in C++ with the GIL released. ``egom2p_edge.
ReferencePipeline`` offers the same API in Python and gives identical results (the oracle of the
tests). One runtime serves many streams; each stream keeps its own frames, RNG and timers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from egom2p_edge._native import load_runtime
from egom2p_edge.pipeline.reference import check_backend_threads
from egom2p_edge.pipeline.windows import check_rgb, check_timestamp
from egom2p_edge.streaming.options import StreamOptions
from egom2p_edge.streaming.prediction import Prediction
from egom2p_edge.streaming.timings import timings_from_us

__all__ = ["Runtime", "Stream"]


def _prediction(d: dict) -> Prediction:
    return Prediction.create(
        window_index=d["window_index"],
        timestamp_ns=d["timestamp_ns"],
        start_timestamp_ns=d["start_timestamp_ns"],
        tokens=d["tokens"],
        token_probs=d["token_probs"],
        gaze_xy_norm=d["gaze_xy_norm"],
        T_window_camera=d["T_window_camera"],
        missing_frames=d["missing_frames"],
    )


class Stream:
    """One input stream of a ``Runtime`` (create it with ``Runtime.stream``)."""

    def __init__(self, native, options: StreamOptions, runtime: Runtime) -> None:
        self._native = native
        self._runtime = runtime  # keeps the runtime (and its engines) alive
        self.options = options

    @property
    def targets(self) -> tuple[str, ...]:
        """The targets' model keys, in decoding order."""
        return tuple(self._native.targets)

    @property
    def mode(self) -> str:
        return self._native.mode

    def push(self, rgb, timestamp_ns: int) -> list[Prediction]:
        """Add one (H, W, 3) uint8 RGB frame with its timestamp (nanoseconds, strictly
        increasing); returns the predictions of the windows it completed (often none)."""
        frame = check_rgb(rgb)
        t = check_timestamp(timestamp_ns)
        return [_prediction(d) for d in self._native.push(frame, t)]

    def flush(self) -> list[Prediction]:
        """End of stream: the predictions of the windows the last frames complete."""
        return [_prediction(d) for d in self._native.flush()]

    def timings(self) -> dict[str, dict[str, float]]:
        """Per stage (``egom2p_edge.streaming.timings.STAGES``): count, total_ms, mean_ms,
        max_ms, last_ms."""
        return timings_from_us(self._native.timings())


class Runtime:
    """A bundle loaded by the C++ runtime.

    bundle_dir: a folder made by ``egom2p export`` (validated: manifest, sha256 of every file,
    graphs). backend: ``"onnxruntime"`` (CPU). threads: intra-op threads (None: the bundle's
    session options, which make results bit-identical to ``ReferencePipeline``).
    """

    def __init__(
        self,
        bundle_dir: str | os.PathLike,
        backend: str = "onnxruntime",
        threads: int | None = None,
    ) -> None:
        check_backend_threads(backend, threads)
        self.bundle_dir = Path(bundle_dir)
        self.backend = backend
        self.threads = threads
        self._manifest = None
        self._native = load_runtime().Runtime(
            os.fspath(bundle_dir), threads=threads or 0, backend=backend
        )

    @property
    def manifest(self):
        """The bundle's manifest (``egom2p_edge.bundle.Manifest``)."""
        if self._manifest is None:
            from egom2p_edge.bundle import read_manifest

            self._manifest = read_manifest(self.bundle_dir)
        return self._manifest

    def stream(
        self,
        targets: tuple[str, ...] = ("gaze", "cam"),
        hop_frames: int = 4,
        seed: int = 0,
        mode: str | None = None,
        temperature: float | None = None,
        steps: int | Mapping[str, int] | None = None,
        guidance_scale: float | None = None,
        top_p: float | None = None,
    ) -> Stream:
        """A new stream; None = the bundle's per-target default (see
        ``egom2p_edge.streaming.options`` for the rules)."""
        o = StreamOptions(
            tuple(targets) if not isinstance(targets, str) else targets,
            hop_frames,
            seed,
            mode,
            temperature,
            steps,
            guidance_scale,
            top_p,
        )
        per_target = isinstance(o.steps, Mapping)
        native = self._native.stream(
            targets=list(o.targets),
            hop_frames=int(o.hop_frames),
            seed=o.seed_u64,
            mode=o.mode or "",
            temperature=None if o.temperature is None else float(o.temperature),
            steps=None if o.steps is None or per_target else int(o.steps),
            steps_per_target={str(k): int(v) for k, v in o.steps.items()} if per_target else {},
            guidance_scale=None if o.guidance_scale is None else float(o.guidance_scale),
            top_p=None if o.top_p is None else float(o.top_p),
        )
        return Stream(native, o, self)
