"""Benchmark of the video tokenizer on the CPU: encode 17 frames, decode 5 latent frames.

For each config (random weights, seed 0): ``encode`` of a 1 x 17 x S x S x 3 uint8 clip (official
padding and scaling included) and ``decode`` of 1 x 5 x S/8 x S/8 ids (to uint8 frames); one
warm-up, then ``--repeats`` timed runs; p50/min/max wall seconds, p50 process CPU seconds (the
CPU is shared, so CPU time is the steadier number), and the peak RSS. Next to the speed it
reports the error against the official outputs on the visible parity fixture (if present) and
fails (exit 1) when ids differ or decoded frames are off by more than 1e-4.

  .venv/bin/python benchmarks/bench_video_tokenizer.py --configs dv4x8x8:256 tiny128:128 \
      --repeats 3 --threads 2 --out benchmarks/results/video_tokenizer_cpu.md
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np
import torch
from timing import repeat_timed

from egom2p_edge.models.video.config import preset
from egom2p_edge.models.video.tokenizer import VideoTokenizer
from egom2p_edge.paths import shared_path


def _timed(fn, repeats: int) -> dict[str, float]:
    """Wall-time median, min, max and the CPU-time median (s) of ``repeats`` calls after a
    warm-up."""
    wall, cpu = repeat_timed(fn, repeats)
    return {
        "p50": statistics.median(wall),
        "min": min(wall),
        "max": max(wall),
        "cpu_p50": statistics.median(cpu),
    }


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fixture_error() -> tuple[int, float] | None:
    """(ids differing, max |decoded - official|) on the visible parity fixture, or None."""
    folder = shared_path("fixtures", "parity", "video_tokenizer")
    if folder is None:
        return None
    from safetensors.numpy import load_file

    from egom2p_edge.checkpoints.video_import import load_released_jit

    fx = load_file(str(folder / "fixtures.safetensors"))
    model = load_released_jit(folder)
    ids = model.encode(fx["frames_uint8"]).numpy()
    with torch.no_grad():
        decoded = model.decode_tensor(torch.from_numpy(ids)).numpy()
    return int((ids != fx["indices"]).sum()), float(np.abs(decoded - fx["decoded"]).max())


def bench(name: str, size: int, repeats: int) -> dict:
    torch.manual_seed(0)
    model = VideoTokenizer(preset(name)).eval()
    g = np.random.default_rng(0)
    frames = g.integers(0, 256, (1, 17, size, size, 3), dtype=np.uint8)
    ids = torch.from_numpy(g.integers(0, 64000, (1, 5, size // 8, size // 8)))
    with torch.inference_mode():
        assert model.encode(frames).shape == (1, 5, size // 8, size // 8)
        enc = _timed(lambda: model.encode(frames), repeats)
        dec = _timed(lambda: model.decode(ids), repeats)
    params = sum(p.numel() for p in model.parameters())
    return {
        "name": name,
        "size": size,
        "params": params,
        "enc": enc,
        "dec": dec,
        "rss": _peak_rss_mib(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--configs", nargs="+", default=["dv4x8x8:256", "tiny128:128"], help="PRESET:SIZE pairs"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--out", help="also write the markdown table here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    err = fixture_error()
    rows = []
    for spec in args.configs:
        name, size = spec.split(":")
        r = bench(name, int(size), args.repeats)
        rows.append(r)
        print(
            f"{name} @ {size}: encode p50 {r['enc']['p50']:.2f} s, decode p50 "
            f"{r['dec']['p50']:.2f} s",
            flush=True,
        )
    load_after = os.getloadavg()
    lines = [
        "| config | params | input | encode p50 s | min | max | CPU s | decode p50 s | min | max"
        " | CPU s | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        e, d, s = r["enc"], r["dec"], r["size"]
        lines.append(
            f"| {r['name']} | {r['params']:,} | 17x{s}x{s} -> 5x{s // 8}x{s // 8} | {e['p50']:.2f} "
            f"| {e['min']:.2f} | {e['max']:.2f} | {e['cpu_p50']:.2f} | {d['p50']:.2f} | "
            f"{d['min']:.2f} | {d['max']:.2f} | {d['cpu_p50']:.2f} | {r['rss']:.0f} |"
        )
    cpu = platform.processor() or platform.machine()
    lines += [
        "",
        f"threads {args.threads}, repeats {args.repeats} (+1 warm-up), torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs ({cpu}), load average {load_before[0]:.1f} before / "
        f"{load_after[0]:.1f} after, whole run {time.perf_counter() - t0:.0f} s",
    ]
    ok = True
    if err is None:
        lines.append("fixture check: ../shared/fixtures/parity/video_tokenizer absent, skipped")
    else:
        n_ids, dec_err = err
        ok = n_ids == 0 and dec_err <= 1e-4
        lines.append(
            f"fixture check (visible parity fixture): {n_ids} ids differ, decoded max "
            f"abs error {dec_err:.2e} ({'ok' if ok else 'FAIL'})"
        )
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
        print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
