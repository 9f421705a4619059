"""Verify a bundle: every stage through ONNX Runtime against the goldens stored in the bundle.

The bundle is validated first (magic string, format version, every file's size and sha256, each
stage's graph inputs and outputs). Each stage then runs on its golden inputs with the bundle's
session options; float outputs (logits, latents, poses, gaze) must lie within the bundle's
tolerance (1e-4 for fp32), token ids and argmax tokens must be identical, decoded frames within
one uint8 level. Prints a report per stage; the exit code is 1 when any stage fails, 2 when the
bundle itself is invalid.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", metavar="BUNDLE", help="bundle folder (made by egom2p export)")
    parser.add_argument(
        "--engine",
        choices=("onnxruntime", "native"),
        default="onnxruntime",
        help="run the stages through Python ONNX Runtime (default) or the C++ engine",
    )


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from egom2p_edge.bundle.load import BundleError, read_manifest
    from egom2p_edge.export.verify import verify_bundle

    try:
        n_stages = len(read_manifest(args.bundle).stages)
    except (BundleError, FileNotFoundError) as exc:
        print(f"egom2p verify: invalid bundle: {exc}", file=sys.stderr)
        return 2
    with tqdm(total=n_stages, unit="stage", desc="verify", file=sys.stderr) as bar:
        try:
            report = verify_bundle(args.bundle, args.engine, progress=bar)
        except (BundleError, FileNotFoundError, ValueError) as exc:
            bar.close()
            print(f"egom2p verify: invalid bundle: {exc}", file=sys.stderr)
            return 2
    for stage in report.stages:
        print("\n".join(stage.lines()))
    failed = [s.stage for s in report.stages if not s.ok]
    if failed:
        print(
            f"FAILED: {len(failed)} of {len(report.stages)} stages of {args.bundle} "
            f"({', '.join(failed)}) do not match their goldens ({args.engine})"
        )
        return 1
    print(
        f"verified {len(report.stages)} stages of {args.bundle} against their goldens "
        f"({args.engine}): all pass"
    )
    return 0
