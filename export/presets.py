"""Export presets as data: precision (per stage), target device and backend, opset, exporter order
per stage, the ONNX Runtime session options of verification and its tolerances, how int8 and fp16
graphs are made, the validation set and the accuracy gate, the TensorRT build options.

``cpu-fp32`` is the reference preset. ``cpu-int8`` (ONNX Runtime on the CPU), ``orin-int8``,
``orin-fp16`` (TensorRT on Jetson Orin) and ``gpu-fp16`` (TensorRT on a desktop/server GPU) carry
their precision in the ONNX graph: explicit symmetric Q/DQ for int8, float16 weights with Casts
for fp16. TensorRT 11 has no precision builder flags any more, so the same files build with
TensorRT 10 (JetPack 6) and 11. Which stages are reduced: the backbone and the video tokenizer
(where the time goes); the gaze and camera tokenizers take well under a millisecond and end in
a nearest-codebook search that any rounding moves, so they stay fp32. ``cpu-int8`` keeps the
video tokenizer fp32 too: ONNX Runtime's CPU provider has no int8 convolution with a float
output, so a Q/DQ convolution (outputs left float, as the residual stream needs) runs as
dequantise + fp32 convolution, no faster (measured on ego-tiny: 0.91x encoder, 1.08x decoder)
and less exact; TensorRT runs the same pattern as int8 kernels, so ``orin-int8`` quantises it.
``cpu-int8`` also quantises the attention scores ``q k^T`` (``Int8Options(attention="scores")``);
the other int8 preset leaves every attention product float (``egom2p export --int8-attention``
overrides either).

Exporter order (measured with torch 2.13, onnxscript 0.7, opset 18): the dynamo exporter is the
only one that exports the backbone (the TorchScript tracer fails on its LayerNorm, whose
normalized shape is read from the input) and it needs opset >= 18; both give correct gaze/camera
tokenizer graphs, TorchScript about ten times faster; both give correct video tokenizer graphs.
Each stage tries its exporters in order and keeps the first whose graph matches the PyTorch
reference on the golden inputs (and on extra shapes along its dynamic axes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from egom2p_edge.bundle import names
from egom2p_edge.bundle.manifest import (
    EXPORTERS,
    AccuracyGate,
    PresetInfo,
    SessionOptions,
    Tolerances,
)
from egom2p_edge.bundle.precision import PRECISIONS

DYNAMO = "dynamo"
TORCHSCRIPT = "torchscript"
CALIBRATION_METHODS = ("minmax", "percentile", "entropy")
# Attention products (MatMuls of two activations) quantised: "none"; "scores" (q k^T: queries
# and keys have ranges like any linear layer's input); "all" (also softmax(.) v: measured broken,
# the per-tensor range of probabilities is set by the shortest sequences, where a row holds one
# key, so the small probabilities of long sequences all round to 0: rel RMS ~1 on ego-tiny).
ATTENTION_MODES = ("none", "scores", "all")

# Ops that stay float32 in fp16 graphs: normalisations and softmax (their sums overflow or lose
# the small variances in float16: the known T5-family failure), reductions and exponentials,
# and the exact arithmetic of the tokenizers (FSQ rounding, nearest-code search, Gram-Schmidt).
FP16_BLOCKED_OPS = (
    "LayerNormalization",
    "InstanceNormalization",
    "GroupNormalization",
    "Softmax",
    "ReduceMean",
    "ReduceSum",
    "ReduceL2",
    "ReduceMax",
    "Pow",
    "Sqrt",
    "Exp",
    "Erf",
    "Div",
    "Round",
    "Floor",
    "ArgMax",
    "ArgMin",
    "Range",
    "CumSum",
    "Min",
    "Max",
    "TopK",
)


@dataclass(frozen=True)
class Int8Options:
    """Static int8 quantisation with ONNX Runtime (``quantize_static``, QDQ format).

    Activations and weights are symmetric int8 (zero point 0: what TensorRT requires); only the
    ops in ``op_types`` are quantised, so LayerNorm, softmax and the residual adds stay float.
    """

    op_types: tuple[str, ...] = ("MatMul", "Gemm", "Conv")
    per_channel: bool = True  # one weight scale per output channel (faster on ORT CPU too)
    attention: str = "none"  # which attention products are quantised (ATTENTION_MODES)
    calibrate_method: str = "minmax"
    percentile: float = 99.999  # for calibrate_method "percentile"
    max_samples_per_stage: int = 16  # calibration inputs per stage (spread over the windows)
    # Calibration runs each graph with ranges collected on every MatMul input, attention scores
    # included; at ego-b's 5150 encoder slots that ran out of 23 GB of memory. Longer inputs are
    # calibrated on this many evenly spaced slots (per-token ranges do not depend on the count).
    max_calibration_tokens: int = 2048

    def __post_init__(self) -> None:
        if self.calibrate_method not in CALIBRATION_METHODS:
            raise ValueError(
                f"Int8Options.calibrate_method must be one of {CALIBRATION_METHODS}, got "
                f"{self.calibrate_method!r}"
            )
        if self.attention not in ATTENTION_MODES:
            raise ValueError(
                f"Int8Options.attention must be one of {ATTENTION_MODES}, got {self.attention!r}"
            )
        if not self.op_types:
            raise ValueError("Int8Options.op_types is empty; name the ops to quantise")
        if self.max_samples_per_stage < 1:
            raise ValueError(
                f"Int8Options.max_samples_per_stage must be >= 1, got {self.max_samples_per_stage}"
            )
        if self.max_calibration_tokens < 1:
            raise ValueError(
                f"Int8Options.max_calibration_tokens must be >= 1, got "
                f"{self.max_calibration_tokens}"
            )
        if not 90.0 <= self.percentile <= 100.0:
            raise ValueError(f"Int8Options.percentile must be in [90, 100], got {self.percentile}")


@dataclass(frozen=True)
class Fp16Options:
    """Float16 conversion (ONNX Runtime's ``onnxruntime.transformers.float16``), I/O kept fp32."""

    blocked_ops: tuple[str, ...] = FP16_BLOCKED_OPS
    block_residual_adds: bool = True  # Adds of two computed tensors (the residual stream) stay fp32
    keep_io_types: bool = True


@dataclass(frozen=True)
class TensorRTOptions:
    """TensorRT builder options and the optimisation profiles' batch range."""

    workspace_mib: int = 2048
    builder_optimization_level: int = 3
    max_batch: int = 2  # classifier-free guidance runs cond + uncond as one batch of 2
    max_tokenizer_batch: int = 4  # windows per tokenizer call

    def __post_init__(self) -> None:
        if self.workspace_mib < 16 or not 0 <= self.builder_optimization_level <= 5:
            raise ValueError(
                f"TensorRTOptions: workspace_mib must be >= 16 and builder_optimization_level "
                f"in 0..5, got {self.workspace_mib}, {self.builder_optimization_level}"
            )
        if self.max_batch < 1 or self.max_tokenizer_batch < 1:
            raise ValueError(
                f"TensorRTOptions: max_batch and max_tokenizer_batch must be >= 1, got "
                f"{self.max_batch}, {self.max_tokenizer_batch}"
            )


@dataclass(frozen=True)
class ExportPreset:
    """One export target (see the module docstring)."""

    name: str
    precision: str  # the headline precision: "fp32", "int8" or "fp16"
    device: str  # "cpu", "orin", "gpu"
    backend: str  # "onnxruntime" or "tensorrt" (engines built from the bundle on the target)
    opset: int
    exporters: dict[str, tuple[str, ...]]  # stage -> exporters to try, in order
    session_options: SessionOptions = field(default_factory=SessionOptions)
    tolerances: Tolerances = field(default_factory=lambda: Tolerances(1e-4, 1))
    stage_precision: dict[str, str] = field(default_factory=dict)  # stage -> precision (all)
    int8: Int8Options | None = None  # required when a stage is int8
    fp16: Fp16Options | None = None  # required when a stage is fp16
    calibration_clips: int = 0  # synthetic clips of the default calibration set (int8)
    validation_windows: int = 0  # windows of the validation set stored in the bundle
    gate: AccuracyGate = field(default_factory=AccuracyGate)
    tensorrt: TensorRTOptions | None = None  # for backend "tensorrt"

    def __post_init__(self) -> None:
        self._check_precision()
        if self.opset < 17:
            raise ValueError(f"ExportPreset({self.name}).opset must be >= 17, got {self.opset}")
        for stage, order in self.exporters.items():
            if stage not in names.STAGES:
                raise ValueError(f"ExportPreset({self.name}): unknown stage {stage!r}")
            if not order or any(e not in EXPORTERS for e in order):
                raise ValueError(
                    f"ExportPreset({self.name}).exporters[{stage!r}] must list exporters among "
                    f"{EXPORTERS}, got {order!r}"
                )
        missing = [s for s in names.STAGES if s not in self.exporters]
        if missing:
            raise ValueError(f"ExportPreset({self.name}): no exporter order for stages {missing}")

    def _check_precision(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"ExportPreset({self.name}).precision must be one of {PRECISIONS}, got "
                f"{self.precision!r}"
            )
        if self.stage_precision and set(self.stage_precision) != set(names.STAGES):
            raise ValueError(
                f"ExportPreset({self.name}).stage_precision must name every stage "
                f"{list(names.STAGES)}, got {sorted(self.stage_precision)}"
            )
        used = set(self.stage_precision.values()) or {self.precision}
        if not used <= set(PRECISIONS):
            raise ValueError(
                f"ExportPreset({self.name}).stage_precision values must be among {PRECISIONS}, "
                f"got {sorted(used)}"
            )
        if "int8" in used and (self.int8 is None or self.calibration_clips < 1):
            raise ValueError(
                f"ExportPreset({self.name}) has int8 stages: it needs int8 options and "
                f"calibration_clips >= 1 (got {self.int8}, {self.calibration_clips})"
            )
        if "fp16" in used and self.fp16 is None:
            raise ValueError(f"ExportPreset({self.name}) has fp16 stages: it needs fp16 options")
        if self.backend == "tensorrt" and self.tensorrt is None:
            raise ValueError(f"ExportPreset({self.name}): backend tensorrt needs tensorrt options")
        if self.validation_windows < 0:
            raise ValueError(
                f"ExportPreset({self.name}).validation_windows must be >= 0, got "
                f"{self.validation_windows}"
            )

    def precision_of(self, stage: str) -> str:
        """The precision of one stage's graph."""
        return self.stage_precision.get(stage, self.precision)

    @property
    def reduced(self) -> bool:
        """True when some stage is not fp32 (the bundle is derived from an fp32 export)."""
        return any(self.precision_of(s) != "fp32" for s in names.STAGES)

    def info(self) -> PresetInfo:
        return PresetInfo(self.name, self.precision, self.device, self.backend)


_TRAJ_ORDER = (TORCHSCRIPT, DYNAMO)
_VIDEO_ORDER = (TORCHSCRIPT, DYNAMO)
_BACKBONE_ORDER = (DYNAMO, TORCHSCRIPT)
_EXPORTERS = {
    names.VIDEO_ENCODER: _VIDEO_ORDER,
    names.VIDEO_DECODER: _VIDEO_ORDER,
    names.CAM_ENCODER: _TRAJ_ORDER,
    names.CAM_DECODER: _TRAJ_ORDER,
    names.GAZE_ENCODER: _TRAJ_ORDER,
    names.GAZE_DECODER: _TRAJ_ORDER,
    names.BACKBONE_ENCODER: _BACKBONE_ORDER,
    names.BACKBONE_DECODER: _BACKBONE_ORDER,
}
_SESSION = SessionOptions(
    intra_op_threads=1, inter_op_threads=1, graph_optimization="all", execution_mode="sequential"
)
_REDUCED_STAGES = (
    names.VIDEO_ENCODER,
    names.VIDEO_DECODER,
    names.BACKBONE_ENCODER,
    names.BACKBONE_DECODER,
)


def _stages(precision: str, reduced: tuple[str, ...] = _REDUCED_STAGES) -> dict[str, str]:
    """``precision`` for the ``reduced`` stages, fp32 for the rest."""
    return {s: precision if s in reduced else "fp32" for s in names.STAGES}


# Goldens of reduced stages are this graph's own ONNX Runtime CPU outputs: another CPU's int8
# kernels may round a little differently, hence a looser float tolerance than fp32's.
_REDUCED_TOLERANCES = Tolerances(float_atol=1e-3, frames_max_diff=1)
_ORIN = TensorRTOptions(workspace_mib=2048, builder_optimization_level=3)
_GPU = TensorRTOptions(workspace_mib=8192, builder_optimization_level=3)


def _reduced(
    name: str,
    precision: str,
    device: str,
    backend: str,
    reduced: tuple[str, ...] = _REDUCED_STAGES,
    int8: Int8Options | None = None,
    **kw,
) -> ExportPreset:
    return ExportPreset(
        name=name,
        precision=precision,
        device=device,
        backend=backend,
        opset=18,
        exporters=_EXPORTERS,
        session_options=_SESSION,
        tolerances=_REDUCED_TOLERANCES,
        stage_precision=_stages(precision, reduced),
        int8=(int8 or Int8Options()) if precision == "int8" else None,
        fp16=Fp16Options() if precision == "fp16" else None,
        calibration_clips=4 if precision == "int8" else 0,
        validation_windows=2,
        **kw,
    )


PRESETS: dict[str, ExportPreset] = {
    "cpu-fp32": ExportPreset(
        name="cpu-fp32",
        precision="fp32",
        device="cpu",
        backend="onnxruntime",
        opset=18,
        exporters=_EXPORTERS,
        session_options=_SESSION,
        tolerances=Tolerances(float_atol=1e-4, frames_max_diff=1),
    ),
    # q k^T int8 too: ego-b encoder 1.57x instead of 1.45x over fp32 on the development CPU, at
    # the same error (benchmarks/results/precision_cpu.md).
    "cpu-int8": _reduced(
        "cpu-int8",
        "int8",
        "cpu",
        "onnxruntime",
        (names.BACKBONE_ENCODER, names.BACKBONE_DECODER),
        int8=Int8Options(attention="scores"),
    ),
    "orin-int8": _reduced("orin-int8", "int8", "orin", "tensorrt", tensorrt=_ORIN),
    "orin-fp16": _reduced("orin-fp16", "fp16", "orin", "tensorrt", tensorrt=_ORIN),
    "gpu-fp16": _reduced("gpu-fp16", "fp16", "gpu", "tensorrt", tensorrt=_GPU),
}


def get_preset(name: str) -> ExportPreset:
    """A preset by name; ValueError lists the known ones."""
    if name not in PRESETS:
        raise ValueError(f"unknown export target {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]
