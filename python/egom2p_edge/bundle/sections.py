"""Manifest sections that describe the model and how to run it: the modality table, the video
and trajectory windows, the backbone, decoding defaults, session options, tolerances, preset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from egom2p_edge.bundle import names
from egom2p_edge.bundle.schema import Fields

GRAPH_OPTIMIZATION = ("disabled", "basic", "extended", "all")
EXECUTION_MODES = ("sequential", "parallel")
DECODING_MODES = ("official", "joint", "single_pass")
SCHEMES = ("roar", "maskgit")
TOKEN_SCHEDULES = ("linear", "cosine")


@dataclass(frozen=True)
class ModalityEntry:
    """One row of the modality table; ``index`` is the value ``input_modality`` uses."""

    index: int
    name: str  # model key, e.g. "tok_cam"
    short: str  # user-facing, e.g. "cam"
    id: int  # official modality id (sha256(name) % 2**15)
    kind: str  # "video" or "trajectory"
    vocab_size: int
    token_shape: tuple[int, ...]  # layout of one window's tokens, row-major
    pos_emb: str  # "sincos_3d" or "sincos_1d"
    encoder_stage: str | None  # tokenizer stage producing these ids from data, if exported
    decoder_stage: str | None  # tokenizer stage turning ids back into data, if exported
    backbone_input: bool  # the backbone_encoder accepts it
    backbone_target: bool  # the backbone_decoder predicts it

    @staticmethod
    def from_fields(f: Fields) -> ModalityEntry:
        stages = {}
        for key in ("encoder_stage", "decoder_stage"):
            s = f.str(key, optional=True)
            if s is not None and s not in names.STAGES:
                raise f.fail(key, f"must be null or one of {list(names.STAGES)}", s)
            stages[key] = s
        return ModalityEntry(
            index=f.int("index", minimum=0),
            name=f.str("name"),
            short=f.str("short"),
            id=f.int("id", minimum=0),
            kind=f.str("kind", ("video", "trajectory")),
            vocab_size=f.int("vocab_size", minimum=1),
            token_shape=f.ints("token_shape"),
            pos_emb=f.str("pos_emb", ("sincos_1d", "sincos_3d")),
            backbone_input=f.bool("backbone_input"),
            backbone_target=f.bool("backbone_target"),
            **stages,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "short": self.short,
            "id": self.id,
            "kind": self.kind,
            "vocab_size": self.vocab_size,
            "token_shape": list(self.token_shape),
            "pos_emb": self.pos_emb,
            "encoder_stage": self.encoder_stage,
            "decoder_stage": self.decoder_stage,
            "backbone_input": self.backbone_input,
            "backbone_target": self.backbone_target,
        }

    @property
    def num_tokens(self) -> int:
        n = 1
        for d in self.token_shape:
            n *= d
        return n


@dataclass(frozen=True)
class VideoSpec:
    """Video windows: S x S frames, ``frames`` per window at ``fps``; the token grid (t, h, w);
    ``time_padding``: copies of the first / last frame the encoder graph adds."""

    size: int
    frames: int
    fps: int
    token_grid: tuple[int, int, int]
    vocab_size: int
    time_padding: tuple[int, int]

    @staticmethod
    def from_fields(f: Fields) -> VideoSpec:
        grid = f.ints("token_grid")
        pad = f.ints("time_padding", minimum=0)
        if len(grid) != 3:
            raise f.fail("token_grid", "must be [t, h, w]", list(grid))
        if len(pad) != 2:
            raise f.fail("time_padding", "must be [before, after]", list(pad))
        return VideoSpec(
            size=f.int("size", minimum=1),
            frames=f.int("frames", minimum=1),
            fps=f.int("fps", minimum=1),
            token_grid=grid,  # type: ignore[arg-type]
            vocab_size=f.int("vocab_size", minimum=1),
            time_padding=pad,  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "frames": self.frames,
            "fps": self.fps,
            "token_grid": list(self.token_grid),
            "vocab_size": self.vocab_size,
            "time_padding": list(self.time_padding),
        }


@dataclass(frozen=True)
class TrajectorySpec:
    """Gaze and camera windows: ``samples`` at ``rate_hz`` -> ``tokens`` tokens."""

    samples: int
    rate_hz: int
    tokens: int

    @staticmethod
    def from_fields(f: Fields) -> TrajectorySpec:
        return TrajectorySpec(
            f.int("samples", minimum=1), f.int("rate_hz", minimum=1), f.int("tokens", minimum=1)
        )

    def to_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "rate_hz": self.rate_hz, "tokens": self.tokens}


@dataclass(frozen=True)
class BackboneSpec:
    """The backbone stages: width D, the decoder's vocabulary V and the targets it serves."""

    dim: int
    decoder_vocab_size: int
    decoder_targets: tuple[str, ...]

    @staticmethod
    def from_fields(f: Fields) -> BackboneSpec:
        return BackboneSpec(
            f.int("dim", minimum=1),
            f.int("decoder_vocab_size", minimum=1),
            f.strs("decoder_targets"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "decoder_vocab_size": self.decoder_vocab_size,
            "decoder_targets": list(self.decoder_targets),
        }


@dataclass(frozen=True)
class DecodingDefaults:
    """Default decoding of one target (the official eval scripts' values unless overridden)."""

    mode: str
    steps: int
    scheme: str
    schedule: str
    temperature: float
    temperature_schedule: str
    guidance_scale: float
    top_p: float
    top_k: float

    @staticmethod
    def from_fields(f: Fields) -> DecodingDefaults:
        top_p = f.float("top_p", minimum=0.0)
        if top_p > 1.0:
            raise f.fail("top_p", "must be in [0, 1]", top_p)
        return DecodingDefaults(
            mode=f.str("mode", DECODING_MODES),
            steps=f.int("steps", minimum=1),
            scheme=f.str("scheme", SCHEMES),
            schedule=f.str("schedule", TOKEN_SCHEDULES),
            temperature=f.float("temperature", minimum=0.0),
            temperature_schedule=f.str("temperature_schedule"),
            guidance_scale=f.float("guidance_scale"),
            top_p=top_p,
            top_k=f.float("top_k", minimum=0.0),
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DecodingSpec:
    """Decoding defaults per target, the default targets (in decoding order), the condition
    modalities (emptied in the unconditional pass of guidance) and ``grow_conditioning``
    (official mode: target k's unconditional pass also empties the targets decoded before it)."""

    targets: dict[str, DecodingDefaults]
    default_targets: tuple[str, ...]
    condition: tuple[str, ...]
    grow_conditioning: bool = True

    @staticmethod
    def from_fields(f: Fields) -> DecodingSpec:
        tf = f.obj_("targets")
        targets = {k: DecodingDefaults.from_fields(tf.obj_(k)) for k in tf.obj}
        return DecodingSpec(
            targets, f.strs("default_targets"), f.strs("condition"), f.bool("grow_conditioning")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": {k: v.to_dict() for k, v in self.targets.items()},
            "default_targets": list(self.default_targets),
            "condition": list(self.condition),
            "grow_conditioning": self.grow_conditioning,
        }


@dataclass(frozen=True)
class SessionOptions:
    """ONNX Runtime session options used for verification; the runtime uses the same so that
    its results are bit-identical to Python ONNX Runtime."""

    intra_op_threads: int = 1
    inter_op_threads: int = 1
    graph_optimization: str = "all"
    execution_mode: str = "sequential"

    def __post_init__(self) -> None:
        if self.intra_op_threads < 0 or self.inter_op_threads < 0:
            raise ValueError(
                f"SessionOptions: thread counts must be >= 0, got {self.intra_op_threads}, "
                f"{self.inter_op_threads}"
            )
        if self.graph_optimization not in GRAPH_OPTIMIZATION:
            raise ValueError(
                f"SessionOptions.graph_optimization must be one of {GRAPH_OPTIMIZATION}, got "
                f"{self.graph_optimization!r}"
            )
        if self.execution_mode not in EXECUTION_MODES:
            raise ValueError(
                f"SessionOptions.execution_mode must be one of {EXECUTION_MODES}, got "
                f"{self.execution_mode!r}"
            )

    @staticmethod
    def from_fields(f: Fields) -> SessionOptions:
        return SessionOptions(
            f.int("intra_op_threads", minimum=0),
            f.int("inter_op_threads", minimum=0),
            f.str("graph_optimization", GRAPH_OPTIMIZATION),
            f.str("execution_mode", EXECUTION_MODES),
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Tolerances:
    """Verification tolerances: |a - b| on float outputs (logits, latents, poses), and the
    largest allowed difference in uint8 levels of decoded frames."""

    float_atol: float
    frames_max_diff: int

    @staticmethod
    def from_fields(f: Fields) -> Tolerances:
        return Tolerances(f.float("float_atol", minimum=0.0), f.int("frames_max_diff", minimum=0))

    def to_dict(self) -> dict[str, Any]:
        return {"float_atol": self.float_atol, "frames_max_diff": self.frames_max_diff}


@dataclass(frozen=True)
class PresetInfo:
    """The export preset a bundle was made with (``egom2p_edge.export.presets``)."""

    name: str
    precision: str
    device: str
    backend: str

    @staticmethod
    def from_fields(f: Fields) -> PresetInfo:
        return PresetInfo(f.str("name"), f.str("precision"), f.str("device"), f.str("backend"))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)
