"""Accuracy of a reduced-precision bundle against its fp32 reference, and the accuracy gate.

Two views, both against what the fp32 reference computed at export:

1. Per stage, on the golden inputs: token ids that agree, argmax rows of the logits that agree,
   the largest float difference and the relative RMS error (``stage_agreement``).
2. On the validation set stored in the bundle: token agreement of the tokenizers and of the full
   decode, and the task metrics of the paper (gaze MSE; camera ATE/RTE/RRE without alignment,
   poses relative to each window's first frame) against the ground truth for both pipelines and
   between them (``evaluate_validation``).

The gate (``AccuracyGate``) applies when the provenance says every component is trained; for
random or unknown weights the numbers are reported, not gated (``gate_decision``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from egom2p_edge.bundle import names
from egom2p_edge.bundle.load import Bundle
from egom2p_edge.bundle.manifest import AccuracyGate

GATE_MODES = ("auto", "always", "never")
_TOKENS = {
    "video_ids": "video tokenizer ids",
    "cam_ids": "camera tokenizer ids",
    "gaze_ids": "gaze tokenizer ids",
    "decode_tok_tok_gaze": "decoded gaze tokens",
    "decode_tok_tok_cam": "decoded camera tokens",
}


@dataclass(frozen=True)
class TensorAgreement:
    """One output of one stage against the fp32 reference on the golden inputs."""

    stage: str
    tensor: str
    compare: str  # the tensor's compare kind (names.COMPARE_*)
    agree: int | None  # ids: equal ids; logits: rows with equal argmax; else None
    total: int | None
    max_abs_diff: float
    rel_rms: float  # ||got - ref|| / ||ref|| over finite entries (0 for ids)

    @property
    def rate(self) -> float | None:
        return None if not self.total else self.agree / self.total

    def line(self) -> str:
        head = f"{self.stage} {self.tensor}: "
        diff = f"max |diff| {self.max_abs_diff:.3g}, rel RMS {self.rel_rms:.3g}"
        if self.compare == names.COMPARE_IDS:
            return head + f"{100 * self.rate:.2f}% ids agree ({self.agree}/{self.total})"
        if self.compare == names.COMPARE_LOGITS:
            return (
                head + f"{100 * self.rate:.2f}% argmax rows agree ({self.agree}/"
                f"{self.total}), {diff}"
            )
        return head + diff


def tensor_agreement(
    stage: str, tensor: str, compare: str, got: np.ndarray, ref: np.ndarray
) -> TensorAgreement:
    """Compare ``got`` with the fp32 reference ``ref`` by the tensor's compare kind."""
    if got.shape != ref.shape:
        return TensorAgreement(stage, tensor, compare, 0, int(ref.size), math.inf, math.inf)
    if compare == names.COMPARE_IDS:
        agree = int(np.count_nonzero(got == ref))
        diff = float(np.abs(got.astype(np.int64) - ref.astype(np.int64)).max(initial=0) > 0)
        return TensorAgreement(stage, tensor, compare, agree, int(ref.size), diff, 0.0)
    g, r = got.astype(np.float64), ref.astype(np.float64)
    finite = np.isfinite(r) & np.isfinite(g)
    d = g[finite] - r[finite]
    max_abs = float(np.abs(d).max(initial=0.0))
    norm = float(np.linalg.norm(r[finite]))
    rel = float(np.linalg.norm(d) / norm) if norm > 0 else 0.0
    if compare == names.COMPARE_LOGITS:
        rows = int(ref.size // ref.shape[-1]) if ref.ndim and ref.shape[-1] else 0
        agree = int(np.count_nonzero(np.argmax(got, -1) == np.argmax(ref, -1)))
        return TensorAgreement(stage, tensor, compare, agree, rows, max_abs, rel)
    return TensorAgreement(stage, tensor, compare, None, None, max_abs, rel)


def stage_agreement(
    stage: str, spec, outputs: dict[str, np.ndarray], reference: dict[str, np.ndarray]
) -> list[TensorAgreement]:
    """Every output of one stage against the fp32 reference's outputs."""
    return [
        tensor_agreement(stage, t.name, t.compare, outputs[t.name], reference[t.name])
        for t in spec.outputs
        if t.name in reference
    ]


@dataclass(frozen=True)
class TokenRow:
    """Token agreement on the validation set."""

    name: str
    agree: int
    total: int

    @property
    def rate(self) -> float:
        return self.agree / self.total if self.total else 1.0


@dataclass(frozen=True)
class MetricRow:
    """A task metric on the validation set: this bundle and the fp32 reference against the
    ground truth, and this bundle against the fp32 reference."""

    what: str  # e.g. "full decode: gaze"
    metric: str  # "gaze_mse", "ate_m", "rte_m", "rre_deg", "frames_mae"
    quant_vs_truth: float | None
    fp32_vs_truth: float | None
    quant_vs_fp32: float


@dataclass
class ValidationResult:
    windows: int
    tokens: list[TokenRow] = field(default_factory=list)
    metrics: list[MetricRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _camera_rows(what, est, ref, truth) -> list[MetricRow]:
    from egom2p_edge.metrics import camera_errors

    keys = ("ate_m", "rte_m", "rre_deg")
    acc: dict[str, list[list[float]]] = {k: [[], [], []] for k in keys}
    for w in range(est.shape[0]):
        pairs = ((truth[w], est[w]), (truth[w], ref[w]), (ref[w], est[w]))
        errs = [camera_errors(a.astype(np.float64), b.astype(np.float64)) for a, b in pairs]
        for k in keys:
            for i, e in enumerate(errs):
                acc[k][i].append(e[k])
    return [
        MetricRow(what, k, float(np.mean(q)), float(np.mean(f)), float(np.mean(qf)))
        for k, (q, f, qf) in acc.items()
    ]


def _gaze_row(what, est, ref, truth, valid) -> MetricRow:
    from egom2p_edge.metrics import gaze_mse

    everywhere = np.ones(est.shape[:-1], dtype=bool)
    if not valid.any():
        q = f = None
    else:
        q, f = gaze_mse(truth, est, valid), gaze_mse(truth, ref, valid)
    return MetricRow(what, "gaze_mse", q, f, gaze_mse(ref, est, everywhere))


def evaluate_validation(bundle: Bundle) -> ValidationResult:
    """Run the bundle's graphs on its validation set and compare (see the module docstring)."""
    from egom2p_edge.export.stage_runner import StageRunner
    from egom2p_edge.export.validation_set import read_validation
    from egom2p_edge.export.window_pipeline import run_windows

    spec = bundle.manifest.validation
    windows, ref, _ = read_validation(bundle.root / spec.file)
    got = run_windows(
        StageRunner.for_bundle(bundle), bundle.manifest, windows, ref, seed=spec.decode["seed"]
    )
    res = ValidationResult(len(windows))
    for key, label in _TOKENS.items():
        if key in got and key in ref:
            res.tokens.append(
                TokenRow(label, int(np.count_nonzero(got[key] == ref[key])), int(ref[key].size))
            )
    truth_T, gaze_true = windows.T_window_camera_true, windows.gaze_xy_true
    valid = windows.gaze_valid
    for key, what in (("gaze_xy_recon", "gaze tokenizer round trip"),
                      ("decode_gaze_xy_norm", "full decode: gaze")):  # fmt: skip
        if key in got and key in ref:
            res.metrics.append(_gaze_row(what, got[key], ref[key], gaze_true, valid))
    for key, what in (("cam_T_recon", "camera tokenizer round trip"),
                      ("decode_T_window_camera", "full decode: camera")):  # fmt: skip
        if key in got and key in ref:
            try:
                res.metrics += _camera_rows(what, got[key], ref[key], truth_T)
            except ValueError as exc:  # poses that are not rigid (a broken graph)
                res.notes.append(f"{what}: camera metrics failed: {exc}")
    if names.BACKBONE_ENCODER in bundle.manifest.stages and not any(
        k.startswith("decode_") for k in got
    ):
        res.notes.append(
            "the backbone is not covered (no full decode without the video encoder): only the "
            "golden-input agreement above speaks for it"
        )
    if "frames_decoded" in got and "frames_decoded" in ref:
        d = np.abs(got["frames_decoded"].astype(np.int16) - ref["frames_decoded"].astype(np.int16))
        res.metrics.append(MetricRow("video decoder", "frames_mae", None, None, float(d.mean())))
    return res


def gate_decision(bundle: Bundle, mode: str = "auto") -> tuple[bool, str]:
    """(apply the gate?, why) from the provenance's training status of every component."""
    if mode not in GATE_MODES:
        raise ValueError(f"gate mode must be one of {GATE_MODES}, got {mode!r}")
    comps = bundle.manifest.provenance.get("components", {})
    status = {role: c.get("training", "unknown") for role, c in comps.items()}
    if mode == "always":
        return True, "gate forced (--gate always)"
    if mode == "never":
        return False, "gate off (--gate never)"
    if status and all(s == "trained" for s in status.values()):
        return True, "every component is trained"
    others = sorted(f"{r} ({s})" for r, s in status.items() if s != "trained")
    return False, f"not every component is trained: {', '.join(others) or 'no provenance'}"


def gate_failures(result: ValidationResult, gate: AccuracyGate) -> list[str]:
    """The rows of ``result`` that break ``gate`` (empty: the bundle passes)."""
    fails = []
    for t in result.tokens:
        if t.rate < gate.min_token_agreement:
            fails.append(
                f"{t.name}: {100 * t.rate:.2f}% agree, below {100 * gate.min_token_agreement:.2f}%"
            )
    for m in result.metrics:
        if m.quant_vs_truth is None or m.fp32_vs_truth is None or m.metric == "frames_mae":
            continue
        limit = m.fp32_vs_truth * (1 + gate.max_metric_increase) + gate.slack(m.metric)
        if m.quant_vs_truth > limit:
            fails.append(
                f"{m.what} {m.metric}: {m.quant_vs_truth:.4g} exceeds {limit:.4g} (fp32 "
                f"{m.fp32_vs_truth:.4g} + {100 * gate.max_metric_increase:.0f}% + "
                f"{gate.slack(m.metric):g})"
            )
    return fails


def validation_lines(result: ValidationResult) -> list[str]:
    """A printable report of ``result``."""
    out = [f"validation set: {result.windows} window(s)"]
    for t in result.tokens:
        out.append(f"    {t.name}: {100 * t.rate:.2f}% agree with fp32 ({t.agree}/{t.total})")
    for m in result.metrics:
        if m.metric == "frames_mae":
            out.append(f"    {m.what}: mean |frame diff| vs fp32 {m.quant_vs_fp32:.3f} levels")
            continue
        truth = (
            "no valid ground truth"
            if m.quant_vs_truth is None
            else f"vs truth {m.quant_vs_truth:.4g} (fp32 {m.fp32_vs_truth:.4g})"
        )
        out.append(f"    {m.what} {m.metric}: {truth}; vs fp32 {m.quant_vs_fp32:.4g}")
    out += [f"    note: {n}" for n in result.notes]
    return out
