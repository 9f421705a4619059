"""CPU time per window of backbone generation (rgb -> cam, rgb -> gaze, rgb -> cam + gaze) in the
three decoding modes, and the token agreement of ``joint`` / ``single_pass`` with ``official``.

Random weights (seed 0) and random rgb tokens (seed 0); the official eval settings (ROAR, linear
schedule, cam 3 / gaze 5 steps, temperature 0.01, guidance 2.0, top-p 0.8, TorchRng seed 0). One
warm-up generation per model, then ``--runs`` timed runs of every (targets, mode). Not run in CI.

    .venv/bin/python benchmarks/bench_backbone.py --models ego-tiny ego-b --runs 5 2 \
        --threads 2 --skip-identical ego-b --out benchmarks/results/backbone_cpu

With ``--skip-identical M``, model M does not time ``joint`` for a single target: with one target
it runs the very same schedule and calls as ``official`` (a unit test checks the tokens agree), so
the official timing is reported for it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from egom2p_edge.models.backbone import EgoM2P, backbone_preset
from egom2p_edge.models.generation import MODES, generate

TARGET_SETS = (("tok_cam",), ("tok_gaze",), ("tok_cam", "tok_gaze"))


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class EncoderCounter:
    def __init__(self, model: EgoM2P) -> None:
        self.model, self.calls = model, 0
        self._orig = model.encode

    def __enter__(self) -> EncoderCounter:
        def counted(*a, **k):
            self.calls += 1
            return self._orig(*a, **k)

        self.model.encode = counted
        return self

    def __exit__(self, *exc) -> None:
        del self.model.encode


def bench_model(name: str, runs: int, skip_identical: bool) -> dict:
    t0 = time.perf_counter()
    model = EgoM2P(backbone_preset(name), seed=0).eval()
    init_s = time.perf_counter() - t0
    spec = model.config.spec("tok_rgb")
    g = torch.Generator().manual_seed(0)
    rgb = torch.randint(0, spec.vocab_size, (1, *spec.token_shape), generator=g)
    print(f"[{name}] built in {init_s:.1f} s; warm-up", flush=True)
    t0 = time.perf_counter()
    generate(model, {"rgb": rgb}, ["tok_cam"], mode="single_pass")
    warmup_s = time.perf_counter() - t0
    rows = []
    tokens: dict[tuple, dict] = {}
    for targets in TARGET_SETS:
        for mode in MODES:
            key = (targets, mode)
            if skip_identical and mode == "joint" and len(targets) == 1:
                ref = next(
                    r for r in rows if r["targets"] == list(targets) and r["mode"] == "official"
                )
                rows.append({**ref, "mode": mode, "timed": False})
                tokens[key] = tokens[(targets, "official")]
                continue
            times = []
            for _ in range(runs):
                with EncoderCounter(model) as c:
                    t0 = time.perf_counter()
                    res = generate(model, {"rgb": rgb}, list(targets), mode=mode)
                    times.append(time.perf_counter() - t0)
                tokens[key] = res.tokens
            row = {
                "targets": list(targets),
                "mode": mode,
                "timed": True,
                "times_s": times,
                "median_s": statistics.median(times),
                "encoder_passes": c.calls,
            }
            rows.append(row)
            print(
                f"[{name}] {'+'.join(targets):>17} {mode:>11}: {row['median_s']:.2f} s "
                f"({runs} runs, {c.calls} encoder passes)",
                flush=True,
            )
    for row in rows:
        key = (tuple(row["targets"]), row["mode"])
        agree = {}
        for t in row["targets"]:
            ref = tokens[(key[0], "official")][t]
            agree[t] = float((tokens[key][t] == ref).float().mean())
        row["agreement_with_official"] = agree
    return {"model": name, "init_s": init_s, "warmup_s": warmup_s, "runs": runs, "rows": rows}


def render_md(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# Backbone generation on the CPU: time per window and agreement with `official`",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['platform']}; torch {m['torch']}, "
        f"{m['threads']} threads. Date: {result['date']}. Load average at start "
        f"{m['load_start']}, at end {m['load_end']}: other engineers were using the same "
        f"2-core CPU during the run, so times are upper bounds and vary between runs.",
        "",
        "Settings: random weights (seed 0), random rgb tokens (seed 0), ROAR, linear token "
        "schedule, cam 3 / gaze 5 steps, temperature 0.01, guidance 2.0, top-p 0.8, TorchRng "
        "seed 0. Time = wall time of one `generate` call per window (median of the runs; one "
        "warm-up call before). Agreement = fraction of target tokens equal to `official`'s. With "
        "random weights the token distributions are nearly flat, so agreement here measures the "
        "modes' sensitivity on an untrained model, not their accuracy on a trained one.",
        "",
        "Reference: the official code takes 113 s (rgb->cam) and 190 s (rgb->gaze) per ego-b "
        "window on this CPU (issue 4).",
        "",
    ]
    for r in result["models"]:
        lines += [
            f"## {r['model']}",
            "",
            f"Build {r['init_s']:.1f} s, warm-up {r['warmup_s']:.1f} s, {r['runs']} timed runs.",
            "",
            "| targets | mode | s / window (median) | runs (s) | encoder passes | agreement |",
            "|---|---|---|---|---|---|",
        ]
        for row in r["rows"]:
            runs = ", ".join(f"{t:.2f}" for t in row["times_s"])
            if not row["timed"]:
                runs = "not timed: same calls as official"
            agree = ", ".join(
                f"{t.removeprefix('tok_')} {a * 100:.1f}%"
                for t, a in row["agreement_with_official"].items()
            )
            lines.append(
                f"| {' + '.join(t.removeprefix('tok_') for t in row['targets'])} | {row['mode']} "
                f"| {row['median_s']:.2f} | {runs} | {row['encoder_passes']} | {agree} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["ego-tiny", "ego-b"])
    p.add_argument("--runs", nargs="+", type=int, default=[5, 2], help="timed runs per model")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-identical", nargs="*", default=[], metavar="MODEL")
    p.add_argument("--out", default="benchmarks/results/backbone_cpu")
    args = p.parse_args()
    if len(args.runs) != len(args.models):
        p.error("--runs needs one count per model")
    torch.set_num_threads(args.threads)
    result = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": {
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "torch": torch.__version__,
            "threads": args.threads,
            "load_start": [round(x, 2) for x in os.getloadavg()],
        },
        "models": [],
    }
    for name, runs in zip(args.models, args.runs):
        result["models"].append(bench_model(name, runs, name in args.skip_identical))
    result["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".md").write_text(render_md(result))
    print(f"wrote {out.with_suffix('.md')} and {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
