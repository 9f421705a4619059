"""Exporting one stage to ONNX and checking the graph, trying the preset's exporters in order.

A graph is kept when it passes ``onnx.checker``, loads in ONNX Runtime with the preset's session
options, reproduces the golden outputs (``compare_output``) and reproduces the PyTorch wrapper on
extra inputs along its dynamic axes. Before those checks its graph inputs/outputs get exactly the
manifest's shapes (static sizes, named dynamic axes) and ``egom2p.*`` metadata, and the
clean-ups of ``graph_cleanup`` run (the softmax NaN guards of the attention decomposition).
"""

from __future__ import annotations

import inspect
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from egom2p_edge.bundle import names
from egom2p_edge.bundle.load import check_onnx_graph
from egom2p_edge.bundle.manifest import StageSpec, TensorSpec
from egom2p_edge.bundle.sessions import ort_session_options
from egom2p_edge.export.compare import TensorCheck, compare_output
from egom2p_edge.export.presets import DYNAMO, ExportPreset
from egom2p_edge.export.stage_jobs import StageJob

log = logging.getLogger(__name__)


class ExportFailed(RuntimeError):
    """No exporter produced a correct graph for a stage (the message lists every attempt)."""


@dataclass(frozen=True)
class ExportResult:
    spec: StageSpec
    attempts: list[str]  # "exporter: outcome" per attempt, in order
    checks: list[TensorCheck]  # golden comparisons of the kept graph
    cleanup: dict[str, int] = field(default_factory=dict)  # graph_cleanup changes, by kind


def stage_spec(job: StageJob, exporter: str, opset: int, component: str) -> StageSpec:
    """The manifest description of a stage, its shape symbols resolved with ``job.sizes``."""
    dims = {"B": names.DIM_BATCH, "N": names.DIM_INPUT_TOKENS, "M": names.DIM_TARGET_TOKENS}

    def resolve(doc) -> TensorSpec:
        shape = []
        for sym in doc.shape:
            if sym in dims:
                shape.append(dims[sym])
            elif sym.isdigit():
                shape.append(int(sym))
            else:
                shape.append(int(job.sizes[sym]))
        compare = doc.compare if doc in outs else None
        return TensorSpec(doc.name, doc.dtype, tuple(shape), compare)

    ins, outs = names.STAGE_TENSORS[job.stage]
    return StageSpec(
        job.stage,
        names.stage_file(job.stage),
        component,
        exporter,
        opset,
        tuple(resolve(d) for d in ins),
        tuple(resolve(d) for d in outs),
    )


def _torch_args(arrays: dict[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays.values())


def _run_export(job: StageJob, spec: StageSpec, exporter: str, path: Path) -> None:
    args = _torch_args(job.inputs)
    in_names = [t.name for t in spec.inputs]
    out_names = [t.name for t in spec.outputs]
    common = dict(input_names=in_names, output_names=out_names, opset_version=spec.opset)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # exporter chatter; failures raise
        if exporter == DYNAMO:
            dims: dict[str, torch.export.Dim] = {}
            dyn = tuple(
                {
                    i: dims.setdefault(d, torch.export.Dim(d, min=1))
                    for i, d in enumerate(t.shape)
                    if isinstance(d, str)
                }
                or None
                for t in spec.inputs
            )
            params = list(inspect.signature(job.module.forward).parameters)
            torch.onnx.export(
                job.module,
                args,
                str(path),
                dynamo=True,
                external_data=False,
                verbose=False,
                dynamic_shapes=dict(zip(params, dyn)),
                **common,
            )
        else:
            axes = {
                t.name: {i: d for i, d in enumerate(t.shape) if isinstance(d, str)}
                for t in spec.inputs + spec.outputs
            }
            axes = {k: v for k, v in axes.items() if v}
            torch.onnx.export(
                job.module,
                args,
                str(path),
                dynamo=False,
                dynamic_axes=axes,
                do_constant_folding=True,
                **common,
            )


def _finalise(
    path: Path, spec: StageSpec, extra_meta: dict[str, str] | None = None, cleanup: bool = False
) -> dict[str, int]:
    """Set the graph I/O shapes to the manifest's, add metadata, check and save; with
    ``cleanup`` also run ``graph_cleanup`` (fp32 exports). Returns the clean-up counts."""
    import onnx

    from egom2p_edge.export.graph_cleanup import drop_softmax_nan_guards

    model = onnx.load(str(path))
    changes = {"softmax_nan_guards_removed": drop_softmax_nan_guards(model)} if cleanup else {}
    init = {t.name for t in model.graph.initializer}
    graph_inputs = [vi for vi in model.graph.input if vi.name not in init]
    for vis, specs in ((graph_inputs, spec.inputs), (model.graph.output, spec.outputs)):
        for vi, t in zip(vis, specs):
            shape = vi.type.tensor_type.shape
            shape.ClearField("dim")
            for d in t.shape:
                dim = shape.dim.add()
                if isinstance(d, str):
                    dim.dim_param = d
                else:
                    dim.dim_value = d
    meta = {
        "egom2p.stage": spec.name,
        "egom2p.exporter": spec.exporter,
        "egom2p.bundle_format_version": str(names.FORMAT_VERSION),
        **(extra_meta or {}),
    }
    kept = [p for p in model.metadata_props if p.key not in meta]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    check_onnx_graph(path, spec)
    return changes


finalise_graph = _finalise  # also used for the int8 / fp16 graphs derived from fp32 ones


def _check_graph(job: StageJob, spec: StageSpec, path: Path, preset: ExportPreset):
    """Golden comparisons of the graph, and the wrapper's outputs on the extra inputs."""
    import onnxruntime as ort

    sess = ort.InferenceSession(
        str(path), ort_session_options(preset.session_options), providers=["CPUExecutionProvider"]
    )
    out_names = [t.name for t in spec.outputs]
    got = sess.run(out_names, job.inputs)
    checks = [
        compare_output(t.name, t.compare, g, job.outputs[t.name], preset.tolerances)
        for t, g in zip(spec.outputs, got)
    ]
    problems = [c.line() for c in checks if not c.ok]
    # The wrapper is compared on the extra shapes: a graph specialised to the golden shape
    # fails here even when it reproduces the goldens.
    for k, extra in enumerate(job.extra_inputs):
        with torch.no_grad():
            ref = job.module(*_torch_args(extra))
        ref = ref if isinstance(ref, tuple) else (ref,)
        try:
            got = sess.run(out_names, extra)
        except Exception as exc:  # noqa: BLE001 (ORT raises its own exception types)
            problems.append(f"extra input {k}: ONNX Runtime failed: {str(exc)[:200]}")
            continue
        shapes = {n: list(a.shape) for n, a in extra.items()}
        for t, g, r in zip(spec.outputs, got, ref):
            c = compare_output(t.name, t.compare, g, r.numpy(), preset.tolerances)
            if not c.ok:
                problems.append(f"extra input {k} {shapes}: {c.line()}")
    return checks, problems


def export_stage(job: StageJob, component: str, preset: ExportPreset, path: Path) -> ExportResult:
    """Export ``job`` to ``path`` with the first exporter of the preset that gives a correct
    graph; ExportFailed lists every attempt otherwise."""
    attempts: list[str] = []
    for exporter in preset.exporters[job.stage]:
        spec = stage_spec(job, exporter, preset.opset, component)
        path.unlink(missing_ok=True)
        try:
            _run_export(job, spec, exporter, path)
            cleanup = _finalise(path, spec, cleanup=True)
            checks, problems = _check_graph(job, spec, path, preset)
        except Exception as exc:  # noqa: BLE001 (exporters raise many kinds; we try the next)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            attempts.append(f"{exporter}: export failed ({type(exc).__name__}: {first})")
            log.info("%s: %s exporter failed: %s", job.stage, exporter, first)
            continue
        if problems:
            attempts.append(f"{exporter}: graph rejected ({'; '.join(problems)[:500]})")
            log.info("%s: %s graph rejected: %s", job.stage, exporter, problems)
            continue
        attempts.append(f"{exporter}: ok")
        return ExportResult(spec, attempts, checks, cleanup)
    path.unlink(missing_ok=True)
    raise ExportFailed(
        f"stage {job.stage}: no exporter gave a correct graph: " + " | ".join(attempts)
    )
