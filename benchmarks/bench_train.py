"""Short real CPU training runs on synthetic clips, written up as a results file.

Each run is the user's command (``egom2p train ...``, in a subprocess, timed). The report gives
the command, wall time, the train loss at the start and the end, and every evaluation of the
held-out clips from ``eval_log.jsonl``, and a trivial reference on the same held-out clips so
the metrics can be read against something: a camera that never moves (cam tokenizer), gaze
always at the image centre (gaze tokenizer), every token predicted from the training token
frequencies (backbone).

Example (the committed results):
  .venv/bin/python benchmarks/bench_train.py --data /tmp/bench --clips 200 --size 64 \\
      --run cam-tokenizer:small:300 --run gaze-tokenizer:small:300 \\
      --run "backbone:ego-tiny:400 --tokenizers cam={runs}/cam-tokenizer-small/checkpoint
             gaze={runs}/gaze-tokenizer-small/checkpoint --data-modalities-only
             --gen-eval-samples 0" \\
      --results benchmarks/results/train_tiny_cpu.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
EGOM2P = [sys.executable, "-m", "egom2p_edge.cli.main"]


def _make_clips(data: Path, clips: int, size: int, workers: int) -> Path:
    path = data / "synth"
    if (path / "manifest.json").is_file():
        return path
    cmd = [*EGOM2P, "synth", "--out", str(data), "--clips", str(clips), "--size", str(size),
           "--seed", "0", "--workers", str(workers)]  # fmt: skip
    subprocess.run(cmd, check=True)
    return path


def _unigram_reference(tokens: Path, val_fraction: float) -> dict[str, float]:
    """Backbone: cross-entropy and accuracy of predicting every held-out token from the token
    frequencies of the training samples (add-one smoothing): what a model learns first."""
    from egom2p_edge.training.tokens import TokenDatabase
    from egom2p_edge.training.trainers.data import split_indices

    db = TokenDatabase(tokens)
    train, val = split_indices(len(db), val_fraction)
    out = {}
    for name, info in db.modalities.items():
        counts = np.ones(info.vocab_size)
        for i in train:
            ids = db[i].tokens.get(name)
            if ids is not None:
                counts += np.bincount(ids.reshape(-1), minlength=info.vocab_size)
        logp = np.log(counts / counts.sum())
        held = [db[i].tokens[name].reshape(-1) for i in val if name in db[i].tokens]
        if held:
            ids = np.concatenate(held)
            out[f"val_loss_{name}"] = float(-logp[ids].mean())
            out[f"val_acc_{name}"] = float((ids == counts.argmax()).mean())
    return out


def _reference(clips: Path, what: str, val_fraction: float, out: Path) -> dict[str, float]:
    """Metrics of a trivial predictor on the held-out clips the trainer evaluates on."""
    from egom2p_edge.metrics import camera_errors, gaze_mse
    from egom2p_edge.training.trainers.data import load_trajectories, split_indices

    if what == "backbone":
        return _unigram_reference(out / "tokens", val_fraction)
    domain = what.split("-")[0]
    if domain not in ("cam", "gaze"):
        return {}
    data = load_trajectories(clips, domain)
    _, val = split_indices(len(data), val_fraction)
    if domain == "cam":
        gt = data.truth["T_first_camera"][val]
        still = np.tile(np.eye(4), (60, 1, 1))
        errs = [camera_errors(g, still, align="rotation") for g in gt]
        return {k: float(np.mean([e[k] for e in errs])) for k in ("ate_m", "rte_m", "rre_deg")}
    xy, valid = data.truth["gaze_xy_norm"][val], data.truth["gaze_valid"][val]
    return {"gaze_mse": gaze_mse(xy, np.full_like(xy, 0.5), valid)}


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(s) for s in path.read_text().splitlines() if s.strip()]


def _run(spec: str, clips: Path, out_root: Path, threads: int, extra: list[str]) -> dict:
    head, *own = spec.replace("{runs}", str(out_root)).split()
    what, preset, steps = head.split(":")
    extra = [*own, *extra]
    out = out_root / f"{what}-{preset}"
    cmd = [*EGOM2P, "train", "--what", what, "--data", str(clips), "--out", str(out),
           "--preset", preset, "--steps", steps, "--threads", str(threads), "--overwrite",
           *extra]  # fmt: skip
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stderr[-4000:])
        raise SystemExit(f"bench_train: {' '.join(cmd)} failed with exit code {res.returncode}")
    wall = time.perf_counter() - t0
    summary = res.stdout.strip().splitlines()[-1]
    train = _read_jsonl(out / "train_log.jsonl")
    losses = [r["loss"] for r in train]
    k = max(1, len(losses) // 20)
    return {
        "what": what,
        "preset": preset,
        "steps": int(steps),
        "command": "egom2p " + " ".join(cmd[3:]),
        "wall_s": wall,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "loss_start": float(np.mean(losses[:k])),
        "loss_end": float(np.mean(losses[-k:])),
        "k": k,
        "evals": _read_jsonl(out / "eval_log.jsonl"),
        "run": json.loads((out / "run.json").read_text()),
        "reference": _reference(clips, what, 0.1, out),
        "summary": summary,
    }


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _counts(data: dict) -> tuple[int, int]:
    """(training items, held-out items) whatever the trainer calls them."""
    for train, held in (("train_clips", "eval_clips"), ("train_videos", "eval_videos"),
                        ("train_samples", "eval_samples")):  # fmt: skip
        if train in data:
            return data[train], data[held]
    return 0, 0


def _section(r: dict) -> str:
    keys = [k for k in r["evals"][-1] if k not in ("step", "elapsed_s")]
    run, optim = r["run"]["run"], r["run"]["optim"]
    lr = optim["lr"] or optim["blr"] * run["batch_size"] / 256
    n_train, n_held = _counts(r["run"]["data"])
    lines = [
        f"## {r['what']} ({r['preset']}), {r['steps']} steps",
        "",
        "```",
        r["command"],
        "```",
        "",
        f"* Wall time {r['wall_s']:.0f} s (data loading, evaluations and writing included); "
        f"load average {r['load_before'][0]:.1f} before, {r['load_after'][0]:.1f} after.",
        f"* Data: {n_train} training items, {n_held} held out (the last 10 % of the clips); "
        f"batch {run['batch_size']}, peak lr {lr:.3g}, warmup {optim['warmup_steps']} steps.",
        f"* Train loss (mean of the first / last {r['k']} steps): {r['loss_start']:.4g} -> "
        f"{r['loss_end']:.4g}.",
        "",
        "| step | " + " | ".join(keys) + " |",
        "|---" * (len(keys) + 1) + "|",
    ]
    for e in r["evals"]:
        lines.append(f"| {e['step']} | " + " | ".join(_fmt(e.get(k)) for k in keys) + " |")
    if r["reference"]:
        ref = r["reference"]
        lines.append("| reference | " + " | ".join(_fmt(ref.get(k, "")) for k in keys) + " |")
    lines += ["", f"Summary line printed by the command: `{r['summary']}`", ""]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", type=Path, required=True, help="folder for (or with) the clips")
    p.add_argument("--clips", type=int, default=200)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--run",
        action="append",
        required=True,
        help="'WHAT:PRESET:STEPS [train options]' ({runs} = the --out folder of the runs)",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("/tmp/bench_train_runs"))
    p.add_argument("--results", type=Path, required=True)
    p.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more train options")
    args = p.parse_args()
    clips = _make_clips(args.data, args.clips, args.size, args.workers)
    sections = []
    for spec in args.run:
        r = _run(spec, clips, args.out, args.threads, args.extra)
        print(r["summary"])
        sections.append(_section(r))
    header = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared with other jobs), "
        f"Python {platform.python_version()}, torch threads {args.threads}. Data: {args.clips} "
        f"synthetic clips at {args.size}x{args.size} (`egom2p synth --seed 0`).\n"
    )
    args.results.write_text(header + "\n" + "\n".join(sections))
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
