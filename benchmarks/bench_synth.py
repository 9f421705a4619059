"""Benchmark of the synthetic clip generator: clips per minute per resolution, on the CPU.

For each size: one warm-up clip, then N clips generated one after another in this process
(per-clip p50/p90/p99 seconds and clips/min), then the same N clips written as a dataset with
``--workers`` processes (end-to-end clips/min, writing included). Next to the speed it reports
the ground-truth error: the largest distance between a back-projected depth pixel and the scene
surface it hit; the run fails (exit 1) when that exceeds ``--max-error-m``.

  .venv/bin/python benchmarks/bench_synth.py --sizes 128 256 --clips 20 --workers 2
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

import numpy as np

from egom2p_edge.training.synth.config import SynthKnobs
from egom2p_edge.training.synth.dataset import clip_seed, generate_dataset
from egom2p_edge.training.synth.generate import generate_clip_with_truth
from egom2p_edge.training.synth.scene import CEILING_ID, FLOOR_ID, WALL_IDS


def depth_surface_error_m(clip, truth, frame: int = 0) -> float:
    """Max |distance| between back-projected depth pixels and the surfaces they hit (metres)."""
    m = clip.meta
    s = clip.size
    v, u = np.mgrid[0:s, 0:s]
    z = clip.depth_m[frame].astype(np.float64).ravel()
    cam = np.stack(
        [
            (u.ravel() - m["cx"]) / m["fx"] * z,
            (v.ravel() - m["cy"]) / m["fy"] * z,
            z,
            np.ones_like(z),
        ]
    )
    T = np.asarray(m["T_world_first_camera"]) @ np.asarray(m["T_first_camera_video"])[frame]
    pts = (T @ cam)[:3].T
    ids = truth.object_id[frame].ravel()
    size = np.asarray(truth.scene.size_m)
    planes = {
        FLOOR_ID: (2, 0.0),
        CEILING_ID: (2, size[2]),
        WALL_IDS[0]: (0, 0.0),
        WALL_IDS[1]: (0, size[0]),
        WALL_IDS[2]: (1, 0.0),
        WALL_IDS[3]: (1, size[1]),
    }
    err = 0.0
    for oid in np.unique(ids):
        sel = ids == oid
        if oid in planes:
            d = pts[sel, planes[oid][0]] - planes[oid][1]
        else:
            d = truth.scene.primitive_of_id(int(oid)).signed_distance(pts[sel], frame / 8)
        err = max(err, float(np.abs(d).max()))
    return err


def bench_size(size: int, clips: int, seed: int, workers: int, knobs: SynthKnobs) -> dict:
    generate_clip_with_truth(clip_seed(seed, 10_000), size, knobs)  # warm-up (imports, caches)
    times, errors, subframes = [], [], []
    for i in range(clips):
        t0 = time.perf_counter()
        clip, truth = generate_clip_with_truth(clip_seed(seed, i), size, knobs)
        times.append(time.perf_counter() - t0)
        errors.append(depth_surface_error_m(clip, truth))
        subframes.append(float(np.mean(truth.subframes)))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        generate_dataset(tmp, clips, size=size, seed=seed, knobs=knobs, workers=workers)
        dataset_s = time.perf_counter() - t0
    t = np.array(times)
    return {
        "size": size,
        "p50_s": float(np.percentile(t, 50)),
        "p90_s": float(np.percentile(t, 90)),
        "p99_s": float(np.percentile(t, 99)),
        "clips_per_min_1proc": 60.0 * clips / t.sum(),
        "clips_per_min_dataset": 60.0 * clips / dataset_s,
        "max_depth_error_m": max(errors),
        "mean_subframes": float(np.mean(subframes)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    p.add_argument("--clips", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="processes for the dataset run")
    p.add_argument("--max-error-m", type=float, default=1e-4)
    args = p.parse_args(argv)
    knobs = SynthKnobs()
    print(f"# synth benchmark: {args.clips} clips per size, seed {args.seed}, default knobs")
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"load average before {os.getloadavg()[0]:.2f}"
    )
    print(
        "| size | p50 s/clip | p90 | p99 | clips/min (1 process) | clips/min (dataset, "
        f"{args.workers} workers) | mean blur sub-frames | max depth error (m) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for size in args.sizes:
        r = bench_size(size, args.clips, args.seed, args.workers, knobs)
        print(
            f"| {size} | {r['p50_s']:.2f} | {r['p90_s']:.2f} | {r['p99_s']:.2f} | "
            f"{r['clips_per_min_1proc']:.1f} | {r['clips_per_min_dataset']:.1f} | "
            f"{r['mean_subframes']:.2f} | {r['max_depth_error_m']:.1e} |",
            flush=True,
        )
        ok &= r["max_depth_error_m"] <= args.max_error_m
    print(f"# load average after {os.getloadavg()[0]:.2f}")
    if not ok:
        print(f"FAIL: depth error above {args.max_error_m} m", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
