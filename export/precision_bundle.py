"""``derive_precision_bundle``: an fp32 bundle -> the same bundle with int8 / fp16 stages.

Steps: check the source is fp32; record calibration feeds with the fp32 graphs (int8 stages
only); write each stage's graph (fp32 copied; int8 by ``quantize_int8``; fp16 by
``convert_fp16``), give it the manifest's I/O shapes and ``egom2p.*`` metadata, check it with the
ONNX checker, the bundle's graph check and the structural precision checks (``graph_precision``);
recompute the golden outputs of reduced stages with ONNX Runtime on the CPU (their own goldens: a
runtime reproduces the graph); store the validation set with the fp32 pipeline's results on it;
write the manifest (the fp32 one plus ``precision`` and ``validation``), validate the folder with
``load_bundle`` and only then move it into place.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from egom2p_edge.bundle import names
from egom2p_edge.bundle.goldens import write_goldens
from egom2p_edge.bundle.load import Bundle, load_bundle
from egom2p_edge.bundle.manifest import ValidationSpec
from egom2p_edge.bundle.precision import (
    GOLDENS_ORT_CPU,
    GOLDENS_PYTORCH,
    PrecisionSpec,
    StagePrecision,
)
from egom2p_edge.bundle.sessions import ort_session_options
from egom2p_edge.export import eval_windows as ew
from egom2p_edge.export.accuracy import TensorAgreement, stage_agreement
from egom2p_edge.export.bundle_writer import (
    bundle_under_construction,
    check_out_folder,
    file_entries,
    write_manifest,
)
from egom2p_edge.export.calibration import CalibrationRequest, collect_calibration
from egom2p_edge.export.onnx_export import ExportFailed, finalise_graph
from egom2p_edge.export.presets import ExportPreset
from egom2p_edge.files import sha256_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeriveSummary:
    bundle: Bundle
    agreement: dict[str, list[TensorAgreement]]  # reduced stage -> outputs vs fp32 on goldens
    total_bytes: int
    fp32_bytes: int


def _check_source(fp32: Bundle) -> None:
    m = fp32.manifest
    reduced = [s for s in m.stages if m.stage_precision(s) != "fp32"]
    if reduced:
        raise ValueError(
            f"{fp32.root} is a {m.preset.name} bundle with reduced stages {reduced}; int8/fp16 "
            f"bundles are made from an fp32 bundle (export with --target cpu-fp32 first)"
        )


def _convert(stage, src, dst, precision, preset, samples) -> tuple[str, dict[str, Any]]:
    import onnx

    from egom2p_edge.export import convert_fp16, graph_precision, quantize_int8

    if precision == "int8":
        details = quantize_int8.quantize_stage(src, dst, samples, preset.int8)
        method = quantize_int8.METHOD
        problems = graph_precision.check_int8(onnx.load(str(dst)), preset.int8)
    else:
        details = convert_fp16.convert_stage(src, dst, preset.fp16)
        method = convert_fp16.METHOD
        fp32 = onnx.load(str(src), load_external_data=False)
        io = {v.name: v.type.tensor_type.elem_type for v in [*fp32.graph.input, *fp32.graph.output]}
        problems = graph_precision.check_fp16(onnx.load(str(dst)), preset.fp16, io)
    if problems:
        raise ExportFailed(
            f"stage {stage}: the {precision} graph is not as intended: " + "; ".join(problems[:5])
        )
    details["graph"] = graph_precision.inspect_graph(onnx.load(str(dst))).summary()
    return method, details


def _own_goldens(path: Path, spec, inputs: dict, preset: ExportPreset) -> dict | str:
    """Outputs of the graph at ``path`` on the golden inputs (ONNX Runtime CPU), or the error."""
    import onnxruntime as ort

    try:
        sess = ort.InferenceSession(
            str(path),
            ort_session_options(preset.session_options),
            providers=["CPUExecutionProvider"],
        )
        outs = [t.name for t in spec.outputs]
        return dict(zip(outs, sess.run(outs, inputs)))
    except Exception as exc:  # noqa: BLE001 (ORT raises its own types: the op lacks a CPU kernel)
        return f"{type(exc).__name__}: {str(exc)[:300]}"


def _validation(fp32: Bundle, count: int, seed: int, progress) -> tuple[Any, dict]:
    from egom2p_edge.export.stage_runner import StageRunner
    from egom2p_edge.export.window_pipeline import run_windows

    m = fp32.manifest
    size = m.video.size if m.video is not None else None
    samples = m.trajectory.samples if m.trajectory is not None else 60
    windows = ew.synthetic_windows(count, size, ew.VALIDATION_SEED_BASE, samples, progress)
    reference = run_windows(StageRunner.for_bundle(fp32), m, windows, seed=seed)
    return windows, reference


def _reference_record(fp32: Bundle, label: str | None) -> dict[str, Any]:
    m = fp32.manifest
    return {
        "bundle": label or str(fp32.root),
        "manifest_sha256": sha256_file(fp32.root / names.MANIFEST_FILE),
        "created_utc": m.created_utc,
        "preset": m.preset.name,
        "stage_sha256": {s: m.file(spec.file).sha256 for s, spec in m.stages.items()},
    }


def derive_precision_bundle(
    fp32_path: str | Path,
    preset: ExportPreset,
    out: str | Path,
    calibration: CalibrationRequest | None = None,
    validation_windows: int | None = None,
    seed: int = 0,
    progress: Any = None,
    source_label: str | None = None,
) -> DeriveSummary:
    """Write the ``preset`` version of the fp32 bundle ``fp32_path`` to ``out`` (module docstring).

    calibration: where int8 calibration windows come from (default: the preset's number of
    synthetic clips); validation_windows: windows stored for ``egom2p verify`` (default: the
    preset's; 0: none); seed: of the decoding runs; source_label: how the manifest names the
    source (default its path). ValueError / ExportFailed on failure; ``out`` is untouched then.
    """
    fp32 = load_bundle(fp32_path)
    _check_source(fp32)
    m = fp32.manifest
    out = Path(out)
    check_out_folder(out)
    if out.resolve() == fp32.root.resolve():
        raise ValueError(f"--out {out} is the fp32 source bundle; write to another folder")
    reduced = {s: preset.precision_of(s) for s in m.stages if preset.precision_of(s) != "fp32"}
    int8 = [s for s, p in reduced.items() if p == "int8"]
    n_val = preset.validation_windows if validation_windows is None else validation_windows
    samples: dict[str, list] = {}
    cal_record = None
    if int8:
        request = calibration or CalibrationRequest(preset.calibration_clips)
        if progress is not None:
            progress.set_description("calibration")
        samples, cal_record = collect_calibration(
            fp32,
            int8,
            request,
            preset.int8.max_samples_per_stage,
            seed,
            max_tokens=preset.int8.max_calibration_tokens,
        )
        cal_record["method"] = preset.int8.calibrate_method
    with bundle_under_construction(out) as tmp:
        goldens = fp32.goldens()
        fp32_goldens: dict[str, dict[str, np.ndarray]] = {}
        stages: dict[str, StagePrecision] = {}
        agreement: dict[str, list[TensorAgreement]] = {}
        for stage, spec in m.stages.items():
            if progress is not None:
                progress.set_description(stage)
            src, dst = fp32.stage_path(stage), tmp / spec.file
            precision = preset.precision_of(stage)
            if precision == "fp32":
                shutil.copyfile(src, dst)
                stages[stage] = StagePrecision("fp32", "none", GOLDENS_PYTORCH, {})
            else:
                method, details = _convert(stage, src, dst, precision, preset, samples.get(stage))
                # I/O shapes and metadata as the manifest says; the ONNX checker; check_onnx_graph
                finalise_graph(dst, spec, {"egom2p.precision": precision})
                inputs = {t.name: goldens[stage][t.name] for t in spec.inputs}
                ref = {t.name: goldens[stage][t.name] for t in spec.outputs}
                own = _own_goldens(dst, spec, inputs, preset)
                fp32_goldens[stage] = ref
                if isinstance(own, str):
                    details["onnxruntime_cpu"] = f"cannot run here: {own}"
                    stages[stage] = StagePrecision(precision, method, GOLDENS_PYTORCH, details)
                else:
                    goldens[stage] = {**inputs, **own}
                    agreement[stage] = stage_agreement(stage, spec, own, ref)
                    stages[stage] = StagePrecision(precision, method, GOLDENS_ORT_CPU, details)
            if progress is not None:
                progress.update(1)
        write_goldens(tmp / names.GOLDENS_FILE, goldens)
        # The validation file always holds the fp32 outputs on the golden inputs; windows (and
        # the fp32 pipeline's results on them) only when asked for.
        from egom2p_edge.export.validation_set import write_validation
        from egom2p_edge.export.window_pipeline import decode_possible, decode_settings

        windows, reference = None, {}
        if n_val > 0:
            if progress is not None:
                progress.set_description("validation set")
            windows, reference = _validation(fp32, n_val, seed, None)
        write_validation(tmp / names.VALIDATION_FILE, windows, reference, fp32_goldens)
        decode = decode_settings(m, seed) if decode_possible(m) else {"seed": seed}
        validation = ValidationSpec(
            names.VALIDATION_FILE,
            0 if windows is None else len(windows),
            {} if windows is None else windows.source,
            decode,
            preset.gate,
        )
        if progress is not None:
            progress.update(1)
        files = file_entries(tmp)
        provenance = json.loads(json.dumps(m.provenance))
        provenance.setdefault("export", {})["precision"] = {
            "target": preset.name,
            "derived_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seed": seed,
        }
        manifest = dataclasses.replace(
            m,
            created_utc=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            preset=preset.info(),
            session_options=preset.session_options,
            tolerances=preset.tolerances,
            files=files,
            provenance=provenance,
            precision=PrecisionSpec(
                preset.precision, stages, cal_record, _reference_record(fp32, source_label)
            ),
            validation=validation,
            engines=(),
        )
        write_manifest(tmp, manifest)
    bundle = load_bundle(out, check_hashes=False)
    total = sum(f.bytes for f in manifest.files)
    fp32_total = sum(f.bytes for f in m.files)
    log.info("wrote %s bundle %s (%d bytes)", preset.name, out, total)
    return DeriveSummary(bundle, agreement, total, fp32_total)
