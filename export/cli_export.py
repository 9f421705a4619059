"""Export the model to a bundle: one ONNX file per stage, bundle.json and golden tensors.

Components (each optional, at least one of them):
  --model PATH            the EgoM2P backbone: our checkpoint format or an official .pth
  --cam-tokenizer PATH    camera VQ-VAE: our format or an official .pth
  --gaze-tokenizer PATH   gaze VQ-VAE: our format or an official .pth
  --video-tokenizer PATH  video tokenizer: our format, or a folder with the released
                          Cosmos encoder.jit + decoder.jit
Stages exported: video_encoder/video_decoder, cam_encoder/cam_decoder, gaze_encoder/gaze_decoder
for the tokenizers given, backbone_encoder/backbone_decoder for --model. Components that do not
fit together (a backbone vocabulary smaller than a tokenizer's codebook, another token grid or
token count) are refused with a message naming both. Golden input/output pairs computed with the
PyTorch reference go into the bundle; check it with `egom2p verify DIR`.

Reduced precision (--target cpu-int8, orin-int8, orin-fp16, gpu-fp16): the stages are exported
in fp32 first (or taken from an fp32 bundle with --from-bundle DIR), then the backbone graphs
(and the video tokenizer's for orin-* / gpu-*) get their precision in the graph: int8 as
symmetric Q/DQ calibrated on windows
the fp32 pipeline runs (synthetic clips by default, --calibration-data DIR for a clip dataset),
fp16 with LayerNorm, softmax and the residual adds kept fp32. A validation set (synthetic
windows with ground truth and the fp32 pipeline's results) is stored in the bundle for
`egom2p verify`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from egom2p_edge.export.presets import ATTENTION_MODES, PRESETS

    parser.add_argument("--model", metavar="PATH", help="backbone checkpoint (ours or .pth)")
    parser.add_argument("--cam-tokenizer", metavar="PATH", help="camera tokenizer checkpoint")
    parser.add_argument("--gaze-tokenizer", metavar="PATH", help="gaze tokenizer checkpoint")
    parser.add_argument(
        "--video-tokenizer", metavar="PATH", help="video tokenizer (ours, or a jit folder)"
    )
    parser.add_argument(
        "--target",
        required=True,
        metavar="PRESET",
        choices=sorted(PRESETS),
        help=f"export preset: {', '.join(sorted(PRESETS))}",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="bundle folder to write")
    parser.add_argument(
        "--from-bundle",
        metavar="DIR",
        help="derive the --target bundle from this fp32 bundle instead of exporting components",
    )
    parser.add_argument(
        "--calibration-data",
        metavar="DIR",
        help="int8 calibration clips from this clip dataset (default: synthetic clips)",
    )
    parser.add_argument(
        "--calibration-clips",
        type=int,
        metavar="N",
        help="clips (2-s windows) to calibrate int8 stages on (default: the preset's, 4)",
    )
    parser.add_argument(
        "--validation-windows",
        type=int,
        metavar="N",
        help="synthetic validation windows stored in a reduced bundle (default: the preset's, 2)",
    )
    parser.add_argument(
        "--int8-attention",
        choices=ATTENTION_MODES,
        help="int8 targets: attention products quantised: none, scores (q k^T), all "
        "(default: the preset's; cpu-int8 scores, orin-int8 none)",
    )


def print_export_table(summary, comps: dict) -> None:
    """The per-stage table of an fp32 export and the components' sources."""
    print(f"{'stage':<18} {'exporter':<12} {'MB':>8}  golden check")
    for stage, res in summary.results.items():
        size = summary.bundle.manifest.file(res.spec.file).bytes / 1e6
        checks = "; ".join(c.line() for c in res.checks)
        print(f"{stage:<18} {res.spec.exporter:<12} {size:>8.2f}  {checks}")
    for role, comp in comps.items():
        print(f"{role}: {comp.source} ({comp.source_format}, {comp.training})")


def _load(args: argparse.Namespace) -> dict:
    from egom2p_edge.export import components as C

    comps = {}
    if args.model:
        comps[C.BACKBONE] = C.load_backbone(args.model)
    if args.cam_tokenizer:
        comps[C.CAM_TOKENIZER] = C.load_traj_tokenizer(args.cam_tokenizer, "cam")
    if args.gaze_tokenizer:
        comps[C.GAZE_TOKENIZER] = C.load_traj_tokenizer(args.gaze_tokenizer, "gaze")
    if args.video_tokenizer:
        comps[C.VIDEO_TOKENIZER] = C.load_video_tokenizer(args.video_tokenizer)
    return comps


def _has_components(args: argparse.Namespace) -> bool:
    return bool(args.model or args.cam_tokenizer or args.gaze_tokenizer or args.video_tokenizer)


def _argument_problem(args: argparse.Namespace, preset) -> str | None:
    reduced = preset.reduced
    if args.from_bundle and _has_components(args):
        return "give either --from-bundle or checkpoints (--model, tokenizers), not both"
    if args.from_bundle and not reduced:
        return f"--from-bundle derives reduced-precision bundles; --target {args.target} is fp32"
    if not args.from_bundle and not _has_components(args):
        return "nothing to export; give --model and/or a tokenizer"
    if args.calibration_clips is not None and args.calibration_clips < 1:
        return f"--calibration-clips must be >= 1, got {args.calibration_clips}"
    if args.validation_windows is not None and args.validation_windows < 0:
        return f"--validation-windows must be >= 0, got {args.validation_windows}"
    extras = (args.calibration_data, args.calibration_clips, args.validation_windows)
    if not reduced and any(x is not None for x in extras):
        return f"--target {args.target} is fp32: calibration and validation options do not apply"
    has_int8 = any(preset.precision_of(s) == "int8" for s in preset.stage_precision)
    int8_only = (args.calibration_data, args.calibration_clips, args.int8_attention)
    if not has_int8 and any(x is not None for x in int8_only):
        return (
            f"--target {args.target} has no int8 stage: calibration and int8 options do not apply"
        )
    return None


def _quiet_loggers() -> None:
    # The exporters log every graph rewrite at INFO (set after importing torch, whose logging
    # setup resets these loggers); keep the command's output readable.
    for name in ("onnx_ir", "onnxscript", "torch.export", "torch._dynamo"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed"
    logging.getLogger("onnxruntime.transformers.float16").setLevel(logging.WARNING)


def run(args: argparse.Namespace) -> int:
    from egom2p_edge.export.presets import get_preset

    preset = get_preset(args.target)
    problem = _argument_problem(args, preset)
    if problem:
        print(f"egom2p export: {problem}", file=sys.stderr)
        return 2
    if args.int8_attention is not None:
        int8 = dataclasses.replace(preset.int8, attention=args.int8_attention)
        preset = dataclasses.replace(preset, int8=int8)
    if preset.reduced:
        from egom2p_edge.export.cli_export_precision import run_reduced

        return run_reduced(args, preset, _load if _has_components(args) else None, _quiet_loggers)
    from tqdm import tqdm

    from egom2p_edge.export.bundle_writer import export_bundle
    from egom2p_edge.export.layout import plan_bundle
    from egom2p_edge.export.onnx_export import ExportFailed

    _quiet_loggers()
    try:
        comps = _load(args)
        plan = plan_bundle(comps)  # refuses misfits before any export work
        with tqdm(total=len(plan.stages), unit="stage", desc="export", file=sys.stderr) as bar:
            summary = export_bundle(comps, preset, args.out, progress=bar)
    except (ValueError, FileNotFoundError, ExportFailed) as exc:
        print(f"egom2p export: {exc}", file=sys.stderr)
        return 1
    print_export_table(summary, comps)
    print(
        f"wrote bundle {args.out}: {len(summary.results)} stages ({', '.join(summary.results)}), "
        f"{summary.total_bytes / 1e6:.1f} MB, target {preset.name}"
    )
    return 0
