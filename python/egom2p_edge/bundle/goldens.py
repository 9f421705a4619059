"""Golden input/output tensors of a bundle: ``goldens.safetensors`` keyed ``<stage>/<tensor>``.

Written at export from the PyTorch reference; ``egom2p verify`` and the runtime tests run every
stage on the golden inputs and compare with the golden outputs. Plain numpy (no torch).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from egom2p_edge.bundle import names

# safetensors dtype strings <-> manifest dtypes
_ST_DTYPES = {
    "F32": "float32",
    "F16": "float16",
    "I64": "int64",
    "I32": "int32",
    "U8": "uint8",
    "BOOL": "bool",
}


def write_goldens(path: str | Path, tensors: dict[str, dict[str, np.ndarray]]) -> Path:
    """Write ``{stage: {tensor: array}}`` to ``path``; keys become ``<stage>/<tensor>``."""
    from safetensors.numpy import save_file

    flat: dict[str, np.ndarray] = {}
    for stage, group in tensors.items():
        for name, arr in group.items():
            flat[names.golden_key(stage, name)] = np.ascontiguousarray(arr)
    path = Path(path)
    save_file(flat, str(path), metadata={"format": names.BUNDLE_MAGIC, "content": "goldens"})
    return path


def read_goldens(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """``{stage: {tensor: array}}`` from a goldens file (ValueError for a malformed one)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    try:
        flat = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{path}: cannot read the golden tensors as safetensors: {exc}") from None
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, arr in flat.items():
        try:
            stage, tensor = names.split_golden_key(key)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        out.setdefault(stage, {})[tensor] = arr
    return out


def golden_headers(path: str | Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``{key: (dtype, shape)}`` of every golden tensor, read without loading the data."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    try:
        with safe_open(str(path), framework="numpy") as f:
            for key in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
                sl = f.get_slice(key)
                dtype = _ST_DTYPES.get(sl.get_dtype(), sl.get_dtype())
                out[key] = (dtype, tuple(int(d) for d in sl.get_shape()))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{path}: cannot read the golden tensors as safetensors: {exc}") from None
    return out
