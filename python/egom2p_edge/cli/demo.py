"""Run the SDK end to end on data it makes itself: synthetic egocentric video -> an exported
ego-tiny bundle -> the C++ streaming runtime -> gaze and head pose per window, with latency.

Steps: (1) write ego-tiny checkpoints with random weights (or use --bundle DIR), (2) export
them to an ONNX bundle and verify it, (3) render a few seconds of synthetic egocentric video with
exact ground truth, (4) stream it through ``egom2p_edge.Runtime`` (C++) and the Python
``ReferencePipeline`` and check that both agree, (5) compare predictions with the ground truth
(meaningless with random weights: train with ``egom2p train`` or import official weights), and
(6) write a plot. Everything goes under --out (default ./egom2p-demo); the bundle is reused on
later runs.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

CLIP_S = 2.0  # the synthetic generator's clip length


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("egom2p-demo"),
        help="output folder (default: ./egom2p-demo)",
    )
    parser.add_argument(
        "--bundle",
        type=Path,
        default=None,
        help="an existing bundle to run instead of exporting a random ego-tiny",
    )
    parser.add_argument(
        "--clips",
        type=int,
        default=2,
        help="synthetic 2-s clips to stream (default 2 = 4 s of video)",
    )
    parser.add_argument(
        "--mode",
        choices=("official", "joint", "single_pass"),
        default=None,
        help="decoding mode (default: the bundle's, i.e. official)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for weights, scenes, decoding")


def _stage(n: int, title: str) -> None:
    print(f"\n[{n}/6] {title}")


def _make_bundle(out: Path, seed: int) -> Path:
    from egom2p_edge.bundle import load_bundle
    from egom2p_edge.cli.main import main as egom2p
    from egom2p_edge.export.random_models import write_random_checkpoints

    bundle = out / "bundle-ego-tiny"
    if (bundle / "bundle.json").is_file():
        try:
            load_bundle(bundle)
            print(f"reusing {bundle} (delete it to export again)")
            return bundle
        except (ValueError, FileNotFoundError) as exc:
            print(f"existing {bundle} is not usable ({exc}); exporting again")
    ckpt = write_random_checkpoints(out / "checkpoints-ego-tiny", preset="ego-tiny", seed=seed)
    print(f"random-weight ego-tiny checkpoints in {out / 'checkpoints-ego-tiny'}")
    rc = egom2p(
        [
            "export",
            "--model",
            str(ckpt["backbone"]),
            "--cam-tokenizer",
            str(ckpt["cam_tokenizer"]),
            "--gaze-tokenizer",
            str(ckpt["gaze_tokenizer"]),
            "--video-tokenizer",
            str(ckpt["video_tokenizer"]),
            "--target",
            "cpu-fp32",
            "--out",
            str(bundle),
        ]
    )
    if rc != 0:
        raise SystemExit(f"demo: export failed (exit {rc})")
    return bundle


def _frames(seed: int, clips: int, size: int):
    """Synthetic frames (rgb, timestamp_ns) and each clip's ground truth."""
    from egom2p_edge.training.synth import generate_clip

    frames, truth = [], []
    for k in range(clips):
        clip = generate_clip(seed + k, size=size)
        t0 = int(k * CLIP_S * 1e9)
        frames += [(clip.rgb[i], t0 + int(ts)) for i, ts in enumerate(clip.rgb_timestamps_ns)]
        truth.append(clip)
    return frames, truth


def _stream(pipeline, frames, mode, seed):
    stream = pipeline.stream(targets=("gaze", "cam"), seed=seed, mode=mode)
    preds, wall_ms = [], []
    for rgb, ts in frames:
        t0 = time.perf_counter()
        out = stream.push(rgb, ts)
        if out:
            wall_ms.append((time.perf_counter() - t0) * 1e3)
        preds += out
    preds += stream.flush()
    return preds, stream.timings()


def _print_windows(preds) -> None:
    print(
        f"{'window':>6} {'t_end_s':>8} {'gaze_end (x,y)':>16} {'moved (m)':>26} "
        f"{'conf gaze/cam':>14}"
    )
    for p in preds:
        x, y = p.gaze_xy_norm[-1]
        t = p.T_window_camera[-1, :3, 3]
        c = p.confidence
        print(
            f"{p.window_index:>6} {p.timestamp_ns / 1e9:>8.3f} ({x:6.3f}, {y:6.3f}) "
            f"({t[0]:+7.3f}, {t[1]:+7.3f}, {t[2]:+7.3f}) "
            f"{c.get('tok_gaze', 0):6.2f}/{c.get('tok_cam', 0):.2f}"
        )


def _compare_truth(preds, truth, hop_frames: int = 4) -> list[dict]:
    """Windows that cover exactly one synthetic clip vs that clip's ground truth."""
    from egom2p_edge.metrics import camera_errors, gaze_mse

    per_clip = int(round(CLIP_S * 8)) // hop_frames  # windows between clip starts
    rows = []
    for k, clip in enumerate(truth):
        match = [p for p in preds if p.window_index == k * per_clip]
        if not match:
            continue
        p = match[0]
        cam = camera_errors(clip.T_first_camera, p.T_window_camera.astype(np.float64), align="none")
        gaze = gaze_mse(clip.gaze_xy_norm, p.gaze_xy_norm.astype(np.float64), valid=clip.gaze_valid)
        rows.append({"clip": k, "window": p.window_index, "gaze_mse": gaze, **cam})
    return rows


def _plot(preds, truth, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for k, clip in enumerate(truth):
        t = k * CLIP_S + np.arange(60) / 30
        g = np.where(clip.gaze_valid[:, None], clip.gaze_xy_norm, np.nan)
        axes[0].plot(t, g[:, 0], "k-", lw=1.5, label="truth x" if k == 0 else None)
        axes[0].plot(t, g[:, 1], "k--", lw=1.5, label="truth y" if k == 0 else None)
    for p in preds:
        t = p.start_timestamp_ns / 1e9 + np.arange(len(p.gaze_xy_norm)) / 30
        axes[0].plot(t, p.gaze_xy_norm[:, 0], alpha=0.6)
    axes[0].set(
        title="gaze x (predicted per window, colours) vs truth",
        xlabel="time (s)",
        ylabel="gaze_xy_norm",
        ylim=(-0.05, 1.05),
    )
    axes[0].legend(loc="upper right")
    lat = [p.timestamp_ns / 1e9 for p in preds]
    for k, clip in enumerate(truth):
        xz = clip.T_first_camera[:, [0, 2], 3]
        axes[1].plot(
            xz[:, 0],
            xz[:, 1],
            "k-",
            lw=2.5,
            zorder=5,
            label="truth (clip frame)" if k == 0 else None,
        )
    for p in preds:
        xz = p.T_window_camera[:, [0, 2], 3]
        axes[1].plot(xz[:, 0], xz[:, 1], alpha=0.6)
    axes[1].set(
        title=f"camera path per window, top view ({len(lat)} windows)",
        xlabel="x (m)",
        ylabel="z forward (m)",
    )
    axes[1].axis("equal")
    axes[1].legend(loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        print("demo: torch is not installed; run ./dev setup (see README)")
        return 1
    import egom2p_edge
    from egom2p_edge.bundle import load_bundle

    logging.getLogger("egom2p_edge").setLevel(logging.WARNING)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    _stage(1, "model: " + ("given bundle" if args.bundle else "ego-tiny with random weights"))
    _stage(2, "export to an ONNX bundle (cpu-fp32) and verify it against PyTorch goldens")
    bundle = args.bundle or _make_bundle(out, args.seed)
    manifest = load_bundle(bundle).manifest
    if manifest.video is None or manifest.backbone is None:
        print(f"demo: {bundle} needs a video tokenizer and a backbone to stream video")
        return 1
    size = int(manifest.video.size)
    components = manifest.provenance.get("components", {})
    trained = bool(components) and all(c.get("training") == "trained" for c in components.values())

    _stage(3, f"synthetic egocentric video: {args.clips} clips of 2 s at {size}x{size}, 8 fps")
    frames, truth = _frames(args.seed, args.clips, size)
    print(f"{len(frames)} frames with exact ground-truth gaze and camera trajectory")

    _stage(4, "stream through the C++ runtime and the Python reference pipeline")
    runtime = egom2p_edge.Runtime(bundle)
    preds, timings = _stream(runtime, frames, args.mode, args.seed)
    ref_preds, _ = _stream(egom2p_edge.ReferencePipeline(bundle), frames, args.mode, args.seed)
    _print_windows(preds)
    same = len(preds) == len(ref_preds) and all(
        np.array_equal(a.tokens[k], b.tokens[k]) for a, b in zip(preds, ref_preds) for k in a.tokens
    )
    print(
        f"C++ runtime vs Python reference: {'identical tokens' if same else 'DIFFERENT'} "
        f"over {len(preds)} windows"
    )
    w = timings["window"]
    print(
        f"latency per window (C++): mean {w['mean_ms']:.1f} ms, max {w['max_ms']:.1f} ms; "
        f"stages: "
        + ", ".join(
            f"{k} {v['mean_ms']:.1f} ms" for k, v in timings.items() if k != "window" and v["count"]
        )
    )

    _stage(5, "predictions vs ground truth (windows aligned with a clip)")
    for r in _compare_truth(preds, truth):
        print(
            f"clip {r['clip']} (window {r['window']}): gaze MSE {r['gaze_mse']:.4f}, "
            f"camera ATE {r['ate_m']:.3f} m, RTE {r['rte_m']:.4f} m, RRE {r['rre_deg']:.2f} deg"
        )
    if not trained:
        print(
            "note: the model is untrained (random weights), so these errors are those of "
            "guessing; train with `egom2p train` or import official weights with "
            "`egom2p import` to get real predictions"
        )

    _stage(6, "plot")
    plot = out / "demo_gaze_and_pose.png"
    _plot(preds, truth, plot)
    print(f"wrote {plot}")
    print(f"\ndemo: OK: {len(preds)} windows streamed; bundle {bundle}; outputs in {out}")
    return 0 if same else 1
