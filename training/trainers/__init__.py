"""Trainers: gaze/camera VQ-VAE tokenizers, the video tokenizer and the EgoM2P backbone.

Usage::

    from egom2p_edge.training.trainers import RunConfig, train_vqvae

    result = train_vqvae("data/synth", "cam", RunConfig(out_dir="runs/cam", steps=300))
    print(result.summary("cam tokenizer"))

Every trainer runs unchanged on one CPU or under ``torchrun --nproc_per_node=N`` (DDP; rank 0
logs, evaluates and writes), resumes exactly from ``OUT`` (``RunConfig(resume=True)``) and
writes ``OUT/checkpoint`` (our format), ``OUT/train_state.pt``, JSON-lines logs and
``OUT/loss_curve.png``. Modules: ``config`` (OptimConfig, RunConfig), ``loop`` (the shared
loop), ``vqvae``, ``video``, ``backbone`` (the trainers), ``data``, ``sampler``, ``schedule``,
``distributed``, ``state``, ``logbook``.
"""

from egom2p_edge.training.trainers.backbone import train_backbone
from egom2p_edge.training.trainers.config import OptimConfig, RunConfig
from egom2p_edge.training.trainers.loop import TrainResult, run_training
from egom2p_edge.training.trainers.video import train_video_tokenizer
from egom2p_edge.training.trainers.vqvae import train_vqvae

__all__ = [
    "OptimConfig",
    "RunConfig",
    "TrainResult",
    "run_training",
    "train_backbone",
    "train_video_tokenizer",
    "train_vqvae",
]
