"""``check_parity``: compare our reference model with outputs of the official EgoM2P code.

A fixture folder holds one component (gaze/camera tokenizer, backbone or video tokenizer) as the
official code saved it: ``checkpoint.pth``, ``config.json`` and safetensors files of named tensors.
The component is recognised from the files; its module in ``egom2p_edge.testing.components``
recomputes every saved non-input tensor from the saved inputs, and this module compares them.

Each component module provides::

    detect(fixture_dir: Path, config: dict) -> bool
    compute(fixture_dir: Path, config: dict, files: dict[str, dict[str, np.ndarray]])
        -> ComponentResult

where ``files`` maps a file stem (``fixtures``, ``train_step``, ``gen_rgb2cam_argmax`` ...) to its
tensors as numpy arrays (``model.safetensors`` excluded).
"""

from __future__ import annotations

import importlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

COMPONENT_MODULES = (
    "egom2p_edge.testing.components.vqvae",
    "egom2p_edge.testing.components.backbone",
    "egom2p_edge.testing.components.video",
)

DEFAULT_ATOL = 1e-4
DEFAULT_RTOL = 1e-4


@dataclass(frozen=True)
class Tolerance:
    """``|ours - official| <= atol + rtol * |official|`` elementwise; exact when both are 0."""

    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL

    @property
    def exact(self) -> bool:
        return self.atol == 0.0 and self.rtol == 0.0


EXACT = Tolerance(0.0, 0.0)


@dataclass
class ComponentResult:
    """What a component recomputed.

    outputs: ``"<file stem>/<tensor>"`` -> our array, or None when it could not be computed.
    inputs: keys that are given inputs (never compared).
    advisory: keys reported but never failing.
    tolerances: per-key tolerance; keys not named use the default (integers and bools: exact).
    notes: free-form lines for the report (e.g. "selected positions forced").
    """

    outputs: dict[str, np.ndarray | None] = field(default_factory=dict)
    inputs: set[str] = field(default_factory=set)
    advisory: set[str] = field(default_factory=set)
    tolerances: dict[str, Tolerance] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def load_fixture_files(fixture_dir: Path) -> dict[str, dict[str, np.ndarray]]:
    """All safetensors files of a fixture folder except ``model.safetensors``, as numpy."""
    from safetensors.numpy import load_file

    files: dict[str, dict[str, np.ndarray]] = {}
    for p in sorted(fixture_dir.glob("*.safetensors")):
        if p.name == "model.safetensors":
            continue
        files[p.stem] = load_file(str(p))
    return files


def _is_discrete(a: np.ndarray) -> bool:
    return a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer)


def compare(ours: np.ndarray | None, ref: np.ndarray, tol: Tolerance | None) -> tuple[float, bool]:
    """Max abs error (float64) and whether every element is within tolerance.

    ``inf`` when ``ours`` is missing or has the wrong shape.
    """
    if ours is None:
        return math.inf, False
    ours = np.asarray(ours)
    if ours.shape != ref.shape:
        return math.inf, False
    if tol is None:
        tol = EXACT if _is_discrete(ref) else Tolerance()
    a = ours.astype(np.float64)
    b = ref.astype(np.float64)
    if a.size == 0:
        return 0.0, True
    same_nan = np.isnan(a) & np.isnan(b)
    diff = np.where(same_nan, 0.0, np.abs(a - b))
    diff = np.where(np.isnan(diff), np.inf, diff)
    max_err = float(diff.max())
    ok = bool(np.all(diff <= tol.atol + tol.rtol * np.abs(np.where(same_nan, 0.0, b))))
    return max_err, ok


def _find_component(fixture_dir: Path, config: dict):
    for name in COMPONENT_MODULES:
        module = importlib.import_module(name)
        if module.detect(fixture_dir, config):
            return module
    raise ValueError(
        f"{fixture_dir} is not a recognised parity fixture folder: expected the files of one "
        f"component (cam/gaze tokenizer: fixtures.safetensors + train_step.safetensors; backbone: "
        f"train_forward.safetensors + gen_*.safetensors; video tokenizer: encoder.jit + "
        f"decoder.jit) with a config.json"
    )


def check_parity(fixture_dir: str | Path) -> dict[str, dict[str, float | bool]]:
    """Run the saved inputs of ``fixture_dir`` through our implementation and compare.

    Returns ``{"<file stem>/<tensor>": {"max_abs_err": float, "ok": bool, "advisory": bool}}``
    with one entry per saved non-input tensor of every fixture file except ``model.safetensors``.
    """
    fixture_dir = Path(fixture_dir)
    config_path = fixture_dir / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} is missing: a parity fixture folder needs it")
    config = json.loads(config_path.read_text())
    module = _find_component(fixture_dir, config)
    files = load_fixture_files(fixture_dir)
    result: ComponentResult = module.compute(fixture_dir, config, files)
    for line in result.notes:
        log.info("%s: %s", fixture_dir.name, line)
    report: dict[str, dict[str, float | bool]] = {}
    for stem, tensors in files.items():
        for name, ref in tensors.items():
            key = f"{stem}/{name}"
            if key in result.inputs:
                continue
            max_err, ok = compare(result.outputs.get(key), ref, result.tolerances.get(key))
            report[key] = {"max_abs_err": max_err, "ok": ok, "advisory": key in result.advisory}
    return report


def summarize(report: dict[str, dict[str, float | bool]]) -> tuple[int, int, int]:
    """(passed, failed, advisory-not-ok) counts of a ``check_parity`` report."""
    passed = sum(1 for r in report.values() if r["ok"])
    failed = sum(1 for r in report.values() if not r["ok"] and not r["advisory"])
    advisory = sum(1 for r in report.values() if not r["ok"] and r["advisory"])
    return passed, failed, advisory
