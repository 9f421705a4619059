"""Resumable training state next to the weights: ``train_state.pt`` and ``run.json``.

The weights (and codebook buffers) go into our checkpoint format under ``OUT/checkpoint``; the
rest of the state goes into ``OUT/train_state.pt`` (``torch.save`` of plain containers and
tensors, read back with ``weights_only=True``): the step, the optimiser state, each process's
random-generator states. ``OUT/run.json`` records what was trained (kind, model config, data,
configs) so that ``--resume`` can refuse a different model.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

import torch

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "train_state.pt"
RUN_FILE = "run.json"
STATE_VERSION = 1

log = logging.getLogger(__name__)


def _atomic_torch_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_train_state(
    out_dir: Path,
    step: int,
    optimizer: torch.optim.Optimizer,
    rng_states: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``train_state.pt``; rng_states: one dict of tensors per process, in rank order."""
    path = out_dir / STATE_FILE
    state = {
        "version": STATE_VERSION,
        "step": int(step),
        "optimizer": optimizer.state_dict(),
        "rng": rng_states,
        "extra": extra or {},
    }
    _atomic_torch_save(state, path)
    return path


def load_train_state(out_dir: Path, device: torch.device) -> dict[str, Any]:
    """Read ``train_state.pt`` (no pickled code); FileNotFoundError/ValueError with a hint."""
    path = out_dir / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"--resume: {path} is missing; {out_dir} holds no resumable run (start without "
            f"--resume, or point --out at the folder of the interrupted run)"
        )
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise ValueError(f"{path}: cannot read the training state ({exc})") from None
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: not a version-{STATE_VERSION} training state")
    return state


def write_run_file(out_dir: Path, record: dict[str, Any]) -> None:
    (out_dir / RUN_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def check_run_file(out_dir: Path, record: dict[str, Any]) -> None:
    """ValueError unless ``run.json`` describes the same kind of model with the same config."""
    path = out_dir / RUN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"--resume: {path} is missing; {out_dir} holds no resumable run")
    old = json.loads(path.read_text(encoding="utf-8"))
    for key in ("kind", "model_config"):
        if old.get(key) != record.get(key):
            raise ValueError(
                f"--resume: {path} records {key} {old.get(key)!r}, this run has "
                f"{record.get(key)!r}; resume with the same --what/--preset or use a new --out"
            )
    before, now = old.get("run", {}).get("steps"), record.get("run", {}).get("steps")
    if before != now:
        log.warning(
            "resume: the schedule now spans %s steps instead of %s; the learning rate follows "
            "the new cosine from here on",
            now,
            before,
        )
    for key in ("batch_size", "seed"):
        a, b = old.get("run", {}).get(key), record.get("run", {}).get(key)
        if a != b:
            log.warning("resume: %s changed from %s to %s; the data stream differs", key, a, b)
