"""Benchmark of precision on the CPU: per stage, PyTorch eager vs ONNX Runtime fp32 vs ONNX Runtime
int8, side by side in one run, plus bundle and weight sizes.

For each model set (random weights, seed 0; ``write_random_checkpoints``) it exports the fp32
bundle (``cpu-fp32``) and derives from it two int8 variants: ``int8`` (the ``cpu-int8`` stage
set, backbone only, weight MatMuls only: ``--int8-attention none``) and ``int8-qk`` (the
``orin-int8`` stage set, video tokenizer included, with the attention scores ``q k^T`` quantised
too; its backbone graphs are the ``cpu-int8`` preset's), all into ``--work`` (reused when
present, so a rerun only measures). Inputs are one realistic window: a synthetic clip's
frames and ground-truth gaze/poses; the backbone encoder gets the whole rgb grid plus 30 camera
tokens (one guided pass in the middle of decoding), the decoder that context and 10 gaze
queries. Each engine runs one warm-up, then ``--repeats`` timed calls; reported: p50 wall ms,
p50 process CPU ms (the CPU is shared: the steadier number), the int8 speed-up (CPU time), the
int8 error against fp32 (ids agreeing, or relative RMS) and the fp32 graph against PyTorch. Sizes:
stage files, bundles, and the transformer blocks' MatMul weights (int8 with scales vs fp32) with
the embedding tables and other float initializers reported separately. Exit 1 when the fp32
graph is off PyTorch by more than 1e-3 or int8 is off fp32 by more than 10% relative RMS.

  .venv/bin/python benchmarks/bench_precision.py --models ego-tiny ego-b --repeats 3 \\
      --work /tmp/bench_precision --out benchmarks/results/precision_cpu.md
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from timing import repeat_timed

from egom2p_edge.bundle import load_bundle, names

STAGE_INPUT = {
    names.VIDEO_ENCODER: "1 window of frames",
    names.VIDEO_DECODER: "1 window of ids",
    names.CAM_ENCODER: "B=1",
    names.CAM_DECODER: "B=1",
    names.GAZE_ENCODER: "B=1",
    names.GAZE_DECODER: "B=1",
}


def _timed(fn, repeats: int) -> dict[str, float]:
    """Median wall and CPU milliseconds of ``repeats`` calls after a warm-up."""
    wall, cpu = repeat_timed(fn, repeats)
    return {"wall": statistics.median(wall) * 1e3, "cpu": statistics.median(cpu) * 1e3}


def prepare(model: str, work: Path, calibration_clips: int, max_samples: int) -> dict[str, Path]:
    """Checkpoints and the fp32, int8 and int8-qk bundles of ``model`` under ``work`` (reused)."""
    from egom2p_edge.export import components as C
    from egom2p_edge.export.bundle_writer import export_bundle
    from egom2p_edge.export.calibration import CalibrationRequest
    from egom2p_edge.export.precision_bundle import derive_precision_bundle
    from egom2p_edge.export.presets import get_preset
    from egom2p_edge.export.random_models import write_random_checkpoints

    root = work / model
    ckpt = root / "ckpt"
    if not (ckpt / "backbone").exists():
        write_random_checkpoints(ckpt, model, seed=0)
    fp32 = root / "fp32"
    if not (fp32 / names.MANIFEST_FILE).exists():
        comps = {
            C.BACKBONE: C.load_backbone(ckpt / "backbone"),
            C.CAM_TOKENIZER: C.load_traj_tokenizer(ckpt / "cam_tokenizer", "cam"),
            C.GAZE_TOKENIZER: C.load_traj_tokenizer(ckpt / "gaze_tokenizer", "gaze"),
            C.VIDEO_TOKENIZER: C.load_video_tokenizer(ckpt / "video_tokenizer"),
        }
        t0 = time.perf_counter()
        export_bundle(comps, get_preset("cpu-fp32"), fp32)
        print(f"{model}: fp32 export {time.perf_counter() - t0:.0f} s", flush=True)
    cpu, orin = get_preset("cpu-int8"), get_preset("orin-int8")
    variants = {
        "int8": dataclasses.replace(cpu, int8=dataclasses.replace(cpu.int8, attention="none")),
        "int8-qk": dataclasses.replace(
            cpu,
            stage_precision=orin.stage_precision,
            int8=dataclasses.replace(cpu.int8, attention="scores"),
        ),
    }
    paths = {"fp32": fp32}
    for name, preset in variants.items():
        preset = dataclasses.replace(
            preset, int8=dataclasses.replace(preset.int8, max_samples_per_stage=max_samples)
        )
        paths[name] = root / name
        if not (paths[name] / names.MANIFEST_FILE).exists():
            t0 = time.perf_counter()
            request = CalibrationRequest(calibration_clips)
            derive_precision_bundle(fp32, preset, paths[name], request, 0)
            print(f"{model}: {name} derivation {time.perf_counter() - t0:.0f} s", flush=True)
    return paths


def stage_inputs(bundle) -> dict[str, dict[str, np.ndarray]]:
    """One realistic input per stage (module docstring), from the fp32 graphs."""
    from egom2p_edge.export.eval_windows import VALIDATION_SEED_BASE, synthetic_windows
    from egom2p_edge.export.stage_runner import StageRunner

    m = bundle.manifest
    w = synthetic_windows(1, m.video.size, VALIDATION_SEED_BASE)
    run = StageRunner.for_bundle(bundle).run
    feeds = {
        names.VIDEO_ENCODER: {names.FRAMES_UINT8: w.frames_uint8},
        names.CAM_ENCODER: {names.CAM_9D_NORM: w.cam_9d_norm},
        names.GAZE_ENCODER: {names.GAZE_INPUT: w.gaze_input},
    }
    video_ids = run(names.VIDEO_ENCODER, feeds[names.VIDEO_ENCODER])[names.VIDEO_IDS]
    cam_ids = run(names.CAM_ENCODER, feeds[names.CAM_ENCODER])[names.CAM_IDS]
    gaze_ids = run(names.GAZE_ENCODER, feeds[names.GAZE_ENCODER])[names.GAZE_IDS]
    feeds[names.VIDEO_DECODER] = {names.VIDEO_IDS: video_ids}
    feeds[names.CAM_DECODER] = {names.CAM_IDS: cam_ids}
    feeds[names.GAZE_DECODER] = {names.GAZE_IDS: gaze_ids}
    rgb, cam = m.modality("rgb"), m.modality("cam")
    n_rgb = rgb.num_tokens
    ids = np.concatenate([video_ids.reshape(1, -1), cam_ids], axis=1)  # (1, N)
    mod = np.concatenate([np.full((1, n_rgb), rgb.index), np.full((1, 30), cam.index)], axis=1)
    pos = np.concatenate([np.arange(n_rgb), np.arange(30)])[None]
    enc = {
        names.INPUT_IDS: ids.astype(np.int64),
        names.INPUT_MODALITY: mod.astype(np.int64),
        names.INPUT_POSITIONS: pos.astype(np.int64),
        names.INPUT_VALID: np.ones(ids.shape, bool),
    }
    feeds[names.BACKBONE_ENCODER] = enc
    ctx = run(names.BACKBONE_ENCODER, enc)[names.CONTEXT]
    feeds[names.BACKBONE_DECODER] = {
        names.CONTEXT: ctx,
        names.CONTEXT_VALID: enc[names.INPUT_VALID],
        names.TARGET_MODALITY: np.full((1, 10), m.modality("gaze").index, np.int64),
        names.TARGET_POSITIONS: np.arange(10, dtype=np.int64)[None],
    }
    return feeds


def torch_modules(ckpt: Path, m) -> dict[str, torch.nn.Module]:
    from egom2p_edge.export import components as C
    from egom2p_edge.export import stage_modules as sm

    bb = C.load_backbone(ckpt / "backbone").model
    cam = C.load_traj_tokenizer(ckpt / "cam_tokenizer", "cam").model
    gaze = C.load_traj_tokenizer(ckpt / "gaze_tokenizer", "gaze").model
    video = C.load_video_tokenizer(ckpt / "video_tokenizer").model
    frames = m.video.frames
    return {
        names.VIDEO_ENCODER: sm.VideoEncoderStage(video, frames).eval(),
        names.VIDEO_DECODER: sm.VideoDecoderStage(video, frames).eval(),
        names.CAM_ENCODER: sm.TrajEncoderStage(cam).eval(),
        names.CAM_DECODER: sm.CamDecoderStage(cam).eval(),
        names.GAZE_ENCODER: sm.TrajEncoderStage(gaze).eval(),
        names.GAZE_DECODER: sm.GazeDecoderStage(gaze).eval(),
        names.BACKBONE_ENCODER: sm.BackboneEncoderStage(bb).eval(),
        names.BACKBONE_DECODER: sm.BackboneDecoderStage(bb, m.backbone.decoder_targets).eval(),
    }


def _error(a: np.ndarray, b: np.ndarray) -> tuple[str, float]:
    """('ids', agreement) or ('rel', relative RMS) of ``a`` against ``b``."""
    if a.dtype.kind in "iu" and a.dtype != np.uint8:
        return "ids", float(np.mean(a == b))
    x, y = a.astype(np.float64), b.astype(np.float64)
    fin = np.isfinite(x) & np.isfinite(y)
    return "rel", float(np.linalg.norm(x[fin] - y[fin]) / max(np.linalg.norm(y[fin]), 1e-30))


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    x, y = a.astype(np.float64), b.astype(np.float64)
    fin = np.isfinite(x) & np.isfinite(y)
    return float(np.abs(x[fin] - y[fin]).max(initial=0.0))


def _time_stage(x, out_name, open_session, variants, module, repeats) -> dict:
    """Outputs and times of one stage through PyTorch and each ORT variant (``fp32`` first).

    One session at a time: an ego-b encoder session holds gigabytes of arena for its N x N
    attention buffers, so the variants' sessions are never alive together."""
    args = tuple(torch.from_numpy(np.ascontiguousarray(v)) for v in x.values())
    with torch.inference_mode():
        ref = module(*args)
        ref = (ref[0] if isinstance(ref, tuple) else ref).numpy()
        out = {"torch": _timed(lambda: module(*args), repeats)}
    y = {}
    for k in variants:
        session = open_session(k)
        y[k] = session.run([out_name], x)[0]
        out[k] = _timed(lambda s=session: s.run([out_name], x), repeats)
        out[f"err_{k}"] = _error(y[k], y["fp32"])
        del session
    out["err32"] = _max_abs(y["fp32"], ref)
    return out


def _input_label(stage: str, x: dict[str, np.ndarray]) -> str:
    if stage == names.BACKBONE_ENCODER:
        return f"B=1, N={x[names.INPUT_IDS].shape[1]}"
    if stage == names.BACKBONE_DECODER:
        return f"N={x[names.CONTEXT].shape[1]}, M={x[names.TARGET_MODALITY].shape[1]}"
    return STAGE_INPUT[stage]


def measure(model: str, paths: dict[str, Path], repeats: int, stages: list[str] | None) -> dict:
    import onnxruntime as ort

    from egom2p_edge.bundle.sessions import ort_session_options

    bundles = {k: load_bundle(p, check_hashes=False) for k, p in paths.items()}
    m = bundles["fp32"].manifest
    feeds = stage_inputs(bundles["fp32"])
    mods = torch_modules(paths["fp32"].parent / "ckpt", m)
    so = ort_session_options(m.session_options)
    rows = []
    for stage in stages or list(m.stages):
        x = feeds[stage]

        def open_session(k, stage=stage):
            path = str(bundles[k].stage_path(stage))
            return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

        out_name = m.stages[stage].outputs[0].name
        r = _time_stage(x, out_name, open_session, list(bundles), mods[stage], repeats)
        r.update(stage=stage, input=_input_label(stage, x))
        r["precision"] = {k: b.manifest.stage_precision(stage) for k, b in bundles.items()}
        rows.append(r)
        times = ", ".join(f"{k} {r[k]['cpu']:.1f}" for k in ("torch", *bundles))
        print(f"{model} {stage} (CPU ms): {times}", flush=True)
    return {"rows": rows, "sizes": sizes(bundles["fp32"], bundles["int8"])}


def _weight_split(model) -> tuple[int, int]:
    """(MatMul/Gemm/Conv weight bytes, other float initializer bytes) of an fp32 graph."""
    inits = {t.name: len(t.raw_data) for t in model.graph.initializer if t.data_type == 1}
    weights = {i for n in model.graph.node if n.op_type in ("MatMul", "Gemm", "Conv")
               for i in n.input if i in inits}  # fmt: skip
    w = sum(inits[i] for i in weights)
    return w, sum(inits.values()) - w


def _int8_weights(model) -> int:
    """Bytes of the int8 weight initializers plus their DequantizeLinear scales."""
    inits = {t.name: t for t in model.graph.initializer}
    total = 0
    for n in model.graph.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in inits:
            total += len(inits[n.input[0]].raw_data) + len(inits[n.input[1]].raw_data)
    return total


def sizes(b32, b8) -> dict:
    import onnx

    out = {"fp32_total": sum(f.bytes for f in b32.manifest.files),
           "int8_total": sum(f.bytes for f in b8.manifest.files), "stages": []}  # fmt: skip
    for stage, spec in b32.manifest.stages.items():
        row = {
            "stage": stage,
            "fp32": b32.manifest.file(spec.file).bytes,
            "int8": b8.manifest.file(spec.file).bytes,
        }
        if stage in (names.BACKBONE_ENCODER, names.BACKBONE_DECODER):
            w32, other = _weight_split(onnx.load(str(b32.stage_path(stage))))
            row.update(w32=w32, w8=_int8_weights(onnx.load(str(b8.stage_path(stage)))), other=other)
        out["stages"].append(row)
    return out


def _ms(t: dict) -> str:
    return f"{t['wall']:.1f} ({t['cpu']:.1f})"


def _variant_cells(r: dict, k: str) -> tuple[str, bool]:
    """'time | speed-up | error' cells of one int8 variant, and whether its error is tolerable."""
    if r["precision"][k] == "fp32":
        return f"{_ms(r[k])} | (fp32 graph) | same graph", True
    kind, value = r[f"err_{k}"]
    err = f"{100 * value:.2f}% ids agree" if kind == "ids" else f"rel RMS {value:.3g}"
    speed = r["fp32"]["cpu"] / max(r[k]["cpu"], 1e-9)
    return f"{_ms(r[k])} | {speed:.2f}x | {err}", kind == "ids" or value <= 0.10


def report(model: str, res: dict) -> tuple[list[str], bool]:
    lines = [
        f"### {model}",
        "",
        "| stage | input | PyTorch eager ms | ORT fp32 ms | ORT int8 ms | speed-up | error vs "
        "fp32 | ORT int8-qk ms | speed-up | error vs fp32 | fp32 ORT vs PyTorch max abs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for r in res["rows"]:
        cells8, ok8 = _variant_cells(r, "int8")
        cells_qk, ok_qk = _variant_cells(r, "int8-qk")
        lines.append(
            f"| {r['stage']} | {r['input']} | {_ms(r['torch'])} | {_ms(r['fp32'])} | {cells8} | "
            f"{cells_qk} | {r['err32']:.2g} |"
        )
        ok &= r["err32"] <= 1e-3 or r["stage"] == names.VIDEO_DECODER  # uint8 frames: levels
        ok &= ok8 and ok_qk
    s = res["sizes"]
    lines += [
        "",
        "Times: p50 wall ms, process CPU ms in parentheses; speed-ups from CPU times. int8: "
        "backbone int8, weight MatMuls only (`--int8-attention none`). int8-qk: video tokenizer "
        "int8 too and the attention scores q k^T quantised (its backbone graphs are the "
        "cpu-int8 preset's).",
        "",
        "| stage | fp32 file MB | int8 file MB | MatMul weights fp32 MB | int8 MB (with scales) "
        "| ratio | embedding tables + other float MB (not quantised) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in s["stages"]:
        extra = "| | | | |"
        if "w32" in r:
            extra = (f"| {r['w32'] / 1e6:.2f} | {r['w8'] / 1e6:.2f} | {r['w8'] / r['w32']:.3f} "
                     f"| {r['other'] / 1e6:.2f} |")  # fmt: skip
        lines.append(f"| {r['stage']} | {r['fp32'] / 1e6:.2f} | {r['int8'] / 1e6:.2f} {extra}")
    totals = f"fp32 {s['fp32_total'] / 1e6:.1f} MB, int8 {s['int8_total'] / 1e6:.1f} MB"
    lines += ["", f"Bundles: {totals} (with goldens and the int8 bundle's validation file)."]
    return lines, ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["ego-tiny"], help="ego-tiny and/or ego-b")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (ORT: the bundle's 1)")
    ap.add_argument("--work", default="/tmp/bench_precision", help="checkpoints and bundles")
    ap.add_argument("--calibration-clips", type=int, default=2)
    ap.add_argument("--max-samples", type=int, default=16, help="calibration samples per stage")
    ap.add_argument("--stages", nargs="+", help="stages to time (default: all)")
    ap.add_argument("--out", help="also write the markdown report here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    lines, ok = [], True
    for model in args.models:
        paths = prepare(model, Path(args.work), args.calibration_clips, args.max_samples)
        part, part_ok = report(model, measure(model, paths, args.repeats, args.stages))
        lines += part + [""]
        ok &= part_ok
    import onnxruntime

    load_after = os.getloadavg()
    cpu = platform.processor() or platform.machine()
    lines.append(
        f"repeats {args.repeats} (+1 warm-up), torch {torch.__version__} ({args.threads} thread), "
        f"onnxruntime {onnxruntime.__version__} (1 intra-op thread, graph optimisation all), "
        f"{os.cpu_count()} CPUs ({cpu}), load average {load_before[0]:.1f} before / "
        f"{load_after[0]:.1f} after, whole run {time.perf_counter() - t0:.0f} s; "
        f"error tolerances {'ok' if ok else 'EXCEEDED'}"
    )
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
