"""``ReferencePipeline``: the Python oracle of the C++ ``Runtime``, with the same API.

It runs the bundle's ONNX stages through Python ONNX Runtime with the bundle's session options
and does everything else in numpy: resampling, preprocessing and windows
(``pipeline.windows``), the decoding plan (``pipeline.plan``), decoding with the portable RNG
(``pipeline.decoder``), detokenisation. It never imports the C++ extension.

Per window ``w``: the 16 preprocessed frames go through ``video_encoder``; the ids (row-major
(t, h, w)) are the ``tok_rgb`` condition; the targets are decoded with
``PortableRng(seed + w)`` (steps numbered from 0 in each window); each target's ids go through
its tokenizer decoder (``gaze_decoder`` -> ``gaze_xy_norm``, ``cam_decoder`` ->
``T_window_camera``). Each prediction also feeds the stream's continuous tracks
(``streaming.tracks``: ``trajectory()``, ``gaze_track()``); ``realtime=True`` runs the windows on
a worker thread behind a bounded queue (``streaming.live``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from egom2p_edge.bundle import load_bundle, names
from egom2p_edge.bundle.sessions import ort_session_options
from egom2p_edge.pipeline.decoder import PassLayout, TokenState, WindowDecoder
from egom2p_edge.pipeline.plan import build_plan
from egom2p_edge.pipeline.windows import VideoWindow, WindowAssembler
from egom2p_edge.streaming.live import LiveOptions, LiveRunner, live_options
from egom2p_edge.streaming.options import MASK64, StreamOptions, resolve_decoding
from egom2p_edge.streaming.prediction import Prediction
from egom2p_edge.streaming.providers import ProviderConfig, ort_providers, resolve_providers
from egom2p_edge.streaming.timings import StreamTimers, step_name
from egom2p_edge.streaming.tracks import GazeTrack, TrackBuilder, TrackConfig, Trajectory

log = logging.getLogger(__name__)

VIDEO_MODALITY = "tok_rgb"
REQUIRED_STAGES = (names.VIDEO_ENCODER, names.BACKBONE_ENCODER, names.BACKBONE_DECODER)
# tokenizer decoder stage -> (its ids input, the output a prediction keeps)
DETOKENIZERS = {
    names.GAZE_DECODER: (names.GAZE_IDS, names.GAZE_XY_NORM),
    names.CAM_DECODER: (names.CAM_IDS, names.T_WINDOW_CAMERA),
}


def check_backend_threads(backend: str, threads: int | None, native: bool = False) -> None:
    backends = ("onnxruntime", "tensorrt") if native else ("onnxruntime",)
    if backend not in backends:
        where = "the C++ Runtime offers" if native else "ReferencePipeline runs"
        raise ValueError(f"backend {backend!r} is not available; {where} {list(backends)}")
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        raise ValueError(
            f"threads must be None (the bundle's session options) or an int >= 1, got {threads!r}"
        )


def track_config(manifest, hop_frames: int, history_s: float | None) -> TrackConfig:
    t = manifest.trajectory
    return TrackConfig(t.rate_hz, manifest.video.fps, hop_frames, t.samples, t.tokens, history_s)


class ReferencePipeline:
    """Loads and validates a bundle, opens its sessions; ``stream()`` makes independent streams.

    threads: ONNX Runtime intra-op threads (None: the bundle's session options, which make the
    results bit-identical to the C++ runtime's). providers / allow_fallback / engine_cache_dir /
    device_id: the ONNX Runtime execution providers (``egom2p_edge.streaming.providers``).
    """

    def __init__(
        self,
        bundle_dir: str | Path,
        backend: str = "onnxruntime",
        threads: int | None = None,
        providers: tuple[str, ...] = ("cpu",),
        allow_fallback: bool = False,
        engine_cache_dir: str | None = None,
        device_id: int = 0,
    ) -> None:
        import onnxruntime as ort

        check_backend_threads(backend, threads)
        pc = ProviderConfig(tuple(providers), allow_fallback, engine_cache_dir, device_id)
        self.bundle = load_bundle(bundle_dir)
        m = self.bundle.manifest
        missing = [s for s in REQUIRED_STAGES if s not in m.stages]
        if missing or m.video is None or m.trajectory is None:
            raise ValueError(
                f"bundle {self.bundle.root}: streaming needs the stages {list(REQUIRED_STAGES)} "
                f"(missing {missing}) and the video and trajectory sections; export it with "
                f"--model and --video-tokenizer (egom2p export)"
            )
        self.providers = tuple(resolve_providers(pc, ort.get_available_providers()))
        ort_list = ort_providers(pc, list(self.providers), m.preset.precision)
        so = ort_session_options(m.session_options)
        if threads is not None:
            so.intra_op_num_threads = threads
        self.sessions = {
            s: ort.InferenceSession(str(self.bundle.stage_path(s)), so, providers=ort_list)
            for s in m.stages
            if s in REQUIRED_STAGES or s in DETOKENIZERS
        }
        self.decoder = WindowDecoder(
            self.sessions[names.BACKBONE_ENCODER], self.sessions[names.BACKBONE_DECODER]
        )

    @property
    def manifest(self):
        return self.bundle.manifest

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
    ) -> ReferenceStream:
        """A new stream (its own frames, RNG, tracks and timers); None = the bundle's default.
        realtime: live mode (``egom2p_edge.streaming.live``); history_s: seconds of final track
        samples kept (None: all)."""
        options = StreamOptions(
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
        live = live_options(realtime, queue_windows)
        tracks = track_config(self.manifest, hop_frames, history_s)
        return ReferenceStream(self, options, live, tracks)


class ReferenceStream:
    """One input stream: ``push`` frames, get the predictions of the windows they complete."""

    def __init__(
        self,
        pipeline: ReferencePipeline,
        options: StreamOptions,
        live: LiveOptions | None = None,
        tracks: TrackConfig | None = None,
    ) -> None:
        m = pipeline.manifest
        self.pipeline = pipeline
        self.options = options
        self.decoding = resolve_decoding(m, options)
        self.plan = build_plan(self.decoding, (VIDEO_MODALITY,))
        self.layout = PassLayout.for_mode(self.decoding.mode, self.decoding.reuse_condition)
        self.timers = StreamTimers()
        for s in range(len(self.plan)):  # every timer exists before a worker thread runs
            self.timers.timer(step_name(s))
        self.timers.timer("latency")
        self.windows = WindowAssembler(
            m.video.size, m.video.fps, m.video.frames, options.hop_frames
        )
        self.tracks = TrackBuilder(tracks or track_config(m, options.hop_frames, None))
        self._tracks_lock = threading.Lock()
        self._live = (
            None
            if live is None
            else LiveRunner(self._complete, live, self.timers.stages["latency"])
        )
        self._finished = False

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.decoding.targets)

    @property
    def mode(self) -> str:
        return self.decoding.mode

    @property
    def realtime(self) -> bool:
        return self._live is not None

    def push(self, rgb: np.ndarray, timestamp_ns: int) -> list[Prediction]:
        """Add one (H, W, 3) uint8 frame; returns the predictions of the windows it completed
        (live mode: the predictions that became ready since the previous call)."""
        if self._finished:
            raise ValueError("push: the stream was flushed; create a new stream for new frames")
        arrival = time.perf_counter_ns()
        windows = self.windows.push(rgb, timestamp_ns, self.timers)
        if self._live is not None:
            self._live.submit(windows, arrival)
            return self._live.take_ready()
        return [self._complete(w, arrival) for w in windows]

    def flush(self) -> list[Prediction]:
        """End of stream: the predictions of the windows the last frames complete (live mode:
        after every queued window ran)."""
        if self._finished:
            return []
        self._finished = True
        arrival = time.perf_counter_ns()
        windows = self.windows.finish(self.timers)
        if self._live is not None:
            self._live.submit(windows, arrival)
            try:
                out = self._live.drain()
            finally:
                self._live.close()
        else:
            out = [self._complete(w, arrival) for w in windows]
        with self._tracks_lock:
            self.tracks.finish()
        return out

    def close(self) -> None:
        """Stop the live worker without running the queued windows (flush runs them)."""
        if self._live is not None:
            self._live.close()

    def timings(self) -> dict[str, dict[str, float]]:
        return self.timers.as_dict()

    def live_stats(self) -> dict:
        """Live mode: queue size, windows submitted / dropped / done, latency percentiles."""
        if self._live is None:
            raise ValueError("live_stats: this stream is not live (stream(..., realtime=True))")
        return self._live.stats()

    def trajectory(self, since_ns: int | None = None) -> Trajectory:
        """The continuous camera trajectory so far (``egom2p_edge.streaming.tracks``)."""
        with self._tracks_lock:
            return self.tracks.trajectory(since_ns)

    def gaze_track(self, since_ns: int | None = None) -> GazeTrack:
        """The continuous gaze so far, normalised and in pixels of the input frames."""
        with self._tracks_lock:
            return self.tracks.gaze_track(since_ns)

    def _complete(self, vw: VideoWindow, arrival_ns: int) -> Prediction:
        p = self._predict(vw, arrival_ns)
        with self._tracks_lock:
            self.tracks.add(
                p.window_index,
                p.start_timestamp_ns,
                p.T_window_camera,
                p.gaze_xy_norm,
                dict(p.token_probs),
                p.image_size,
            )
        return p

    def _predict(self, vw: VideoWindow, arrival_ns: int) -> Prediction:
        m = self.pipeline.manifest
        sessions = self.pipeline.sessions
        with self.timers.measure("window"):
            with self.timers.measure("tokenize"):
                (video_ids,) = sessions[names.VIDEO_ENCODER].run(
                    [names.VIDEO_IDS], {names.FRAMES_UINT8: vw.frames[None]}
                )
            rgb = m.modality(VIDEO_MODALITY)
            states = {
                VIDEO_MODALITY: TokenState(
                    rgb.index,
                    video_ids.reshape(-1).astype(np.int64),  # (1, t, h, w) -> (t*h*w,)
                    np.ones(rgb.num_tokens, dtype=bool),
                    np.full(rgb.num_tokens, np.nan, dtype=np.float32),
                )
            }
            for t in self.decoding.targets:
                states[t.name] = TokenState(
                    t.modality_index,
                    np.zeros(t.num_tokens, dtype=np.int64),
                    np.zeros(t.num_tokens, dtype=bool),
                    np.full(t.num_tokens, np.nan, dtype=np.float32),
                )
            from egom2p_edge.rng import PortableRng  # imports torch: only when decoding

            rng = PortableRng((self.options.seed_u64 + vw.window.window_index) & MASK64)
            self.pipeline.decoder.decode(states, self.plan, rng, self.timers, self.layout)
            outputs = {}
            with self.timers.measure("detokenize"):
                for t in self.decoding.targets:
                    if t.decoder_stage in DETOKENIZERS and t.decoder_stage in sessions:
                        ids_name, out_name = DETOKENIZERS[t.decoder_stage]
                        (outputs[out_name],) = sessions[t.decoder_stage].run(
                            [out_name],
                            {ids_name: states[t.name].ids[None]},  # (1, K)
                        )
        gaze = outputs.get(names.GAZE_XY_NORM)
        cam = outputs.get(names.T_WINDOW_CAMERA)
        w = vw.window
        latency_ns = time.perf_counter_ns() - arrival_ns
        self.timers.stages["latency"].add(latency_ns)
        return Prediction.create(
            window_index=w.window_index,
            timestamp_ns=w.grid_timestamps_ns[-1],
            start_timestamp_ns=w.grid_timestamps_ns[0],
            tokens={t.name: states[t.name].ids for t in self.decoding.targets},
            token_probs={t.name: states[t.name].probs for t in self.decoding.targets},
            gaze_xy_norm=None if gaze is None else gaze[0],
            T_window_camera=None if cam is None else cam[0],
            missing_frames=vw.missing_frames,
            image_size=vw.image_size,
            latency_ms=latency_ns / 1e6,
        )
