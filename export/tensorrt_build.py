"""Building TensorRT engines from a bundle's ONNX stages, cached, and recorded in the manifest.

Networks are created strongly typed where TensorRT has that mode (9 and newer): the precision is
the graph's (Q/DQ int8, fp16 weights and casts), so no builder precision flag is set and the
same code builds with TensorRT 10 and 11. On TensorRT 8.x (JetPack 5, JetPack 6.0) the FP16 or
INT8 flag is set instead, from the stage's precision in the manifest. TF32 is switched off so
fp32 stages stay fp32. Each engine goes into the cache (``<cache>/<key>.engine``; the key from
``tensorrt_profiles.cache_key``) and is copied into the bundle as ``<stage>.<key16>.engine``;
the manifest gets an ``EngineRecord`` per engine and lists the file with its sha256 (bundle.json
is rewritten atomically).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from egom2p_edge.bundle import names
from egom2p_edge.bundle.engines import EngineRecord, engine_file
from egom2p_edge.bundle.load import Bundle, load_bundle
from egom2p_edge.bundle.manifest import FileEntry
from egom2p_edge.export.presets import TensorRTOptions
from egom2p_edge.export.tensorrt_env import TensorRTEnv
from egom2p_edge.export.tensorrt_profiles import Profile, cache_key
from egom2p_edge.files import sha256_file

log = logging.getLogger(__name__)

ENGINE_CACHE_ENV = "EGOM2P_ENGINE_CACHE"


def default_cache_dir() -> Path:
    """``$EGOM2P_ENGINE_CACHE`` or ``~/.cache/egom2p-edge/engines``."""
    env = os.environ.get(ENGINE_CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "egom2p-edge" / "engines"


@dataclass(frozen=True)
class BuiltEngine:
    record: EngineRecord
    from_cache: bool
    seconds: float


def _builder_options(options: TensorRTOptions, strongly_typed: bool, precision: str) -> dict:
    return {
        "workspace_mib": options.workspace_mib,
        "builder_optimization_level": options.builder_optimization_level,
        "strongly_typed": strongly_typed,
        "precision_flags": [] if strongly_typed or precision == "fp32" else [precision],
        "tf32": False,
    }


def build_serialized(onnx_path: Path, profile: Profile, build_options: dict[str, Any]) -> bytes:
    """Parse ``onnx_path`` and build one serialized engine (needs TensorRT and a GPU)."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    creation = trt.NetworkDefinitionCreationFlag
    if build_options["strongly_typed"]:
        flags |= 1 << int(creation.STRONGLY_TYPED)
    elif hasattr(creation, "EXPLICIT_BATCH"):  # TensorRT 8.x needs it; 10 ignores it
        flags |= 1 << int(creation.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ValueError(f"{onnx_path}: TensorRT cannot parse the graph: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, build_options["workspace_mib"] << 20)
    if hasattr(config, "builder_optimization_level"):
        config.builder_optimization_level = build_options["builder_optimization_level"]
    if hasattr(trt.BuilderFlag, "TF32"):
        config.clear_flag(trt.BuilderFlag.TF32)
    for flag in build_options["precision_flags"]:  # TensorRT 8.x only (not strongly typed)
        config.set_flag(trt.BuilderFlag.FP16 if flag == "fp16" else trt.BuilderFlag.INT8)
    opt = builder.create_optimization_profile()
    for name, shapes in profile.items():
        opt.set_shape(name, shapes["min"], shapes["opt"], shapes["max"])
    config.add_optimization_profile(opt)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ValueError(f"{onnx_path}: TensorRT failed to build an engine (see its log above)")
    return bytes(serialized)


def build_stage(
    bundle: Bundle,
    stage: str,
    profile: Profile,
    options: TensorRTOptions,
    env: TensorRTEnv,
    cache_dir: Path,
    rebuild: bool = False,
) -> tuple[BuiltEngine, bytes]:
    """One stage's engine, from the cache when its key is there (unless ``rebuild``)."""
    import time

    import tensorrt as trt

    m = bundle.manifest
    onnx_sha = m.file(m.stages[stage].file).sha256
    precision = m.stage_precision(stage)
    strongly = hasattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED")
    build_options = _builder_options(options, strongly, precision)
    key = cache_key(
        env.tensorrt_version, env.gpu_name, env.compute_capability, profile, onnx_sha, build_options
    )
    cached = cache_dir / f"{key}.engine"
    t0 = time.perf_counter()
    from_cache = cached.is_file() and not rebuild
    if from_cache:
        data = cached.read_bytes()
    else:
        data = build_serialized(bundle.stage_path(stage), profile, build_options)
        cache_dir.mkdir(parents=True, exist_ok=True)
        part = cached.with_suffix(f".partial-{os.getpid()}")
        part.write_bytes(data)
        part.replace(cached)
    record = EngineRecord(
        stage=stage,
        file=engine_file(stage, key),
        precision=precision,
        tensorrt_version=env.tensorrt_version,
        gpu_name=env.gpu_name,
        compute_capability=env.compute_capability,
        profile=profile,
        onnx_sha256=onnx_sha,
        cache_key=key,
        built_utc=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        options=build_options,
    )
    return BuiltEngine(record, from_cache, time.perf_counter() - t0), data


def record_engines(bundle_path: Path, engines: list[tuple[EngineRecord, bytes]]) -> Bundle:
    """Write engine files into the bundle and add their records and file entries to the manifest.

    A record of the same stage, TensorRT version and GPU is replaced (its file removed). The
    manifest is written to a temporary file and renamed over ``bundle.json``.
    """
    bundle = load_bundle(bundle_path)
    m = bundle.manifest
    new_keys = {(r.stage, r.tensorrt_version, r.gpu_name) for r, _ in engines}
    kept = [r for r in m.engines if (r.stage, r.tensorrt_version, r.gpu_name) not in new_keys]
    dropped = {r.file for r in m.engines} - {r.file for r in kept}
    for record, data in engines:
        (bundle.root / record.file).write_bytes(data)
    new_files = {r.file for r, _ in engines}
    files = [f for f in m.files if f.name not in dropped and f.name not in new_files]
    for record, _ in engines:
        p = bundle.root / record.file
        files.append(FileEntry(record.file, p.stat().st_size, sha256_file(p)))
    manifest = dataclasses.replace(
        m,
        files=tuple(sorted(files, key=lambda f: f.name)),
        engines=tuple(kept) + tuple(r for r, _ in engines),
    )
    manifest.check_consistency()
    text = json.dumps(manifest.to_dict(), indent=1, allow_nan=False) + "\n"
    tmp = bundle.root / f".{names.MANIFEST_FILE}.partial-{os.getpid()}"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(bundle.root / names.MANIFEST_FILE)
    for name in dropped - new_files:
        (bundle.root / name).unlink(missing_ok=True)
    return load_bundle(bundle.root)
