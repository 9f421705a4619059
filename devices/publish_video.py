"""Publish a video file on the ZeroMQ frame bus: ``python -m egom2p_edge.devices.publish_video
VIDEO --endpoint tcp://127.0.0.1:5555 [--realtime] [--wait-subscribers 1]``.

Frames go out in the wire format of ``egom2p_edge.devices.bus_format`` with their PTS as
``timestamp_ns``; subscribe with ``FrameSubscriber`` (Python) or ``egom2p::FrameSubscriber``
(C++). Ends with one line saying how many frames went where.
"""

from __future__ import annotations

import argparse
import sys
import time

from tqdm import tqdm

from egom2p_edge.devices.bus import FramePublisher
from egom2p_edge.devices.video import VideoFileSource


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m egom2p_edge.devices.publish_video", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("video", help="the video file (any format FFmpeg reads)")
    p.add_argument("--endpoint", default="tcp://127.0.0.1:5555", help="ZeroMQ endpoint to bind")
    p.add_argument("--realtime", action="store_true", help="pace frames at their PTS rate")
    p.add_argument("--start-s", type=float, default=0.0, help="start this far into the video")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    p.add_argument(
        "--wait-subscribers",
        type=int,
        default=1,
        help="wait for this many subscribers before the first frame (0: do not wait)",
    )
    p.add_argument("--wait-timeout-s", type=float, default=30.0)
    p.add_argument("--sndhwm", type=int, default=16, help="send queue bound, in frames")
    p.add_argument("--compress", action="store_true", help="zlib the pixels (Python subscribers)")
    p.add_argument(
        "--lossless",
        action="store_true",
        help="wait for slow subscribers instead of dropping frames (recordings, not live)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    t0 = time.monotonic()
    with (
        VideoFileSource(args.video, args.realtime, args.start_s, args.max_frames) as source,
        FramePublisher(
            args.endpoint, sndhwm=args.sndhwm, compress=args.compress, lossless=args.lossless
        ) as pub,
    ):
        if args.wait_subscribers > 0:
            print(
                f"waiting for {args.wait_subscribers} subscriber(s) on {pub.endpoint} ...",
                flush=True,  # a caller that bound port * reads the port from this line
            )
            pub.wait_for_subscribers(args.wait_subscribers, args.wait_timeout_s)
        for frame in tqdm(source, unit="frame", desc="publishing", file=sys.stderr):
            pub.publish(frame)
        sent, dropped, endpoint = pub.frames_sent, pub.frames_dropped, pub.endpoint
    print(
        f"published {sent} frames ({dropped} dropped) of {args.video} on {endpoint} "
        f"in {time.monotonic() - t0:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
