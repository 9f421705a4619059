"""Optimisation profiles of TensorRT engines and the engine cache key (no TensorRT needed).

A profile gives every input of a stage a (min, opt, max) shape; static axes have one value,
the manifest's named dynamic axes get ranges:

- ``batch``: tokenizers 1 / 1 / ``max_tokenizer_batch`` windows; backbone 1 / min(2, max) /
  ``max_batch`` (classifier-free guidance batches the conditional and unconditional passes).
- ``input_tokens`` (encoder slots, context length): 1 / condition + targets / the same, where
  condition = the tokens of ``decoding.condition`` (the rgb grid) and targets = the tokens of
  every decoder target (all known at the last step). Other inputs (depth) exceed it: pass
  ``max_input_tokens`` to allow them.
- ``target_tokens`` (decoder queries): 1 / the first step's queries of the largest target / all
  targets' tokens (joint decoding of every target at once).

The cache key is the sha256 of the TensorRT version, GPU name and compute capability, the
profile, the ONNX file's sha256 and the builder options: an engine is reused only for exactly
that combination.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from egom2p_edge.bundle import names
from egom2p_edge.bundle.manifest import Manifest

Profile = dict[str, dict[str, tuple[int, ...]]]  # input -> {"min"|"opt"|"max": shape}
_TOKENIZERS = (names.CAM_ENCODER, names.CAM_DECODER, names.GAZE_ENCODER, names.GAZE_DECODER)


def axis_ranges(
    manifest: Manifest,
    stage: str,
    max_batch: int = 2,
    max_tokenizer_batch: int = 4,
    max_input_tokens: int | None = None,
) -> dict[str, tuple[int, int, int]]:
    """(min, opt, max) of each dynamic axis for one stage (see the module docstring)."""
    if stage in _TOKENIZERS:
        return {names.DIM_BATCH: (1, 1, max_tokenizer_batch)}
    ranges = {names.DIM_BATCH: (1, min(2, max_batch), max_batch)}
    if manifest.decoding is None:
        return ranges
    d = manifest.decoding
    cond = sum(manifest.modality(c).num_tokens for c in d.condition)
    targets = [manifest.modality(t).num_tokens for t in d.default_targets]
    top = cond + sum(targets)
    hi = max(top, max_input_tokens or 0)
    ranges[names.DIM_INPUT_TOKENS] = (1, min(top, hi), hi)
    first_step = max(
        math.ceil(manifest.modality(t).num_tokens / d.targets[t].steps) for t in d.default_targets
    )
    ranges[names.DIM_TARGET_TOKENS] = (1, min(first_step, sum(targets)), sum(targets))
    return ranges


def stage_profile(
    manifest: Manifest, stage: str, ranges: dict[str, tuple[int, int, int]]
) -> Profile:
    """The profile of every input of ``stage`` from its manifest shapes and ``ranges``."""
    spec = manifest.stages[stage]
    profile: Profile = {}
    for t in spec.inputs:
        shapes = []
        for k in range(3):
            shape = []
            for d in t.shape:
                if isinstance(d, int):
                    shape.append(d)
                elif d in ranges:
                    shape.append(ranges[d][k])
                else:
                    raise ValueError(
                        f"stage {stage}: input {t.name} has the dynamic axis {d!r} without a range"
                    )
            shapes.append(tuple(shape))
        profile[t.name] = {"min": shapes[0], "opt": shapes[1], "max": shapes[2]}
    return profile


def cache_key(
    tensorrt_version: str,
    gpu_name: str,
    compute_capability: str,
    profile: Profile,
    onnx_sha256: str,
    options: dict[str, Any],
) -> str:
    """sha256 hex identifying an engine (see the module docstring)."""
    payload = {
        "tensorrt": tensorrt_version,
        "gpu": gpu_name,
        "compute_capability": compute_capability,
        "profile": {k: {kk: list(vv) for kk, vv in v.items()} for k, v in profile.items()},
        "onnx_sha256": onnx_sha256,
        "options": options,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def trtexec_command(onnx_file: str, profile: Profile, engine_file: str, workspace_mib: int) -> str:
    """The equivalent ``trtexec`` command line (for a Jetson without the Python bindings)."""

    def shapes(key: str) -> str:
        return ",".join(f"{n}:{'x'.join(str(d) for d in p[key])}" for n, p in profile.items())

    return (
        f"trtexec --onnx={onnx_file} --stronglyTyped --minShapes={shapes('min')} "
        f"--optShapes={shapes('opt')} --maxShapes={shapes('max')} "
        f"--memPoolSize=workspace:{workspace_mib}M --saveEngine={engine_file}"
    )
