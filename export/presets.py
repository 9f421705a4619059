"""Export presets as data: precision, target device and backend, opset, exporter order per stage,
the ONNX Runtime session options of verification and its tolerances.

``cpu-fp32`` is the reference preset. Part 2 (issue 10) adds ``cpu-int8``, ``orin-fp16``,
``orin-int8`` and ``gpu-fp16`` as further entries of ``PRESETS``.

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
from egom2p_edge.bundle.manifest import EXPORTERS, PresetInfo, SessionOptions, Tolerances

DYNAMO = "dynamo"
TORCHSCRIPT = "torchscript"


@dataclass(frozen=True)
class ExportPreset:
    """One export target (see the module docstring)."""

    name: str
    precision: str  # "fp32" here; quantised/half presets come with issue 10
    device: str  # "cpu", "orin", "gpu"
    backend: str  # "onnxruntime" (TensorRT engines are built from the bundle later)
    opset: int
    exporters: dict[str, tuple[str, ...]]  # stage -> exporters to try, in order
    session_options: SessionOptions = field(default_factory=SessionOptions)
    tolerances: Tolerances = field(default_factory=lambda: Tolerances(1e-4, 1))

    def __post_init__(self) -> None:
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

    def info(self) -> PresetInfo:
        return PresetInfo(self.name, self.precision, self.device, self.backend)


_TRAJ_ORDER = (TORCHSCRIPT, DYNAMO)
_VIDEO_ORDER = (TORCHSCRIPT, DYNAMO)
_BACKBONE_ORDER = (DYNAMO, TORCHSCRIPT)

PRESETS: dict[str, ExportPreset] = {
    "cpu-fp32": ExportPreset(
        name="cpu-fp32",
        precision="fp32",
        device="cpu",
        backend="onnxruntime",
        opset=18,
        exporters={
            names.VIDEO_ENCODER: _VIDEO_ORDER,
            names.VIDEO_DECODER: _VIDEO_ORDER,
            names.CAM_ENCODER: _TRAJ_ORDER,
            names.CAM_DECODER: _TRAJ_ORDER,
            names.GAZE_ENCODER: _TRAJ_ORDER,
            names.GAZE_DECODER: _TRAJ_ORDER,
            names.BACKBONE_ENCODER: _BACKBONE_ORDER,
            names.BACKBONE_DECODER: _BACKBONE_ORDER,
        },
        session_options=SessionOptions(
            intra_op_threads=1,
            inter_op_threads=1,
            graph_optimization="all",
            execution_mode="sequential",
        ),
        tolerances=Tolerances(float_atol=1e-4, frames_max_diff=1),
    ),
}


def get_preset(name: str) -> ExportPreset:
    """A preset by name; ValueError lists the known ones."""
    if name not in PRESETS:
        raise ValueError(f"unknown export target {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]
