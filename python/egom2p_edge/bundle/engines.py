"""Manifest records of TensorRT engines built from a bundle's ONNX stages (``engines``).

An engine is specific to its TensorRT version and GPU, and is valid for the input shapes of its
optimisation profile only. ``egom2p build-engines`` writes the engine file into the bundle (and
lists it in ``files`` with its sha256) and one ``EngineRecord`` per engine; a runtime picks the
record whose ``tensorrt_version`` and ``gpu_name`` match its own and whose profile admits its
shapes, and falls back to the ONNX file otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from egom2p_edge.bundle import names
from egom2p_edge.bundle.schema import Fields
from egom2p_edge.bundle.stages import SHA256_HEX

ENGINE_SUFFIX = ".engine"
PROFILE_KEYS = ("min", "opt", "max")


def engine_file(stage: str, cache_key: str) -> str:
    """File name of an engine inside the bundle: ``<stage>.<first 16 hex of the key>.engine``."""
    return f"{stage}.{cache_key[:16]}{ENGINE_SUFFIX}"


@dataclass(frozen=True)
class EngineRecord:
    """One built engine. ``profile[input] = {"min": shape, "opt": shape, "max": shape}`` for
    every input of the stage (static inputs have three equal shapes)."""

    stage: str
    file: str
    precision: str  # the stage's graph precision ("fp32", "fp16", "int8")
    tensorrt_version: str
    gpu_name: str
    compute_capability: str  # "8.7" on Jetson Orin
    profile: dict[str, dict[str, tuple[int, ...]]]
    onnx_sha256: str
    cache_key: str  # sha256 hex of (TensorRT version, GPU, profile, ONNX sha256, options)
    built_utc: str
    options: dict[str, Any]  # builder options (workspace, strongly typed, optimisation level)

    @staticmethod
    def from_fields(f: Fields) -> EngineRecord:
        stage = f.str("stage", names.STAGES)
        pf = f.obj_("profile")
        profile: dict[str, dict[str, tuple[int, ...]]] = {}
        for tensor in pf.obj:
            tf = pf.obj_(tensor)
            shapes = {k: tf.ints(k) for k in PROFILE_KEYS}
            ranks = {len(s) for s in shapes.values()}
            ordered = all(
                a <= b <= c for a, b, c in zip(shapes["min"], shapes["opt"], shapes["max"])
            )
            if len(ranks) != 1 or not ordered:
                raise pf.fail(tensor, "must hold min <= opt <= max shapes of one rank", tf.obj)
            profile[tensor] = shapes
        for key in ("onnx_sha256", "cache_key"):
            v = f.str(key)
            if len(v) != SHA256_HEX or any(c not in "0123456789abcdef" for c in v):
                raise f.fail(key, "must be 64 lowercase hex digits", v)
        options = f.raw("options")
        if not isinstance(options, dict):
            raise f.fail("options", "must be an object", type(options).__name__)
        return EngineRecord(
            stage=stage,
            file=f.str("file"),
            precision=f.str("precision"),
            tensorrt_version=f.str("tensorrt_version"),
            gpu_name=f.str("gpu_name"),
            compute_capability=f.str("compute_capability"),
            profile=profile,
            onnx_sha256=f.str("onnx_sha256"),
            cache_key=f.str("cache_key"),
            built_utc=f.str("built_utc"),
            options=options,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "file": self.file,
            "precision": self.precision,
            "tensorrt_version": self.tensorrt_version,
            "gpu_name": self.gpu_name,
            "compute_capability": self.compute_capability,
            "profile": {
                t: {k: list(v) for k, v in shapes.items()} for t, shapes in self.profile.items()
            },
            "onnx_sha256": self.onnx_sha256,
            "cache_key": self.cache_key,
            "built_utc": self.built_utc,
            "options": self.options,
        }

    def admits(self, shapes: dict[str, tuple[int, ...]]) -> bool:
        """True when every given input shape lies inside the profile's [min, max]."""
        for tensor, shape in shapes.items():
            p = self.profile.get(tensor)
            if p is None or len(shape) != len(p["min"]):
                return False
            if any(not lo <= d <= hi for d, lo, hi in zip(shape, p["min"], p["max"])):
                return False
        return True
