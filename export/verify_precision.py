"""The reduced-precision part of ``egom2p verify``: structure, agreement with fp32, the gate.

For a bundle with int8 / fp16 stages (``precision`` in the manifest):

1. Structure: each reduced graph is checked again (``graph_precision.check_int8`` /
   ``check_fp16``: symmetric Q/DQ only around the intended ops, LayerNorm/softmax/residual adds
   unquantised or fp32). This also covers a stage ONNX Runtime cannot run here.
2. Per stage, the outputs on the golden inputs against the fp32 reference stored in the
   validation file (``accuracy.stage_agreement``).
3. The validation set: token agreement and task metrics (``accuracy.evaluate_validation``).
4. The gate: ``AccuracyGate`` thresholds (the manifest's, or overrides), applied when
   ``accuracy.gate_decision`` says so (every component trained, or ``--gate always``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from egom2p_edge.bundle.load import Bundle
from egom2p_edge.bundle.manifest import AccuracyGate
from egom2p_edge.export.accuracy import (
    TensorAgreement,
    ValidationResult,
    evaluate_validation,
    gate_decision,
    gate_failures,
    stage_agreement,
    validation_lines,
)


@dataclass
class PrecisionReport:
    structural: dict[str, list[str]] = field(default_factory=dict)  # stage -> problems
    stage_rows: list[TensorAgreement] = field(default_factory=list)
    validation: ValidationResult | None = None
    gate: AccuracyGate | None = None
    gate_applied: bool = False
    gate_reason: str = ""
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        structure_ok = not any(self.structural.values())
        return structure_ok and not (self.gate_applied and self.failures)

    def lines(self) -> list[str]:
        out = ["precision (reduced stages):"]
        for stage, problems in self.structural.items():
            state = "as intended" if not problems else "NOT as intended: " + "; ".join(problems)
            out.append(f"    {stage}: structure {state}")
        if self.stage_rows:
            out.append("vs the fp32 reference on the golden inputs:")
            out += [f"    {r.line()}" for r in self.stage_rows]
        if self.validation is not None:
            out += validation_lines(self.validation)
        if self.gate_applied:
            verdict = "PASS" if not self.failures else "FAIL"
            out.append(f"accuracy gate: {verdict} ({self.gate_reason})")
            out += [f"    {f}" for f in self.failures]
        else:
            note = f"; would fail: {'; '.join(self.failures)}" if self.failures else ""
            reason = f"numbers reported only ({self.gate_reason})"
            out.append(f"accuracy gate: not applied, {reason}{note}")
        return out


def _structure(bundle: Bundle, stage: str, precision: str, preset) -> list[str]:
    import onnx

    from egom2p_edge.export import graph_precision
    from egom2p_edge.export.presets import Fp16Options, Int8Options

    model = onnx.load(str(bundle.stage_path(stage)))
    if precision == "int8":
        options = preset.int8 if preset is not None and preset.int8 else Int8Options()
        return graph_precision.check_int8(model, options)
    options = preset.fp16 if preset is not None and preset.fp16 else Fp16Options()
    spec = bundle.stage(stage)
    io = {t.name: graph_precision.ONNX_ELEM[t.dtype] for t in spec.inputs + spec.outputs}
    return graph_precision.check_fp16(model, options, io)


def check_precision(
    bundle: Bundle,
    outputs: dict[str, dict[str, np.ndarray]],
    gate_mode: str = "auto",
    gate: AccuracyGate | None = None,
    run_validation: bool = True,
) -> PrecisionReport | None:
    """The precision report of ``bundle`` (None for an fp32 bundle).

    outputs: each stage's outputs on its golden inputs (from the verification run; a stage that
    could not run is absent); gate: thresholds overriding the manifest's.
    """
    from egom2p_edge.export.presets import PRESETS

    m = bundle.manifest
    if m.precision is None:
        return None
    reduced = {s: p.precision for s, p in m.precision.stages.items() if p.precision != "fp32"}
    preset = PRESETS.get(m.preset.name)
    report = PrecisionReport()
    for stage, precision in reduced.items():
        report.structural[stage] = _structure(bundle, stage, precision, preset)
    fp32_goldens: dict = {}
    if m.validation is not None:
        from egom2p_edge.export.validation_set import read_validation

        _, _, fp32_goldens = read_validation(bundle.root / m.validation.file)
    for stage in reduced:
        if stage in outputs and stage in fp32_goldens:
            spec = bundle.stage(stage)
            report.stage_rows += stage_agreement(stage, spec, outputs[stage], fp32_goldens[stage])
    report.gate = gate or (m.validation.gate if m.validation is not None else AccuracyGate())
    report.gate_applied, report.gate_reason = gate_decision(bundle, gate_mode)
    if m.validation is not None and m.validation.windows > 0 and run_validation:
        report.validation = evaluate_validation(bundle)
        report.failures = gate_failures(report.validation, report.gate)
    elif report.gate_applied:
        has_windows = m.validation is not None and m.validation.windows > 0
        report.failures = [
            "no validation set was run (the gate needs one)"
            if has_windows
            else "the bundle holds no validation windows (the gate needs them; re-export with "
            "--validation-windows N)"
        ]
    return report
