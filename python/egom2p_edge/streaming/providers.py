"""Execution providers of the ``onnxruntime`` backend: which ones a caller asks for, which ones
this ONNX Runtime has, and their options (the C++ twin: ``cpp/src/runtime_providers.cc``).

``providers`` lists, in order of preference, ``"tensorrt"`` (ONNX Runtime's TensorRT execution
provider), ``"cuda"`` and ``"cpu"``. A provider this ONNX Runtime lacks (the PyPI ``onnxruntime``
wheel has only the CPU one; JetPack's and ``onnxruntime-gpu`` have all three) is an error naming
what is installed and what to do, unless ``allow_fallback`` is True: then it is skipped (and
logged), and when nothing is left the CPU runs. TensorRT options: its engine cache in
``engine_cache_dir`` (default ``$EGOM2P_ENGINE_CACHE/ort-tensorrt``, else
``~/.cache/egom2p-edge/ort-tensorrt``), fp16 kernels for ``fp16`` and ``int8`` presets, int8 for
``int8`` presets (the graphs carry explicit Q/DQ), on GPU ``device_id``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PROVIDERS = ("tensorrt", "cuda", "cpu")
ORT_NAMES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}


def default_engine_cache_dir() -> str:
    base = os.environ.get("EGOM2P_ENGINE_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "egom2p-edge"
    return str(root / "ort-tensorrt")


@dataclass(frozen=True)
class ProviderConfig:
    """What a caller asks of the onnxruntime backend (validated on creation)."""

    providers: tuple[str, ...] = ("cpu",)
    allow_fallback: bool = False
    engine_cache_dir: str | None = None
    device_id: int = 0

    def __post_init__(self) -> None:
        p = self.providers
        if isinstance(p, str) or not p or not all(isinstance(x, str) for x in p):
            raise ValueError(
                f"providers must be a non-empty sequence such as ('tensorrt', 'cuda', 'cpu'), "
                f"got {p!r}"
            )
        object.__setattr__(self, "providers", tuple(p))
        bad = [x for x in self.providers if x not in PROVIDERS]
        if bad or len(set(self.providers)) != len(self.providers):
            raise ValueError(
                f"providers must name each of {list(PROVIDERS)} at most once, got {list(p)}"
            )
        if not isinstance(self.allow_fallback, bool):
            raise ValueError(f"allow_fallback must be True or False, got {self.allow_fallback!r}")
        d = self.device_id
        if isinstance(d, bool) or not isinstance(d, int) or d < 0:
            raise ValueError(f"device_id must be an int >= 0, got {d!r}")

    @property
    def cache_dir(self) -> str:
        return self.engine_cache_dir or default_engine_cache_dir()


def resolve_providers(config: ProviderConfig, available: list[str]) -> list[str]:
    """The providers that will run (short names, in order); ValueError for a missing one unless
    fallback is allowed."""
    used = []
    for p in config.providers:
        if ORT_NAMES[p] in available:
            used.append(p)
            continue
        msg = (
            f"execution provider {p!r} ({ORT_NAMES[p]}) is not in this ONNX Runtime, which "
            f"offers {sorted(available)}"
        )
        if not config.allow_fallback:
            raise ValueError(
                f"{msg}; install a GPU build of ONNX Runtime (onnxruntime-gpu, or JetPack's) or "
                f"pass allow_fallback=True to run on the next provider"
            )
        log.warning("%s; falling back", msg)
    if not used:
        used = ["cpu"]
    return used


def tensorrt_options(config: ProviderConfig, precision: str) -> dict[str, str]:
    """ONNX Runtime TensorRT provider options for a bundle of the given preset precision."""
    return {
        "device_id": str(config.device_id),
        "trt_engine_cache_enable": "True",
        "trt_engine_cache_path": config.cache_dir,
        "trt_timing_cache_enable": "True",
        "trt_timing_cache_path": config.cache_dir,
        "trt_fp16_enable": "True" if precision in ("fp16", "int8") else "False",
        "trt_int8_enable": "True" if precision == "int8" else "False",
    }


def ort_providers(config: ProviderConfig, used: list[str], precision: str) -> list:
    """The ``providers=`` argument of ``onnxruntime.InferenceSession``."""
    out: list = []
    for p in used:
        if p == "tensorrt":
            Path(config.cache_dir).mkdir(parents=True, exist_ok=True)
            out.append((ORT_NAMES[p], tensorrt_options(config, precision)))
        elif p == "cuda":
            out.append((ORT_NAMES[p], {"device_id": str(config.device_id)}))
        else:
            out.append(ORT_NAMES[p])
    return out
