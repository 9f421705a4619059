"""Generate synthetic egocentric clips (RGB, metric depth, gaze, camera trajectory) with exact
ground truth, written as a standard clip dataset.

Example:
  egom2p synth --out data/ --clips 1000 --size 128 --seed 0 --preview
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tqdm import tqdm

from egom2p_edge.training.synth import SynthKnobs, generate_dataset, write_gallery

PREVIEW_CLIPS = 6


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--clips", required=True, type=int, help="number of clips")
    parser.add_argument("--size", type=int, default=128, help="square frame side in pixels")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (same seed, same clips)")
    parser.add_argument("--name", default="synth", help="dataset folder name inside --out")
    parser.add_argument("--shard-size", type=int, default=64, help="clips per shard")
    parser.add_argument("--workers", type=int, default=1, help="generator processes")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset")
    parser.add_argument(
        "--preview",
        action="store_true",
        help="also write a gallery PNG of the first clips with gaze overlaid",
    )
    knobs = parser.add_argument_group("realism knobs")
    d = SynthKnobs()
    knobs.add_argument(
        "--lighting-variation",
        type=float,
        default=d.lighting_variation,
        help="0 = fixed lighting, 1 = full variation",
    )
    knobs.add_argument(
        "--max-exposure-ms",
        type=float,
        default=d.max_exposure_ms,
        help="motion blur: longest exposure (0 disables blur)",
    )
    knobs.add_argument(
        "--noise-level", type=float, default=d.noise_level, help="sensor noise scale (0 disables)"
    )
    knobs.add_argument(
        "--moving-object-prob",
        type=float,
        default=d.moving_object_prob,
        help="chance of a rolling ball (smooth pursuit)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        knobs = SynthKnobs(
            lighting_variation=args.lighting_variation,
            max_exposure_ms=args.max_exposure_ms,
            noise_level=args.noise_level,
            moving_object_prob=args.moving_object_prob,
        )
    except ValueError as exc:
        raise SystemExit(f"egom2p synth: {exc}") from None
    preview: list = []
    bar = tqdm(total=args.clips, unit="clip", desc="synth")

    def on_clip(clip) -> None:
        if args.preview and len(preview) < PREVIEW_CLIPS:
            preview.append(clip)
        bar.update(1)

    start = time.perf_counter()
    try:
        path = generate_dataset(
            args.out,
            args.clips,
            size=args.size,
            seed=args.seed,
            knobs=knobs,
            name=args.name,
            shard_size=args.shard_size,
            overwrite=args.overwrite,
            workers=args.workers,
            on_clip=on_clip,
        )
    except (ValueError, FileExistsError) as exc:
        bar.close()
        raise SystemExit(f"egom2p synth: {exc}") from None
    bar.close()
    elapsed = time.perf_counter() - start
    if preview:
        png = write_gallery(preview, path / "preview.png")
        print(f"preview gallery: {png}")
    rate = args.clips / elapsed * 60.0
    print(
        f"wrote {args.clips} synthetic clips ({args.size}x{args.size}) to {path} "
        f"in {elapsed:.1f} s ({rate:.1f} clips/min)"
    )
    return 0
