"""Verifying a bundle: every stage run on its golden inputs, outputs compared with the goldens.

The bundle is validated first (``load_bundle``: magic, version, files and their sha256, graph
I/O). Each stage then runs through Python ONNX Runtime with the bundle's session options (or,
with ``engine="native"``, through the C++ engine ``egom2p_edge._native.Engine``), and each output
is compared by its compare kind with the bundle's tolerances.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from egom2p_edge.bundle.load import Bundle, load_bundle
from egom2p_edge.bundle.sessions import open_session
from egom2p_edge.export.compare import TensorCheck, compare_output

ENGINES = ("onnxruntime", "native")


@dataclass
class StageReport:
    stage: str
    ok: bool
    checks: list[TensorCheck] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def lines(self) -> list[str]:
        head = f"{self.stage}: {'PASS' if self.ok else 'FAIL'} ({self.seconds * 1e3:.0f} ms)"
        body = [f"    {c.line()}" for c in self.checks]
        if self.error:
            body.append(f"    error: {self.error}")
        return [head, *body]


@dataclass
class VerifyReport:
    bundle: Bundle
    engine: str
    stages: list[StageReport]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stages)


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
    raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")


def verify_bundle(
    path: str | Path, engine: str = "onnxruntime", progress: Any = None
) -> VerifyReport:
    """Validate ``path`` and check every stage against its goldens (see the module docstring).

    A bundle that fails validation raises (BundleError / FileNotFoundError); a stage that fails
    its goldens is reported with ``ok=False``. progress: a tqdm-like object advanced per stage.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    bundle = load_bundle(path)
    goldens = bundle.goldens()
    tol = bundle.manifest.tolerances
    reports = []
    for stage, spec in bundle.manifest.stages.items():
        if progress is not None:
            progress.set_description(stage)
        feeds = {t.name: goldens[stage][t.name] for t in spec.inputs}
        t0 = time.perf_counter()
        try:
            outputs = run_stage(bundle, stage, feeds, engine)
        except Exception as exc:  # noqa: BLE001 (report any engine failure per stage)
            reports.append(
                StageReport(
                    stage,
                    False,
                    seconds=time.perf_counter() - t0,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
            if progress is not None:
                progress.update(1)
            continue
        seconds = time.perf_counter() - t0
        checks = [
            compare_output(t.name, t.compare, outputs[t.name], goldens[stage][t.name], tol)
            for t in spec.outputs
        ]
        reports.append(StageReport(stage, all(c.ok for c in checks), checks, seconds))
        if progress is not None:
            progress.update(1)
    return VerifyReport(bundle, engine, reports)
