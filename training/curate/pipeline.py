"""Cut a Recording into standard 2-s clips: windows, gap checks, resampling, crops, validity.

A window starting at ``t0`` (ns, source clock) has the 30-Hz grid ``t0 + round(k 1e9 / 30)``,
k < 60, for gaze and camera, and the 8-fps grid ``t0 + k 125 ms``, k < 16, for video. Windows
start at the first time every present track covers, then every ``stride``; each track must
cover its own grid (to t0 + 59/30 s, or t0 + 15/8 s for video). A window is dropped (and
counted by reason) when, for any track, two consecutive samples among those the window uses
(from the one at/before its first grid time to the one at/after its last) are further apart
than ``max(max_gap_s, 1.5 x the track's median spacing)`` (so 8-fps video and 10-Hz gaze are
usable; a 300-Hz pose track uses 0.1 s).

Per window: camera poses = SLERP/linear interpolation of the body poses, times the extrinsic
nearest the window middle, made relative to the first (``inv(P0) @ Pk``); gaze = linear
interpolation, a sample valid only if its bracketing samples are, then masked outside
[-0.2, 1.2] (EgoM2P's rule); video = nearest frame per grid time (ties to the earlier frame),
centre crop + exact area resize; depth = ``curate.depth`` cleaning, then the per-clip normalised
inverse depth. A gaze track with fewer than ``min_valid_gaze_fraction`` valid samples in a
window is left out of that clip (counted); a window left without modalities is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from egom2p_edge.clips import GAZE_VALID_RANGE, Clip, depth_inv_norm_from_metric
from egom2p_edge.modalities import TRAJ_CLIP_SAMPLES, VIDEO_CLIP_FRAMES
from egom2p_edge.preprocess import center_crop_resize
from egom2p_edge.training.curate.depth import DepthCleaning, clean_depth_frame
from egom2p_edge.training.curate.geometry import relative_to_first
from egom2p_edge.training.curate.report import CurationReport
from egom2p_edge.training.curate.resample import (
    grid_ns,
    interpolate_linear,
    interpolate_poses,
    max_bracket_gap_ns,
    nearest_frames,
)
from egom2p_edge.training.sources.types import FrameTrack, Recording

log = logging.getLogger(__name__)

TRAJ_RATE_HZ = 30
VIDEO_RATE_HZ = 8
ALL_MODALITIES = ("rgb", "depth", "gaze", "cam")
GAP_MEDIAN_FACTOR = 1.5  # a spacing up to 1.5x the track's median is its normal rate, not a gap


@dataclass(frozen=True)
class CurationConfig:
    """How recordings become clips."""

    video_size: int = 256  # square side S of rgb/depth
    stride_s: float = 2.0  # window start spacing (2.0: non-overlapping)
    max_gap_s: float = 0.1  # larger spacing between used samples drops the window
    modalities: tuple[str, ...] = ALL_MODALITIES  # which tracks to use when present
    min_valid_gaze_fraction: float = 0.5  # below: gaze left out of the clip
    depth: DepthCleaning = field(default_factory=DepthCleaning)

    def __post_init__(self) -> None:
        if self.video_size < 8:
            raise ValueError(f"CurationConfig.video_size must be >= 8, got {self.video_size}")
        if self.stride_s <= 0:
            raise ValueError(f"CurationConfig.stride_s must be > 0, got {self.stride_s}")
        if self.max_gap_s <= 0:
            raise ValueError(f"CurationConfig.max_gap_s must be > 0, got {self.max_gap_s}")
        bad = [m for m in self.modalities if m not in ALL_MODALITIES]
        if bad or not self.modalities:
            raise ValueError(
                f"CurationConfig.modalities: expected a non-empty subset of "
                f"{ALL_MODALITIES}, got {self.modalities}"
            )
        if not 0 <= self.min_valid_gaze_fraction <= 1:
            raise ValueError(
                f"CurationConfig.min_valid_gaze_fraction must be in [0, 1], got "
                f"{self.min_valid_gaze_fraction}"
            )

    @property
    def stride_ns(self) -> int:
        return int(round(self.stride_s * 1e9))

    @property
    def max_gap_ns(self) -> int:
        return int(round(self.max_gap_s * 1e9))


def track_span_ns(track: str) -> int:
    """Last grid time minus first for a track: 59/30 s (gaze, cam; rounded to ns) or 15/8 s
    (rgb, depth). A track must cover ``[t0, t0 + span]``."""
    if track in ("rgb", "depth"):
        return int(grid_ns(0, VIDEO_CLIP_FRAMES, VIDEO_RATE_HZ)[-1])
    return int(grid_ns(0, TRAJ_CLIP_SAMPLES, TRAJ_RATE_HZ)[-1])


def _tracks(rec: Recording, cfg: CurationConfig) -> dict[str, np.ndarray]:
    """Timestamps of the tracks this curation uses: name -> (N,) int64."""
    out = {}
    if rec.poses is not None and "cam" in cfg.modalities:
        out["cam"] = rec.poses.timestamps_ns
    if rec.gaze is not None and "gaze" in cfg.modalities:
        out["gaze"] = rec.gaze.timestamps_ns
    if rec.video is not None and "rgb" in cfg.modalities:
        out["rgb"] = rec.video.timestamps_ns
    if rec.depth is not None and "depth" in cfg.modalities:
        out["depth"] = rec.depth.timestamps_ns
    return out


def window_starts(rec: Recording, cfg: CurationConfig) -> np.ndarray:
    """Start times (ns) of every candidate window of a recording. (W,) int64, maybe empty."""
    tracks = _tracks(rec, cfg)
    if not tracks:
        return np.zeros(0, dtype=np.int64)
    first = max(int(ts[0]) for ts in tracks.values())
    last = min(int(ts[-1]) - track_span_ns(name) for name, ts in tracks.items())
    if last < first:
        return np.zeros(0, dtype=np.int64)
    return np.arange(first, last + 1, cfg.stride_ns, dtype=np.int64)


def _video(track: FrameTrack, grid: np.ndarray, size: int) -> tuple[np.ndarray, list[int]]:
    idx = nearest_frames(track.timestamps_ns, grid)
    uniq = sorted(set(int(i) for i in idx))
    frames = dict(zip(uniq, track.read(uniq)))
    rgb = np.stack(
        [center_crop_resize(frames[int(i)], size, track.crop_side) for i in idx]
    )  # (16, S, S, 3)
    return rgb, [int(i) for i in idx]


def gap_limits_ns(rec: Recording, cfg: CurationConfig) -> dict[str, int]:
    """Per track: the largest sample spacing that is not a gap, ``max(max_gap_s, 1.5 x the
    track's median spacing)`` (an 8-fps video or 10-Hz gaze is not one long gap)."""
    out = {}
    for name, ts in _tracks(rec, cfg).items():
        median = float(np.median(np.diff(ts))) if len(ts) > 1 else 0.0
        out[name] = max(cfg.max_gap_ns, int(round(GAP_MEDIAN_FACTOR * median)))
    return out


def curate_window(
    rec: Recording,
    t0_ns: int,
    cfg: CurationConfig,
    report: CurationReport | None = None,
    gap_limits: dict[str, int] | None = None,
) -> Clip | None:
    """The clip of the window starting at ``t0_ns``, or None (reason counted in ``report``).

    ``gap_limits`` (from ``gap_limits_ns``) may be passed to avoid recomputing it per window.
    """
    report = report if report is not None else CurationReport()
    report.windows_considered += 1
    traj_grid = grid_ns(t0_ns, TRAJ_CLIP_SAMPLES, TRAJ_RATE_HZ)
    video_grid = grid_ns(t0_ns, VIDEO_CLIP_FRAMES, VIDEO_RATE_HZ)
    limits = gap_limits_ns(rec, cfg) if gap_limits is None else gap_limits
    for name, ts in _tracks(rec, cfg).items():
        gap = max_bracket_gap_ns(ts, int(t0_ns), int(t0_ns) + track_span_ns(name))
        if gap is None:
            report.drop(f"outside_{name}")
            return None
        if gap > limits[name]:
            report.drop(f"gap_{name}")
            return None
    clip = Clip(
        clip_id=f"{rec.source}:{rec.name}:{int(t0_ns)}",
        source=rec.source,
        licence=rec.licence,
        meta={"recording": rec.name, "t_start_ns": int(t0_ns), **rec.meta},
    )
    tracks = _tracks(rec, cfg)
    if "cam" in tracks:
        p = rec.poses
        mid = (int(traj_grid[0]) + int(traj_grid[-1])) // 2
        k = int(np.argmin(np.abs(p.extrinsic_timestamps_ns - mid)))
        T = interpolate_poses(p.timestamps_ns, p.T_world_body, traj_grid) @ p.T_body_camera[k]
        clip.T_first_camera = relative_to_first(T)
        clip.camera_timestamps_ns = traj_grid.copy()
        clip.meta["pose_conventions"] = list(p.conventions)
        clip.meta["extrinsic_timestamp_ns"] = int(p.extrinsic_timestamps_ns[k])
    if "gaze" in tracks:
        g = rec.gaze
        xy, ok = interpolate_linear(g.timestamps_ns, g.xy_norm, g.valid, traj_grid)
        lo, hi = GAZE_VALID_RANGE
        with np.errstate(invalid="ignore"):
            in_range = np.all((xy >= lo) & (xy <= hi), axis=1)
        report.samples_masked["gaze_invalid_in_source"] += int((~ok).sum())
        report.samples_masked["gaze_out_of_range"] += int((ok & ~in_range).sum())
        ok &= in_range
        if ok.mean() >= cfg.min_valid_gaze_fraction and ok.any():
            clip.gaze_xy_norm = np.where(ok[:, None], xy, 0.0)
            clip.gaze_valid = ok
            clip.gaze_timestamps_ns = traj_grid.copy()
        else:
            report.modalities_dropped["gaze_too_few_valid"] += 1
    if "rgb" in tracks:
        clip.rgb, idx = _video(rec.video, video_grid, cfg.video_size)
        clip.rgb_timestamps_ns = video_grid.copy()
        clip.meta["rgb_source_frames"] = idx
    if "depth" in tracks:
        d = rec.depth
        idx = nearest_frames(d.timestamps_ns, video_grid)
        uniq = sorted(set(int(i) for i in idx))
        cleaned = {}
        for i, frame in zip(uniq, d.read(uniq)):
            cleaned[i] = clean_depth_frame(frame, cfg.video_size, cfg.depth, d.crop_side)
            for key, n in cleaned[i][2].items():
                report.samples_masked[key] += n
        depth = np.stack([cleaned[int(i)][0] for i in idx])  # (16, S, S)
        valid = np.stack([cleaned[int(i)][1] for i in idx])
        clip.depth_m, clip.depth_valid = depth, valid
        clip.depth_inv_norm = depth_inv_norm_from_metric(depth, valid)
        clip.rgb_timestamps_ns = video_grid.copy()
        clip.meta["depth_source_frames"] = [int(i) for i in idx]
    if not clip.modalities:
        report.drop("no_modality_left")
        return None
    clip.validate()
    report.windows_kept += 1
    report.modalities_kept.update(clip.modalities)
    return clip


def curate_recording(
    rec: Recording, cfg: CurationConfig, report: CurationReport | None = None
) -> Iterator[Clip]:
    """Every kept clip of a recording, in time order."""
    report = report if report is not None else CurationReport()
    report.recordings += 1
    report.loader.update(rec.loader_counts)
    if rec.gaze is not None:
        report.loader.update(rec.gaze.masked)
    starts = window_starts(rec, cfg)
    if len(starts) == 0:
        report.recordings_without_windows += 1
        log.info("%s: shorter than one window for tracks %s", rec.name, rec.tracks)
    limits = gap_limits_ns(rec, cfg)
    for t0 in starts:
        clip = curate_window(rec, int(t0), cfg, report, limits)
        if clip is not None:
            yield clip
