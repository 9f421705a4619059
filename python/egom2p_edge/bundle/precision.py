"""Manifest sections of reduced-precision bundles: per-stage precision, the accuracy gate and the
validation set stored in the bundle.

Both sections are optional (a bundle without ``precision`` is fp32 everywhere, as every bundle of
format version 1 written before them). ``precision.stages[s]`` says how stage ``s``'s graph holds
its precision (``fp32``; ``int8``: explicit symmetric QuantizeLinear/DequantizeLinear pairs;
``fp16``: float16 weights and Cast nodes around blocked ops) and what its golden outputs are: the
fp32 PyTorch reference (``pytorch-fp32``) or this very graph run by ONNX Runtime on the CPU
(``onnxruntime-cpu``), so that a runtime can check it reproduces the graph. Accuracy against
the fp32 reference is a separate question, answered with ``validation``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from egom2p_edge.bundle import names
from egom2p_edge.bundle.schema import Fields

PRECISIONS = ("fp32", "fp16", "int8")
GOLDENS_PYTORCH = "pytorch-fp32"  # golden outputs: the fp32 PyTorch reference
GOLDENS_ORT_CPU = "onnxruntime-cpu"  # golden outputs: this graph through ONNX Runtime (CPU)
GOLDEN_SOURCES = (GOLDENS_PYTORCH, GOLDENS_ORT_CPU)


@dataclass(frozen=True)
class StagePrecision:
    """How one stage's graph carries its precision."""

    precision: str  # one of PRECISIONS
    method: str  # "none", "onnxruntime-qdq-static" or "onnxruntime-float16"
    goldens: str  # one of GOLDEN_SOURCES
    details: dict[str, Any] = field(default_factory=dict)  # options and graph counts (free JSON)

    @staticmethod
    def from_fields(f: Fields) -> StagePrecision:
        details = f.raw("details")
        if not isinstance(details, dict):
            raise f.fail("details", "must be an object", type(details).__name__)
        return StagePrecision(
            f.str("precision", PRECISIONS),
            f.str("method"),
            f.str("goldens", GOLDEN_SOURCES),
            details,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "method": self.method,
            "goldens": self.goldens,
            "details": self.details,
        }


@dataclass(frozen=True)
class PrecisionSpec:
    """``precision``: the bundle's headline precision, each stage's, and where calibration data
    came from (None without int8 stages)."""

    default: str
    stages: dict[str, StagePrecision]
    calibration: dict[str, Any] | None = None
    reference: dict[str, Any] = field(default_factory=dict)  # the fp32 bundle it was made from

    @staticmethod
    def from_fields(f: Fields) -> PrecisionSpec:
        sf = f.obj_("stages")
        stages = {k: StagePrecision.from_fields(sf.obj_(k)) for k in sf.obj}
        calibration = f.raw("calibration", optional=True)
        if calibration is not None and not isinstance(calibration, dict):
            raise f.fail("calibration", "must be null or an object", type(calibration).__name__)
        reference = f.raw("reference")
        if not isinstance(reference, dict):
            raise f.fail("reference", "must be an object", type(reference).__name__)
        return PrecisionSpec(f.str("default", PRECISIONS), stages, calibration, reference)

    def to_dict(self) -> dict[str, Any]:
        return {
            "default": self.default,
            "stages": {k: v.to_dict() for k, v in self.stages.items()},
            "calibration": self.calibration,
            "reference": self.reference,
        }


@dataclass(frozen=True)
class AccuracyGate:
    """Thresholds of ``egom2p verify`` for a reduced-precision bundle against its fp32 reference.

    Applied when the provenance says every component is trained (random weights: reported only).
    A token agreement (tokenizer ids, decoded target tokens) must reach ``min_token_agreement``;
    a task metric against the ground truth (gaze MSE, camera ATE/RTE/RRE) may exceed the fp32
    model's by ``max_metric_increase`` (relative) plus its absolute slack.
    """

    min_token_agreement: float = 0.99
    max_metric_increase: float = 0.10
    gaze_mse_slack: float = 1e-4  # normalised units squared
    ate_m_slack: float = 0.005
    rte_m_slack: float = 0.005
    rre_deg_slack: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_token_agreement <= 1.0:
            raise ValueError(
                f"AccuracyGate.min_token_agreement must be in [0, 1], got "
                f"{self.min_token_agreement}"
            )
        for key in ("max_metric_increase", "gaze_mse_slack", "ate_m_slack", "rte_m_slack",
                    "rre_deg_slack"):  # fmt: skip
            if not getattr(self, key) >= 0.0:
                raise ValueError(f"AccuracyGate.{key} must be >= 0, got {getattr(self, key)}")

    def slack(self, metric: str) -> float:
        """Absolute slack of a metric (``gaze_mse``, ``ate_m``, ``rte_m``, ``rre_deg``)."""
        return float(getattr(self, f"{metric}_slack"))

    @staticmethod
    def from_fields(f: Fields) -> AccuracyGate:
        keys = ("min_token_agreement", "max_metric_increase", "gaze_mse_slack", "ate_m_slack",
                "rte_m_slack", "rre_deg_slack")  # fmt: skip
        values = {k: f.float(k, minimum=0.0) for k in keys}
        if values["min_token_agreement"] > 1.0:
            raise f.fail("min_token_agreement", "must be in [0, 1]", values["min_token_agreement"])
        return AccuracyGate(**values)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ValidationSpec:
    """``validation``: windows with ground truth and the fp32 reference's results on them,
    stored in ``file`` at export (``egom2p_edge.export.validation_set`` documents its tensors)."""

    file: str
    windows: int
    source: dict[str, Any]  # where the windows came from (synthetic seeds or a clip dataset)
    decode: dict[str, Any]  # how the full decode ran (mode, rng, seed)
    gate: AccuracyGate

    @staticmethod
    def from_fields(f: Fields) -> ValidationSpec:
        source, decode = f.raw("source"), f.raw("decode")
        for key, v in (("source", source), ("decode", decode)):
            if not isinstance(v, dict):
                raise f.fail(key, "must be an object", type(v).__name__)
        return ValidationSpec(
            f.str("file"),
            f.int("windows", minimum=0),
            source,
            decode,
            AccuracyGate.from_fields(f.obj_("gate")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "windows": self.windows,
            "source": self.source,
            "decode": self.decode,
            "gate": self.gate.to_dict(),
        }


def check_precision_stages(spec: PrecisionSpec, stages: dict, source: str) -> None:
    """Every stage has exactly one precision entry (ValueError naming the field otherwise)."""
    from egom2p_edge.bundle.schema import ManifestError

    missing = [s for s in stages if s not in spec.stages]
    extra = [s for s in spec.stages if s not in stages]
    if missing or extra:
        raise ManifestError(
            f"{source}: field 'precision.stages' must describe exactly the bundle's stages "
            f"{list(stages)}; missing {missing}, unknown {extra}"
        )
    for s in spec.stages:
        if s not in names.STAGES:
            raise ManifestError(f"{source}: field 'precision.stages.{s}' is not a known stage")
