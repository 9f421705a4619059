"""Verify a bundle: every stage through ONNX Runtime against the goldens stored in the bundle.

The bundle is validated first (magic string, format version, every file's size and sha256, each
stage's graph inputs and outputs). Each stage then runs on its golden inputs with the bundle's
session options; float outputs (logits, latents, poses, gaze) must lie within the bundle's
tolerance (1e-4 for fp32), token ids and argmax tokens must be identical, decoded frames within
one uint8 level. Prints a report per stage; the exit code is 1 when any stage fails, 2 when the
bundle itself is invalid.

Reduced-precision bundles (int8, fp16): the goldens of a reduced stage are its own graph's ONNX
Runtime outputs; the report adds the structural checks of each reduced graph, its agreement with
the fp32 reference on the golden inputs, and on the validation set stored in the bundle the token
agreement of the tokenizers and of the full decode and the task metrics (gaze MSE, camera
ATE/RTE/RRE) against the ground truth and against the fp32 pipeline. The accuracy gate (token
agreement >= 99% and metrics within 10% of fp32 unless overridden) applies when the provenance
says every component is trained; for random weights the numbers are reported only (--gate
always / never overrides). A failed gate exits with 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", metavar="BUNDLE", help="bundle folder (made by egom2p export)")
    parser.add_argument(
        "--engine",
        choices=("onnxruntime", "native", "onnxruntime-cuda", "tensorrt"),
        default="onnxruntime",
        help="run the stages through Python ONNX Runtime (default), the C++ engine, ONNX "
        "Runtime's CUDA provider (onnxruntime-gpu) or the bundle's TensorRT engines",
    )
    parser.add_argument(
        "--gate",
        choices=("auto", "always", "never"),
        default="auto",
        help="accuracy gate of reduced bundles: auto (when every component is trained), "
        "always, never",
    )
    parser.add_argument(
        "--min-token-agreement",
        type=float,
        metavar="F",
        help="gate: smallest token agreement with fp32, in [0, 1] (default: the bundle's, 0.99)",
    )
    parser.add_argument(
        "--max-metric-increase",
        type=float,
        metavar="F",
        help="gate: largest relative increase of a task metric over fp32 (default: 0.10)",
    )
    parser.add_argument(
        "--skip-validation",
        action="store_true",
        help="reduced bundles: do not decode the stored validation set (faster; no gate)",
    )


def _gate(args: argparse.Namespace, manifest):
    """The manifest's gate with the command-line overrides (None: nothing to override)."""
    if args.min_token_agreement is None and args.max_metric_increase is None:
        return None
    base = manifest.validation.gate if manifest.validation is not None else None
    from egom2p_edge.bundle.manifest import AccuracyGate

    base = base or AccuracyGate()
    changes = {}
    if args.min_token_agreement is not None:
        changes["min_token_agreement"] = args.min_token_agreement
    if args.max_metric_increase is not None:
        changes["max_metric_increase"] = args.max_metric_increase
    return dataclasses.replace(base, **changes)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from egom2p_edge.bundle.load import BundleError, read_manifest
    from egom2p_edge.export.verify import verify_bundle

    try:
        manifest = read_manifest(args.bundle)
        gate = _gate(args, manifest)
    except (BundleError, FileNotFoundError) as exc:
        print(f"egom2p verify: invalid bundle: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"egom2p verify: {exc}", file=sys.stderr)
        return 2
    with tqdm(total=len(manifest.stages), unit="stage", desc="verify", file=sys.stderr) as bar:
        try:
            report = verify_bundle(
                args.bundle,
                args.engine,
                progress=bar,
                gate_mode=args.gate,
                gate=gate,
                run_validation=not args.skip_validation,
            )
        except (BundleError, FileNotFoundError, ValueError) as exc:
            bar.close()
            print(f"egom2p verify: invalid bundle: {exc}", file=sys.stderr)
            return 2
    for stage in report.stages:
        print("\n".join(stage.lines()))
    if report.precision is not None:
        print("\n".join(report.precision.lines()))
    failed = [s.stage for s in report.stages if not s.ok]
    if failed:
        print(
            f"FAILED: {len(failed)} of {len(report.stages)} stages of {args.bundle} "
            f"({', '.join(failed)}) do not match their goldens ({args.engine})"
        )
        return 1
    if report.precision is not None and not report.precision.ok:
        print(f"FAILED: {args.bundle} ({manifest.preset.name}) fails its precision checks")
        return 1
    extra = ""
    if report.precision is not None:
        gated = "accuracy gate passed" if report.precision.gate_applied else "accuracy reported"
        extra = f"; structure as intended, {gated}"
    print(
        f"verified {len(report.stages)} stages of {args.bundle} against their goldens "
        f"({args.engine}): all pass{extra}"
    )
    return 0
