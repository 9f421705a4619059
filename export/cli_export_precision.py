"""``egom2p export`` for reduced-precision targets (int8, fp16): fp32 export, then derivation.

With checkpoints the fp32 bundle is exported into a temporary folder beside ``--out`` (removed
afterwards); with ``--from-bundle`` an existing fp32 bundle is the source. Prints the fp32
export table (when it ran), then one row per stage: precision, how it was made, size, and its
outputs on the golden inputs against the fp32 reference.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import uuid
from collections.abc import Callable
from pathlib import Path


def _derive(args, preset, source: Path, label: str | None):
    from tqdm import tqdm

    from egom2p_edge.bundle.load import read_manifest
    from egom2p_edge.export.calibration import CalibrationRequest
    from egom2p_edge.export.precision_bundle import derive_precision_bundle

    n_stages = len(read_manifest(source).stages)
    request = None
    if args.calibration_data or args.calibration_clips:
        clips = args.calibration_clips or preset.calibration_clips or 4
        data = Path(args.calibration_data) if args.calibration_data else None
        request = CalibrationRequest(clips, data)
    with tqdm(total=n_stages + 1, unit="step", desc="precision", file=sys.stderr) as bar:
        return derive_precision_bundle(
            source,
            preset,
            args.out,
            request,
            args.validation_windows,
            progress=bar,
            source_label=label,
        )


def _print_summary(summary, preset) -> None:
    m = summary.bundle.manifest
    print(f"{'stage':<18} {'precision':<10} {'MB':>8}  outputs on the golden inputs vs fp32")
    for stage, sp in m.precision.stages.items():
        size = m.file(m.stages[stage].file).bytes / 1e6
        rows = summary.agreement.get(stage)
        if sp.precision == "fp32":
            what = "unchanged (fp32)"
        elif rows is None:
            what = f"not runnable by ONNX Runtime here ({sp.details.get('onnxruntime_cpu', '')})"
        else:
            what = "; ".join(r.line().split(": ", 1)[1] for r in rows)
        print(f"{stage:<18} {sp.precision:<10} {size:>8.2f}  {what}")
    cal = m.precision.calibration
    if cal is not None:
        src = cal["windows"]
        where = src.get("path") or f"synthetic seeds {src.get('seeds')}"
        print(f"calibration: {len(src.get('seeds') or src.get('clip_ids'))} clips ({where}), "
              f"{cal['method']}, samples per stage {cal['samples_used']}")  # fmt: skip
    if m.validation is not None and m.validation.windows:
        print(f"validation set: {m.validation.windows} synthetic windows in {m.validation.file}")


def run_reduced(
    args: argparse.Namespace,
    preset,
    load: Callable[[argparse.Namespace], dict] | None,
    quiet: Callable[[], None],
) -> int:
    """Export for a reduced-precision preset (module docstring). ``load``: the checkpoint
    loader of ``cli_export`` (None with ``--from-bundle``)."""
    from tqdm import tqdm

    from egom2p_edge.bundle.load import BundleError
    from egom2p_edge.export.onnx_export import ExportFailed
    from egom2p_edge.export.presets import get_preset

    quiet()
    out = Path(args.out)
    tmp = None
    try:
        if load is None:
            source = Path(args.from_bundle)
        else:
            from egom2p_edge.export.bundle_writer import check_out_folder, export_bundle
            from egom2p_edge.export.cli_export import print_export_table
            from egom2p_edge.export.layout import plan_bundle

            check_out_folder(out)  # refuse a bad --out before the long fp32 export
            comps = load(args)
            plan = plan_bundle(comps)
            tmp = out.with_name(f".{out.name}.fp32-{os.getpid()}-{uuid.uuid4().hex[:6]}")
            with tqdm(total=len(plan.stages), unit="stage", desc="export", file=sys.stderr) as bar:
                fp32 = export_bundle(comps, get_preset("cpu-fp32"), tmp, progress=bar)
            print_export_table(fp32, comps)
            source = tmp
        label = None if tmp is None else "fp32 export of the same run (not kept)"
        summary = _derive(args, preset, source, label)
    except (ValueError, FileNotFoundError, ExportFailed, BundleError) as exc:
        print(f"egom2p export: {exc}", file=sys.stderr)
        return 1
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    _print_summary(summary, preset)
    m = summary.bundle.manifest
    print(
        f"wrote bundle {args.out}: {len(m.stages)} stages ({', '.join(m.stages)}), "
        f"{summary.total_bytes / 1e6:.1f} MB (fp32 {summary.fp32_bytes / 1e6:.1f} MB), target "
        f"{preset.name}; check it with egom2p verify {args.out}"
    )
    return 0
