"""Our checkpoint format, shared by every model of the SDK: safetensors weights + a JSON config.

A checkpoint is either a folder holding ``model.safetensors`` and ``config.json``, or a file pair
``NAME.safetensors`` + ``NAME.json`` side by side. ``config.json`` holds::

    {"format": "egom2p-edge-checkpoint", "format_version": 1,
     "kind": "vqvae" | "backbone" | "video_tokenizer",
     "config": {...},            # the model's config dataclass as a dict
     "provenance": {...},        # where the weights came from (free-form, JSON)
     "key_order": [...],         # state_dict keys in module order (safetensors sorts them)
     "tied": {"alias": "kept"}}  # keys that shared a tensor, stored once under "kept"

Reading never executes code. ``save_checkpoint`` then ``load_checkpoint`` gives back the same
keys, order, dtypes, shapes and values; tied keys come back as the same tensor object.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT_NAME = "egom2p-edge-checkpoint"
FORMAT_VERSION = 1
KINDS = ("vqvae", "backbone", "video_tokenizer")
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """(weights file, config file) of a checkpoint given as a folder, a .safetensors or a .json.

    A folder holds ``model.safetensors`` + ``config.json``; a file pair is ``X.safetensors`` +
    ``X.json``.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        return path, path.with_suffix(".json")
    if path.suffix == ".json" and path.name != CONFIG_NAME:
        return path.with_suffix(".safetensors"), path
    if path.name == CONFIG_NAME:
        return path.parent / WEIGHTS_NAME, path
    return path / WEIGHTS_NAME, path / CONFIG_NAME


def _dedupe(state_dict: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Split a state_dict into CPU tensors to write (each storage once) and the tied aliases.

    Keys holding the very same view of one storage (tied weights) are written once and recorded
    as aliases. Any other sharing (a slice of a bigger buffer, two views of one storage) is
    written as an independent copy, because safetensors refuses shared memory.
    """
    import torch

    seen: dict[tuple, str] = {}
    written_ptrs: set[tuple[str, int]] = set()
    to_write: dict[str, Any] = {}
    tied: dict[str, str] = {}
    for key, t in state_dict.items():
        t = t.detach()
        storage = t.untyped_storage()
        ident = (
            t.device.type,
            storage.data_ptr(),
            t.storage_offset(),
            tuple(t.shape),
            tuple(t.stride()),
            t.dtype,
        )
        if t.numel() > 0 and ident in seen:
            tied[key] = seen[ident]
            continue
        seen[ident] = key
        ptr = (t.device.type, storage.data_ptr())
        owns_storage = (
            t.is_contiguous()
            and t.storage_offset() == 0
            and storage.nbytes() == t.numel() * t.element_size()
        )
        cpu = t.to("cpu")
        if t.numel() > 0 and (ptr in written_ptrs or not owns_storage) and cpu is t:
            cpu = t.clone(memory_format=torch.contiguous_format)
        elif not cpu.is_contiguous():
            cpu = cpu.contiguous()
        written_ptrs.add(ptr)
        to_write[key] = cpu
    return to_write, tied


def _check_json(value: Any, field: str) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"save_checkpoint: '{field}' must be JSON-serialisable (plain dict/list/str/number/"
            f"bool/None, finite floats), got an error: {exc}"
        ) from None


def _umask() -> int:
    """The process umask, read without changing it (Linux /proc); 0o022 elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename over ``path`` (a reader
    never sees a half-written file; the usual umask permissions apply)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(str(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # safetensors creates files readable by owner only
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_checkpoint(
    path: str | Path,
    kind: str,
    config: dict[str, Any],
    state_dict: dict[str, Any],
    provenance: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write a checkpoint in our format; returns (weights path, config path).

    path: a folder (created if needed) or ``X.safetensors`` / ``X.json`` for a file pair.
    kind: one of ``KINDS``. config, provenance: JSON-serialisable dicts. state_dict: str ->
    torch.Tensor (any dtype safetensors supports; tied tensors are stored once).
    """
    import torch
    from safetensors.torch import save_file

    if kind not in KINDS:
        raise ValueError(f"save_checkpoint: kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(config, dict):
        raise ValueError(f"save_checkpoint: config must be a dict, got {type(config).__name__}")
    provenance = dict(provenance or {})
    _check_json(config, "config")
    _check_json(provenance, "provenance")
    for key, t in state_dict.items():
        if not isinstance(key, str) or not isinstance(t, torch.Tensor):
            raise ValueError(
                f"save_checkpoint: state_dict must map str -> torch.Tensor, got "
                f"{key!r} -> {type(t).__name__}"
            )
        if t.device.type == "meta":
            raise ValueError(f"save_checkpoint: tensor {key!r} is on the meta device (no data)")
    weights_path, config_path = checkpoint_paths(path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    to_write, tied = _dedupe(state_dict)
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "config": config,
        "provenance": provenance,
        "key_order": list(state_dict.keys()),
        "tied": tied,
    }
    metadata = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "kind": kind}
    _atomic_write(weights_path, lambda tmp: save_file(to_write, tmp, metadata=metadata))
    text = json.dumps(header, indent=1, allow_nan=False) + "\n"
    _atomic_write(config_path, lambda tmp: Path(tmp).write_text(text))
    log.debug("wrote %d tensors (%d tied) to %s", len(to_write), len(tied), weights_path)
    return weights_path, config_path


def read_checkpoint_header(path: str | Path) -> dict[str, Any]:
    """The validated config.json of a checkpoint (no weights are read)."""
    _, config_path = checkpoint_paths(path)
    if not config_path.is_file():
        raise FileNotFoundError(
            f"{config_path} is missing: an egom2p-edge checkpoint is a folder with "
            f"{WEIGHTS_NAME} + {CONFIG_NAME} (or X.safetensors + X.json); convert official .pth "
            f"files with `egom2p import`"
        )
    try:
        header = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{config_path} is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ValueError(
            f"{config_path}: expected 'format': {FORMAT_NAME!r}, found {found!r}; this is not an "
            f"egom2p-edge checkpoint (official .pth files are converted with `egom2p import`)"
        )
    version = header.get("format_version")
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise ValueError(
            f"{config_path}: format_version {version!r} is not supported by this SDK (reads "
            f"1..{FORMAT_VERSION}); upgrade egom2p-edge to read it"
        )
    if header.get("kind") not in KINDS:
        raise ValueError(
            f"{config_path}: 'kind' must be one of {KINDS}, found {header.get('kind')!r}"
        )
    for field, typ in (("config", dict), ("provenance", dict), ("key_order", list), ("tied", dict)):
        if not isinstance(header.get(field), typ):
            raise ValueError(
                f"{config_path}: field {field!r} must be a {typ.__name__}, found "
                f"{type(header.get(field)).__name__}"
            )
    return header


def load_checkpoint(
    path: str | Path, device: str = "cpu"
) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Read a checkpoint written by ``save_checkpoint``.

    Returns (kind, config dict, state_dict in the saved key order with ties restored,
    provenance dict). Raises FileNotFoundError for missing files and ValueError for anything
    malformed (naming the file and the field).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    header = read_checkpoint_header(path)
    weights_path, config_path = checkpoint_paths(path)
    if not weights_path.is_file():
        raise FileNotFoundError(
            f"{weights_path} is missing (its config {config_path} exists): copy the weights file "
            f"next to it"
        )
    try:
        stored = load_file(str(weights_path), device=device)
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"cannot read {weights_path} as safetensors: {exc}") from None
    tied: dict[str, str] = header["tied"]
    order: list[str] = header["key_order"]
    expected = set(order) - set(tied)
    if set(stored) != expected:
        missing = sorted(expected - set(stored))
        extra = sorted(set(stored) - expected)
        raise ValueError(
            f"{weights_path} does not match {config_path}: missing tensors {missing[:10]}, "
            f"unexpected tensors {extra[:10]}; the two files do not belong together"
        )
    bad_ties = {a: k for a, k in tied.items() if k not in stored or a not in order}
    if bad_ties:
        raise ValueError(f"{config_path}: 'tied' names unknown keys: {bad_ties}")
    state = {k: (stored[tied[k]] if k in tied else stored[k]) for k in order}
    return header["kind"], header["config"], state, header["provenance"]


def state_dicts_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when both have the same keys in the same order and bit-identical tensors."""
    import torch

    if list(a) != list(b):
        return False
    for k in a:
        x, y = a[k], b[k]
        if x.dtype != y.dtype or x.shape != y.shape:
            return False
        if x.is_floating_point():
            # Bitwise comparison so that NaN payloads and -0.0 count too.
            if not torch.equal(
                x.contiguous().view(-1).view(torch.uint8), y.contiguous().view(-1).view(torch.uint8)
            ):
                return False
        elif not torch.equal(x, y):
            return False
    return True


__all__ = [
    "CONFIG_NAME",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "KINDS",
    "WEIGHTS_NAME",
    "checkpoint_paths",
    "load_checkpoint",
    "read_checkpoint_header",
    "save_checkpoint",
    "state_dicts_equal",
]
