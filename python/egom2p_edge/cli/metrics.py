"""Score predictions with the paper's metrics: camera ATE/RTE/RRE, gaze MSE, depth AbsRel/delta.

  egom2p metrics camera PAIR.npz [PAIR.npz ...]    (N,4,4) camera-to-world poses
  egom2p metrics camera GT.npy EST.npy             (N,4,4) each, frame k matched to frame k
  egom2p metrics camera GT.txt EST.txt             TUM text `t tx ty tz qx qy qz qw`, associated
                                                   by nearest timestamp (--max-diff-s)
  egom2p metrics gaze PAIR.npz ... | GT.npy EST.npy [--valid MASK.npy]    (N,2) or (B,N,2)
  egom2p metrics depth PAIR.npz ... | GT.npy EST.npy [--valid MASK.npy]   (H,W) or (T,H,W)

Keys tried in a PAIR.npz, in order (override with --gt-key/--est-key):
  camera: gt_c2w/est_c2w, T_world_camera_gt/T_world_camera_est, gt/est
  gaze:   gaze_gt/gaze_est, gt/est        depth: depth_gt/depth_est, gt/est
and `valid` (per gaze row / per depth pixel) when present (--valid-key to rename).

Poses are used as given; --canonical first makes each trajectory relative to its own first pose
(EgoM2P convention). Prints a table, or only JSON with --json; --out also writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CAMERA_CHOICES = ("none", "se3", "sim3", "rotation")
DEPTH_CHOICES = ("none", "depth", "inverse")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="kind", metavar="{camera,gaze,depth}", required=True)
    helps = {
        "camera": "ATE (aligned as chosen), RTE, RRE of camera-to-world trajectories",
        "gaze": "MSE of normalised gaze over valid rows",
        "depth": "AbsRel and delta<1.25 of depth maps or videos",
    }
    for kind, text in helps.items():
        p = sub.add_parser(
            kind,
            help=text,
            description=f"{text}.\n\n{__doc__}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "files", nargs="+", metavar="FILE", help="PAIR.npz file(s), or exactly GT EST"
        )
        p.add_argument("--gt-key", help="ground-truth array name inside PAIR.npz")
        p.add_argument("--est-key", help="estimate array name inside PAIR.npz")
        p.add_argument("--json", action="store_true", help="print the results as JSON only")
        p.add_argument("--out", type=Path, help="also write the JSON results to this file")
        if kind == "camera":
            p.add_argument(
                "--align",
                choices=(*CAMERA_CHOICES, "all"),
                default="all",
                help="ATE alignment (default: all four)",
            )
            p.add_argument(
                "--max-diff-s",
                type=float,
                default=0.01,
                help="TUM files: largest timestamp difference of an associated pair (s)",
            )
            p.add_argument(
                "--canonical",
                action="store_true",
                help="make each trajectory relative to its own first pose before scoring",
            )
        else:
            p.add_argument("--valid-key", help="validity mask name inside PAIR.npz")
            p.add_argument("--valid", type=Path, help="with GT EST: a validity mask .npy")
        if kind == "depth":
            p.add_argument(
                "--align",
                choices=(*DEPTH_CHOICES, "all"),
                default="all",
                help="scale/shift fit of the estimate: none, depth, inverse (default: all)",
            )


def _inputs(args: argparse.Namespace) -> list[tuple[Path, Path | None]]:
    """The (pair file, None) or (gt file, est file) jobs named on the command line."""
    files = [Path(f) for f in args.files]
    if all(f.suffix == ".npz" for f in files):
        return [(f, None) for f in files]
    if len(files) == 2 and not any(f.suffix == ".npz" for f in files):
        return [(files[0], files[1])]
    raise ValueError(
        "give one or more PAIR.npz files, or exactly two files GT EST (.npy, or TUM text for "
        f"camera); got {', '.join(map(str, files))}"
    )


def _camera_job(args, path: Path, est_path: Path | None) -> dict:
    from egom2p_edge.metrics import camera_errors
    from egom2p_edge.metrics.io import (
        associate_timestamps,
        load_array,
        load_pair,
        read_tum,
        relative_to_first,
    )

    entry: dict = {"gt": str(path), "est": str(est_path or path)}
    if est_path is None:
        gt, est, _ = load_pair(path, "camera", args.gt_key, args.est_key)
    elif path.suffix == ".npy" and est_path.suffix == ".npy":
        gt, est = load_array(path), load_array(est_path)
    elif path.suffix != ".npy" and est_path.suffix != ".npy":
        t_gt, gt = read_tum(path)
        t_est, est = read_tum(est_path)
        i_gt, i_est = associate_timestamps(t_gt, t_est, args.max_diff_s)
        entry["association"] = {
            "n_gt": len(t_gt),
            "n_est": len(t_est),
            "n_associated": len(i_gt),
            "max_diff_s": float(abs(t_gt[i_gt] - t_est[i_est]).max()),
        }
        gt, est = gt[i_gt], est[i_est]
    else:
        raise ValueError(
            f"{path} and {est_path}: give two .npy arrays or two TUM text files, not a mix"
        )
    if args.canonical:
        from egom2p_edge.metrics.rotations import check_poses

        gt = relative_to_first(check_poses("T_world_camera_gt", gt))
        est = relative_to_first(check_poses("T_world_camera_est", est))
    aligns = CAMERA_CHOICES if args.align == "all" else (args.align,)
    entry["n_poses"] = int(len(gt))
    entry["errors"] = {a: camera_errors(gt, est, align=a) for a in aligns}
    return entry


def _pair_arrays(args, path: Path, est_path: Path | None, kind: str):
    from egom2p_edge.metrics.io import load_array, load_pair

    if est_path is None:
        if args.valid is not None:
            raise ValueError("--valid goes with GT EST .npy files; a PAIR.npz carries `valid`")
        return load_pair(path, kind, args.gt_key, args.est_key, args.valid_key)
    valid = load_array(args.valid) if args.valid is not None else None
    return load_array(path), load_array(est_path), valid


def _gaze_job(args, path: Path, est_path: Path | None) -> dict:
    import numpy as np

    from egom2p_edge.metrics import gaze_mse

    gt, est, valid = _pair_arrays(args, path, est_path, "gaze")
    entry: dict = {"gt": str(path), "est": str(est_path or path)}
    entry["gaze_mse"] = gaze_mse(gt, est, valid)
    if np.ndim(gt) == 3:  # (B, N, 2): also one value per clip
        per_clip = []
        for b in range(gt.shape[0]):
            try:
                per_clip.append(gaze_mse(gt[b], est[b], None if valid is None else valid[b]))
            except ValueError:
                per_clip.append(None)  # a clip without valid rows has no MSE
        entry["per_clip"] = per_clip
    return entry


def _depth_job(args, path: Path, est_path: Path | None) -> dict:
    from egom2p_edge.metrics import depth_errors

    gt, est, valid = _pair_arrays(args, path, est_path, "depth")
    aligns = DEPTH_CHOICES if args.align == "all" else (args.align,)
    entry: dict = {"gt": str(path), "est": str(est_path or path)}
    entry["errors"] = {a: depth_errors(gt, est, valid, align=a) for a in aligns}
    return entry


def _print_table(kind: str, results: list[dict]) -> None:
    rows: list[list[str]] = []
    if kind == "gaze":
        header = ["file", "gaze_mse"]
        for r in results:
            rows.append([r["est"], f"{r['gaze_mse']:.8g}"])
            for b, v in enumerate(r.get("per_clip", [])):
                rows.append([f"  clip {b}", "-" if v is None else f"{v:.8g}"])
    else:
        aligns = list(results[0]["errors"])
        if kind == "camera":
            header = ["file", "n", *(f"ate_m[{a}]" for a in aligns), "rte_m", "rre_deg"]
        else:
            header = ["file", *(f"{m}[{a}]" for a in aligns for m in ("abs_rel", "delta_1_25"))]
        for r in results:
            e = r["errors"]
            if kind == "camera":
                first = e[aligns[0]]
                vals = [e[a]["ate_m"] for a in aligns] + [first["rte_m"], first["rre_deg"]]
                rows.append([r["est"], str(r["n_poses"]), *(f"{v:.8g}" for v in vals)])
            else:
                vals = [e[a][m] for a in aligns for m in ("abs_rel", "delta_1_25")]
                rows.append([r["est"], *(f"{v:.8g}" for v in vals)])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))
            )
        )
    for r in results:
        a = r.get("association")
        if a:
            print(
                f"associated {a['n_associated']} poses (gt {a['n_gt']}, est {a['n_est']}, "
                f"largest time difference {a['max_diff_s']:.3g} s)"
            )


def run(args: argparse.Namespace) -> int:
    job = {"camera": _camera_job, "gaze": _gaze_job, "depth": _depth_job}[args.kind]
    try:
        results = [job(args, path, est_path) for path, est_path in _inputs(args)]
    except (ValueError, FileNotFoundError) as exc:
        print(f"egom2p metrics {args.kind}: error: {exc}", file=sys.stderr)
        return 2
    report = {"metric": args.kind, "results": results}
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        print()
        return 0
    _print_table(args.kind, results)
    where = f"; wrote {args.out}" if args.out is not None else ""
    print(f"metrics {args.kind}: scored {len(results)} input(s){where}")
    return 0
