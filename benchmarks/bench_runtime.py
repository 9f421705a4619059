"""The C++ streaming runtime on the CPU: processing time per second of a 30-fps input stream, per
decoding mode, with latency percentiles per window and per stage and peak memory.

An ego-tiny bundle (random weights, exported here unless --bundle is given), 480 x 640 RGB frames
at 30 fps (synthetic rooms, 8-fps renders held for 30-fps input), hop 4 video frames = 0.5 s, the
bundle's decoding defaults (gaze 5 / cam 3 steps, temperature 0.01, guidance 2.0, top-p 0.8).
Each configuration runs in its own child process (so its peak RSS is its own), one after the
other, in one invocation: ``official`` (the paper's recipe: targets one after the other, every
step re-encoding the video), ``joint`` (targets share each step; conditional and unconditional
rows run apart and unpadded), ``joint`` with ``reuse_condition`` (the video encoded once per
window), ``single_pass``; and a live (``realtime=True``) joint stream paced at 30 fps.

Processing time per second of input (the target: <= 0.5 in joint mode) is measured in the
steady state: wall time between the completion of the first and the last window divided by the
stream time between them; "total" also counts the first 2 s of buffering. Agreement: the
fraction of target tokens equal to ``official``'s on the same windows (random weights: this
measures the modes' sensitivity, not their accuracy on a trained model).

    .venv/bin/python benchmarks/bench_runtime.py --seconds 10 --out benchmarks/results/runtime_cpu
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CONFIGS = {
    "official": dict(mode="official"),
    "joint": dict(mode="joint"),
    "joint+reuse": dict(mode="joint", reuse_condition=True),
    "single_pass": dict(mode="single_pass"),
}
FPS_IN = 30
HOP_S = 0.5


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def make_bundle(out: Path) -> Path:
    """A random-weight ego-tiny bundle with every stage (``egom2p export``)."""
    from egom2p_edge.cli.main import main
    from egom2p_edge.export.random_models import write_random_checkpoints

    ckpt = write_random_checkpoints(out / "ckpt", "ego-tiny", seed=0)
    bundle = out / "bundle"
    args = ["export", "--target", "cpu-fp32", "--out", str(bundle)]
    for role in ("backbone", "cam_tokenizer", "gaze_tokenizer", "video_tokenizer"):
        flag = "--model" if role == "backbone" else f"--{role.replace('_', '-')}"
        args += [flag, str(ckpt[role])]
    for name in ("onnx_ir", "onnxscript"):
        logging.getLogger(name).setLevel(logging.WARNING)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        rc = main(args)
    if rc != 0:
        raise SystemExit(f"export failed ({rc}):\n{buf.getvalue()}")
    return bundle


def make_frames(seconds: float) -> list[tuple[np.ndarray, int]]:
    """480 x 640 frames at 30 fps: 8-fps synthetic renders (256 px, doubled) held."""
    from egom2p_edge.devices import SyntheticSource

    clips = int(np.ceil(seconds / 2))
    with SyntheticSource(seed=1, clips=clips, size=256) as src:
        renders = [f.rgb for f in src]
    out = []
    for i in range(int(seconds * FPS_IN)):
        src = renders[min(i * 8 // FPS_IN, len(renders) - 1)]
        big = np.repeat(np.repeat(src, 2, axis=0), 2, axis=1)  # (512, 512, 3)
        frame = np.zeros((480, 640, 3), np.uint8)
        frame[:, 64:576] = big[16:496]
        out.append((frame, i * 1_000_000_000 // FPS_IN))
    return out


def rss_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def reset_peak_rss() -> None:
    """Linux: '5' in clear_refs resets VmHWM, so the peak is the runtime's, not the setup's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def child(args) -> dict:
    """One configuration in this (child) process; prints its result as JSON."""
    import egom2p_edge

    frames = make_frames(args.seconds)
    rss_before = rss_mib("VmRSS")  # the input frames are already held
    reset_peak_rss()
    rt = egom2p_edge.Runtime(args.bundle, threads=args.threads or None)
    opts = dict(CONFIGS.get(args.config, CONFIGS["joint"]))
    live = args.config == "joint-live"
    stream = rt.stream(**opts, realtime=live, queue_windows=2)
    done, preds = [], []
    start = time.perf_counter()
    for i, (rgb, t) in enumerate(frames):
        if live:  # frames arrive at 30 fps of wall time
            wait = start + i / FPS_IN - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        for p in stream.push(rgb, t):
            preds.append(p)
            done.append(time.perf_counter())
    for p in stream.flush():
        preds.append(p)
        done.append(time.perf_counter())
    wall = time.perf_counter() - start
    timings = stream.timings()
    out = {
        "config": args.config,
        "windows": len(preds),
        "input_s": len(frames) / FPS_IN,
        "wall_s": wall,
        "total_per_input_s": wall / (len(frames) / FPS_IN),
        "timings": timings,
        "peak_rss_mib": rss_mib("VmHWM"),
        "runtime_rss_mib": rss_mib("VmHWM") - rss_before,
        "tokens": [{k: v.tolist() for k, v in p.tokens.items()} for p in preds],
        "window_index": [p.window_index for p in preds],
        "latency_ms": [p.latency_ms for p in preds],
    }
    if len(preds) >= 2 and not live:
        span = (preds[-1].window_index - preds[0].window_index) * HOP_S
        out["steady_per_input_s"] = (done[-1] - done[0]) / span
    if live:
        out["live"] = stream.live_stats()
    return out


def run_child(script: Path, args, config: str) -> dict:
    cmd = [sys.executable, str(script), "--child", config, "--bundle", str(args.bundle),
           "--seconds", str(args.seconds), "--threads", str(args.threads)]  # fmt: skip
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"{config} failed:\n{r.stderr[-3000:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    took = time.perf_counter() - t0
    print(f"  {config}: {len(res['tokens'])} windows in {took:.0f} s", flush=True)
    return res


def agreement(a: list[dict], b: list[dict]) -> dict[str, float]:
    keys = a[0].keys() if a else []
    return {k: float(np.mean([np.mean(np.equal(x[k], y[k])) for x, y in zip(a, b)])) for k in keys}


def stage_rows(timings: dict) -> list[str]:
    rows = []
    for name, t in timings.items():
        if t["count"]:
            rows.append(f"| {name} | {t['count']} | {t['mean_ms']:.1f} | {t['p50_ms']:.1f} | "
                        f"{t['p90_ms']:.1f} | {t['p99_ms']:.1f} |")  # fmt: skip
    return rows


def report(args, results: dict, load: tuple, bundle_note: str) -> str:
    official = results.get("official")
    lines = [
        "# The C++ streaming runtime on the CPU: processing time per second of input",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_runtime.py --seconds {args.seconds:g} "
        f"--threads {args.threads} --out {args.out}`",
        "",
        f"Machine: {cpu_name()}, {os.cpu_count()} cores, {platform.platform()}; "
        f"intra-op threads {args.threads or 'of the bundle (1)'}. "
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"Load average at start {list(load[0])}, at end {list(load[1])}: other engineers share "
        f"this 2-core CPU, so the times are upper bounds.",
        "",
        f"Bundle: {bundle_note}. Input: {args.seconds:g} s of 480 x 640 RGB at 30 fps, hop 0.5 s "
        f"(4 video frames), lossless synchronous push (live: paced at 30 fps). Each "
        f"configuration runs in its own process, one after the other. Peak RSS: the process's "
        f"peak while streaming (VmHWM, reset after the input frames were made; they stay "
        f"resident: {args.seconds * FPS_IN * 480 * 640 * 3 / 2**20:.0f} MiB); in brackets the "
        f"growth over the process before the Runtime was loaded (engines, arenas, stream).",
        "",
        "## Throughput",
        "",
        "| configuration | windows | s per s of input (steady) | s per s (total) | "
        "window p50 / p90 / p99 ms | peak RSS MiB (runtime) | agreement with official |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        w = r["timings"]["window"]
        steady = r.get("steady_per_input_s")
        agree = {}
        if official is not None and name != "joint-live":
            agree = agreement(r["tokens"], official["tokens"])
        agree_s = ", ".join(f"{k[4:]} {v:.0%}" for k, v in agree.items()) or "-"
        lines.append(
            f"| {name} | {r['windows']} | {'-' if steady is None else f'{steady:.3f}'} | "
            f"{r['total_per_input_s']:.3f} | {w['p50_ms']:.0f} / {w['p90_ms']:.0f} / "
            f"{w['p99_ms']:.0f} | {r['peak_rss_mib']:.0f} ({r['runtime_rss_mib']:.0f}) | "
            f"{agree_s} |"
        )
    lines.append("")
    for name in ("joint", "joint+reuse"):
        if name not in results:
            continue
        r = results[name]["steady_per_input_s"]
        text = f"Targets, {name}: <= 0.5 s per s of input: **{r:.3f}** "
        text += "(met)" if r <= 0.5 else f"(missed: {r / 0.5:.2f}x the budget)"
        if official is not None:
            ratio = official["steady_per_input_s"] / r
            text += f"; >= 3x faster than official: **{ratio:.2f}x** "
            text += "(met)." if ratio >= 3 else "(missed)."
        lines += [text, ""]
    if "joint-live" in results:
        live = results["joint-live"]["live"]
        lines += [
            "## Live mode (joint, frames pushed at 30 fps of wall time)",
            "",
            f"{live['windows_submitted']} windows completed by the input, {live['windows_done']} "
            f"run, {live['windows_dropped']} dropped (queue of {live['queue_windows']}); latency "
            f"from the completing frame's push to the prediction: p50 "
            f"{live['latency_p50_ms']:.0f} ms, p90 {live['latency_p90_ms']:.0f} ms, p99 "
            f"{live['latency_p99_ms']:.0f} ms, max {live['latency_max_ms']:.0f} ms.",
            "",
        ]
    for name, r in results.items():
        head = "| timer | count | mean ms | p50 ms | p90 ms | p99 ms |"
        lines += [f"## Stages: {name}", "", head, "|---|---|---|---|---|---|"]
        lines += [*stage_rows(r["timings"]), ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, help="an ego-tiny bundle (default: export one)")
    ap.add_argument("--seconds", type=float, default=10.0, help="input duration")
    ap.add_argument(
        "--threads", type=int, default=0, help="intra-op threads (0: the bundle's, 1 here)"
    )
    ap.add_argument("--configs", nargs="+", default=[*CONFIGS, "joint-live"])
    ap.add_argument("--out", default="benchmarks/results/runtime_cpu", help="results prefix")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.config = args.child
        print(json.dumps(child(args)))
        return 0
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        note = f"{args.bundle}"
        if args.bundle is None:
            t0 = time.perf_counter()
            args.bundle = make_bundle(Path(tmp))
            took = time.perf_counter() - t0
            note = f"ego-tiny, random weights (seed 0), exported in {took:.0f} s"
        print(f"bundle {args.bundle}; {len(args.configs)} configurations", flush=True)
        results = {c: run_child(Path(__file__).resolve(), args, c) for c in args.configs}
    text = report(args, results, (load0, os.getloadavg()), note)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.md").write_text(text + "\n")
    slim = {k: {kk: vv for kk, vv in v.items() if kk != "tokens"} for k, v in results.items()}
    Path(f"{args.out}.json").write_text(json.dumps(slim, indent=1) + "\n")
    print(f"wrote {args.out}.md and {args.out}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
