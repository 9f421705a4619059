"""Cut egocentric recordings into standard 2-s clips (a sharded clip dataset).

Each input recording is loaded by the SOURCE's loader (conventions converted to OpenCV camera
poses and top-left gaze in the square crop), split into windows every --stride-s seconds,
resampled (gaze and camera 30 Hz, video 8 fps), checked for gaps, and written to
OUT/NAME/ (manifest.json + shard-*.tar). The manifest's ``extra.curation_report`` records what
was kept, masked and dropped.

Sources: aria-mps, aria-vrs, hot3d, tum, euroc, gazegraph, neon, video-csv, egom2p-example.

Examples:
  egom2p curate aria-mps shared/fixtures/real/projectaria_tools/data/gen1/mps_sample --out clips
  egom2p curate tum fr2_desk_groundtruth.txt --out clips --stride-s 1.0
  egom2p curate gazegraph DesktopActivity/ --out clips
"""

from __future__ import annotations

import argparse
import logging
import sys

from tqdm import tqdm

from egom2p_edge.clips import ClipDatasetWriter
from egom2p_edge.clips.writer import DEFAULT_SHARD_SIZE
from egom2p_edge.training.curate.pipeline import (
    ALL_MODALITIES,
    CurationConfig,
    curate_recording,
)
from egom2p_edge.training.curate.registry import SOURCES
from egom2p_edge.training.curate.report import CurationReport

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=sorted(SOURCES), help="kind of recording")
    parser.add_argument("inputs", nargs="+", help="recordings (files or folders, per source)")
    parser.add_argument("--out", required=True, help="output folder (the dataset is OUT/NAME)")
    parser.add_argument("--name", help="dataset name (default: the source name)")
    parser.add_argument("--size", type=int, default=256, help="video side in pixels (256)")
    parser.add_argument("--stride-s", type=float, default=2.0, help="window stride (2.0)")
    parser.add_argument(
        "--max-gap-s",
        type=float,
        default=0.1,
        help="sample spacing above which a window is dropped (0.1)",
    )
    parser.add_argument(
        "--modalities",
        default=",".join(ALL_MODALITIES),
        help="modalities to keep when present (rgb,depth,gaze,cam)",
    )
    parser.add_argument(
        "--shard-size",
        type=int,
        default=DEFAULT_SHARD_SIZE,
        help=f"clips per shard ({DEFAULT_SHARD_SIZE})",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset")
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip recordings that fail to load (listed in the report)",
    )
    g = parser.add_argument_group("source options")
    g.add_argument("--conventions", help="pose conventions, '+'-joined (tum, video-csv)")
    g.add_argument(
        "--gaze",
        choices=("auto", "require", "skip"),
        default="auto",
        help="Aria/HOT3D gaze (needs projectaria-tools)",
    )
    g.add_argument(
        "--gaze-origin",
        choices=("top-left", "bottom-left"),
        help="origin of normalised gaze (gazegraph: bottom-left, video-csv: top-left)",
    )
    g.add_argument(
        "--scene-size",
        default="1280x720",
        help="gazegraph scene frame WxH, or 'none' for a square frame (1280x720)",
    )
    g.add_argument("--csv", help="video-csv: the CSV of timestamps, gaze and poses")
    g.add_argument(
        "--time-offset-ns",
        type=int,
        default=0,
        help="video-csv: CSV-clock time of the video's first pts",
    )
    g.add_argument("--crop-side", type=int, help="video-csv: square crop side (min(H, W))")
    g.add_argument("--trajectory", help="aria-vrs: trajectory CSV (MPS or ADT)")
    g.add_argument("--eyegaze", help="aria-vrs: eye-gaze CSV")
    g.add_argument("--depth-vrs", help="aria-vrs: ADT depth VRS")


def run(args: argparse.Namespace) -> int:
    source = SOURCES[args.source]
    try:
        cfg = CurationConfig(
            video_size=args.size,
            stride_s=args.stride_s,
            max_gap_s=args.max_gap_s,
            modalities=tuple(m for m in args.modalities.split(",") if m),
        )
        items = source.expand(args.inputs, args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"egom2p curate: {exc}", file=sys.stderr)
        return 2
    name = args.name or args.source
    report = CurationReport()
    failed: list[str] = []
    extra = {
        "source": args.source,
        "inputs": [str(p) for p in items],
        "config": {
            "video_size": cfg.video_size,
            "stride_s": cfg.stride_s,
            "max_gap_s": cfg.max_gap_s,
            "modalities": list(cfg.modalities),
        },
    }
    try:
        with ClipDatasetWriter(
            args.out, name, shard_size=args.shard_size, overwrite=args.overwrite, extra=extra
        ) as writer:
            bar = tqdm(items, desc=f"curate {args.source}", unit="rec", dynamic_ncols=True)
            for item in bar:
                try:
                    rec = source.load(item, args)
                except (ValueError, FileNotFoundError, ImportError) as exc:
                    if not args.skip_bad:
                        raise
                    failed.append(f"{item}: {exc}")
                    log.warning("skipped %s: %s", item, exc)
                    continue
                for clip in curate_recording(rec, cfg, report):
                    writer.write(clip)
                bar.set_postfix(
                    clips=writer.num_clips, dropped=sum(report.windows_dropped.values())
                )
            writer.extra["curation_report"] = {**report.to_dict(), "recordings_failed": failed}
    except (ValueError, FileNotFoundError, FileExistsError, ImportError) as exc:
        print(f"egom2p curate: {exc}", file=sys.stderr)
        return 2
    for line in report.summary_lines():
        print(line)
    if failed:
        print(f"recordings that failed to load: {len(failed)} (listed in the manifest)")
    print(
        f"wrote {writer.num_clips} clips to {writer.path} "
        f"({len(writer.manifest()['shards'])} shards, manifest.json)"
    )
    return 0
