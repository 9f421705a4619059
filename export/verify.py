"""Verifying a bundle: every stage run on its golden inputs, outputs compared with the goldens.

The bundle is validated first (``load_bundle``: magic, version, files and their sha256, graph
I/O). Each stage then runs through Python ONNX Runtime with the bundle's session options (or,
with ``engine="native"``, through the C++ engine ``egom2p_edge._native.Engine``; with
``"onnxruntime-cuda"`` through ONNX Runtime's CUDA provider; with ``"tensorrt"`` through the
bundle's TensorRT engines for this GPU), and each output is compared by its compare kind with
the bundle's tolerances.

A reduced-precision stage whose goldens are the fp32 reference (ONNX Runtime could not run it at
export) and any reduced stage on a GPU engine (other kernels than the CPU's that made the
goldens) are not held to the goldens' tolerance: their agreement with fp32 is reported, and the
accuracy gate decides (``verify_precision``). Reduced bundles also get the precision report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from egom2p_edge.bundle.load import Bundle, load_bundle
from egom2p_edge.bundle.manifest import AccuracyGate
from egom2p_edge.bundle.precision import GOLDENS_PYTORCH
from egom2p_edge.bundle.sessions import open_session
from egom2p_edge.export.compare import TensorCheck, compare_output

ENGINES = ("onnxruntime", "native", "onnxruntime-cuda", "tensorrt")
_CPU_ENGINES = ("onnxruntime", "native")


@dataclass
class StageReport:
    stage: str
    ok: bool
    checks: list[TensorCheck] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    note: str | None = None  # why the goldens' tolerance does not apply

    def lines(self) -> list[str]:
        head = f"{self.stage}: {'PASS' if self.ok else 'FAIL'} ({self.seconds * 1e3:.0f} ms)"
        body = [f"    {c.line()}" for c in self.checks]
        if self.error:
            body.append(f"    error: {self.error}")
        if self.note:
            body.append(f"    note: {self.note}")
        return [head, *body]


@dataclass
class VerifyReport:
    bundle: Bundle
    engine: str
    stages: list[StageReport]
    precision: Any = None  # verify_precision.PrecisionReport for reduced bundles

    @property
    def stages_ok(self) -> bool:
        return all(s.ok for s in self.stages)

    @property
    def ok(self) -> bool:
        return self.stages_ok and (self.precision is None or self.precision.ok)


def run_stage(bundle: Bundle, stage: str, feeds: dict[str, np.ndarray], engine: str) -> dict:
    """Outputs {name: array} of one stage on ``feeds`` through ``engine``."""
    spec = bundle.stage(stage)
    if engine == "onnxruntime":
        sess = open_session(bundle, stage)
        names = [t.name for t in spec.outputs]
        return dict(zip(names, sess.run(names, feeds)))
    if engine == "native":
        from egom2p_edge._native import Engine

        opts = bundle.manifest.session_options
        eng = Engine(bundle.stage_path(stage), opts.intra_op_threads, opts.graph_optimization)
        return dict(eng.run(feeds))
    if engine == "onnxruntime-cuda":
        return _run_cuda(bundle, stage, feeds)
    if engine == "tensorrt":
        from egom2p_edge.export.tensorrt_runtime import run_bundle_engine

        return run_bundle_engine(bundle, stage, feeds)
    raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")


def _run_cuda(bundle: Bundle, stage: str, feeds: dict[str, np.ndarray]) -> dict:
    import onnxruntime as ort

    from egom2p_edge.bundle.sessions import ort_session_options

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        raise ValueError(
            "ONNX Runtime has no CUDAExecutionProvider here (the onnxruntime wheel is CPU-only; "
            "install onnxruntime-gpu on a machine with a CUDA GPU)"
        )
    sess = ort.InferenceSession(
        str(bundle.stage_path(stage)),
        ort_session_options(bundle.manifest.session_options),
        providers=["CUDAExecutionProvider"],
    )
    names = [t.name for t in bundle.stage(stage).outputs]
    return dict(zip(names, sess.run(names, feeds)))


def _tolerance_exempt(bundle: Bundle, stage: str, engine: str) -> str | None:
    """Why a reduced stage is not held to its goldens' tolerance (None: it is)."""
    p = bundle.manifest.precision
    if p is None or p.stages[stage].precision == "fp32":
        return None
    if p.stages[stage].goldens == GOLDENS_PYTORCH:
        return "reduced stage with fp32 goldens: agreement with fp32 is reported below"
    if engine not in _CPU_ENGINES:
        return f"reduced stage on {engine}: other kernels than the CPU goldens; see agreement"
    return None


def verify_bundle(
    path: str | Path,
    engine: str = "onnxruntime",
    progress: Any = None,
    gate_mode: str = "auto",
    gate: AccuracyGate | None = None,
    run_validation: bool = True,
) -> VerifyReport:
    """Validate ``path`` and check every stage against its goldens (see the module docstring).

    A bundle that fails validation raises (BundleError / FileNotFoundError); a stage that fails
    its goldens is reported with ``ok=False``. progress: a tqdm-like object advanced per stage.
    gate_mode ("auto", "always", "never"), gate (thresholds overriding the manifest's) and
    run_validation (decode the stored validation set) concern reduced-precision bundles.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    bundle = load_bundle(path)
    goldens = bundle.goldens()
    tol = bundle.manifest.tolerances
    reports = []
    outputs_by_stage: dict[str, dict[str, np.ndarray]] = {}
    for stage, spec in bundle.manifest.stages.items():
        if progress is not None:
            progress.set_description(stage)
        feeds = {t.name: goldens[stage][t.name] for t in spec.inputs}
        t0 = time.perf_counter()
        try:
            outputs = run_stage(bundle, stage, feeds, engine)
        except Exception as exc:  # noqa: BLE001 (report any engine failure per stage)
            # A reduced stage ONNX Runtime could not run at export either (its goldens are the
            # fp32 reference) is expected to fail on the CPU: the structural checks decide.
            expected = engine in _CPU_ENGINES and _tolerance_exempt(bundle, stage, engine)
            reports.append(
                StageReport(
                    stage,
                    bool(expected),
                    seconds=time.perf_counter() - t0,
                    error=f"{type(exc).__name__}: {str(exc)[:300]}",
                    note="not runnable here; checked structurally" if expected else None,
                )
            )
            if progress is not None:
                progress.update(1)
            continue
        seconds = time.perf_counter() - t0
        outputs_by_stage[stage] = outputs
        checks = [
            compare_output(t.name, t.compare, outputs[t.name], goldens[stage][t.name], tol)
            for t in spec.outputs
        ]
        exempt = _tolerance_exempt(bundle, stage, engine)
        ok = all(c.ok for c in checks) or exempt is not None
        reports.append(StageReport(stage, ok, checks, seconds, note=exempt))
        if progress is not None:
            progress.update(1)
    report = VerifyReport(bundle, engine, reports)
    if bundle.manifest.precision is not None:
        from egom2p_edge.export.verify_precision import check_precision

        if progress is not None:
            progress.set_description("accuracy")
        report.precision = check_precision(
            bundle, outputs_by_stage, gate_mode, gate, run_validation
        )
    return report
