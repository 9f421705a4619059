"""``ReferencePipeline``: the Python oracle of the C++ ``Runtime``, with the same API.

It runs the bundle's ONNX stages through Python ONNX Runtime with the bundle's session options
and does everything else in numpy: resampling, preprocessing and windows
(``pipeline.windows``), the decoding plan (``pipeline.plan``), decoding with the portable RNG
(``pipeline.decoder``), detokenisation. It never imports the C++ extension.

Per window ``w``: the 16 preprocessed frames go through ``video_encoder``; the ids (row-major
(t, h, w)) are the ``tok_rgb`` condition; the targets are decoded with
``PortableRng(seed + w)`` (steps numbered from 0 in each window); each target's ids go through
its tokenizer decoder (``gaze_decoder`` -> ``gaze_xy_norm``, ``cam_decoder`` ->
``T_window_camera``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from egom2p_edge.bundle import load_bundle, names
from egom2p_edge.bundle.sessions import ort_session_options
from egom2p_edge.pipeline.decoder import TokenState, WindowDecoder
from egom2p_edge.pipeline.plan import build_plan
from egom2p_edge.pipeline.windows import VideoWindow, WindowAssembler
from egom2p_edge.streaming.options import MASK64, StreamOptions, resolve_decoding
from egom2p_edge.streaming.prediction import Prediction
from egom2p_edge.streaming.timings import StreamTimers

log = logging.getLogger(__name__)

VIDEO_MODALITY = "tok_rgb"
REQUIRED_STAGES = (names.VIDEO_ENCODER, names.BACKBONE_ENCODER, names.BACKBONE_DECODER)
# tokenizer decoder stage -> (its ids input, the output a prediction keeps)
DETOKENIZERS = {
    names.GAZE_DECODER: (names.GAZE_IDS, names.GAZE_XY_NORM),
    names.CAM_DECODER: (names.CAM_IDS, names.T_WINDOW_CAMERA),
}


def check_backend_threads(backend: str, threads: int | None) -> None:
    if backend != "onnxruntime":
        raise ValueError(
            f"backend {backend!r} is not available; this build offers 'onnxruntime' (CPU)"
        )
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        raise ValueError(
            f"threads must be None (the bundle's session options) or an int >= 1, got {threads!r}"
        )


class ReferencePipeline:
    """Loads and validates a bundle, opens its sessions; ``stream()`` makes independent streams.

    threads: ONNX Runtime intra-op threads (None: the bundle's session options, which make the
    results bit-identical to the C++ runtime's).
    """

    def __init__(
        self, bundle_dir: str | Path, backend: str = "onnxruntime", threads: int | None = None
    ) -> None:
        import onnxruntime as ort

        check_backend_threads(backend, threads)
        self.bundle = load_bundle(bundle_dir)
        m = self.bundle.manifest
        missing = [s for s in REQUIRED_STAGES if s not in m.stages]
        if missing or m.video is None or m.trajectory is None:
            raise ValueError(
                f"bundle {self.bundle.root}: streaming needs the stages {list(REQUIRED_STAGES)} "
                f"(missing {missing}) and the video and trajectory sections; export it with "
                f"--model and --video-tokenizer (egom2p export)"
            )
        so = ort_session_options(m.session_options)
        if threads is not None:
            so.intra_op_num_threads = threads
        self.sessions = {
            s: ort.InferenceSession(
                str(self.bundle.stage_path(s)), so, providers=["CPUExecutionProvider"]
            )
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
    ) -> ReferenceStream:
        """A new stream (its own frames, RNG and timers); None = the bundle's default."""
        options = StreamOptions(
            tuple(targets) if not isinstance(targets, str) else targets,
            hop_frames,
            seed,
            mode,
            temperature,
            steps,
            guidance_scale,
            top_p,
        )
        return ReferenceStream(self, options)


class ReferenceStream:
    """One input stream: ``push`` frames, get the predictions of the windows they complete."""

    def __init__(self, pipeline: ReferencePipeline, options: StreamOptions) -> None:
        m = pipeline.manifest
        self.pipeline = pipeline
        self.options = options
        self.decoding = resolve_decoding(m, options)
        self.plan = build_plan(self.decoding, (VIDEO_MODALITY,))
        self.timers = StreamTimers()
        self.windows = WindowAssembler(
            m.video.size, m.video.fps, m.video.frames, options.hop_frames
        )
        self._finished = False

    def push(self, rgb: np.ndarray, timestamp_ns: int) -> list[Prediction]:
        """Add one (H, W, 3) uint8 frame; returns the predictions of the windows it completed."""
        if self._finished:
            raise ValueError("push: the stream was flushed; create a new stream for new frames")
        return [self._predict(w) for w in self.windows.push(rgb, timestamp_ns, self.timers)]

    def flush(self) -> list[Prediction]:
        """End of stream: the predictions of the windows the last frames complete."""
        if self._finished:
            return []
        self._finished = True
        return [self._predict(w) for w in self.windows.finish(self.timers)]

    def timings(self) -> dict[str, dict[str, float]]:
        return self.timers.as_dict()

    def _predict(self, vw: VideoWindow) -> Prediction:
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
            self.pipeline.decoder.decode(states, self.plan, rng, self.timers)
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
        return Prediction.create(
            window_index=w.window_index,
            timestamp_ns=w.grid_timestamps_ns[-1],
            start_timestamp_ns=w.grid_timestamps_ns[0],
            tokens={t.name: states[t.name].ids for t in self.decoding.targets},
            token_probs={t.name: states[t.name].probs for t in self.decoding.targets},
            gaze_xy_norm=None if gaze is None else gaze[0],
            T_window_camera=None if cam is None else cam[0],
            missing_frames=vw.missing_frames,
        )
