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
"""

from __future__ import annotations

import argparse
import logging
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from egom2p_edge.export.presets import PRESETS

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


def run(args: argparse.Namespace) -> int:
    if not (args.model or args.cam_tokenizer or args.gaze_tokenizer or args.video_tokenizer):
        print("egom2p export: nothing to export; give --model and/or a tokenizer", file=sys.stderr)
        return 2
    from tqdm import tqdm

    from egom2p_edge.export.bundle_writer import export_bundle
    from egom2p_edge.export.layout import plan_bundle
    from egom2p_edge.export.onnx_export import ExportFailed
    from egom2p_edge.export.presets import get_preset

    # The exporters log every graph rewrite at INFO (set after importing torch, whose logging
    # setup resets these loggers); keep the command's output readable.
    for name in ("onnx_ir", "onnxscript", "torch.export", "torch._dynamo"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed"
    preset = get_preset(args.target)
    try:
        comps = _load(args)
        plan = plan_bundle(comps)  # refuses misfits before any export work
        with tqdm(total=len(plan.stages), unit="stage", desc="export", file=sys.stderr) as bar:
            summary = export_bundle(comps, preset, args.out, progress=bar)
    except (ValueError, FileNotFoundError, ExportFailed) as exc:
        print(f"egom2p export: {exc}", file=sys.stderr)
        return 1
    print(f"{'stage':<18} {'exporter':<12} {'MB':>8}  golden check")
    for stage, res in summary.results.items():
        size = summary.bundle.manifest.file(res.spec.file).bytes / 1e6
        checks = "; ".join(c.line() for c in res.checks)
        print(f"{stage:<18} {res.spec.exporter:<12} {size:>8.2f}  {checks}")
    for role, comp in comps.items():
        print(f"{role}: {comp.source} ({comp.source_format}, {comp.training})")
    print(
        f"wrote bundle {args.out}: {len(summary.results)} stages ({', '.join(summary.results)}), "
        f"{summary.total_bytes / 1e6:.1f} MB, target {preset.name}"
    )
    return 0
