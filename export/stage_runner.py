"""ONNX Runtime sessions of a set of stage graphs, and the backbone graphs behind the interface the
reference decoder (``egom2p_edge.models.generation``) drives.

``StageRunner`` opens each graph once (CPU, the bundle's session options) and can record every
feed it is given (calibration data is what the fp32 graphs saw while decoding real windows).
``OrtBackbone`` stands in for ``EgoM2P`` in ``generate``/``run_schedule``: ``encode`` runs the
``backbone_encoder`` graph, ``decode_hidden`` the ``backbone_decoder`` graph, whose logits already
went through each query's own tied head (entries past a modality's vocabulary are -inf), so
``logits`` only slices them. The decoding loop, its schedules and its random calls are thus the
reference's own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from egom2p_edge.bundle import names
from egom2p_edge.bundle.manifest import Manifest, SessionOptions, StageSpec
from egom2p_edge.bundle.sessions import ort_session_options

Feeds = dict[str, np.ndarray]
Recorder = Callable[[str, Feeds], None]


class StageRunner:
    """Run stages by name: ``run(stage, feeds) -> {output: array}``."""

    def __init__(
        self,
        paths: dict[str, Path],
        specs: dict[str, StageSpec],
        options: SessionOptions,
        recorder: Recorder | None = None,
    ) -> None:
        self.paths = dict(paths)
        self.specs = specs
        self.options = options
        self.recorder = recorder
        self._sessions: dict = {}

    @staticmethod
    def for_bundle(bundle, recorder: Recorder | None = None) -> StageRunner:
        """A runner over a loaded bundle's stages with its session options."""
        m = bundle.manifest
        paths = {s: bundle.stage_path(s) for s in m.stages}
        return StageRunner(paths, m.stages, m.session_options, recorder)

    def has(self, stage: str) -> bool:
        return stage in self.paths

    def session(self, stage: str):
        import onnxruntime as ort

        if stage not in self._sessions:
            so = ort_session_options(self.options)
            # Every stage's session stays open for a whole run: without the arena each returns
            # its peak memory (ego-b: GBs of attention scores) after a call. Values unchanged.
            so.enable_cpu_mem_arena = False
            self._sessions[stage] = ort.InferenceSession(
                str(self.paths[stage]), so, providers=["CPUExecutionProvider"]
            )
        return self._sessions[stage]

    def run(self, stage: str, feeds: Feeds) -> dict[str, np.ndarray]:
        if self.recorder is not None:
            self.recorder(stage, feeds)
        outs = [t.name for t in self.specs[stage].outputs]
        return dict(zip(outs, self.session(stage).run(outs, feeds)))


class ManifestModalities:
    """The modality table with the queries ``gather_slots``/``generate`` make of a config."""

    def __init__(self, manifest: Manifest) -> None:
        self.modalities = manifest.modalities

    @property
    def modality_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.modalities)

    def index(self, name: str) -> int:
        for m in self.modalities:
            if m.name == name:
                return m.index
        raise ValueError(f"modality {name!r} is not in this bundle; it has {self.modality_names}")

    def spec(self, name: str):
        return self.modalities[self.index(name)]


class OrtBackbone:
    """The bundle's backbone graphs as an ``EgoM2P`` for ``run_schedule`` (module docstring)."""

    def __init__(self, runner: StageRunner, manifest: Manifest) -> None:
        for stage in (names.BACKBONE_ENCODER, names.BACKBONE_DECODER):
            if not runner.has(stage):
                raise ValueError(f"OrtBackbone needs the stage {stage}; the runner lacks it")
        self.runner = runner
        self.config = ManifestModalities(manifest)

    def encode(self, ids, positions, modality, valid=None) -> SimpleNamespace:
        import torch

        B, N = ids.shape
        valid_np = np.ones((B, N), bool) if valid is None else valid.numpy().astype(bool)
        feeds = {
            names.INPUT_IDS: ids.numpy().astype(np.int64),
            names.INPUT_MODALITY: modality.numpy().astype(np.int64),
            names.INPUT_POSITIONS: positions.numpy().astype(np.int64),
            names.INPUT_VALID: valid_np,
        }
        ctx = self.runner.run(names.BACKBONE_ENCODER, feeds)[names.CONTEXT]
        return SimpleNamespace(context=torch.from_numpy(ctx))

    def decode_hidden(self, context, context_valid, positions, modality):
        import torch

        B, N = context.shape[:2]
        valid = (
            np.ones((B, N), bool) if context_valid is None else context_valid.numpy().astype(bool)
        )
        feeds = {
            names.CONTEXT: context.numpy(),
            names.CONTEXT_VALID: valid,
            names.TARGET_MODALITY: modality.numpy().astype(np.int64),
            names.TARGET_POSITIONS: positions.numpy().astype(np.int64),
        }
        return torch.from_numpy(self.runner.run(names.BACKBONE_DECODER, feeds)[names.LOGITS])

    def logits(self, hidden, name: str):
        """Each target's rows of the decoder graph's logits, over its own vocabulary."""
        return hidden[..., : self.config.spec(name).vocab_size]  # (B, n, V_name)
