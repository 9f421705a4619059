"""``egom2p_edge.Runtime``: the C++ streaming runtime from Python.

    import egom2p_edge
    runtime = egom2p_edge.Runtime("bundle/")             # validates the bundle, opens engines
    stream = runtime.stream(targets=("gaze", "cam"), mode="joint")  # hop 4 frames (0.5 s)
    for frame in source:                                  # RGB (H, W, 3) uint8, timestamp_ns
        for p in stream.push(frame.rgb, frame.timestamp_ns):
            print(p.timestamp_ns, p.gaze_xy_px[-1], p.T_window_camera[-1, :3, 3])
    rest = stream.flush()
    trajectory = stream.trajectory()                      # 30 Hz poses in the world frame
    gaze = stream.gaze_track()                            # 30 Hz gaze, normalised and pixels

``push`` is synchronous and lossless by default: it returns the predictions (``Prediction``) of
the windows that frame completed, computed in C++ with the GIL released. With
``realtime=True`` it returns at once, the windows run on a C++ worker thread behind a bounded
queue that drops the oldest window when the engines fall behind (``live_stats()`` counts the
drops and reports the latency). ``egom2p_edge.ReferencePipeline`` offers the same API in Python
and gives identical results (the oracle of the tests). One runtime serves many streams, on any
threads; each stream keeps its own frames, RNG, tracks and timers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from egom2p_edge._native import load_runtime
from egom2p_edge.pipeline.reference import check_backend_threads
from egom2p_edge.pipeline.windows import check_rgb, check_timestamp
from egom2p_edge.streaming.live import live_options
from egom2p_edge.streaming.options import StreamOptions
from egom2p_edge.streaming.prediction import Prediction
from egom2p_edge.streaming.providers import ProviderConfig
from egom2p_edge.streaming.timings import timings_from_us
from egom2p_edge.streaming.tracks import GazeTrack, TrackConfig, Trajectory

__all__ = ["Runtime", "Stream"]

INT64_MIN = -(1 << 63)


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
        image_size=d["image_size"],
        latency_ms=d["latency_ms"],
    )


def _since(since_ns: int | None) -> int:
    return INT64_MIN if since_ns is None else check_timestamp(since_ns)


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

    @property
    def realtime(self) -> bool:
        return bool(self._native.realtime)

    def push(self, rgb, timestamp_ns: int) -> list[Prediction]:
        """Add one (H, W, 3) uint8 RGB frame with its timestamp (nanoseconds, strictly
        increasing); returns the predictions of the windows it completed (often none); in live
        mode, the predictions that became ready since the previous call."""
        frame = check_rgb(rgb)
        t = check_timestamp(timestamp_ns)
        return [_prediction(d) for d in self._native.push(frame, t)]

    def flush(self) -> list[Prediction]:
        """End of stream: the predictions of the windows the last frames complete (live mode:
        after every queued window ran)."""
        return [_prediction(d) for d in self._native.flush()]

    def timings(self) -> dict[str, dict[str, float]]:
        """Per stage (``egom2p_edge.streaming.timings``), per decoding step (``step_<s>``) and
        ``latency``: count, total_ms, mean_ms, max_ms, last_ms, p50_ms, p90_ms, p99_ms."""
        return timings_from_us(self._native.timings())

    def live_stats(self) -> dict:
        """Live mode: queue size, windows submitted / dropped / done, latency percentiles."""
        return dict(self._native.live_stats())

    def trajectory(self, since_ns: int | None = None) -> Trajectory:
        """The continuous camera trajectory so far (``egom2p_edge.streaming.tracks``)."""
        return Trajectory(**self._native.trajectory(_since(since_ns)))

    def gaze_track(self, since_ns: int | None = None) -> GazeTrack:
        """The continuous gaze so far, normalised and in pixels of the input frames."""
        return GazeTrack(**self._native.gaze_track(_since(since_ns)))


class Runtime:
    """A bundle loaded by the C++ runtime.

    bundle_dir: a folder made by ``egom2p export`` (validated: manifest, sha256 of every file,
    graphs). backend: ``"onnxruntime"`` (with ``providers``) or ``"tensorrt"`` (the bundle's
    engines from ``egom2p build-engines``; builds with TensorRT only). threads: intra-op threads
    (None: the bundle's session options, which make results bit-identical to
    ``ReferencePipeline``). providers: ONNX Runtime execution providers in order of preference
    among ``"tensorrt"``, ``"cuda"``, ``"cpu"``; a missing one is an error unless
    ``allow_fallback`` (``egom2p_edge.streaming.providers``). engine_cache_dir: the TensorRT
    provider's engine cache. device_id: the GPU.
    """

    def __init__(
        self,
        bundle_dir: str | os.PathLike,
        backend: str = "onnxruntime",
        threads: int | None = None,
        providers: tuple[str, ...] = ("cpu",),
        allow_fallback: bool = False,
        engine_cache_dir: str | os.PathLike | None = None,
        device_id: int = 0,
    ) -> None:
        check_backend_threads(backend, threads, native=True)
        cache = None if engine_cache_dir is None else os.fspath(engine_cache_dir)
        pc = ProviderConfig(tuple(providers), allow_fallback, cache, device_id)
        self.bundle_dir = Path(bundle_dir)
        self.backend = backend
        self.threads = threads
        self.provider_config = pc
        self._manifest = None
        self._native = load_runtime().Runtime(
            os.fspath(bundle_dir),
            threads=threads or 0,
            backend=backend,
            providers=list(pc.providers),
            allow_fallback=pc.allow_fallback,
            engine_cache_dir=pc.engine_cache_dir or "",
            device_id=pc.device_id,
        )

    @property
    def manifest(self):
        """The bundle's manifest (``egom2p_edge.bundle.Manifest``)."""
        if self._manifest is None:
            from egom2p_edge.bundle import read_manifest

            self._manifest = read_manifest(self.bundle_dir)
        return self._manifest

    @property
    def stage_backends(self) -> dict[str, str]:
        """Stage -> what runs it (``onnxruntime-cpu``, ``onnxruntime:tensorrt,cuda,cpu``,
        ``tensorrt``)."""
        return dict(self._native.stage_backends)

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
        reuse_condition: bool = False,
        realtime: bool = False,
        queue_windows: int = 2,
        history_s: float | None = None,
    ) -> Stream:
        """A new stream; None = the bundle's per-target default (see
        ``egom2p_edge.streaming.options`` for the rules). realtime: live mode with a queue of
        ``queue_windows`` windows; history_s: seconds of final track samples kept (None: all)."""
        o = StreamOptions(
            targets,
            hop_frames,
            seed,
            mode,
            temperature,
            steps,
            guidance_scale,
            top_p,
            reuse_condition,
        )
        live_options(realtime, queue_windows)  # checks both, in either mode
        TrackConfig(hop_frames=int(o.hop_frames), history_s=history_s)  # validates history_s
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
            reuse_condition=o.reuse_condition,
            history_s=0.0 if history_s is None else float(history_s),
            realtime=realtime,
            queue_windows=queue_windows,
        )
        return Stream(native, o, self)
