"""Synthetic egocentric clips with exact ground truth: procedural rooms, head motion, gaze.

Usage::

    from egom2p_edge.training.synth import generate_clip, generate_dataset, SynthKnobs

    clip = generate_clip(seed=3, size=128)            # a validated egom2p_edge.clips.Clip
    generate_dataset("out", clips=100, size=128, seed=0)   # out/synth/ (manifest + shards)

Modules: ``room``/``layout``/``materials`` build a room (``scene``); ``paths``/``motion`` move
the head; ``attention``/``gaze`` move the eyes; ``render``/``intersect``/``textures`` ray-cast
RGB and depth; ``sensor`` adds blur, exposure and noise; ``generate`` assembles a clip.
"""

from egom2p_edge.training.synth.config import BEHAVIOURS, SynthKnobs
from egom2p_edge.training.synth.dataset import clip_seed, generate_dataset, iter_clips
from egom2p_edge.training.synth.generate import SynthTruth, generate_clip, generate_clip_with_truth
from egom2p_edge.training.synth.preview import write_gallery

__all__ = [
    "BEHAVIOURS",
    "SynthKnobs",
    "SynthTruth",
    "clip_seed",
    "generate_clip",
    "generate_clip_with_truth",
    "generate_dataset",
    "iter_clips",
    "write_gallery",
]
