"""Calibration inputs of int8 stages: what the fp32 graphs see on real windows.

Windows (synthetic clips by default, or the clips of ``--calibration-data``) run through the fp32
bundle's whole pipeline (``window_pipeline.run_windows``: frames -> video ids -> the full decode
with its encoder and decoder passes, gaze/camera tokenizers on the ground truth), and every feed
a stage to be quantised receives is recorded. Batched feeds are split into single rows (one window
each: ranges do not depend on batching and memory stays per-window), inputs longer than
``max_tokens`` encoder slots keep that many evenly spaced slots (memory; see
``Int8Options.max_calibration_tokens``), then ``max_samples_per_stage`` rows are kept, evenly
spread over the run (early and late decoding steps, conditional and unconditional passes).

A bundle without the video encoder cannot decode from frames; its backbone stages are then
calibrated on their golden inputs (the export's synthetic conditions), and the provenance says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from egom2p_edge.bundle import names
from egom2p_edge.bundle.load import Bundle
from egom2p_edge.export import eval_windows as ew
from egom2p_edge.export.stage_runner import StageRunner
from egom2p_edge.export.window_pipeline import run_windows

Feeds = dict[str, np.ndarray]


@dataclass(frozen=True)
class CalibrationRequest:
    """Where calibration windows come from: ``clips`` synthetic clips, or the first ``clips``
    complete clips of the clip dataset ``dataset``."""

    clips: int
    dataset: Path | None = None

    def __post_init__(self) -> None:
        if self.clips < 1:
            raise ValueError(f"CalibrationRequest.clips must be >= 1, got {self.clips}")


def calibration_windows(bundle: Bundle, request: CalibrationRequest, progress: Any = None):
    """The windows of a request, sized for ``bundle`` (its video side, trajectory samples)."""
    m = bundle.manifest
    size = m.video.size if m.video is not None else None
    samples = m.trajectory.samples if m.trajectory is not None else 60
    if request.dataset is not None:
        return ew.dataset_windows(request.dataset, request.clips, size, samples, progress)
    return ew.synthetic_windows(request.clips, size, ew.CALIBRATION_SEED_BASE, samples, progress)


def _rows(stage_spec, feeds: Feeds) -> list[Feeds]:
    """One feed per batch row when the stage's batch axis is dynamic, else the feed itself."""
    batched = [t for t in stage_spec.inputs if t.shape and t.shape[0] == names.DIM_BATCH]
    if len(batched) != len(stage_spec.inputs):
        return [feeds]
    rows = next(iter(feeds.values())).shape[0]
    return [{k: v[i : i + 1] for k, v in feeds.items()} for i in range(rows)]


def _cap_tokens(stage_spec, feeds: Feeds, max_tokens: int) -> Feeds:
    """Keep ``max_tokens`` evenly spaced positions of the ``input_tokens`` axis."""
    axes = {t.name: t.shape.index(names.DIM_INPUT_TOKENS) for t in stage_spec.inputs
            if names.DIM_INPUT_TOKENS in t.shape}  # fmt: skip
    if not axes:
        return feeds
    n = feeds[next(iter(axes))].shape[next(iter(axes.values()))]
    if n <= max_tokens:
        return feeds
    keep = np.unique(np.linspace(0, n - 1, max_tokens).round().astype(int))
    return {k: np.take(v, keep, axis=axes[k]) if k in axes else v for k, v in feeds.items()}


def spread(items: list, k: int) -> list:
    """``k`` items evenly spaced over ``items`` (all of them when there are fewer)."""
    if len(items) <= k:
        return list(items)
    idx = np.unique(np.linspace(0, len(items) - 1, k).round().astype(int))
    return [items[i] for i in idx]


def collect_calibration(
    bundle: Bundle,
    stages: list[str],
    request: CalibrationRequest,
    max_samples: int,
    seed: int = 0,
    progress: Any = None,
    max_tokens: int | None = None,
) -> tuple[dict[str, list[Feeds]], dict[str, Any]]:
    """Calibration feeds of ``stages`` from the fp32 ``bundle``; also their provenance.

    max_tokens: longest ``input_tokens`` axis kept (None: no limit)."""
    windows = calibration_windows(bundle, request, progress)
    recorded: dict[str, list[Feeds]] = {s: [] for s in stages}

    def record(stage: str, feeds: Feeds) -> None:
        if stage in recorded:
            spec = bundle.manifest.stages[stage]
            rows = _rows(spec, feeds)
            if max_tokens is not None:
                rows = [_cap_tokens(spec, r, max_tokens) for r in rows]
            recorded[stage].extend(rows)

    runner = StageRunner.for_bundle(bundle, recorder=record)
    run_windows(runner, bundle.manifest, windows, seed=seed)
    fallback = []
    goldens = bundle.goldens()
    for stage, rows in recorded.items():
        if not rows and stage in goldens:
            spec = bundle.manifest.stages[stage]
            rows.extend(_rows(spec, {t.name: goldens[stage][t.name] for t in spec.inputs}))
            fallback.append(stage)
    samples = {s: spread(rows, max_samples) for s, rows in recorded.items()}
    empty = [s for s, rows in samples.items() if not rows]
    if empty:
        raise ValueError(f"no calibration input reached the stages {empty}")
    provenance = {
        "windows": windows.source,
        "recorded_feeds": {s: len(rows) for s, rows in recorded.items()},
        "samples_used": {s: len(v) for s, v in samples.items()},
        "decode_seed": seed,
        "max_tokens": max_tokens,
        "golden_inputs_used_for": fallback,  # stages the windows could not reach
        "pipeline": "fp32 graphs of the bundle: video encoder -> full decode (official mode, "
        "guidance) and the tokenizers on the ground truth",
    }
    return samples, provenance
