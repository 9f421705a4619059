"""The PyTorch reference model on a CUDA GPU, next to the CPU of the same machine.

For each backbone (random weights, seed 0; random rgb tokens, seed 0): the encoder context for
the whole rgb grid on the GPU in fp32 (TF32 off) and under bf16 / fp16 autocast against the CPU
fp32 context (max |diff|, relative RMS, finite); then ``generate`` of cam + gaze from rgb in
the three decoding modes (official eval settings, PortableRng seed 0), timed on the GPU (one
warm-up, ``--runs`` timed, synchronised) and on the CPU, with the GPU tokens' agreement with
the CPU tokens. The video tokenizer (released size dv4x8x8, random weights seed 0): encode of
17 x 256 x 256 and decode of the ids on both devices, ids agreement and uint8 frame difference.
Not run in CI; the numbers come from a machine lent for the purpose.

  python3 benchmarks/bench_reference_gpu.py --models ego-tiny ego-b --runs 3 \\
      --out benchmarks/results/reference_gpu.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

from egom2p_edge.models.backbone import EgoM2P, backbone_preset
from egom2p_edge.models.generation import MODES, generate
from egom2p_edge.models.video.config import preset as video_preset
from egom2p_edge.models.video.tokenizer import VideoTokenizer

TARGETS = ["tok_cam", "tok_gaze"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device: torch.device, runs: int) -> tuple[float, object]:
    out = fn()  # warm-up
    _sync(device)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _compare(ref: torch.Tensor, est: torch.Tensor) -> str:
    ref, est = ref.double().cpu(), est.double().cpu()
    if not torch.isfinite(est).all():
        return "NOT FINITE"
    diff = est - ref
    rel = float(diff.pow(2).mean().sqrt() / ref.pow(2).mean().sqrt().clamp_min(1e-30))
    return f"max abs {float(diff.abs().max()):.3g}, rel RMS {rel:.3g}"


def _agreement(a: dict, b: dict) -> str:
    parts = []
    for t in TARGETS:
        same = (a[t].cpu() == b[t].cpu()).float().mean()
        parts.append(f"{t.removeprefix('tok_')} {float(same) * 100:.1f}%")
    return ", ".join(parts)


def bench_backbone(name: str, device: torch.device, runs: int, cpu_runs: int) -> list[str]:
    model = EgoM2P(backbone_preset(name), seed=0).eval()
    spec = model.config.spec("tok_rgb")
    g = torch.Generator().manual_seed(0)
    rgb = torch.randint(0, spec.vocab_size, (1, *spec.token_shape), generator=g)
    ids = rgb.reshape(1, -1)
    n = ids.shape[1]
    pos = torch.arange(n)[None]
    mod = torch.full((1, n), model.config.index("tok_rgb"))
    with torch.no_grad():
        ctx_cpu = model.encode(ids, pos, mod).context
    cpu = torch.device("cpu")
    cpu_rows = {}
    for mode in MODES:
        t, res = _timed(
            lambda m=mode: generate(model, {"rgb": rgb}, TARGETS, mode=m), cpu, cpu_runs
        )
        cpu_rows[mode] = (t, res.tokens)
        print(f"[{name}] cpu {mode}: {t:.2f} s", flush=True)
    model.to(device)
    rgb_d = rgb.to(device)
    lines = [f"## {name}", "", "Encoder context for the rgb grid, GPU vs CPU fp32:", ""]
    with torch.no_grad():
        args = (ids.to(device), pos.to(device), mod.to(device))
        lines.append(f"- fp32 (TF32 off): {_compare(ctx_cpu, model.encode(*args).context)}")
        for dt in (torch.bfloat16, torch.float16):
            with torch.autocast(device.type, dtype=dt):
                ctx = model.encode(*args).context
            lines.append(f"- {str(dt).removeprefix('torch.')} autocast: {_compare(ctx_cpu, ctx)}")
    lines += [
        "",
        f"`generate` cam + gaze from rgb ({runs} GPU runs, {cpu_runs} CPU runs, medians):",
        "",
        "| mode | GPU s / window | CPU s / window | CPU / GPU | GPU tokens = CPU tokens |",
        "|---|---|---|---|---|",
    ]
    for mode in MODES:
        t, res = _timed(
            lambda m=mode: generate(model, {"rgb": rgb_d}, TARGETS, mode=m), device, runs
        )
        t_cpu, tok_cpu = cpu_rows[mode]
        print(f"[{name}] gpu {mode}: {t:.3f} s", flush=True)
        agree = _agreement(res.tokens, tok_cpu)
        lines.append(f"| {mode} | {t:.3f} | {t_cpu:.2f} | {t_cpu / t:.1f}x | {agree} |")
    return lines + [""]


def bench_video(device: torch.device, runs: int) -> list[str]:
    torch.manual_seed(0)
    tok = VideoTokenizer(video_preset("dv4x8x8")).eval()
    frames = np.random.default_rng(0).integers(0, 256, (1, 17, 256, 256, 3), dtype=np.uint8)
    cpu = torch.device("cpu")
    t_enc_cpu, ids_cpu = _timed(lambda: tok.encode(frames), cpu, 1)
    t_dec_cpu, dec_cpu = _timed(lambda: tok.decode(ids_cpu), cpu, 1)
    tok.to(device)
    t_enc, ids = _timed(lambda: tok.encode(frames), device, runs)
    t_dec, dec = _timed(lambda: tok.decode(ids_cpu), device, runs)
    same = float((ids.cpu() == ids_cpu).float().mean()) * 100
    frame_diff = (dec.cpu().int() - dec_cpu.int()).abs()
    return [
        "## Video tokenizer dv4x8x8 (17 x 256 x 256, fp32, TF32 off)",
        "",
        "| step | GPU s | CPU s | CPU / GPU |",
        "|---|---|---|---|",
        f"| encode | {t_enc:.3f} | {t_enc_cpu:.2f} | {t_enc_cpu / t_enc:.1f}x |",
        f"| decode | {t_dec:.3f} | {t_dec_cpu:.2f} | {t_dec_cpu / t_dec:.1f}x |",
        "",
        f"GPU ids equal to CPU ids: {same:.3f}%; decoded frames (same ids) GPU vs CPU: max "
        f"|diff| {int(frame_diff.max())} levels, mean {float(frame_diff.float().mean()):.4f}.",
        "",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["ego-tiny", "ego-b"])
    ap.add_argument("--runs", type=int, default=3, help="timed GPU runs (after one warm-up)")
    ap.add_argument("--cpu-runs", type=int, default=1, help="timed CPU runs (after one warm-up)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--skip-video", action="store_true")
    ap.add_argument("--out", help="also write the markdown report here")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA GPU here: run this on a machine with one (or --device cpu)", file=sys.stderr)
        return 3
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "none"
    lines = [
        "# The reference model on a GPU, next to the CPU of the same machine",
        "",
        f"GPU: {gpu}; CPU: {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} CPU threads). Random weights (seed 0): the times are the "
        "model's, the agreement numbers show how far float reordering between devices moves "
        "the sampled tokens of an untrained model (flat distributions), not a trained one's.",
        "",
    ]
    for name in args.models:
        lines += bench_backbone(name, device, args.runs, args.cpu_runs)
    if not args.skip_video:
        lines += bench_video(device, args.runs)
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
