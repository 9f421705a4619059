"""Bundles: the folder the exporter writes and the runtimes read (manifest, ONNX stages, goldens).

A bundle is ``bundle.json`` + one ``<stage>.onnx`` per exported stage + ``goldens.safetensors``;
a reduced-precision bundle (int8 / fp16 stages) adds ``validation.safetensors`` and the manifest
sections ``precision`` and ``validation`` (``precision``), and ``egom2p build-engines`` adds
``<stage>.<key>.engine`` files with their ``engines`` records (``engines``). Bundles without
these sections are fp32 and load as before.
``names`` defines every file, stage, tensor and axis name of the contract and documents each
tensor; ``manifest`` (with ``stages`` and ``sections``) the ``bundle.json`` fields as frozen
dataclasses; ``load_bundle`` validates a folder before use; ``sessions`` opens Python ONNX
Runtime sessions with the bundle's session options.

How a runtime uses the stages for one window (official mode, guidance as batch 2):
``video_encoder`` turns the 16 preprocessed frames into ``video_ids`` (t, h, w); flattened
row-major they are the ``tok_rgb`` tokens at positions 0 .. t*h*w-1. Each decoding step builds
encoder slots (id, modality index from the modality table, position, valid) for every known token
- row 0 the conditional pass, row 1 the unconditional one with the ``decoding.condition``
modalities left out, padded to a common length N >= 1 with ``input_valid`` False -, runs
``backbone_encoder`` then ``backbone_decoder`` with the step's target queries (modality index and
position), samples from ``logits`` (row by row, each over its own modality's vocabulary), and
finally maps the 30 ids of each target through ``gaze_decoder`` / ``cam_decoder``.
"""

from egom2p_edge.bundle.load import Bundle, BundleError, load_bundle, read_manifest
from egom2p_edge.bundle.manifest import Manifest
from egom2p_edge.bundle.schema import ManifestError

__all__ = ["Bundle", "BundleError", "Manifest", "ManifestError", "load_bundle", "read_manifest"]
