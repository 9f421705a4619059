"""``generate_dataset``: many synthetic clips written as a standard clip dataset."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from egom2p_edge.clips import Clip, ClipDatasetWriter
from egom2p_edge.training.synth.config import SynthKnobs
from egom2p_edge.training.synth.generate import GENERATOR_VERSION, generate_clip

log = logging.getLogger(__name__)


def clip_seed(dataset_seed: int, index: int) -> int:
    """The seed of clip ``index`` of a dataset: independent streams per (dataset seed, index),
    below 2**53 so it survives JSON readers that use doubles."""
    state = np.random.SeedSequence([int(dataset_seed), int(index)]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(11))


@dataclass(frozen=True)
class _Job:
    index: int
    seed: int
    size: int
    knobs: SynthKnobs
    clip_id: str


def _run(job: _Job) -> Clip:
    clip = generate_clip(job.seed, job.size, job.knobs, clip_id=job.clip_id)
    clip.meta["dataset_index"] = job.index
    return clip


def iter_clips(
    num_clips: int, size: int, seed: int, knobs: SynthKnobs | None = None, workers: int = 1
) -> Iterator[Clip]:
    """Clips 0..num_clips-1 of the dataset ``seed``, in order (``workers`` processes)."""
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    knobs = SynthKnobs() if knobs is None else knobs
    jobs = [
        _Job(i, clip_seed(seed, i), size, knobs, f"synth-s{seed}-{i:06d}") for i in range(num_clips)
    ]
    if workers == 1:
        yield from map(_run, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_run, jobs, chunksize=1)


def generate_dataset(
    out_dir: str | os.PathLike,
    clips: int,
    size: int = 128,
    seed: int = 0,
    knobs: SynthKnobs | None = None,
    name: str = "synth",
    shard_size: int = 64,
    overwrite: bool = False,
    workers: int = 1,
    on_clip: Callable[[Clip], None] | None = None,
) -> Path:
    """Generate ``clips`` clips of ``size`` x ``size`` into ``out_dir/name`` (a clip dataset).

    ``on_clip`` is called after each clip is written (progress bars, galleries). Returns the
    dataset folder.
    """
    knobs = SynthKnobs() if knobs is None else knobs
    extra = {
        "generator": "egom2p_edge.training.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "size": int(size),
        "knobs": knobs.as_meta(),
    }
    with ClipDatasetWriter(
        out_dir, name, shard_size=shard_size, overwrite=overwrite, extra=extra
    ) as w:
        for clip in iter_clips(clips, size, seed, knobs, workers):
            w.write(clip)
            if on_clip is not None:
                on_clip(clip)
    log.info("wrote %d synthetic clips to %s", clips, w.path)
    return w.path
